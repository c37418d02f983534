"""Broken configurations through the CLI: each gives its exact message, exit 2, no traceback.

Every case starts from the shipped example (config/example/), breaks one thing in one file and
runs `run_sync.py validate` and `run_sync.py sync` in-process. The expected lines are the whole
message an ops engineer reads: file, line, key path, what was found and what is expected.
In the expected text `{dir}` is the config folder, `{file}` the edited file, `{at}` the line of
the edit and `{line:TEXT}` the line of the first occurrence of TEXT in the edited file (so the
table survives comment changes in the example).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import run_sync

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example"
# Where the example's main file defines `state:` (comments above it come and go).
MAIN_STATE_LINE = (EXAMPLE / "escalation-sync.yaml").read_text(encoding="utf-8").split("\n").index(
    "state:"
) + 1
SECRETS = {
    "ZENDESK_EMAIL": "bot@acme.example",
    "ZENDESK_API_TOKEN": "zd-bad-config-token",
    "JIRA_EMAIL": "bot@acme.example",
    "JIRA_API_TOKEN": "jira-bad-config-token",
    "SALESFORCE_CLIENT_ID": "sf-bad-config-id",
    "SALESFORCE_CLIENT_SECRET": "sf-bad-config-secret",
}
# The example keeps its state under /var/lib; the tests keep it in the config folder.
STATE_PATHS = {
    "/var/lib/escalation-sync/state.sqlite": "state/state.sqlite",
    "/var/lib/escalation-sync/sync.lock": "state/sync.lock",
}
LEVELS = "none, informational, advisory, action-needed, executive-review"
SALESFORCE_KEYS = (
    "enabled, timeout_seconds, ca_bundle, ca_bundle_env, login_url, auth, client_id_env, "
    "client_secret_env, username_env, password_env, security_token_env, api_version, "
    "instances"
)
ROUTING_RULE_NONE = (
    "    - {level: [none, informational], role: technical, primary: support-tier1, "
    "backup: support-tier2}\n"
)
FIRST_RUN = (
    "    backfill: open_tickets     # the first run reads every open ticket ...\n"
    "    lookback_days: 365         # ... updated within the last year"
)
ROUTING_SECTION = re.search(
    r"^  routing:\n.*?(?=\n  # People away)",
    (EXAMPLE / "matrix.yaml").read_text(encoding="utf-8"),
    re.MULTILINE | re.DOTALL,
).group(0)
EMEA_WEEK = (
    '        mon: ["08:00-18:00"]\n        tue: ["08:00-18:00"]\n        wed: ["08:00-18:00"]\n'
    '        thu: ["08:00-18:00"]\n        fri: ["08:00-17:00"]\n'
)
JIRA_LABEL = '        prefix: "escalation-"'
LEVEL_OPTIONS = (
    "        options:\n          none: esc_none\n          informational: esc_informational\n"
    "          advisory: esc_advisory\n          action-needed: esc_action_needed\n"
    "          executive-review: esc_executive_review\n"
)


def laughs(indent: str) -> str:
    """A "billion laughs": 9 anchors of 9 aliases each, 9**9 values once expanded."""
    lines = [f"{indent}a: &a [{', '.join(['lol'] * 9)}]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{indent}{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


ALIAS_BOMB = (
    "aliases (*name) here expand to more than 10,000 values; expected anchors that repeat a few "
    "values, not aliases of aliases that multiply"
)
NOT_UTF8 = "expected UTF-8 (save the file as UTF-8)"


@dataclass(frozen=True)
class Broken:
    name: str
    file: str  # which file of the example is edited
    old: str | None  # text that occurs exactly once; None: `new` is the whole file
    new: str
    problems: tuple[str, ...]  # every line of the report, in order
    unset: tuple[str, ...] = ()  # environment variables to remove
    empty: tuple[str, ...] = ()  # environment variables set to ""
    # "error": validate and sync refuse it. "warning": validate warns (exit 0, --strict: 2) and
    # sync runs. "secret": validate warns, sync refuses (it needs the secret).
    severity: str = "error"
    encoding: str = "utf-8"  # how the edited file is saved


def case(name: str, file: str, old: str | None, new: str, *problems: str, **env) -> Broken:
    return Broken(name, file, old, new, problems, **env)


def warning(name: str, file: str, old: str | None, new: str, *problems: str, **env) -> Broken:
    return Broken(name, file, old, new, problems, severity="warning", **env)


# fmt: off
CASES = [
    # --- typos, with did-you-mean -------------------------------------------------------
    case(
        "typo-in-a-connection-key", "connections.yaml",
        "    timeout_seconds: 60\n", "    timeout_secnds: 60\n",
        "{file}:{at}: connections.salesforce.timeout_secnds: unknown key 'timeout_secnds' "
        f"(did you mean 'timeout_seconds'?); expected one of: {SALESFORCE_KEYS}",
    ),
    case(
        "typo-in-a-matrix-section", "matrix.yaml", "\n  triggers:\n", "\n  trigers:\n",
        "{file}:{at}: matrix.trigers: unknown key 'trigers' (did you mean 'triggers'?); expected "
        "one of: levels, tiers, categories, regions, roles, calendars, calendar_for, sla, "
        "triggers, timed_escalation, de_escalation, routing, out_of_office, accounts",
    ),
    case(
        "typo-in-a-top-level-section", "connections.yaml", "\nconnections:\n", "\nconections:\n",
        "{file}:{line:conections:}: conections: unknown key 'conections' (did you mean "
        "'connections'?); expected one of: connections, mapping, join, matrix, state, sync, "
        "notifications",
        "{dir}/escalation-sync.yaml: connections: required key 'connections' is missing",
    ),
    case(
        "typo-in-a-mode", "connections.yaml",
        "auth: client_credentials ", "auth: client_credential  ",
        "{file}:{at}: connections.salesforce.auth: found 'client_credential' (did you mean "
        "'client_credentials'?); expected 'client_credentials' or 'password'",
    ),
    case(
        "typo-in-a-join-strategy", "escalation-sync.yaml",
        "  - strategy: email_domain", "  - strategy: email_domian",
        "{file}:{at}: join[4].strategy: found strategy 'email_domian' (did you mean "
        "'email_domain'?); expected one of account_id_field, organization_external_id, "
        "organization_field, jira_field, email_domain, linked_ticket",
    ),
    case(
        "typo-in-an-output-name", "mapping.yaml",
        "      owner_backup: 360000446\n", "      owner_backkup: 360000446\n",
        "{file}:{at}: mapping.zendesk.write.owner_backkup: unknown key 'owner_backkup' (did you "
        "mean 'owner_backup'?); expected one of: level, owner, owner_backup, owner_role, "
        "sla_next_due, sla_state, reason",
    ),
    case(
        "typo-in-the-override-policy", "escalation-sync.yaml",
        "expire: on_level_rise", "expire: on_level_rises",
        "{file}:{at}: sync.overrides.expire: found 'on_level_rises' (did you mean "
        "'on_level_rise'?); expected 'never' or 'on_level_rise'",
    ),
    # --- wrong types --------------------------------------------------------------------
    case(
        "waiting-budget-without-a-unit", "escalation-sync.yaml",
        "  max_wait: 10m\n", "  max_wait: 600\n",
        "{file}:{at}: sync.max_wait: found 600; expected a duration with a unit, such as "
        "'600s' or '10m'",
    ),
    case(
        "waiting-budget-in-working-days", "escalation-sync.yaml",
        "  max_wait: 10m\n", "  max_wait: 1d\n",
        "{file}:{at}: sync.max_wait: found '1d'; expected a duration like '90s', '10m' or "
        "'1h30m' (h, m, s)",
    ),
    case(
        "export-quota-of-zero", "escalation-sync.yaml",
        "    export_per_minute: 10 ", "    export_per_minute: 0  ",
        "{file}:{at}: sync.zendesk.export_per_minute: found 0; expected greater than or equal "
        "to 1",
    ),
    case(
        "zendesk-rate-share-over-the-whole", "escalation-sync.yaml",
        "    rate_share: 0.5 ", "    rate_share: 1.5 ",
        "{file}:{at}: sync.zendesk.rate_share: found 1.5; expected less than or equal to 1",
    ),
    case(
        "salesforce-reserve-of-the-whole-allowance", "escalation-sync.yaml",
        "    api_reserve: 0.2 ", "    api_reserve: 1   ",
        "{file}:{at}: sync.salesforce.api_reserve: found 1; expected less than 1",
    ),
    case(
        "text-where-a-number-is-expected", "connections.yaml",
        "    timeout_seconds: 60\n", "    timeout_seconds: a minute\n",
        "{file}:{at}: connections.salesforce.timeout_seconds: found 'a minute'; expected a valid "
        "number, unable to parse string as a number",
    ),
    case(
        "negative-number", "connections.yaml",
        "    timeout_seconds: 60\n", "    timeout_seconds: -5\n",
        "{file}:{at}: connections.salesforce.timeout_seconds: found -5; expected greater than 0",
    ),
    case(
        "mapping-where-a-list-is-expected", "connections.yaml",
        "    projects: [SUP, ENG]", "    projects: {SUP: 1}",
        "{file}:{at}: connections.jira.projects: found an object; expected a list",
    ),
    case(
        "word-where-a-boolean-is-expected", "mapping.yaml",
        "private_note_on_level_change: true", "private_note_on_level_change: sometimes",
        "{file}:{at}: mapping.zendesk.private_note_on_level_change: found 'sometimes'; expected "
        "a valid boolean, unable to interpret input",
    ),
    case(
        "scalar-where-a-section-is-expected", "connections.yaml",
        "  zendesk:\n    url", "  zendesk: yes\n  zendesk_:\n    url",
        "{file}:{at}: connections.zendesk: found 'yes'; expected a mapping of keys",
        "{file}:{line:zendesk_:}: connections.zendesk_: unknown key 'zendesk_' (did you mean "
        "'zendesk'?); expected one of: zendesk, jira, salesforce",
    ),
    case(
        "text-where-a-translated-number-is-expected", "mapping.yaml",
        "translate: {urgent: 1, high: 2,", "translate: {urgent: 1, high: two,",
        "{file}:{at}: mapping.zendesk.ticket.severity.translate.high: found 'two'; expected a "
        "whole number (what this attribute holds)",
    ),
    case(
        "zendesk-field-name-instead-of-id", "mapping.yaml",
        "owner: 360000445 ", "owner: owner_field ",
        "{file}:{at}: mapping.zendesk.write.owner.field: found 'owner_field'; expected the "
        "numeric id of a Zendesk ticket field, e.g. 360001234",
    ),
    # --- unknown levels, names and values -----------------------------------------------
    case(
        "unknown-level-in-a-trigger", "matrix.yaml",
        "    - name: vip-tag\n      level: informational",
        "    - name: vip-tag\n      level: informative",
        "{file}:{line:level: informative}: matrix.triggers[10].level: unknown level "
        f"'informative'; expected one of {LEVELS} (declared under matrix.levels)",
    ),
    case(
        "unknown-level-in-routing", "matrix.yaml",
        "{level: advisory, role: technical,", "{level: advisary, role: technical,",
        "{file}:{at}: matrix.routing[9].level: unknown level 'advisary'; expected one of "
        f"{LEVELS} or '*' (declared under matrix.levels)",
    ),
    case(
        "unknown-level-in-sla-targets", "matrix.yaml",
        '{level: executive-review, tier: "*",', '{level: exec-review, tier: "*",',
        "{file}:{at}: matrix.sla.targets[6].level: unknown level 'exec-review'; expected one of "
        f"{LEVELS} or '*' (declared under matrix.levels)",
    ),
    case(
        "unknown-level-as-timed-escalation-ceiling", "matrix.yaml",
        "max_level: action-needed", "max_level: critical",
        "{file}:{at}: matrix.timed_escalation.max_level: unknown level 'critical'; expected one "
        f"of {LEVELS} (declared under matrix.levels)",
    ),
    case(
        "unknown-category-in-a-condition", "matrix.yaml",
        "- {field: ticket.category, eq: privacy}\n          - {field: account.tier",
        "- {field: ticket.category, eq: privcy}\n          - {field: account.tier",
        "{file}:{at}: matrix.triggers[2].when.all[0].eq: unknown category 'privcy'; expected one "
        "of outage, defect, contract, privacy, question (declared under matrix.categories)",
    ),
    case(
        "unknown-region-in-routing", "matrix.yaml",
        "{level: action-needed, region: EMEA,", "{level: action-needed, region: EU,",
        "{file}:{at}: matrix.routing[6].region: unknown region 'EU'; expected one of EMEA, AMER, "
        "APAC or '*' (declared under matrix.regions)",
    ),
    case(
        "unknown-tier-choosing-a-calendar", "matrix.yaml",
        "      enterprise: enterprise-24x5", "      enterprize: enterprise-24x5",
        "{file}:{line:by_tier:}: matrix.calendar_for.by_tier: unknown tier 'enterprize'; "
        "expected one of strategic, enterprise, growth, standard, unknown (declared under "
        "matrix.tiers)",
    ),
    case(
        "undefined-calendar", "matrix.yaml", "    default: us-business", "    default: us-busines",
        "{file}:{at}: matrix.calendar_for.default: unknown calendar 'us-busines'; expected one of "
        "emea-business, us-business, apac-business, enterprise-24x5, always-on (declared under "
        "matrix.calendars)",
    ),
    case(
        "tier-translated-to-an-undeclared-tier", "mapping.yaml", '"SMB": standard}', '"SMB": smb}',
        "{file}:{at}: mapping.salesforce.account.tier.translate.smb: found tier 'smb'; expected "
        "one of strategic, enterprise, growth, standard, unknown",
    ),
    case(
        "unknown-placeholder-in-a-reason", "matrix.yaml",
        'reason: "Ticket tagged vip by the account team"',
        'reason: "Ticket tagged vip by {account.nme}"',
        "{file}:{at}: matrix.triggers[10].reason: unknown placeholder {account.nme} in reason; "
        "expected an attribute such as {account.name}, {ticket.severity}, {days_to_renewal} or "
        "{recent_tickets:30} (found 'Ticket tagged vip by {account.nme}')",
    ),
    case(
        "duplicate-trigger-name-reported-at-each-copy", "matrix.yaml",
        "- name: privacy-incident\n", "- name: outage\n",
        "{file}:{line:- name: outage\n}: matrix.triggers[1].name: trigger name 'outage' is used "
        "2 times; names must be unique",
        "{file}:{at}: matrix.triggers[3].name: trigger name 'outage' is used 2 times; names must "
        "be unique",
    ),
    # --- time zones, durations, calendars and dates -------------------------------------
    case(
        "misspelt-time-zone", "matrix.yaml", "time_zone: Europe/Berlin", "time_zone: Europe/Berln",
        "{file}:{at}: matrix.calendars.emea-business.time_zone: unknown time zone 'Europe/Berln' "
        "(did you mean 'Europe/Berlin'?); expected an IANA name like Europe/Berlin, "
        "America/New_York or UTC",
    ),
    case(
        "time-zone-abbreviation", "matrix.yaml", "time_zone: Asia/Singapore", "time_zone: SGT",
        "{file}:{at}: matrix.calendars.apac-business.time_zone: unknown time zone 'SGT'; "
        "expected an IANA name like Europe/Berlin, America/New_York or UTC",
    ),
    case(
        "duration-in-words", "matrix.yaml", "quiet_for: 2d", "quiet_for: 2 days",
        "{file}:{at}: matrix.de_escalation.quiet_for: expected a duration like '30m', '4h', '2d' "
        "or '1d4h' (d = working days, h = hours, m = minutes), found '2 days'",
    ),
    case(
        "duration-without-a-unit", "matrix.yaml", "working_day: 10h", "working_day: 8",
        "{file}:{at}: matrix.calendars.emea-business.working_day: found 8; expected a duration "
        "with a unit, such as '8h' (d = working days, h = hours, m = minutes)",
    ),
    case(
        "duration-as-hours-and-minutes", "matrix.yaml", "working_day: 10h", "working_day: 8:30",
        "{file}:{at}: matrix.calendars.emea-business.working_day: expected a duration like '30m', "
        "'4h', '2d' or '1d4h' (d = working days, h = hours, m = minutes), found '8:30'",
    ),
    case(
        "zero-duration", "matrix.yaml",
        "tier: strategic,  acknowledge: 30m,", "tier: strategic,  acknowledge: 0m,",
        "{file}:{at}: matrix.sla.targets[0].acknowledge: expected a duration greater than zero, "
        "found '0m'",
    ),
    case(
        "percentage-over-100", "matrix.yaml",
        "at_risk_when_remaining: 25%", "at_risk_when_remaining: 125%",
        "{file}:{at}: matrix.sla.at_risk_when_remaining: expected a percentage between 0% and "
        "100%, found '125%'",
    ),
    case(
        "opening-hours-past-midnight-hour", "matrix.yaml",
        'fri: ["08:00-17:00"]', 'fri: ["08:00-25:00"]',
        "{file}:{at}: matrix.calendars.emea-business.hours.fri[0]: expected opening hours like "
        "'08:00-18:00' or '22:00-06:00', found '08:00-25:00'",
    ),
    case(
        "impossible-holiday-date", "matrix.yaml", "dates: [2026-12-24,", "dates: [2026-12-32,",
        "{file}:{at}: matrix.calendars.emea-business.holidays.dates[0]: found '2026-12-32', "
        "which is not a real date (day is out of range for month); expected YYYY-MM-DD",
    ),
    case(
        "holiday-date-day-first", "matrix.yaml", "dates: [2026-12-24,", "dates: [24.12.2026,",
        "{file}:{at}: matrix.calendars.emea-business.holidays.dates[0]: found '24.12.2026'; "
        "expected a date as YYYY-MM-DD",
    ),
    case(
        "out-of-office-date-day-first", "matrix.yaml",
        "from: 2026-12-21, until", "from: 21.12.2026, until",
        "{file}:{at}: matrix.out_of_office[1].from: found '21.12.2026'; expected a date as "
        "YYYY-MM-DD or a moment such as 2026-11-23T09:00:00+00:00",
    ),
    case(
        "unknown-holiday-country", "matrix.yaml",
        "holidays: {country: SG}", "holidays: {country: XX}",
        "{file}:{at}: matrix.calendars.apac-business.holidays.country: unknown country 'XX'; "
        "expected an ISO 3166 code the holidays library supports, e.g. DE, US, GB, FR",
    ),
    case(
        "out-of-office-ending-before-it-starts", "matrix.yaml",
        "from: 2026-12-21, until: 2027-01-04", "from: 2027-01-04, until: 2026-12-21",
        "{file}:{at}: matrix.out_of_office[1]: found until 2026-12-21 before from 2027-01-04; "
        "expected until on or after from",
    ),
    # --- routing ------------------------------------------------------------------------
    case(
        "empty-routing", "matrix.yaml", ROUTING_SECTION, "  routing: []",
        "{file}:{at}: matrix.routing: expected at least one entry, found an empty list",
    ),
    case(
        "routing-without-a-rule-for-some-levels", "matrix.yaml", ROUTING_RULE_NONE, "",
        "{file}:{line:  routing:}: matrix.routing: no owner for level none, informational: each "
        "level needs a routing rule with category, tier and region all '*' (or left out) as its "
        "fallback",
    ),
    # --- conditions ---------------------------------------------------------------------
    case(
        "unknown-condition-operator", "matrix.yaml",
        "{field: ticket.severity, le: 1}\n          - {field: account.tier",
        "{field: ticket.severity, lte: 1}\n          - {field: account.tier",
        "{file}:{at}: matrix.triggers[0].when.all[1].lte: unknown key 'lte' (did you mean "
        "'lt'?); expected one of: all, any, not, recent_tickets, breaches, changed, field, eq, ne, lt, le, gt, ge, "
        "in, not_in, contains, contains_any, exists",
    ),
    case(
        "comparison-value-of-the-wrong-kind", "matrix.yaml",
        "{field: account.arr, ge: 500000}", "{field: account.arr, ge: lots}",
        "{file}:{at}: matrix.triggers[8].when.all[0].ge: account.arr is a number; found 'lots'",
    ),
    case(
        "in-with-a-single-value", "matrix.yaml",
        "{field: account.tier, in: [strategic, enterprise]}\n\n    - name: outage",
        "{field: account.tier, in: strategic}\n\n    - name: outage",
        "{file}:{at}: matrix.triggers[0].when.all[2].in: found 'strategic'; expected a list",
    ),
    # --- mappings -----------------------------------------------------------------------
    case(
        "unknown-canonical-attribute", "mapping.yaml",
        "      severity:\n        source: priority", "      severty:\n        source: priority",
        "{file}:{at}: mapping.zendesk.ticket.severty: unknown key 'severty' (did you mean "
        "'severity'?); expected one of: subject, status, created_at, updated_at, key, url, "
        "severity, category, first_response_at, last_agent_update_at, status_changed_at, "
        "organization, requester_email, assignee, tags, linked, account_id",
    ),
    case(
        "dropdown-without-options", "mapping.yaml", LEVEL_OPTIONS, "",
        "{file}:{line:      level:}: mapping.zendesk.write.level.options: missing; a "
        "dropdown needs options: our value -> the option's value",
    ),
    case(
        "dropdown-without-an-option-for-a-level", "mapping.yaml",
        "          executive-review: esc_executive_review\n", "",
        "{file}:{line:        options:}: mapping.zendesk.write.level.options: no option for "
        "level executive-review; expected one per level",
    ),
    case(
        "unreadable-source-path", "mapping.yaml",
        'source: "custom_fields[360000222]"', 'source: "custom_fields[abc"',
        "{file}:{at}: mapping.zendesk.ticket.account_id.source: cannot read the segment "
        "'custom_fields[abc' of 'custom_fields[abc'; expected name, name[id] or name[*]",
    ),
    # --- connections and TLS ------------------------------------------------------------
    case(
        "plain-http-url", "connections.yaml",
        "url: https://acme.atlassian.net", "url: http://acme.atlassian.net",
        "{file}:{at}: connections.jira.url: found 'http://'; expected an https:// URL (TLS is "
        "always on)",
    ),
    case(
        "ca-bundle-that-does-not-exist", "connections.yaml",
        "    # ca_bundle: /etc/ssl/acme-proxy-ca.pem", "    ca_bundle: certs/proxy-ca.pem",
        "{file}:{at}: connections.salesforce.ca_bundle: found no file at "
        "{dir}/certs/proxy-ca.pem; expected an existing file",
    ),
    case(
        "ca-bundle-that-holds-no-certificate", "connections.yaml",
        "    # ca_bundle: /etc/ssl/acme-proxy-ca.pem", "    ca_bundle: matrix.yaml",
        "{file}:{at}: connections.salesforce.ca_bundle: found no CA certificate in "
        "{dir}/matrix.yaml; expected a PEM file with the certificate of the CA that signed the "
        "server's certificate",
    ),
    case(
        "ca-bundle-given-a-boolean", "connections.yaml",
        "    # ca_bundle: /etc/ssl/acme-proxy-ca.pem", "    ca_bundle: false",
        "{file}:{at}: connections.salesforce.ca_bundle: found False; expected a file path",
    ),
    case(
        "state-path-given-a-number", "escalation-sync.yaml",
        "  path: state/state.sqlite", "  path: 123",
        "{file}:{at}: state.path: found 123; expected a file path",
    ),
    case(
        "state-path-names-a-directory", "escalation-sync.yaml",
        "  path: state/state.sqlite", "  path: .",
        "{file}:{at}: state.path: found {dir}, a directory; expected the path of a file in it",
    ),
    case(
        "state-path-under-proc", "escalation-sync.yaml",
        "  path: state/state.sqlite", "  path: /proc/escalation-sync/state.sqlite",
        "{file}:{at}: state.path: found /proc/escalation-sync/state.sqlite, on the kernel's proc "
        "file system, where no file can be created; expected a path on a file system that stores files",
    ),
    case(
        "state-path-below-a-file", "escalation-sync.yaml",
        "  path: state/state.sqlite", "  path: matrix.yaml/state.sqlite",
        "{file}:{at}: state.path: found {dir}/matrix.yaml/state.sqlite, but {dir}/matrix.yaml is "
        "a file, not a directory; expected a file path",
    ),
    case(
        "lock-path-names-a-directory", "escalation-sync.yaml",
        "  lock_path: state/sync.lock", "  lock_path: /tmp",
        "{file}:{at}: state.lock_path: found /tmp, a directory; expected the path of a file in it",
    ),
    case(
        "no-levels", "matrix.yaml",
        "  levels: [none, informational, advisory, action-needed, executive-review]", "  levels: []",
        "{file}:{at}: matrix.levels: found []; expected at least 1 entry",
    ),
    case(
        "level-renamed-from-a-level-there-is", "matrix.yaml",
        "  levels: [none, informational, advisory, action-needed, executive-review]",
        "  levels:\n    - none\n    - informational\n    - advisory\n"
        "    - {name: action-needed, renamed_from: advisory}\n    - executive-review",
        "{file}:{line:renamed_from: advisory}: matrix.levels[3].renamed_from: found "
        "'advisory', which is a level now; renamed_from names a level's old name, one no "
        "level has any more",
    ),
    case(
        "two-levels-renamed-from-one-name", "matrix.yaml",
        "  levels: [none, informational, advisory, action-needed, executive-review]",
        "  levels:\n    - none\n    - informational\n    - advisory\n"
        "    - {name: action-needed, renamed_from: hot}\n"
        "    - name: executive-review\n      renamed_from: [critical, hot]",
        "{file}:{line:renamed_from: hot}: matrix.levels[3].renamed_from: found 'hot' under "
        "renamed_from more than once; an old name can become one level only",
        "{file}:{line:renamed_from: [critical}: matrix.levels[4].renamed_from: found 'hot' "
        "under renamed_from more than once; an old name can become one level only",
    ),
    case(
        "empty-section", "escalation-sync.yaml", FIRST_RUN, "    # (the defaults)",
        "{file}:{line:  first_run:}: sync.first_run: found None; expected a mapping of keys",
    ),
    case(
        "tls-verification-switch", "connections.yaml",
        "    timeout_seconds: 60\n", "    timeout_seconds: 60\n    verify: false\n",
        "{file}:{line:verify: false}: connections.salesforce.verify: unknown key 'verify'; "
        f"expected one of: {SALESFORCE_KEYS}",
    ),
    case(
        "secret-pasted-instead-of-a-variable-name", "connections.yaml",
        "token_env: JIRA_API_TOKEN", "token_env: ATATT3xFfGF0-abc==",
        "{file}:{at}: connections.jira.token_env: 'ATATT3xFfGF0-abc==' is not an environment "
        "variable name; expected the NAME of the variable that holds the secret (letters, "
        "digits, underscores), never the secret itself",
    ),
    case(
        "lowercase-jira-project", "connections.yaml", "projects: [SUP, ENG]", "projects: [SUP, eng]",
        "{file}:{at}: connections.jira.projects: found ['eng']; expected Jira project keys such "
        "as SUP (capitals, digits, _)",
    ),
    case(
        "batch-size-over-the-vendor-limit", "escalation-sync.yaml",
        "write_batch_size: 200      # records", "write_batch_size: 500      # records",
        "{file}:{at}: sync.salesforce.write_batch_size: found 500; expected less than or equal "
        "to 200",
    ),
    case(
        "page-size-over-the-vendor-limit", "escalation-sync.yaml", "page_size: 1000", "page_size: 5000",
        "{file}:{at}: sync.zendesk.page_size: found 5000; expected less than or equal to 1000",
    ),
    # --- secrets in the environment -----------------------------------------------------
    case(
        "secret-variable-not-set", "connections.yaml", None, "",
        "{dir}/connections.yaml:{line:token_env: JIRA_API_TOKEN}: connections.jira.token_env: "
        "environment variable JIRA_API_TOKEN is not set (or empty); expected it to hold the secret",
        unset=("JIRA_API_TOKEN",), severity="secret",
    ),
    case(
        "secret-variables-empty-and-unset", "connections.yaml", None, "",
        "{dir}/connections.yaml:{line:email_env: ZENDESK_EMAIL}: connections.zendesk.email_env: "
        "environment variable ZENDESK_EMAIL is not set (or empty); expected it to hold the secret",
        "{dir}/connections.yaml:{line:client_secret_env}: connections.salesforce."
        "client_secret_env: environment variable SALESFORCE_CLIENT_SECRET is not set (or "
        "empty); expected it to hold the secret",
        unset=("SALESFORCE_CLIENT_SECRET",), empty=("ZENDESK_EMAIL",), severity="secret",
    ),
    # --- what only compiling the matrix shows: validate refuses what a run cannot do ----
    case(
        "calendar-too-short-for-its-targets", "matrix.yaml", EMEA_WEEK, '        mon: ["09:00-09:01"]\n',
        "{file}:{line:emea-business:}: matrix.calendars.emea-business: open 1m a week with a "
        "working day of 10h: the targets 4h (targets[2].acknowledge), 1d "
        "(targets[2].next_update), 5d (targets[2].resolve) and 9 more do not come due within 3 "
        "years; expected longer opening hours, a shorter working_day or shorter targets",
    ),
    case(
        "opening-hours-written-twice", "matrix.yaml",
        'mon: ["08:00-18:00"]', 'mon: ["08:00-18:00", "08:00-18:00"]',
        "{file}:{at}: matrix.calendars.emea-business.hours.mon[1]: '08:00-18:00' overlaps "
        "'08:00-18:00' (mon[0]); expected spans that do not overlap (write one span for the "
        "whole time)",
    ),
    case(
        "overnight-span-overlapping-the-next-morning", "matrix.yaml",
        'sun: ["20:00-08:00"]', 'sun: ["20:00-09:00"]',
        "{file}:{at}: matrix.calendars.enterprise-24x5.hours.sun[0]: '20:00-09:00' overlaps "
        "'08:00-20:00' (mon[0]); expected spans that do not overlap (write one span for the "
        "whole time)",
    ),
    # --- tags and labels: what a system cannot hold is an error, not a rejected write -----
    case(
        "jira-label-with-a-space", "mapping.yaml", JIRA_LABEL,
        '        options: {executive-review: "war room: CEO"}\n' + JIRA_LABEL,
        "{file}:{at}: mapping.jira.write.label.options.executive-review: found 'war room: CEO'; "
        "a Jira label cannot hold a space (expected e.g. 'war_room_ceo')",
    ),
    case(
        "two-levels-written-as-one-jira-label", "mapping.yaml", JIRA_LABEL,
        '        options: {advisory: escalation-action-needed}\n' + JIRA_LABEL,
        "{file}:{at}: mapping.jira.write.label.options.advisory: levels 'advisory' and "
        "'action-needed' are both written as the Jira label 'escalation-action-needed' (level "
        "names become lowercase, with _ for characters other than a-z, 0-9, _ and -); expected "
        "one per level",
    ),
    # --- accepted, but surely wrong: warnings -------------------------------------------
    warning(
        "trigger-value-the-mapping-never-gives", "matrix.yaml",
        "{field: account.health, in: [red, at-risk]}", "{field: account.health, in: [Red, at-risk]}",
        "{file}:{at}: matrix.triggers[9].when.all[0].in: account.health is never 'Red' (did you "
        "mean 'red'?): mapping.salesforce.account.health gives only at-risk, green, red, so it "
        "never matches; expected one of those values",
    ),
    warning(
        "trigger-comparison-that-never-holds", "matrix.yaml",
        "{field: linked_max_severity, eq: 2}", "{field: ticket.severity, eq: 0}",
        "{file}:{at}: matrix.triggers[14].when.eq: ticket.severity is never 0: "
        "mapping.zendesk.ticket.severity and mapping.jira.ticket.severity give only 1, 2, 3, 4, "
        "so this comparison never holds; expected one of those values",
    ),
    warning(
        "out-of-office-person-in-no-routing-rule", "matrix.yaml",
        "{person: dpo@acme.example, from:", "{person: dpo@acme.exmaple, from:",
        "{file}:{at}: matrix.out_of_office[1].person: 'dpo@acme.exmaple' is named in no routing "
        "rule, so being away changes no owner; expected the primary or backup of a rule (or an "
        "account owner or CSM that {account.owner} / {account.csm} names)",
    ),
    warning(
        "two-levels-one-zendesk-option", "mapping.yaml",
        "          advisory: esc_advisory\n", "          advisory: esc_informational\n",
        "{file}:{at}: mapping.zendesk.write.level.options.advisory: level advisory is written as "
        "'esc_informational', like level informational; the system cannot tell them apart; "
        "expected one option per level",
    ),
    warning(
        "timed-escalation-ceiling-at-the-lowest-level", "matrix.yaml",
        "max_level: action-needed", "max_level: none",
        "{file}:{at}: matrix.timed_escalation.max_level: 'none' is the lowest level, so timed "
        "escalation never moves a ticket up; expected a higher level (or no timed_escalation)",
    ),
    warning(
        "escalating-loosens-a-target", "matrix.yaml",
        "next_update: 4h, resolve: 3d}", "next_update: 4h, resolve: 4d}",
        "{file}:{at}: matrix.sla.targets[5].resolve: escalating loosens resolve: this row gives "
        "level action-needed 4d, more than a lower level gives: enterprise 3d at none "
        "(targets[1]); a level+'*' row beats a '*'+tier row, so expected rows for level "
        "action-needed and those tiers at least as tight",
    ),
    warning(
        "at-risk-from-birth", "matrix.yaml",
        "at_risk_when_remaining: 25%", "at_risk_when_remaining: 30m",
        "{file}:{at}: matrix.sla.at_risk_when_remaining: 30m is at or above the targets 30m "
        "(targets[0].acknowledge), 30m (targets[6].acknowledge), 15m (targets[7].acknowledge), "
        "15m (targets[8].acknowledge): those tickets are at risk from the moment they open; "
        "expected less than every target, or a share such as 25%",
    ),
    # --- files: YAML, includes ----------------------------------------------------------
    case(
        "yaml-syntax-error", "matrix.yaml",
        "  regions: [EMEA, AMER, APAC]", "  regions: [EMEA, AMER, APAC",
        "{file}:{line:  roles:}: (yaml): not valid YAML: while parsing a flow sequence, "
        "expected ',' or ']', but got ':'",
    ),
    case(
        "tab-indentation", "matrix.yaml", "  regions: [EMEA, AMER, APAC]", "\tregions: [EMEA, AMER, APAC]",
        "{file}:{at}: (yaml): not valid YAML: while scanning for the next token, found character "
        "'\\t' that cannot start any token",
    ),
    case(
        "key-written-twice-in-one-file", "connections.yaml",
        "    timeout_seconds: 60\n", "    timeout_seconds: 60\n    timeout_seconds: 90\n",
        "{file}:{line:timeout_seconds: 90}: connections.salesforce.timeout_seconds: key "
        "'timeout_seconds' is written twice in this mapping (lines {at} and "
        "{line:timeout_seconds: 90}); expected each key once",
    ),
    case(
        "section-defined-in-two-files", "mapping.yaml",
        "mapping:\n  zendesk:", "state:\n  path: other.sqlite\nmapping:\n  zendesk:",
        f"{{file}}:{{at}}: state: 'state' is defined twice: in {{dir}}/escalation-sync.yaml (line {MAIN_STATE_LINE}) "
        "and in {dir}/mapping.yaml (line {at}); expected it in one file only",
    ),
    case(
        "circular-include", "matrix.yaml", "\nmatrix:\n", "\ninclude: [escalation-sync.yaml]\nmatrix:\n",
        "{file}:{at}: include: 'escalation-sync.yaml' includes itself (through {dir}/matrix.yaml); "
        "expected no cycles",
    ),
    case(
        "missing-include", "escalation-sync.yaml",
        "  - matrix.yaml\n", "  - matrix.yaml\n  - matrix-extra.yaml\n",
        "{file}:{line:include:}: include: 'matrix-extra.yaml' not found (looked for "
        "{dir}/matrix-extra.yaml); expected a YAML file",
    ),
    case(
        "empty-include", "matrix.yaml", None, "",
        "{dir}/matrix.yaml: (file): file is empty; expected a mapping of keys",
    ),
    case(
        "file-saved-as-utf-16", "matrix.yaml", "\nmatrix:\n", "\nmatrix:\n",
        f"{{dir}}/matrix.yaml: (file): found a UTF-16 byte order mark; {NOT_UTF8}",
        encoding="utf-16",
    ),
    case(
        "file-saved-as-utf-16-without-a-byte-order-mark", "mapping.yaml", "\nmapping:\n",
        "\nmapping:\n",
        f"{{dir}}/mapping.yaml: (file): found NUL bytes, as in UTF-16 or UTF-32; {NOT_UTF8}",
        encoding="utf-16-le",
    ),
    case(
        "file-saved-as-latin-1", "matrix.yaml", "note: summer leave", "note: congé d'été",
        f"{{file}}:{{at}}: (file): found the byte 0xe9, which is not UTF-8; {NOT_UTF8}",
        encoding="latin-1",
    ),
    # --- anchors and aliases ------------------------------------------------------------
    case(
        "alias-bomb-in-the-matrix", "matrix.yaml",
        "\n  levels: [none,", "\n  lol:\n" + laughs("    ") + "  levels: [none,",
        "{file}:{line:    e: &e}: matrix.lol.e[0]: " + ALIAS_BOMB,
    ),
    case(
        "alias-bomb-in-a-translate-table", "mapping.yaml",
        "translate: {urgent: 1, high: 2, normal: 3, low: 4}",
        "translate:\n          urgent: 1\n          lol:\n" + laughs("            "),
        "{file}:{line:            e: &e}: mapping.zendesk.ticket.severity.translate.lol.e[0]: "
        + ALIAS_BOMB,
    ),
    case(
        "merge-of-a-word", "matrix.yaml",
        "{level: executive-review, tier: strategic, acknowledge: 15m,",
        "{<<: fast, level: executive-review, tier: strategic, acknowledge: 15m,",
        "{file}:{at}: matrix.sla.targets[8]: found 'fast' after '<<'; expected an alias of a "
        "mapping (<<: *name) or a list of them",
    ),
]
# fmt: on


def _line_of(text: str, needle: str) -> int:
    assert needle in text, f"{needle!r} is not in the edited file"
    return text[: text.index(needle)].count("\n") + 1


def make_config(folder: Path, broken: Broken) -> Path:
    """The example config in `folder`, with `broken`'s edit; returns the main file."""
    for source in EXAMPLE.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        for old, new in STATE_PATHS.items():
            text = text.replace(old, new)
        (folder / source.name).write_text(text, encoding="utf-8")
    target = folder / broken.file
    if broken.old is not None:
        text = target.read_text(encoding="utf-8")
        assert text.count(broken.old) == 1, f"{broken.name}: the edit must match exactly once"
        target.write_text(text.replace(broken.old, broken.new), encoding=broken.encoding)
    elif not (broken.unset or broken.empty):  # a whole file replaced
        target.write_text(broken.new, encoding="utf-8")
    return folder / "escalation-sync.yaml"


