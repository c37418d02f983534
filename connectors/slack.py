"""Slack through slack_sdk's WebClient: `chat.postMessage` to a channel or to a person's DM.

Per run: `auth.test` once (a wrong token fails fast, once, not per message), channel names ->
ids from `conversations.list` (cursor paging, one listing per run), people -> user ids from
`users.lookupByEmail` (cached per address). Then one `chat.postMessage` per message, with the
outbox key in the message metadata so a post can be recognised later.

Never twice: Slack's Web API has no idempotency key, so the WebClient runs with no retry
handlers (its default handler resends a request after a connection reset, which posts a second
copy when only the answer was lost). A post whose answer is lost is UNKNOWN; a post that surely
did not reach Slack (refused connection, failed TLS handshake, a request not fully sent, 429,
503) is RETRY. Lookups are reads: any transient failure of theirs is RETRY.

A lost answer is settled on a later run (`find_sent`): the conversation's history since the
message was stored (`conversations.history` with `include_all_metadata`, cursor paging, at most
`HISTORY_PAGES` pages) is searched for the key; a person's DM is found by `conversations.open`.
That needs the `channels:history`, `groups:history`, `im:history` and `im:write` scopes; without
them the message stays unknown and the detail names the missing scope.

Endpoints: https://docs.slack.dev/reference/methods/chat.postMessage, users.lookupByEmail,
conversations.list, conversations.open, conversations.history, auth.test; answers are `{"ok": false, "error": "<code>"}` with HTTP 200,
except `ratelimited` (HTTP 429 with Retry-After) and server failures (5xx).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from http.client import HTTPException
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError, URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from connectors.channels import SETUP, Found, Message, SendResult, SendStatus, SentCheck
from connectors.retry import certificate_problem

if TYPE_CHECKING:
    from config.notifications_schema import SlackChannelSettings

POST = "chat.postMessage"
METADATA_EVENT_TYPE = "escalation_notification"  # message metadata: {"key": <outbox key>}
_ERROR_CODE = re.compile(r"[a-z0-9_]+")
PAGE_SIZE = 200  # conversations.list and .history: Slack recommends no more than 200 per page
# A lost post is looked for among at most this many pages of history after it; a channel busier
# than that stays unknown rather than costing a run minutes of Tier 3 reads.
HISTORY_PAGES = 5

# Slack error code -> what it means for the message. A code about the message or its recipient
# is REJECTED; a code about our app's setup is RETRY ("channel setup": fixing the token or the
# scopes delivers the waiting messages; the outbox gives up after its configured age).
REJECTED_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "too_many_attachments",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "users_not_found",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "invalid_arguments",
    }
)
SETUP_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
        "org_login_required",
        "team_access_not_granted",
        "access_denied",
    }
)
# Of those, the ones that make every call of the run fail: the run stops calling Slack (one
# refusal, not one per message). A missing scope only stops what needs that scope.
CREDENTIAL_ERRORS = frozenset(
    {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired"}
)
# The request was refused before any work: safe to send again.
NOT_DONE_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "service_unavailable", "request_timeout", "team_added_to_org"}
)
# Slack: "It's possible some aspect of the operation succeeded before the error was raised."
MAYBE_DONE_ERRORS = frozenset({"fatal_error", "internal_error"})


@dataclass(frozen=True)
class Verdict:
    status: SendStatus
    detail: str
    retry_after: float | None = None


class _Failed(Exception):
    """A step before or during the post failed; carries what to answer for the message."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.detail)
        self.verdict = verdict


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


def classify_answer(
    method: str, http_status: int, error: str, headers: Mapping[str, Any]
) -> Verdict:
    """What an answer other than ok means for the message (one table for every method)."""
    is_post = method == POST
    # A proxy's HTML page reaches slack_sdk as a long "error"; only a Slack code is quoted.
    error = error if _ERROR_CODE.fullmatch(error) else ""
    said = f"Slack {method}: {error or f'HTTP {http_status}'}"
    if http_status == 429 or error in NOT_DONE_ERRORS or http_status == 503:
        return Verdict(SendStatus.RETRY, said, _retry_after(headers))
    if error in REJECTED_ERRORS:
        return Verdict(SendStatus.REJECTED, said)
    if error in SETUP_ERRORS:
        return Verdict(SendStatus.RETRY, SETUP + said)
    if error in MAYBE_DONE_ERRORS or http_status >= 500:
        if is_post:
            return Verdict(
                SendStatus.UNKNOWN, f"{said}; Slack may have posted it, not resent automatically"
            )
        return Verdict(SendStatus.RETRY, said)
    # An unknown code is still a refusal (nothing posted): retrying is safe and loses nothing.
    return Verdict(SendStatus.RETRY, f"{said} (an answer not in our table)")


