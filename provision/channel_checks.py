"""Doctor's checks of the notification channels, with nothing sent.

Slack: `auth.test` (the token, and its scopes from the `x-oauth-scopes` header Slack adds to
every answer) and one `conversations.list` (every `#channel` a rule or recipient names exists,
is not archived, and the bot is in it). E-mail: connect, TLS (STARTTLS or implicit), log in,
QUIT. A webhook gets no request: any request to it would be a delivery, so only its secret is
checked (by the config loader, before doctor runs).

A channel that cannot deliver is a problem; one that delivers but cannot settle a lost answer
(Slack without the history scopes) is a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk.errors import SlackApiError

from config.notifications_rules import ROLE_RECIPIENTS, NotificationsConfig
from config.notifications_schema import EmailChannelSettings, SlackChannelSettings
from config.schema import Config
from connectors.email import from_settings as email_channel
from connectors.slack import PAGE_SIZE, make_client
from provision.findings import Finding, ok, problem, warning

SYSTEM = "notifications"
POST_SCOPE = "chat:write"
CHANNEL_SCOPES = ("channels:read", "groups:read")  # to find a #channel's id by its name
PEOPLE_SCOPE = "users:read.email"  # to find a person's DM by e-mail
HISTORY_SCOPES = ("channels:history", "groups:history", "im:history", "im:write")
SLACK_FIX = "reinstall the Slack app with the bot scopes {scopes} (api.slack.com/apps > OAuth & Permissions)"  # fmt: skip


def check_channels(config: Config) -> list[Finding]:
    """One or more findings per configured channel; [] without notifications."""
    settings = config.notifications
    if settings is None:
        return []
    findings: list[Finding] = []
    for name, channel in settings.channels.items():
        if isinstance(channel, SlackChannelSettings):
            findings += _check_slack(name, channel, settings, config.secret)
        elif isinstance(channel, EmailChannelSettings):
            findings += _check_email(name, channel, config.secret)
        else:
            detail = "not called: any request to it would be a delivery"
            findings.append(ok(SYSTEM, f"channel {name} (webhook)", detail))
    return findings


# -- Slack --------------------------------------------------------------------------------
def slack_targets(settings: NotificationsConfig, channel: str) -> tuple[set[str], bool]:
    """(the #channels messages on `channel` go to, whether some go to people by e-mail)."""
    named: set[str] = set()
    people = False
    for rule in settings.rules:
        if channel not in rule.channels:
            continue
        for target in rule.to:
            known = settings.recipients.get(target)
            if target.startswith("#"):
                named.add(target)
            elif known is not None and known.slack:
                named.add(known.slack)
            elif target in ROLE_RECIPIENTS or "@" in target or known is not None:
                people = True
    if settings.digest is not None and settings.digest.channel == channel:
        people = True  # a digest goes to each recipient
    return named, people


def _check_slack(
    name: str,
    channel: SlackChannelSettings,
    settings: NotificationsConfig,
    secret: Callable[[str], str],
) -> list[Finding]:
    subject = f"channel {name} (Slack)"
    ca_bundle = str(channel.ca_bundle) if channel.ca_bundle else None
    client = make_client(
        secret(channel.token_env), channel.base_url, ca_bundle, channel.timeout_seconds
    )
    named, people = slack_targets(settings, name)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = (error.response.data or {}).get("error", f"HTTP {error.response.status_code}")
        return [problem(SYSTEM, subject, f"Slack refused the token: {code}", f"check {channel.token_env}: a bot token (xoxb-) of the installed app")]  # fmt: skip
    except Exception as error:  # noqa: BLE001 - any failure to reach Slack is one line
        return [problem(SYSTEM, subject, f"Slack not reached ({type(error).__name__}: {error})", f"check notifications.channels.{name}.base_url, ca_bundle and the network")]  # fmt: skip
    team = answer.get("team") or answer.get("team_id") or "?"
    findings = [ok(SYSTEM, subject, f"token of {answer.get('user', '?')} in {team}")]
    granted = _scopes(answer.headers)
    if granted is None:
        findings.append(ok(SYSTEM, f"{subject} scopes", "Slack did not list them; the calls below show what is allowed"))  # fmt: skip
    else:
        needed = [POST_SCOPE]
        needed += list(CHANNEL_SCOPES) if named else []
        needed += [PEOPLE_SCOPE] if people else []
        missing = [scope for scope in needed if scope not in granted]
        if missing:
            findings.append(problem(SYSTEM, f"{subject} scopes", f"missing {', '.join(missing)}: those messages cannot be sent", SLACK_FIX.format(scopes=", ".join(missing))))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, f"{subject} scopes", ", ".join(needed)))
        no_history = [scope for scope in HISTORY_SCOPES if scope not in granted]
        if no_history:
            findings.append(warning(SYSTEM, f"{subject} history scopes", f"missing {', '.join(no_history)}: a message whose answer is lost stays unknown instead of being looked for", SLACK_FIX.format(scopes=", ".join(no_history))))  # fmt: skip
    if named:
        findings += _check_slack_channels(subject, client, named, granted)
    return findings


