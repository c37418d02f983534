"""Zendesk organisations deleted while tickets in the mirror still hold keys they lent.

A Zendesk ticket takes join keys from its organisation (its external id, a field) when it is
normalised, from the organisations the mirror holds. Zendesk's exports never list a deleted
organisation. What they show: deleting one removes its memberships, so its working tickets get
`organization_id` null (an update, exported); closed tickets cannot be updated and keep the id
of an organisation that is gone. A first run would read neither the organisation nor a key
from it.

So a ticket that leaves its organisation for none is the sign: after the tickets are pulled,
those organisations are read again by id (`GET /api/v2/organizations/show_many.json`, one
request per 100). One that Zendesk no longer has leaves the mirror, and every ticket still
joined through it (the closed ones) loses the keys it lent, as a first run would read them. An
organisation that could not be read is tried again next run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from config.join_schema import JoinStrategy
from connectors.base import Connector
from connectors.errors import ConnectorError
from mapping.normalise import organization_join_keys
from mapping.records import Ticket
from sync.state import StateStore

log = logging.getLogger("escalation_sync.organizations")

SYSTEM = "zendesk"
KIND = "organization"
# raw_records kind: organisations a ticket left for none, not yet read again (a failed read).
UNVERIFIED = "organization_left"


def organization_ids(
    tickets: Sequence[Ticket], organizations: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """Ticket ref -> the id of the mirror's organisation it was normalised with. The default
    mapping reads a ticket's `organization` as its organisation's name, else its id."""
    by_name = {str(data.get("name")): org_id for org_id, data in organizations.items()}
    found: dict[str, str] = {}
    for ticket in tickets:
        if ticket.system != SYSTEM or not ticket.organization:
            continue
        if ticket.organization in organizations:
            found[ticket.ref] = ticket.organization
        elif ticket.organization in by_name:
            found[ticket.ref] = by_name[ticket.organization]
    return found


def left_for_none(
    previous: Ticket | None, ticket: Ticket, organizations: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The organisation `ticket` just left for no organisation at all, if any."""
    if previous is None or ticket.organization or not previous.organization:
        return None
    return organization_ids([previous], organizations).get(previous.ref)


def without_organization(
    ticket: Ticket, organization_id: str, join: Sequence[JoinStrategy]
) -> Ticket:
    """The ticket as a first run reads it once the organisation is gone: no key from it, the
    organisation known by its id only."""
    _, lent = organization_join_keys(organization_id, {}, join)
    keys = {k: v for k, v in ticket.join_keys.items() if k not in lent}
    return replace(ticket, join_keys=keys, organization=organization_id)


class DeletedOrganizations:
    """Finds the organisations tickets left that Zendesk deleted, and takes them out of the
    mirror (see the module docstring)."""

    def __init__(self, store: StateStore, join: Sequence[JoinStrategy]):
        self.store = store
        self.join = join
        self.left: set[str] = set()

    def note(
        self,
        previous: Ticket | None,
        ticket: Ticket,
        organizations: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Remember the organisation a stored ticket left for none."""
        org_id = left_for_none(previous, ticket, organizations)
        if org_id is not None:
            self.left.add(org_id)

    def check(self, zendesk: Connector, organizations: dict[str, dict[str, Any]]) -> list[str]:
        """Read the noted organisations again; the ones gone leave the mirror (and
        `organizations`) with the keys they lent. Returns their ids."""
        unverified = set(self.store.raw_records(SYSTEM, UNVERIFIED))
        wanted = sorted(i for i in self.left | unverified if i in organizations)
        self.left = set()
        if not wanted:
            if unverified:
                self._forget_unverified(unverified)
            return []
        try:
            found = {r.id for r in zendesk.read_by_id(KIND, wanted)}
        except ConnectorError as error:
            log.warning("zendesk: could not read organisations %s again: %s", wanted, error)
            with self.store.transaction():
                self.store.upsert_raw(SYSTEM, UNVERIFIED, [(i, {}) for i in wanted])
            return []
        gone = [i for i in wanted if i not in found]
        with self.store.transaction():
            self._forget_unverified(unverified | set(wanted), transaction=False)
            if gone:
                self._remove(gone, organizations)
        return gone

    def _remove(self, gone: list[str], organizations: dict[str, dict[str, Any]]) -> None:
        tickets = self.store.tickets()
        of_gone = {
            ref: org_id
            for ref, org_id in organization_ids(tickets, organizations).items()
            if org_id in gone
        }
        rekeyed = [
            without_organization(t, of_gone[t.ref], self.join) for t in tickets if t.ref in of_gone
        ]
        self.store.upsert_tickets(rekeyed)
        self.store.db.executemany(
            "DELETE FROM raw_records WHERE system = ? AND kind = ? AND id = ?",
            [(SYSTEM, KIND, org_id) for org_id in gone],
        )
        for org_id in gone:
            organizations.pop(org_id, None)
            count = sum(1 for o in of_gone.values() if o == org_id)
            log.warning(
                "zendesk organisation %s was deleted: it left the mirror, %d ticket(s) still "
                "naming it are joined without it",
                org_id,
                count,
            )

    def _forget_unverified(self, ids: set[str], transaction: bool = True) -> None:
        rows = [(SYSTEM, UNVERIFIED, i) for i in sorted(ids)]
        statement = "DELETE FROM raw_records WHERE system = ? AND kind = ? AND id = ?"
        if transaction:
            with self.store.transaction():
                self.store.db.executemany(statement, rows)
        else:
            self.store.db.executemany(statement, rows)
