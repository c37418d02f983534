"""Several Zendesks, Salesforce orgs or Jira sites behind the one Connector contract.

A config may name more instances of a system than the default one (connections.zendesk,
.salesforce and .jira `instances`). Each gets its own connector, built by the same factory from
the config as that instance sees it (its URL, secrets, quotas: `Config.for_instance`, `for_org`,
`for_site`), so each paces and counts on its own. The
run keeps one connector per system: `Instances` holds them all, puts the instance's name in
front of every id it reads (`eu/12345`, vocabulary/instances.py) and routes every write, re-read
and note look-up by that name to the instance the record came from, its own id restored. The
default instance's ids stay bare, so a config with one Zendesk runs exactly as before.

`Puller` reads each instance's streams on their own cursors (`members`); nothing else needs to
know there are several.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from config.schema import Config
from connectors.base import (
    Connector,
    ConnectorStats,
    FieldWrite,
    NoteReader,
    Page,
    UpsertReader,
    WriteResult,
    WriteStatus,
)
from connectors.errors import AuthError, ConnectorError, RateLimited, SystemUnavailable
from mapping.records import SourceRecord
from sync.plan import PlannedWrite
from vocabulary.instances import qualify, split_instance

log = logging.getLogger("escalation_sync.instances")


def qualified(instance: str | None, records: list[SourceRecord]) -> list[SourceRecord]:
    """Records an instance read in its own ids, named as the run knows them (`eu/12345`)."""
    if instance is None:
        return records
    return [replace(record, id=qualify(instance, record.id)) for record in records]


class Instances:
    """One system's instances as one connector: the default first (name None), then the named
    ones in the config's order."""

    def __init__(self, members: dict[str | None, Connector], names: tuple[str, ...] | None = None):
        self.members = members
        default = members[None]
        self.system = default.system
        self.streams = default.streams
        # Every named instance, reached or not: ids are always split on all of them.
        self.names = names or tuple(name for name in members if name is not None)
        # Those turned off in the config (`enabled: false`): named, with no member from the
        # start. Their records wait for them, and never fail for it (`without` keeps these).
        self.turned_off = tuple(name for name in self.names if name not in members)
        # Named instances that refused or failed a write this run (`zendesk@eu` -> why): they
        # are not asked again in it, and the run reports them as it does a failed read.
        self.unreached: dict[str, ConnectorError] = {}
        # Zendesk's export lags (LaggingStream): re-read records by id as this kind. Only a
        # system whose stream lags has it (Salesforce's orgs are not re-read so).
        if hasattr(default, "reread_kind"):
            self.reread_kind: str = default.reread_kind

    def _route(self, record_id: str) -> tuple[str | None, str]:
        return split_instance(record_id, self.names)

    def member_streams(self) -> list[tuple[str | None, Connector]]:
        """(instance name, connector) for each instance, the default first."""
        return list(self.members.items())

    def read_changes(
        self, stream: str, cursor: str | None, start: datetime | None = None
    ) -> Iterator[Page]:
        """The default instance's stream (Puller reads every instance on its own cursor)."""
        return self.members[None].read_changes(stream, cursor, start)

    def read_by_id(self, kind: str, ids: Sequence[str]) -> list[SourceRecord]:
        by_instance: dict[str | None, list[str]] = {}
        for record_id in ids:
            name, bare = self._route(record_id)
            by_instance.setdefault(name, []).append(bare)
        records: list[SourceRecord] = []
        for name, bare_ids in by_instance.items():
            member = self.members.get(name)
            if name is None or member is None:
                if member is not None:
                    records += member.read_by_id(kind, bare_ids)
                continue  # a named instance not reached this run: read again next run
            try:
                records += qualified(name, member.read_by_id(kind, bare_ids))
            except ConnectorError as error:
                # The default's records and the other instances' are still read.
                log.warning(
                    "%s@%s: re-reading %d record(s) failed: %s",
                    self.system,
                    name,
                    len(bare_ids),
                    error,
                )
        return records

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Each instance's writes in its own batches; one result per write, in order
        (apply_by_instance)."""
        return apply_by_instance(self.system, self.members, self.names, writes, self.unreached)

    def without(self, names: Collection[str]) -> Instances:
        """The same instances but those named (not reached this run): their writes wait."""
        kept = {n: m for n, m in self.members.items() if n is None or n not in names}
        left = type(self)(kept, self.names)
        left.turned_off = self.turned_off
        return left

    def read_note_texts(self, record_id: str) -> list[str]:
        name, bare = self._route(record_id)
        member = self.members.get(name)
        if member is None:
            raise SystemUnavailable(f"{self.system}@{name} could not be reached this run")
        if not isinstance(member, NoteReader):
            return []
        return member.read_note_texts(bare)

    def stats(self) -> ConnectorStats:
        """The instances' transports together (the summary counts per system)."""
        every = [member.stats() for member in self.members.values()]
        logins = [s.logins for s in every if s.logins is not None]
        return ConnectorStats(
            requests=sum(s.requests for s in every),
            retries=sum(s.retries for s in every),
            throttled=sum(s.throttled for s in every),
            waited_seconds=sum(s.waited_seconds for s in every),
            logins=sum(logins) if logins else None,
            wait_budget_spent=next(
                (s.wait_budget_spent for s in every if s.wait_budget_spent), None
            ),
        )

    def close(self) -> None:
        for member in self.members.values():
            member.close()