def classify_exception(method: str, error: BaseException) -> Verdict:
    """What a failure without an answer means: did the request surely not reach Slack?"""
    untrusted = certificate_problem(error)
    if untrusted is not None:
        return Verdict(
            SendStatus.RETRY,
            f"{SETUP}Slack's TLS certificate is not trusted ({untrusted}); "
            "set ca_bundle to the CA that signed it",
        )
    name = type(error).__name__
    # urllib wraps every failure to connect or to send the whole request in URLError; a failure
    # while waiting for the answer (reset, RemoteDisconnected, timeout) comes unwrapped.
    if isinstance(error, URLError) and not isinstance(error, HTTPError):
        reason = getattr(error, "reason", error)
        return Verdict(
            SendStatus.RETRY, f"Slack {method}: not sent ({type(reason).__name__}: {reason})"
        )
    if method == POST and isinstance(error, OSError | HTTPException):
        return Verdict(
            SendStatus.UNKNOWN,
            f"Slack {method}: the answer was lost ({name}); Slack may have posted it, "
            "not resent automatically",
        )
    return Verdict(SendStatus.RETRY, f"Slack {method}: {name}: {error}")


class SlackChannel:
    """One Slack workspace through one bot token; holds the run's lookups."""

    def __init__(self, name: str, client: WebClient):
        self.name = name
        self.client = client
        self.identity: dict[str, Any] | None = None  # auth.test's answer
        self._setup_failure: Verdict | None = None  # refused credentials or CA: the run stops
        self._channel_ids: dict[str, str] | None = None  # name -> id, listed once per run
        self._user_ids: dict[str, str] = {}  # e-mail (lowercase) -> user id

    def send(self, message: Message) -> SendResult:
        """Post one message; one SendResult, never an exception."""
        try:
            self._authenticate()
            channel_id = self._destination(message.to)
            answer = self._call(
                POST,
                lambda: self.client.chat_postMessage(
                    channel=channel_id,
                    text=message.text,
                    blocks=list(message.blocks) or None,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={
                        "event_type": METADATA_EVENT_TYPE,
                        "event_payload": {"key": message.key},
                    },
                ),
            )
        except _Failed as failed:
            verdict = failed.verdict
            return SendResult(
                message.key, verdict.status, verdict.detail, None, verdict.retry_after
            )
        remote_id = f"{answer.get('channel', channel_id)}:{answer.get('ts', '')}"
        return SendResult(message.key, SendStatus.SENT, "posted", remote_id)

    def find_sent(self, message: Message, since: datetime) -> SentCheck:
        """Whether a post of `message` is in its conversation's history after `since`."""
        try:
            self._authenticate()
            conversation = self._conversation_id(message.to)
            cursor: str | None = None
            for _page in range(HISTORY_PAGES):
                page = self._call(
                    "conversations.history",
                    partial(
                        self.client.conversations_history,
                        channel=conversation,
                        oldest=f"{since.timestamp():.6f}",
                        limit=PAGE_SIZE,
                        include_all_metadata=True,
                        cursor=cursor,
                    ),
                )
                for posted in page.get("messages", []):
                    if _key_of(posted) == message.key:
                        where = f"{conversation}:{posted.get('ts', '')}"
                        return SentCheck(Found.THERE, "found in the conversation's history", where)
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not page.get("has_more") or cursor is None:
                    return SentCheck(Found.ABSENT, "not in the conversation's history")
        except _Failed as failed:
            return SentCheck(Found.CANNOT_TELL, f"not checked: {failed.verdict.detail}")
        return SentCheck(
            Found.CANNOT_TELL,
            f"not checked: more than {HISTORY_PAGES * PAGE_SIZE} messages posted since",
        )

    def close(self) -> None:
        """Nothing to close (urllib opens a connection per request); drops the run's lookups."""
        self._channel_ids = None
        self._user_ids.clear()

    # -- steps ----------------------------------------------------------------------------
    def _call(self, method: str, call: Callable[[], Any]) -> dict[str, Any]:
        try:
            response = call()
        except SlackApiError as error:
            answer = error.response
            data = answer.data if isinstance(answer.data, dict) else {}
            error_code = str(data.get("error", ""))
            verdict = classify_answer(method, answer.status_code, error_code, answer.headers or {})
            if error_code in CREDENTIAL_ERRORS:
                self._setup_failure = verdict
            raise _Failed(verdict) from None
        except Exception as error:  # noqa: BLE001 - every failure becomes a verdict
            verdict = classify_exception(method, error)
            if verdict.detail.startswith(SETUP):  # the certificate: no call can succeed
                self._setup_failure = verdict
            raise _Failed(verdict) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _authenticate(self) -> None:
        if self._setup_failure is not None:
            raise _Failed(self._setup_failure)
        if self.identity is None:
            self.identity = self._call("auth.test", self.client.auth_test)

    def _destination(self, to: str) -> str:
        """A channel id, or a user id (chat.postMessage opens the app's DM with that user)."""
        if to.startswith("user:"):
            return self._user_id(to.removeprefix("user:").strip())
        if to.startswith("#"):
            name = to[1:].strip().lower()
            channel_id = self._channels().get(name)
            if channel_id is None:
                raise _Failed(
                    Verdict(
                        SendStatus.REJECTED,
                        f"Slack: no channel #{name} the app can see (unknown or archived)",
                    )
                )
            return channel_id
        return to.strip()

    def _conversation_id(self, to: str) -> str:
        """Where a post to `to` landed: a channel's id, or the bot's DM with a person."""
        if not to.startswith("user:"):
            return self._destination(to)
        user = self._user_id(to.removeprefix("user:").strip())
        opened = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=user)
        )
        return str((opened.get("channel") or {}).get("id", ""))

    def _channels(self) -> dict[str, str]:
        if self._channel_ids is None:
            names: dict[str, str] = {}
            cursor: str | None = None
            while True:
                page = self._call(
                    "conversations.list",
                    partial(
                        self.client.conversations_list,
                        types="public_channel,private_channel",
                        exclude_archived=True,
                        limit=PAGE_SIZE,
                        cursor=cursor,
                    ),
                )
                for channel in page.get("channels", []):
                    names[str(channel.get("name", "")).lower()] = str(channel["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if cursor is None:
                    break
            self._channel_ids = names
        return self._channel_ids

    def _user_id(self, email: str) -> str:
        address = email.lower()
        if address not in self._user_ids:
            found = self._call(
                "users.lookupByEmail", lambda: self.client.users_lookupByEmail(email=email)
            )
            user = found.get("user") or {}
            if user.get("deleted"):
                raise _Failed(
                    Verdict(SendStatus.REJECTED, "Slack: the user found by e-mail is deactivated")
                )
            self._user_ids[address] = str(user["id"])
        return self._user_ids[address]


def _key_of(posted: Mapping[str, Any]) -> str | None:
    """The outbox key a post of ours carries in its metadata (None: not one of ours)."""
    metadata = posted.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT_TYPE:
        return None
    return (metadata.get("event_payload") or {}).get("key")


def make_client(
    token: str, base_url: str, ca_bundle: str | None = None, timeout: float = 30.0
) -> WebClient:
    """A WebClient with TLS verification on (the system store, or `ca_bundle`) and no resends."""
    context = ssl.create_default_context(cafile=ca_bundle)
    return WebClient(
        token=token,
        base_url=base_url.rstrip("/") + "/",
        ssl=context,
        timeout=int(max(1, timeout)),
        retry_handlers=[],
    )


def from_settings(
    name: str, settings: SlackChannelSettings, secret: Callable[[str], str]
) -> SlackChannel:
    """The channel for validated settings; `secret(env_name)` reads the bot token."""
    ca_bundle = str(settings.ca_bundle) if settings.ca_bundle else None
    client = make_client(
        secret(settings.token_env), settings.base_url, ca_bundle, settings.timeout_seconds
    )
    return SlackChannel(name, client)