def _scopes(headers: Any) -> set[str] | None:
    for key, value in (headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            value = value[0] if isinstance(value, list) else value
            return {scope.strip() for scope in str(value).split(",") if scope.strip()}
    return None


def _check_slack_channels(
    subject: str, client: Any, named: set[str], granted: set[str] | None
) -> list[Finding]:
    try:
        listed = {str(c.get("name", "")).lower(): c for c in _conversations(client)}
    except SlackApiError as error:
        code = (error.response.data or {}).get("error", "?")
        return [problem(SYSTEM, f"{subject} channels", f"conversations.list refused: {code}", SLACK_FIX.format(scopes=", ".join(CHANNEL_SCOPES)))]  # fmt: skip
    except Exception as error:  # noqa: BLE001 - one line, as for auth.test
        return [problem(SYSTEM, f"{subject} channels", f"conversations.list failed ({type(error).__name__})", "run doctor again")]  # fmt: skip
    findings = []
    public_posts = granted is not None and "chat:write.public" in granted
    for target in sorted(named):
        found = listed.get(target.lstrip("#").lower())
        line = f"{subject} {target}"
        if found is None:
            findings.append(problem(SYSTEM, line, "no such channel the app can see (a private channel needs the app invited)", f"create {target} or invite the app: /invite @<app> in {target}"))  # fmt: skip
        elif found.get("is_archived"):
            findings.append(problem(SYSTEM, line, "archived", f"unarchive {target} or name another channel"))  # fmt: skip
        elif not found.get("is_member") and not public_posts:
            findings.append(problem(SYSTEM, line, "the app is not in the channel", f"/invite @<app> in {target} (or grant chat:write.public)"))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, line, f"{found.get('id')}, the app can post"))
    return findings


def _conversations(client: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = client.conversations_list(
            types="public_channel,private_channel", limit=PAGE_SIZE, cursor=cursor
        )
        yield from page.get("channels", [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return


# -- e-mail -------------------------------------------------------------------------------
def _check_email(
    name: str, channel: EmailChannelSettings, secret: Callable[[str], str]
) -> list[Finding]:
    subject = f"channel {name} (e-mail)"
    smtp = email_channel(name, channel, secret)
    where = f"{smtp.host}:{smtp.port}"
    problem_text = smtp.check_connection()
    if problem_text is not None:
        return [problem(SYSTEM, subject, problem_text, f"check notifications.channels.{name} (host, port, tls, ca_bundle) and its login")]  # fmt: skip
    login = "logged in" if channel.username_env else "no login configured"
    return [ok(SYSTEM, subject, f"{where}: {smtp.tls.upper()} and {login}")]