class SalesforceOrgs(Instances):
    """Several Salesforce orgs (connections.salesforce.instances) as one connector: accounts
    and escalation records of a named org carry its name (`eu/001...`, `eu/zendesk:eu/12`)
    and are written to and read back from that org alone."""

    def read_upserted(
        self, object_name: str, key_field: str, fields: Sequence[str], keys: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """External id -> its record's `fields`, each key asked of the org its name says. An
        org that cannot be asked raises: a key left out of the answer means no such record,
        so one of an org not reached must not be (read_back_by_instance answers the others)."""
        by_org: dict[str | None, list[str]] = {}
        for key in keys:
            name, bare = self._route(key)
            by_org.setdefault(name, []).append(bare)
        found: dict[str, dict[str, Any]] = {}
        for name, bare_keys in by_org.items():
            member = self.members.get(name)
            if not isinstance(member, UpsertReader):
                raise SystemUnavailable(f"{self.system}@{name} could not be reached this run")
            held = member.read_upserted(object_name, key_field, fields, bare_keys)
            found.update((qualify(name, key), data) for key, data in held.items())
        return found


def read_back_by_instance(
    connector: Connector,
    object_name: str,
    key_field: str,
    fields: Sequence[str],
    keys: Sequence[str],
) -> dict[str, dict[str, Any] | None]:
    """Each upserted record's `fields` as the instance its key names holds them (None: it
    holds no such record), asked of that instance alone in its own keys. The keys of an
    instance that cannot be asked (not reached this run, or its read failed: logged) are left
    out: unknown, not "no such record" (planned against that, our values would look cleared by
    a person); the other instances' are still read."""
    names: Sequence[str] = getattr(connector, "names", ())
    by_instance: dict[str | None, list[str]] = {}
    for key in keys:
        by_instance.setdefault(split_instance(key, names)[0], []).append(key)
    members = dict(members_of(connector))
    answered: dict[str, dict[str, Any] | None] = {}
    for name, group in by_instance.items():
        member = members.get(name)
        if not isinstance(member, UpsertReader):
            continue  # not reached this run: read back next run
        bare = [split_instance(key, names)[1] for key in group]
        try:
            found = member.read_upserted(object_name, key_field, fields, bare)
        except ConnectorError as error:
            where = connector.system if name is None else f"{connector.system}@{name}"
            log.warning(
                "%s: reading back %d %s records failed: %s", where, len(group), object_name, error
            )
            continue
        answered.update((key, found.get(b)) for key, b in zip(group, bare, strict=True))
    return answered


def qualified_pages(pages: Iterator[Page], instance: str | None) -> Iterator[Page]:
    """An instance's pages with its name in front of every record's id."""
    for page in pages:
        yield replace(page, records=qualified(instance, page.records))


class _Applies(Protocol):
    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]: ...