def _edit_line(broken: Broken) -> int:
    """The line where the edit's first non-empty line landed."""
    if broken.old is None:
        return 0
    original = (EXAMPLE / broken.file).read_text(encoding="utf-8")
    for old, new in STATE_PATHS.items():
        original = original.replace(old, new)
    skipped = len(broken.new) - len(broken.new.lstrip("\n"))
    return original[: original.index(broken.old) + skipped].count("\n") + 1


def expected_lines(folder: Path, broken: Broken) -> list[str]:
    edited = (folder / broken.file).read_text(encoding=broken.encoding)
    at = _edit_line(broken)

    def fill(line: str) -> str:
        line = re.sub(r"\{line:([^}]*)\}", lambda m: str(_line_of(edited, m.group(1))), line)
        return line.replace("{at}", str(at)).replace("{file}", str(folder / broken.file))

    return [fill(line).replace("{dir}", str(folder)) for line in broken.problems]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    def set_up(broken: Broken) -> None:
        for name, value in SECRETS.items():
            monkeypatch.setenv(name, value)
        for name in broken.unset:
            monkeypatch.delenv(name)
        for name in broken.empty:
            monkeypatch.setenv(name, "")

    return set_up


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_sync.main(argv)  # a traceback would fail the test here
    out, err = capsys.readouterr()
    return code, out, err


