"""Vendor records -> canonical Ticket and Account, as the config's mappings say.

A record missing what every ticket needs (status, created/updated times) raises RecordError:
the caller reports it and skips the record. Any other unusable value is left empty and, when
the caller passes an `issues` list, recorded there; dirty data never stops a run. A time outside
what a ticket can hold (before 1990, or after the caller's `latest`) is unusable too: a ticket
"created" in 2999 would otherwise be judged ok with 2022991 hours left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from config.join_schema import (
    EmailDomain,
    JiraField,
    JoinStrategy,
    OrganizationExternalId,
    OrganizationField,
)
from config.mapping_schema import JiraMapping, SalesforceMapping, ZendeskMapping
from config.read_mapping import ReadMappingBase, signal_kind
from config.write_mapping import WriteMappingBase
from mapping.errors import RecordError, RecordIssue
from mapping.paths import resolve
from mapping.reader import AttributeReader
from mapping.records import UNKNOWN_TIER, Account, SourceRecord, Ticket
from vocabulary.attributes import REQUIRED_TICKET_ATTRIBUTES
from vocabulary.paths import SourcePath, parse_source_path
from vocabulary.values import ValueProblem, is_empty, short, to_domain, to_text

Related = Mapping[str, Mapping[str, Any]]
_ORG_EXTERNAL_ID = parse_source_path("organization.external_id")
# No helpdesk ticket is older; earlier times are empty epochs (0) or typing slips.
EARLIEST_TICKET_TIME = datetime(1990, 1, 1, tzinfo=UTC)

# Readers are built once per mapping object (mappings are immutable and live for the run).
_READERS: dict[int, tuple[Any, tuple[AttributeReader, ...]]] = {}
_CURRENT_PATHS: dict[int, tuple[Any, tuple[tuple[str, SourcePath], ...]]] = {}


def _readers(read_mapping: ReadMappingBase) -> tuple[AttributeReader, ...]:
    cached = _READERS.get(id(read_mapping))
    if cached is None or cached[0] is not read_mapping:
        readers = tuple(
            AttributeReader.build(name, read_mapping.attribute_kinds[name], read)
            for name, read in read_mapping.mapped().items()
        )
        cached = (read_mapping, readers)
        _READERS[id(read_mapping)] = cached
    return cached[1]


def _read_all(
    record_ref: str,
    data: Mapping[str, Any],
    readers: Sequence[AttributeReader],
    related: Related,
    issues: list[RecordIssue] | None,
    required: tuple[str, ...] = (),
    latest: datetime | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(attribute -> value, attribute -> why it is empty) for every mapped attribute.

    Problems with `required` attributes are not issues: the caller rejects the record.
    Date-times outside EARLIEST_TICKET_TIME .. `latest` are problems too.
    """
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    offsets: list[AttributeReader] = []
    for reader in readers:
        if reader.minutes_after is not None:
            offsets.append(reader)
        try:
            value = reader.read(data, related)
            if reader.kind == "datetime" and value is not None:
                _check_plausible(value, latest)
            values[reader.attribute] = value
        except ValueProblem as problem:
            values[reader.attribute] = None
            problems[reader.attribute] = str(problem)
            if issues is not None and reader.attribute not in required:
                issues.append(RecordIssue(record_ref, reader.attribute, str(problem)))
    # After every plain value is read: an offset's base may be mapped after it.
    for reader in offsets:
        try:
            values[reader.attribute] = _minutes_after(reader, values, latest)
        except ValueProblem as problem:
            values[reader.attribute] = None
            problems[reader.attribute] = str(problem)
            if issues is not None and reader.attribute not in required:
                issues.append(RecordIssue(record_ref, reader.attribute, str(problem)))
    return values, problems


def _minutes_after(
    reader: AttributeReader, values: Mapping[str, Any], latest: datetime | None
) -> datetime | None:
    """The minutes read, as a time after the base attribute's; None when either is missing."""
    minutes, base = values.get(reader.attribute), values.get(str(reader.minutes_after))
    if minutes is None or base is None:
        return None
    found = f"found {short(minutes)} minutes after {reader.minutes_after}"
    if minutes < 0:
        raise ValueProblem(f"{found}; expected zero or more")
    try:
        moment = base + timedelta(minutes=minutes)
    except OverflowError:  # past the year 9999
        raise ValueProblem(f"{found}; {_plausible_range(latest)}") from None
    try:
        _check_plausible(moment, latest)
    except ValueProblem as problem:
        raise ValueProblem(f"{found}, {problem.args[0].removeprefix('found ')}") from None
    return moment


def _plausible_range(latest: datetime | None) -> str:
    until = f"{latest:%Y-%m-%d %H:%M} UTC" if latest is not None else "9999-12-31"
    return f"expected a time between {EARLIEST_TICKET_TIME:%Y-%m-%d} and {until}"