def apply_by_instance(
    system: str,
    members: Mapping[str | None, _Applies],
    names: Sequence[str],
    writes: Sequence[FieldWrite],
    unreached: dict[str, ConnectorError] | None = None,
) -> list[WriteResult]:
    """Each write to the member of the instance its record id names (`eu/12345`), in that
    instance's own id; one result per write, in order, naming the write as the run knows it.

    The default instance goes first and, failing, fails the call as a single connector
    would. A named one that cannot be used (or was left out: `without`) answers RETRY for its
    writes, with why: the others' results are kept. `unreached` (`zendesk@eu` -> the error)
    gains those that refused or failed now, and those in it are not asked again."""
    by_instance: dict[str | None, list[int]] = {None: []}
    routed = [split_instance(write.record_id, names) for write in writes]
    for index, (name, _) in enumerate(routed):
        by_instance.setdefault(name, []).append(index)
    results: list[WriteResult | None] = [None] * len(writes)
    for name, indexes in by_instance.items():
        if not indexes:
            continue
        bare = [replace(writes[i], record_id=routed[i][1]) for i in indexes]
        done = _apply_one(system, name, members, bare, {} if unreached is None else unreached)
        for index, result in zip(indexes, done, strict=True):
            results[index] = replace(result, write=writes[index])
    return [result for result in results if result is not None]


def _apply_one(
    system: str,
    name: str | None,
    members: Mapping[str | None, _Applies],
    bare: list[FieldWrite],
    unreached: dict[str, ConnectorError],
) -> list[WriteResult]:
    member = members.get(name)
    if name is None and member is not None:
        return member.apply(bare)
    key = f"{system}@{name}"
    try:
        if member is None or key in unreached:
            raise SystemUnavailable(f"{key} could not be reached this run")
        try:
            return member.apply(bare)
        except (AuthError, SystemUnavailable) as error:
            unreached[key] = error
            raise
    except (AuthError, RateLimited, SystemUnavailable) as error:
        log.error("%s@%s: %s", system, name, error)
        return [
            WriteResult(write, WriteStatus.RETRY, f"{system}@{name}: {error}") for write in bare
        ]


def reachable_instances(
    connectors: Mapping[str, Connector], unreachable: Collection[str]
) -> dict[str, Connector]:
    """The connectors of the systems reached this run, without the named instances that were
    not (`zendesk@eu` in `unreachable`)."""
    reachable: dict[str, Connector] = {}
    for system, connector in connectors.items():
        if system in unreachable:
            continue
        if isinstance(connector, Instances):
            gone = [n for n in connector.names if f"{system}@{n}" in unreachable]
            connector = connector.without(gone) if gone else connector
        reachable[system] = connector
    return reachable


def members_of(connector: Connector) -> list[tuple[str | None, Connector]]:
    """(instance name, connector) for each instance behind `connector`; just it when one."""
    if isinstance(connector, Instances):
        return connector.member_streams()
    return [(None, connector)]


def default_member(connector: Connector | None) -> Connector | None:
    """The default instance's own connector (for what only it is written: organisations)."""
    if isinstance(connector, Instances):
        return connector.members[None]
    return connector


def waiting_for_an_org(
    config: Config, planned: list[PlannedWrite], never_read: Collection[str]
) -> list[PlannedWrite]:
    """`planned` without the writes for tickets of a Zendesk whose named Salesforce org was
    never read (`salesforce@eu`): their levels lack its accounts and would be corrected a run
    later (the default org unread holds back every write: sync/run.py)."""
    unread = {key.split("@", 1)[1] for key in never_read if key.startswith("salesforce@")}
    if not unread:
        return planned
    kept = []
    for item in planned:
        system, _, ticket_id = item.target.ref.partition(":")
        if config.org_of_ticket(system, ticket_id) in unread:
            continue
        kept.append(item)
    if len(kept) < len(planned):
        log.warning(
            "%d write(s) wait until %s has been read once",
            len(planned) - len(kept),
            ", ".join(f"salesforce@{name}" for name in sorted(unread)),
        )
    return kept
