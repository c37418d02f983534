"""Zendesk organisations that change or are deleted while tickets in the mirror hold the keys
they lent.

A Zendesk ticket takes join keys from its organisation (its external id, a field) when it is
normalised, from the organisations the mirror holds. The organisation can change later without
its tickets changing: a person points it at another Salesforce account. The organisation
export brings it again; every ticket of it in the mirror is then joined through it again, as a
first run would join it.

Zendesk's exports never list a deleted organisation. What they show: deleting one removes its
memberships, so its working tickets get `organization_id` null (an update, exported); closed
tickets cannot be updated and keep the id of an organisation that is gone. So a ticket that
leaves its organisation for none is the sign: after the tickets are pulled, those
organisations are read again by id (`GET /api/v2/organizations/show_many.json`, one request per
100). One that Zendesk no longer has leaves the mirror, and every ticket still joined through
it (the closed ones) loses the keys it lent. An organisation that could not be read is tried
again next run. A deleted organisation that no ticket leaves is not seen: its tickets keep the
keys they had.

Which organisation a mirrored ticket came through is read from its `organization` attribute:
the organisation's name, else its id, as the default mapping reads it. With another mapping
for `organization` the tickets keep their keys until they change.

Each Zendesk (the default and every named one, `instance`) has its own: its tickets
(`zendesk:eu/12`), its organisations (stored as `eu/7`, read again through its own connector
by their own ids) and its own join rules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from config.join_schema import JoinStrategy
from connectors.base import Connector
from connectors.errors import ConnectorError
from mapping.normalise import organization_join_keys
from mapping.records import Ticket
from sync.state import StateStore
from vocabulary.instances import qualify, split_instance

log = logging.getLogger("escalation_sync.organizations")

SYSTEM = "zendesk"
KIND = "organization"
# raw_records kind: organisations a ticket left for none, not yet read again (a failed read).
UNVERIFIED = "organization_left"
_DELETE_RAW = "DELETE FROM raw_records WHERE system = ? AND kind = ? AND id = ?"

Organizations = Mapping[str, Mapping[str, Any]]


def of_instance(record_id: str, instance: str | None) -> bool:
    """Whether a Zendesk id (`123`, `eu/123`) is of this instance (None: the default, whose
    ids have no name: Zendesk's own ids are numbers)."""
    if instance is None:
        return "/" not in record_id
    return split_instance(record_id, (instance,))[0] == instance


def organization_ids(
    tickets: Iterable[Ticket], organizations: Organizations, instance: str | None = None
) -> dict[str, str]:
    """Ticket ref -> the id of the mirror's organisation it was normalised with; only the
    tickets of `instance`, whose organisations `organizations` are (in its own ids)."""
    by_name = {str(data.get("name")): org_id for org_id, data in organizations.items()}
    found: dict[str, str] = {}
    for ticket in tickets:
        if ticket.system != SYSTEM or not ticket.organization:
            continue
        if not of_instance(ticket.id, instance):  # another Zendesk's: its organisations differ
            continue
        if ticket.organization in organizations:
            found[ticket.ref] = ticket.organization
        elif ticket.organization in by_name:
            found[ticket.ref] = by_name[ticket.organization]
    return found


def left_for_none(
    previous: Ticket | None,
    ticket: Ticket,
    organizations: Organizations,
    instance: str | None = None,
) -> str | None:
    """The organisation `ticket` just left for no organisation at all, if any."""
    if previous is None or ticket.organization or not previous.organization:
        return None
    return organization_ids([previous], organizations, instance).get(previous.ref)


def lent(
    organization_id: str, organizations: Organizations, join: Sequence[JoinStrategy]
) -> tuple[dict[str, str], Any]:
    """What an organisation gives its tickets: join keys and its name."""
    keys, _ = organization_join_keys(organization_id, organizations, join)
    return keys, (organizations.get(organization_id) or {}).get("name")


def joined_again(
    ticket: Ticket, organization_id: str, organizations: Organizations, join: Sequence[JoinStrategy]
) -> Ticket:
    """The ticket as a first run reads it through its organisation as it is now: the keys the
    organisation lends now (none once it is gone), the organisation by name, else by id."""
    keys, names = organization_join_keys(organization_id, organizations, join)
    keys = {**{k: v for k, v in ticket.join_keys.items() if k not in names}, **keys}
    name = (organizations.get(organization_id) or {}).get("name")
    return replace(ticket, join_keys=keys, organization=str(name or organization_id))


class OrganizationChanges:
    """Joins the mirror's tickets again through organisations that changed, and finds the
    organisations tickets left that Zendesk deleted (see the module docstring); of one
    Zendesk, `instance` (None: the default), by its own join rules."""

    def __init__(
        self, store: StateStore, join: Sequence[JoinStrategy], instance: str | None = None
    ):
        self.store = store
        self.join = join
        self.instance = instance
        self.name = SYSTEM if instance is None else f"{SYSTEM}@{instance}"
        self.left: set[str] = set()  # in the instance's own ids

    def changed(self, updated: Organizations, organizations: Organizations) -> None:
        """Organisations read again (`updated`; `organizations`: the mirror's before them): the
        tickets of those that now lend other keys or another name are joined again."""
        after = {**organizations, **updated}
        moved = {
            org_id
            for org_id in updated
            if org_id in organizations
            and lent(org_id, organizations, self.join) != lent(org_id, after, self.join)
        }
        if moved:
            self._join_again(moved, organizations, after)

    def note(self, previous: Ticket | None, ticket: Ticket, organizations: Organizations) -> None:
        """Remember the organisation a stored ticket left for none."""
        org_id = left_for_none(previous, ticket, organizations, self.instance)
        if org_id is not None:
            self.left.add(org_id)

    def check(self, zendesk: Connector, organizations: dict[str, dict[str, Any]]) -> list[str]:
        """Read the noted organisations again through the instance's own connector
        (`zendesk`, in its own ids); the ones gone leave the mirror (and `organizations`)
        with the keys they lent. Returns their ids."""
        unverified = {
            split_instance(i, (self.instance,) if self.instance else ())[1]
            for i in self.store.raw_records(SYSTEM, UNVERIFIED)
            if of_instance(i, self.instance)
        }
        wanted = sorted(i for i in self.left | unverified if i in organizations)
        self.left = set()
        if not wanted:
            if unverified:
                with self.store.transaction():
                    self._forget_unverified(unverified)
            return []
        try:
            found = {r.id for r in zendesk.read_by_id(KIND, wanted)}
        except ConnectorError as error:
            log.warning("%s: could not read organisations %s again: %s", self.name, wanted, error)
            with self.store.transaction():
                self.store.upsert_raw(SYSTEM, UNVERIFIED, [(self._stored(i), {}) for i in wanted])
            return []
        gone = [i for i in wanted if i not in found]
        with self.store.transaction():
            self._forget_unverified(unverified | set(wanted))
            if gone:
                self._remove(gone, organizations)
        return gone

    def _remove(self, gone: list[str], organizations: dict[str, dict[str, Any]]) -> None:
        counts = self._join_again(set(gone), organizations, {})
        self.store.db.executemany(_DELETE_RAW, [(SYSTEM, KIND, self._stored(i)) for i in gone])
        for org_id in gone:
            organizations.pop(org_id, None)
            log.warning(
                "%s organisation %s was deleted: it left the mirror, %d ticket(s) still "
                "naming it are joined without it",
                self.name,
                org_id,
                counts.get(org_id, 0),
            )

    def _join_again(
        self, org_ids: set[str], before: Organizations, after: Organizations
    ) -> dict[str, int]:
        """Join the mirror's tickets of these organisations through `after`; how many each."""
        tickets = self.store.tickets()
        named = organization_ids(tickets, before, self.instance)
        of = {ref: o for ref, o in named.items() if o in org_ids}
        self.store.upsert_tickets(
            joined_again(t, of[t.ref], after, self.join) for t in tickets if t.ref in of
        )
        counts: dict[str, int] = {}
        for org_id in of.values():
            counts[org_id] = counts.get(org_id, 0) + 1
        return counts

    def _forget_unverified(self, ids: set[str]) -> None:
        rows = [(SYSTEM, UNVERIFIED, self._stored(i)) for i in sorted(ids)]
        self.store.db.executemany(_DELETE_RAW, rows)

    def _stored(self, org_id: str) -> str:
        """An organisation's id in the state store (`eu/7` for a named Zendesk's)."""
        return qualify(self.instance, org_id)