def _check_plausible(moment: datetime, latest: datetime | None) -> None:
    """ValueProblem for a time no ticket can hold: before helpdesks, or after `latest`."""
    if moment < EARLIEST_TICKET_TIME or (latest is not None and moment > latest):
        raise ValueProblem(f"found {moment:%Y-%m-%d %H:%M} UTC; {_plausible_range(latest)}")


def _join_value(raw: Any) -> str | None:
    """A join key as text; select options give their value; lists must hold exactly one."""
    if isinstance(raw, list):
        raw = raw[0] if len(raw) == 1 else None
    if isinstance(raw, dict):
        raw = raw.get("value", raw.get("name", raw.get("id")))
    if is_empty(raw):
        return None
    try:
        return to_text(raw)
    except ValueProblem:
        return None


def _join_keys(
    system: str,
    data: Mapping[str, Any],
    values: Mapping[str, Any],
    join: Sequence[JoinStrategy],
    related: Related,
) -> dict[str, str]:
    keys: dict[str, str] = {}
    if values.get("account_id"):
        keys["account_id"] = values["account_id"]
    for strategy in join:
        value: str | None = None
        if isinstance(strategy, OrganizationExternalId) and system == "zendesk":
            value = _join_value(resolve(data, _ORG_EXTERNAL_ID, related))
        elif isinstance(strategy, OrganizationField) and system == "zendesk":
            value = _join_value(resolve(data, strategy.path, related))
        elif isinstance(strategy, JiraField) and system == "jira":
            value = _join_value(resolve(data, strategy.path, related))
        elif isinstance(strategy, EmailDomain) and values.get("requester_email"):
            try:
                domain = to_domain(values["requester_email"])
            except ValueProblem:
                domain = None
            if domain and domain not in strategy.ignore_domains:
                value = domain
        if value is not None:
            keys[strategy.key] = value
    return keys


def organization_join_keys(
    organization_id: str,
    organizations: Mapping[str, Mapping[str, Any]],
    join: Sequence[JoinStrategy],
) -> tuple[dict[str, str], tuple[str, ...]]:
    """(the join keys a Zendesk ticket of this organisation takes from it, the names of every
    join key an organisation can lend): what `normalise_ticket` would read through
    `organization_id` now, for tickets normalised while the organisation was different or
    still there."""
    data = {"organization_id": organization_id}
    related = {"organization": organizations}
    keys: dict[str, str] = {}
    names: list[str] = []
    for strategy in join:
        if isinstance(strategy, OrganizationExternalId):
            path = _ORG_EXTERNAL_ID
        elif isinstance(strategy, OrganizationField):
            path = strategy.path
        else:
            continue
        names.append(strategy.key)
        value = _join_value(resolve(data, path, related))
        if value is not None:
            keys[strategy.key] = value
    return keys, tuple(names)


def _current_value(raw: Any) -> Any:
    # Jira option objects are reduced to their value, so they compare with what we write.
    if isinstance(raw, dict) and ("value" in raw or "name" in raw):
        return raw.get("value", raw.get("name"))
    return raw


def _current_paths(system: str, write: WriteMappingBase) -> tuple[tuple[str, SourcePath], ...]:
    """(output, where the system holds its current value), built once per write mapping."""
    cached = _CURRENT_PATHS.get(id(write))
    if cached is None or cached[0] is not write:
        paths = []
        for output, target in write.outputs().items():
            if system == "zendesk":
                path = f"custom_fields[{target.field}]"
            elif system == "jira":
                path = f"fields.{target.field}"
            else:
                path = target.field
            paths.append((output, parse_source_path(path)))
        cached = (write, tuple(paths))
        _CURRENT_PATHS[id(write)] = cached
    return cached[1]


def _managed_fields(
    system: str, data: Mapping[str, Any], write: WriteMappingBase
) -> dict[str, Any]:
    return {
        output: _current_value(resolve(data, path))
        for output, path in _current_paths(system, write)
    }


def _url(template: str, base_url: str | None, record: SourceRecord, key: str | None) -> str | None:
    if base_url is None or ("{key}" in template and not key):
        return None
    return template.format(base_url=base_url.rstrip("/"), id=record.id, key=key or "")


