"""`escalation-sync doctor`: read-only checks of each system against the configuration.

Each system is checked on its own: one that cannot be reached, or refuses our credentials, is
one problem line and the others are still checked; so is each notification channel
(provision/channel_checks.py), without sending anything. Then the join, on a sample of open tickets
(provision/join_check.py), when every system it reads answered.
"""

from __future__ import annotations

from collections.abc import Callable

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


def run_doctor(
    config: Config, systems: Systems, join_sample: int = DEFAULT_SAMPLE
) -> tuple[list[Finding], bool]:
    """(the checklist, whether some system was out of reach or refused our credentials);
    `join_sample` open tickets per ticket system test the join (0: not at all)."""
    wanted, sources = wanted_fields(config), translated_sources(config)
    findings: list[Finding] = []
    unreachable = False
    checks: list[tuple[str, object, Callable[..., list[Finding]]]] = [
        ("zendesk", systems.zendesk, check_zendesk),
        ("jira", systems.jira, check_jira),
        ("salesforce", systems.salesforce, check_salesforce),
    ]
    for system, setup, check in checks:
        if setup is None:
            continue
        mine = [w for w in wanted if w.system == system]
        theirs = [s for s in sources if s.system == system]
        try:
            findings += check(config, setup, mine, theirs)
        except AuthError as error:
            unreachable = True
            findings.append(problem(system, "credentials", str(error), f"check the credentials named under connections.{system}"))  # fmt: skip
        except (SystemUnavailable, RateLimited) as error:
            unreachable = True
            findings.append(problem(system, "connection", str(error), f"check connections.{system} (URL, ca_bundle) and the network"))  # fmt: skip
        except ConnectorError as error:
            findings.append(problem(system, "check", str(error), "see the message; the integration user may lack access"))  # fmt: skip
    findings += check_channels(config)
    if unreachable or any(f.subject == "connected app scopes" and f.status == "problem" for f in findings):  # fmt: skip
        return findings, unreachable  # the sample could not be read: its systems' lines say why
    try:
        findings += check_join(config, systems.connectors, join_sample)
    except ConnectorError as error:
        findings.append(problem("join", "sample", str(error), "see the message; the integration user may lack access"))  # fmt: skip
    return findings, unreachable