ERRORS = [c for c in CASES if c.severity == "error"]
WARNINGS = [c for c in CASES if c.severity != "error"]  # secrets included
REFUSED_BY_SYNC = [c for c in CASES if c.severity != "warning"]


def _listing(heading: str, lines: list[str]) -> list[str]:
    noun = heading if len(lines) == 1 else f"{heading}s"
    return [f"config has {len(lines)} {noun}:"] + [f"  {line}" for line in lines]


@pytest.mark.parametrize("broken", ERRORS, ids=[c.name for c in ERRORS])
def test_validate_prints_exactly_the_problems_and_exits_2(
    broken: Broken, tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    environment(broken)
    main = make_config(tmp_path, broken)
    code, out, err = run_cli(["validate", "--config", str(main)], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == _listing("problem", expected_lines(tmp_path, broken))


@pytest.mark.parametrize("broken", WARNINGS, ids=[c.name for c in WARNINGS])
def test_validate_prints_exactly_the_warnings_and_exits_0(
    broken: Broken, tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    environment(broken)
    main = make_config(tmp_path, broken)
    code, out, err = run_cli(["validate", "--config", str(main)], capsys)
    assert (code, out.splitlines()[0]) == (0, "ok")
    assert err.splitlines() == _listing("warning", expected_lines(tmp_path, broken))
    assert not any(value in out + err for value in SECRETS.values())


@pytest.mark.parametrize("broken", WARNINGS, ids=[c.name for c in WARNINGS])
def test_validate_strict_makes_warnings_problems_and_exits_2(
    broken: Broken, tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    environment(broken)
    main = make_config(tmp_path, broken)
    code, out, err = run_cli(["validate", "--strict", "--config", str(main)], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == _listing("problem", expected_lines(tmp_path, broken))


@pytest.mark.parametrize("broken", REFUSED_BY_SYNC, ids=[c.name for c in REFUSED_BY_SYNC])
def test_sync_refuses_a_broken_config_and_creates_no_state(
    broken: Broken, tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    environment(broken)
    main = make_config(tmp_path, broken)
    code, out, err = run_cli(["sync", "--config", str(main)], capsys)
    expected = expected_lines(tmp_path, broken)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"escalation-sync: the configuration has {len(expected)} problem(s):"
    ] + [f"  {line}" for line in expected]
    assert not (tmp_path / "state").exists()
    assert not any(value in err for value in SECRETS.values())


def test_the_shipped_example_has_no_warnings(
    tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    unbroken = Broken("unbroken", "matrix.yaml", "\nmatrix:\n", "\nmatrix:\n", ())
    environment(unbroken)
    main = make_config(tmp_path, unbroken)
    code, out, err = run_cli(["validate", "--strict", "--config", str(main)], capsys)
    assert (code, err, out.splitlines()[0]) == (0, "", "ok")


def test_all_problems_in_several_files_are_listed_in_one_report(
    tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    picked = {c.name: c for c in CASES}
    together = [
        picked[name]
        for name in ("plain-http-url", "misspelt-time-zone", "typo-in-an-output-name",
                     "batch-size-over-the-vendor-limit", "unknown-level-in-routing")
    ]  # fmt: skip
    environment(together[0])
    main = make_config(tmp_path, together[0])
    for broken in together[1:]:
        path = tmp_path / broken.file
        path.write_text(path.read_text(encoding="utf-8").replace(broken.old, broken.new))
    code, _, err = run_cli(["validate", "--config", str(main)], capsys)
    lines = err.splitlines()
    assert code == 2 and lines[0] == "config has 5 problems:"
    for broken in together:
        assert f"  {expected_lines(tmp_path, broken)[0]}" in lines


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (["--config", "{dir}/nowhere.yaml"], "  {dir}/nowhere.yaml: (file): file not found; expected a YAML file"),
        (["--config", "{dir}"], "  {dir}: (file): cannot read the file: [Errno 21] Is a directory: '{dir}'"),
    ],
)  # fmt: skip
def test_a_config_path_that_is_not_a_file_is_a_problem_not_a_traceback(
    argv_tail: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [arg.replace("{dir}", str(tmp_path)) for arg in argv_tail]
    for command in ("validate", "sync"):
        code, out, err = run_cli([command, *argv], capsys)
        assert (code, out) == (2, "")
        assert err.splitlines()[1] == message.replace("{dir}", str(tmp_path))


def test_sync_with_an_unreadable_now_exits_2_before_touching_state(
    tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    unbroken = Broken("unbroken", "matrix.yaml", "\nmatrix:\n", "\nmatrix:\n", ())
    environment(unbroken)
    main = make_config(tmp_path, unbroken)
    code, out, err = run_cli(["sync", "--config", str(main), "--now", "next tuesday"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "escalation-sync: --now 'next tuesday' is not an ISO 8601 moment; "
        "expected e.g. 2026-11-23T09:00:00+00:00\n"
    )
    assert not (tmp_path / "state").exists()


# YAML that only looks unusual: validate accepts it. (edit as in `case`, then a text the summary shows)
TARGET_ROWS = (
    "      - {level: action-needed,    tier: strategic, acknowledge: 15m, next_update: 2h, resolve: 1d}\n"
    "      - {level: executive-review, tier: strategic, acknowledge: 15m, next_update: 1h, resolve: 1d}\n"
)
ACCEPTED = [
    case(
        "merge-key-with-overriding-keys", "matrix.yaml", TARGET_ROWS,
        TARGET_ROWS.splitlines(keepends=True)[0].replace("- {", "- &plat {")
        + "      - {<<: *plat, level: executive-review, resolve: 12h}\n",
        "  executive-review  15m/2h/12h ",
    ),
    case(
        "country-code-of-norway", "matrix.yaml", "holidays: {country: US}", "holidays: {country: NO}",
        "holidays NO;",
    ),
    case(
        "utf-8-byte-order-mark", "matrix.yaml", "holidays: {country: US}", "holidays: {country: US}",
        "holidays US;", encoding="utf-8-sig",
    ),
]  # fmt: skip


@pytest.mark.parametrize("fine", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_validate_accepts_yaml_that_only_looks_unusual(
    fine: Broken, tmp_path: Path, environment, capsys: pytest.CaptureFixture[str]
) -> None:
    environment(fine)
    main = make_config(tmp_path, fine)
    code, out, err = run_cli(["validate", "--config", str(main)], capsys)
    assert (code, err) == (0, "")
    assert fine.problems[0] in out
