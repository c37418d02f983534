"""Doctor's join check: on a bounded sample of open tickets, how many would find their account by
each join strategy, and how many by none.

The sample is read through the connectors as a run reads: Zendesk's cursor export from the first
run's start (`sync.first_run.lookback_days` back) with its sideloaded organisations and
requesters, at most `EXPORT_PAGES` pages; Jira's open issues of the configured projects, until
the sample is full. Each ticket is normalised as a run normalises it, then both systems' samples are joined
together (a Jira issue finds its account through the tickets linked to it) to every Salesforce
account (read in full, 2,000 a request: a strategy can only be judged against all of them) by
the ordered strategies, as a run joins. An unmatched issue whose linked tickets all lie outside
the sample is not judged (a run would know them).

A strategy whose key is empty on every sampled ticket (of every system it applies to) can never
match: a problem, with the key to fill or map, instead of a silent "tier unknown" later. So is
a strategy that matches on an account attribute no account has. A large unmatched share is a
warning: those tickets get tier unknown. No customer text is printed: counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from config.join_schema import (
    AccountIdField,
    EmailDomain,
    JiraField,
    JoinStrategy,
    LinkedTicket,
    OrganizationExternalId,
    OrganizationField,
)
from config.schema import Config
from connectors.salesforce import account_fields
from mapping.errors import RecordError
from mapping.join import AccountIndex, JoinResult, join
from mapping.normalise import normalise_account, normalise_ticket
from mapping.records import Account, SourceRecord, Ticket
from provision.findings import Finding, ok, problem, warning, where

SUBJECT_SYSTEM = "join"
DEFAULT_SAMPLE = 200  # open tickets per ticket system
EXPORT_PAGES = 3  # Zendesk export requests at most (its incremental quota: 10 a minute)
UNMATCHED_WARNING_SHARE = 0.2  # warn when more of the sample than this matches no account
CLOCK_SKEW = timedelta(days=1)  # a ticket time further ahead is a bad value, as in a run
# Which ticket systems each strategy reads a key from.
APPLIES_TO: dict[type, tuple[str, ...]] = {
    AccountIdField: ("zendesk", "jira"),
    OrganizationExternalId: ("zendesk",),
    OrganizationField: ("zendesk",),
    JiraField: ("jira",),
    EmailDomain: ("zendesk", "jira"),
}


@dataclass
class Tally:
    """One strategy over one system's sample, judged on its own (not first-wins)."""

    with_key: int = 0  # tickets that have the strategy's key
    matches: int = 0  # of those, the key finds exactly one account


@dataclass
class SystemSample:
    system: str
    tickets: list[Ticket] = field(default_factory=list)
    skipped: int = 0  # records a run would skip too (unusable)


def check_join(
    config: Config, connectors: dict[str, Any], size: int = DEFAULT_SAMPLE
) -> list[Finding]:
    """The join checklist lines (none when the sample size is 0 or no accounts are configured)."""
    if size <= 0 or "salesforce" not in connectors:
        return []
    now = datetime.now(UTC)
    samples = [
        sample
        for sample in (
            _zendesk_sample(config, connectors.get("zendesk"), size, now),
            _jira_sample(config, connectors.get("jira"), size, now),
        )
        if sample is not None
    ]
    if not samples:
        return []
    accounts = _accounts(config, connectors["salesforce"])
    index = AccountIndex(accounts, {s.match for s in config.join if not isinstance(s, LinkedTicket)})  # fmt: skip
    result = join([t for s in samples for t in s.tickets], accounts, config.join)
    findings = [_sample_line(config, sample, result, index) for sample in samples]
    findings += _empty_keys(config, samples, index)
    findings += _empty_account_attributes(config, accounts)
    return findings


# -- reading the sample -------------------------------------------------------------------------
def _zendesk_sample(
    config: Config, connector: Any, size: int, now: datetime
) -> SystemSample | None:
    if connector is None:
        return None
    sample = SystemSample("zendesk")
    start = now - timedelta(days=config.sync.first_run.lookback_days)
    organizations: dict[str, dict[str, Any]] = {}
    users: dict[str, dict[str, Any]] = {}
    for number, page in enumerate(connector.read_ticket_changes(start_time=start), start=1):
        for record in page.records:
            if record.kind in ("organization", "user"):
                (organizations if record.kind == "organization" else users)[record.id] = record.data
        tickets = [r for r in page.records if r.kind == "ticket"]
        _take(config, sample, tickets, size, now, organizations, users)
        if len(sample.tickets) >= size or number >= EXPORT_PAGES:
            break
    return sample


def _jira_sample(config: Config, connector: Any, size: int, now: datetime) -> SystemSample | None:
    if connector is None:
        return None
    sample = SystemSample("jira")
    for page in connector.read_issue_changes(None):  # no cursor: every open issue
        _take(config, sample, page.records, size, now)
        if len(sample.tickets) >= size:
            break
    return sample


def _take(
    config: Config,
    sample: SystemSample,
    records: list[SourceRecord],
    size: int,
    now: datetime,
    organizations: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
) -> None:
    mapping = getattr(config.mapping, sample.system)
    for record in records:
        if len(sample.tickets) >= size:
            return
        try:
            ticket = normalise_ticket(record, mapping, organizations=organizations, users=users,
                                      join=config.join, base_url=config.base_url(sample.system),
                                      latest=now + CLOCK_SKEW)  # fmt: skip
        except RecordError:
            sample.skipped += 1
            continue
        if ticket.status.is_open:
            sample.tickets.append(ticket)


def _accounts(config: Config, connector: Any) -> list[Account]:
    fields = account_fields(config)
    tiers = tuple(config.matrix.tiers)
    accounts = []
    for page in connector.read_account_changes(None, fields, config.mapping.salesforce.where):
        for record in page.records:
            try:
                accounts.append(normalise_account(record, config.mapping.salesforce, tiers=tiers))
            except RecordError:
                continue
    return accounts