def normalise_ticket(
    record: SourceRecord,
    system_mapping: ZendeskMapping | JiraMapping,
    *,
    organizations: Mapping[str, Mapping[str, Any]] | None = None,
    users: Mapping[str, Mapping[str, Any]] | None = None,
    join: Sequence[JoinStrategy] = (),
    base_url: str | None = None,
    issues: list[RecordIssue] | None = None,
    latest: datetime | None = None,
) -> Ticket:
    """A Zendesk ticket or Jira issue as a canonical Ticket; RecordError when unusable.

    `organizations` and `users` (by id, as text) let Zendesk paths such as
    `organization.external_id` or `requester.email` follow the ticket's *_id fields; `join`
    says which join keys to collect; `base_url` (the connection URL) fills the ticket URL;
    a time after `latest` (the caller's clock plus a skew) is a bad value.
    """
    ref = f"{record.system}:{record.id or '(no id)'}"
    if not isinstance(record.data, Mapping):
        raise RecordError(ref, f"found {type(record.data).__name__}; expected a JSON object")
    if is_empty(record.id):
        raise RecordError(ref, "found an object without an id; every ticket needs one")
    if not (str(record.id).isascii() and str(record.id).isdigit()):
        # Zendesk and Jira number their tickets; any other id could never be written back.
        raise RecordError(ref, f"found id {short(record.id)}; expected a number")
    related: dict[str, Mapping[str, Any]] = {}
    if organizations is not None:
        related["organization"] = organizations
    if users is not None:
        related.update(requester=users, assignee=users, submitter=users)
    readers = _readers(system_mapping.ticket)
    values, problems = _read_all(
        ref, record.data, readers, related, issues, REQUIRED_TICKET_ATTRIBUTES, latest
    )
    for name in REQUIRED_TICKET_ATTRIBUTES:
        if values.get(name) is None:
            reason = problems.get(
                name,
                "found nothing at "
                + ", ".join(str(p) for p in getattr(system_mapping.ticket, name).paths),
            )
            raise RecordError(ref, f"{name}: {reason}; every ticket needs it")
    key = values.get("key")
    return Ticket(
        system=record.system,
        id=str(record.id),
        subject=values.get("subject") or "",
        status=values["status"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        key=key,
        url=values.get("url") or _url(system_mapping.ticket_url, base_url, record, key),
        severity=values.get("severity"),
        category=values.get("category"),
        first_response_at=values.get("first_response_at"),
        last_agent_update_at=values.get("last_agent_update_at"),
        organization=values.get("organization"),
        requester_email=values.get("requester_email"),
        assignee=values.get("assignee"),
        tags=tuple(values.get("tags") or ()),
        linked=tuple(values.get("linked") or ()),
        join_keys=_join_keys(record.system, record.data, values, join, related),
        managed_fields=_managed_fields(record.system, record.data, system_mapping.write),
        status_changed_at=values.get("status_changed_at"),
    )


def normalise_account(
    record: SourceRecord,
    mapping: SalesforceMapping,
    *,
    tiers: Sequence[str] | None = None,
    issues: list[RecordIssue] | None = None,
) -> Account:
    """A Salesforce account as a canonical Account; RecordError when unusable.

    With `tiers` (the matrix's), a tier the matrix does not know becomes "unknown".
    """
    ref = f"{record.system}:{record.id}"
    if not isinstance(record.data, Mapping) or is_empty(record.id):
        raise RecordError(ref, "found no account id or no JSON object; expected both")
    values, _ = _read_all(ref, record.data, _readers(mapping.account), {}, issues)
    tier = values.get("tier") or UNKNOWN_TIER
    if tiers is not None and tier not in tiers:
        if issues is not None:
            issues.append(
                RecordIssue(
                    ref,
                    "tier",
                    f"found '{tier}', which the matrix does not list; using '{UNKNOWN_TIER}'",
                )
            )
        tier = UNKNOWN_TIER
    return Account(
        id=str(record.id),
        name=values.get("name") or str(record.id),
        tier=tier,
        renewal_date=values.get("renewal_date"),
        arr=values.get("arr"),
        owner=values.get("owner"),
        csm=values.get("csm"),
        region=values.get("region"),
        time_zone=values.get("time_zone"),
        health=values.get("health"),
        external_id=values.get("external_id"),
        domains=tuple(values.get("domains") or ()),
        managed_fields=_account_managed_fields(record.data, mapping),
        signals=_signals(ref, record.data, mapping.account, issues),
    )


def _account_managed_fields(data: Mapping[str, Any], mapping: SalesforceMapping) -> dict[str, Any]:
    """What our account fields hold now: the ticket rollups and the account matrix's."""
    found = _managed_fields("salesforce", data, mapping.write)
    if mapping.account_matrix is not None:
        found.update(_managed_fields("salesforce", data, mapping.account_matrix.write))
    return found


_SIGNAL_READERS: dict[int, tuple[Any, tuple[AttributeReader, ...]]] = {}


def _signals(
    ref: str, data: Mapping[str, Any], read: Any, issues: list[RecordIssue] | None
) -> dict[str, Any]:
    """The account's signals; an unreadable one is left out and noted as an issue."""
    signals = getattr(read, "signals", None)
    if not signals:
        return {}
    cached = _SIGNAL_READERS.get(id(read))
    if cached is None or cached[0] is not read:
        readers = tuple(
            AttributeReader.build(f"signals.{name}", signal_kind(entry), entry)
            for name, entry in signals.items()
        )
        cached = _SIGNAL_READERS[id(read)] = (read, readers)
    values, _ = _read_all(ref, data, cached[1], {}, issues)
    return {
        name.removeprefix("signals."): value for name, value in values.items() if value is not None
    }
