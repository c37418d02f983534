"""`escalation-sync doctor`: read-only checks of each system against the configuration.

Each system is checked on its own: one that cannot be reached, or refuses our credentials, is
one problem line and the others are still checked; so is each notification channel
(provision/channel_checks.py), without sending anything. Then the join, on a sample of open tickets
(provision/join_check.py), when every system it reads answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from config.schema import Config
from connectors.errors import AuthError, ConnectorError, RateLimited, SystemUnavailable
from provision.channel_checks import check_channels
from provision.expected import translated_sources, wanted_fields
from provision.findings import Finding, problem
from provision.jira_checks import check_jira
from provision.join_check import DEFAULT_SAMPLE, check_join
from provision.salesforce_checks import check_salesforce
from provision.systems import Systems
from provision.zendesk_checks import check_zendesk

# system -> its checks, in checklist order
CHECKS: dict[str, Callable[..., list[Finding]]] = {
    "zendesk": check_zendesk,
    "jira": check_jira,
    "salesforce": check_salesforce,
}


def run_doctor(
    config: Config, systems: Systems, join_sample: int = DEFAULT_SAMPLE
) -> tuple[list[Finding], bool]:
    """(the checklist, whether some system was out of reach or refused our credentials);
    `join_sample` open tickets per ticket system test the join (0: not at all)."""
    findings: list[Finding] = []
    unreachable = False
    # (the checklist's name for it, the config it sees, its setup, its check); a named
    # instance (connections.<system>.instances) is checked against its own mapping, as
    # `zendesk@<name>`, `jira@<name>`, `salesforce@<name>`.
    checks: list[tuple[str, Config, object, Callable[..., list[Finding]]]] = []
    for system, check in CHECKS.items():
        checks.append((system, config, getattr(systems, system), check))
        checks += [
            (f"{system}@{name}", config.as_named(system, name), setup, check)
            for name, setup in systems.named.get(system, {}).items()
        ]
    for label, seen_by, setup, check in checks:
        if setup is None:
            continue
        system = label.partition("@")[0]
        wanted, sources = wanted_fields(seen_by), translated_sources(seen_by)
        mine = [w for w in wanted if w.system == system]
        theirs = [s for s in sources if s.system == system]
        try:
            found = check(seen_by, setup, mine, theirs)
            findings += [f if label == system else _named(f, label) for f in found]
        except AuthError as error:
            unreachable = True
            findings.append(problem(label, "credentials", str(error), f"check the credentials named under {_key(label)}"))  # fmt: skip
        except (SystemUnavailable, RateLimited) as error:
            unreachable = True
            findings.append(problem(label, "connection", str(error), f"check {_key(label)} (URL, ca_bundle) and the network"))  # fmt: skip
        except ConnectorError as error:
            findings.append(problem(label, "check", str(error), "see the message; the integration user may lack access"))  # fmt: skip
    findings += check_channels(config)
    if unreachable or any(f.subject == "connected app scopes" and f.status == "problem" for f in findings):  # fmt: skip
        return findings, unreachable  # the sample could not be read: its systems' lines say why
    try:
        findings += check_join(config, systems.connectors, join_sample)
    except ConnectorError as error:
        findings.append(problem("join", "sample", str(error), "see the message; the integration user may lack access"))  # fmt: skip
    return findings, unreachable


def _key(label: str) -> str:
    """The config key of a checklist's system: zendesk@eu -> connections.zendesk.instances.eu."""
    system, _, name = label.partition("@")
    return f"connections.{system}.instances.{name}" if name else f"connections.{system}"


def _named(finding: Finding, label: str) -> Finding:
    """A finding of a named instance, under its name (provision sets it up as it does the
    default one, so a fix that says to run provision holds for it too)."""
    return replace(finding, system=label)