# -- judging it ------------------------------------------------------------------------------
def _applies(strategy: JoinStrategy, system: str) -> bool:
    return system in APPLIES_TO.get(type(strategy), ())


def _tally(strategy: JoinStrategy, tickets: list[Ticket], index: AccountIndex) -> Tally:
    tally = Tally()
    for ticket in tickets:
        value = ticket.join_keys.get(strategy.key)
        if not value:
            continue
        tally.with_key += 1
        if len(index.lookup(strategy.match, value)) == 1:
            tally.matches += 1
    return tally


def _sample_line(
    config: Config, sample: SystemSample, result: JoinResult, index: AccountIndex
) -> Finding:
    subject = f"{sample.system} sample"
    total = len(sample.tickets)
    if not total:
        return warning(SUBJECT_SYSTEM, subject, "no open ticket among those read; the join was not tried",
                       "run doctor again once the system has open tickets")  # fmt: skip
    parts = []
    for strategy in config.join:
        if isinstance(strategy, LinkedTicket):
            via_links = sum(1 for t in sample.tickets if t.ref in result.via_links)
            parts.append(f"{strategy.key} {via_links} (after the others)")
        elif _applies(strategy, sample.system):
            tally = _tally(strategy, sample.tickets, index)
            parts.append(f"{strategy.key} {tally.matches} (key on {tally.with_key})")
    sampled = {t.ref for t in result.tickets} | {f"{t.system}:{t.key}" for t in result.tickets if t.key}  # fmt: skip
    unmatched = {ref for ref, _ in result.unmatched}
    mine = [t for t in sample.tickets if t.ref in unmatched]
    unjudged = [t for t in mine if t.linked and not any(link in sampled for link in t.linked)]
    judged = total - len(unjudged)
    none = len(mine) - len(unjudged)
    share = none / judged if judged else 0.0
    detail = (f"{total} open tickets: would match by {'; '.join(parts)}; "
              f"{total - len(mine)} matched in order, {none} ({share:.0%}) by none")  # fmt: skip
    if unjudged:
        detail += f", {len(unjudged)} not judged (their linked tickets are outside the sample)"
    if sample.skipped:
        detail += f"; {sample.skipped} unusable records skipped"
    if share > UNMATCHED_WARNING_SHARE:
        return warning(SUBJECT_SYSTEM, subject, detail + "; those get tier unknown",
                       f"see why with `escalation-sync explain`, and check the strategies at {where(config, ('join',))}")  # fmt: skip
    return ok(SUBJECT_SYSTEM, subject, detail)


def _empty_keys(config: Config, samples: list[SystemSample], index: AccountIndex) -> list[Finding]:
    """A problem per strategy whose key no sampled ticket has, in any system it applies to."""
    findings = []
    for position, strategy in enumerate(config.join):
        systems = [s for s in samples if s.tickets and _applies(strategy, s.system)]
        if not systems:
            continue
        if any(_tally(strategy, s.tickets, index).with_key for s in systems):
            continue
        read = sum(len(s.tickets) for s in systems)
        findings.append(problem(SUBJECT_SYSTEM, f"join[{position}] {strategy.key}",
                                f"empty on all {read} sampled open tickets ({', '.join(s.system for s in systems)}): it can never match",
                                _fix(config, position, strategy, [s.system for s in systems])))  # fmt: skip
    return findings


def _fix(config: Config, position: int, strategy: JoinStrategy, systems: list[str]) -> str:
    join_key = where(config, ("join", position))
    if isinstance(strategy, AccountIdField):
        keys = ", ".join(where(config, ("mapping", s, "ticket", "account_id")) for s in systems)
        return f"map the ticket field that holds the Salesforce account {strategy.match} at {keys} (and fill it), or remove {join_key}"  # fmt: skip
    if isinstance(strategy, OrganizationExternalId):
        return f"fill each Zendesk organisation's external_id with its account's {strategy.match} (Admin Center > Organizations, or the API), or remove {join_key}"  # fmt: skip
    if isinstance(strategy, OrganizationField):
        return f"fill the organisation field '{strategy.field}' with the account's {strategy.match}, or name the field that holds it at {where(config, ('join', position, 'field'))}"  # fmt: skip
    if isinstance(strategy, JiraField):
        return f"fill {strategy.source} on the issues, or name the field that holds the account at {where(config, ('join', position, 'source'))}"  # fmt: skip
    keys = ", ".join(where(config, ("mapping", s, "ticket", "requester_email")) for s in systems)
    return f"map the requester's email at {keys}; only free-mail domains count as empty (join[{position}].ignore_domains)"  # fmt: skip


def _empty_account_attributes(config: Config, accounts: list[Account]) -> list[Finding]:
    """A strategy matching on an attribute no account has (external id, domains) never matches."""
    if not accounts:
        return [problem(SUBJECT_SYSTEM, "accounts", "Salesforce answered no account; no ticket can match",
                        f"check the filter at {where(config, ('mapping', 'salesforce', 'where'))} and the user's access to Account")]  # fmt: skip
    findings = []
    for attribute in dict.fromkeys(s.match for s in config.join if s.match in ("external_id", "domains")):  # fmt: skip
        if any(getattr(a, attribute) for a in accounts):
            continue
        findings.append(problem(SUBJECT_SYSTEM, f"accounts' {attribute}",
                                f"empty on all {len(accounts)} accounts: the strategies matching on it never match",
                                f"map the Account field that holds it at {where(config, ('mapping', 'salesforce', 'account', attribute))}"))  # fmt: skip
    return findings
