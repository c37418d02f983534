"""Tickets in the mirror follow their Zendesk organisation when it changes or is deleted
(sync/organizations.py), with a stand-in connector: which organisations are read again, and
what happens when that read fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from config.join_schema import EmailDomain, OrganizationExternalId, OrganizationField
from connectors.errors import SystemUnavailable
from mapping.records import SourceRecord, Ticket, TicketStatus
from sync.organizations import OrganizationChanges
from sync.state import StateStore

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
JOIN = [
    OrganizationField(strategy="organization_field", field="salesforce_account_id"),
    OrganizationExternalId(strategy="organization_external_id", match="external_id"),
    EmailDomain(strategy="email_domain"),
]
ACME = {"id": 7, "name": "Acme", "external_id": "CUST-7", "organization_fields": {}}


class Organizations:
    """Answers show_many for the organisations it holds; `failing` raises as Zendesk down."""

    def __init__(self, held: dict[str, dict], failing: bool = False):
        self.held = held
        self.failing = failing
        self.asked: list[list[str]] = []

    def read_by_id(self, kind: str, ids: Sequence[str]) -> list[SourceRecord]:
        assert kind == "organization"
        self.asked.append(list(ids))
        if self.failing:
            raise SystemUnavailable("zendesk: GET /organizations/show_many.json answered 503")
        return [SourceRecord("zendesk", kind, i, self.held[i]) for i in ids if i in self.held]


def ticket(number: str, status: TicketStatus, organization: str | None, **keys: str) -> Ticket:
    return Ticket(
        "zendesk",
        number,
        "s",
        status,
        NOW,
        NOW,
        organization=organization,
        join_keys=dict(keys),
    )


def mirror(tmp_path: Path) -> tuple[StateStore, dict[str, dict]]:
    store = StateStore(tmp_path / "state.sqlite")
    closed = ticket(
        "1", TicketStatus.CLOSED, "Acme", organization_external_id="CUST-7", email_domain="a.io"
    )
    working = ticket("2", TicketStatus.OPEN, "Acme", organization_external_id="CUST-7")
    with store.transaction():
        store.upsert_tickets([closed, working])
        store.upsert_raw("zendesk", "organization", [("7", ACME)])
    return store, {"7": dict(ACME)}


def test_a_deleted_organisation_read_again_after_a_failed_read_leaves_the_mirror(tmp_path):
    store, organizations = mirror(tmp_path)
    changes = OrganizationChanges(store, JOIN)
    working = store.ticket("zendesk:2")
    assert working is not None
    left = ticket("2", TicketStatus.OPEN, None)
    changes.note(working, left, organizations)

    down = Organizations({}, failing=True)
    assert changes.check(down, organizations) == []
    assert "7" in organizations and store.ticket("zendesk:1").join_keys["organization_external_id"]

    up = Organizations({})  # Zendesk answers again: the organisation is gone
    assert changes.check(up, organizations) == ["7"]
    assert up.asked == [["7"]]
    assert "7" not in organizations and store.raw_records("zendesk", "organization") == {}
    closed = store.ticket("zendesk:1")
    assert closed is not None
    assert closed.join_keys == {"email_domain": "a.io"} and closed.organization == "7"
    # Nothing is left to read again.
    assert changes.check(up, organizations) == [] and up.asked == [["7"]]


def test_an_organisation_still_there_is_kept_and_so_are_its_tickets_keys(tmp_path):
    store, organizations = mirror(tmp_path)
    changes = OrganizationChanges(store, JOIN)
    changes.note(store.ticket("zendesk:2"), ticket("2", TicketStatus.OPEN, None), organizations)
    zendesk = Organizations({"7": ACME})
    assert changes.check(zendesk, organizations) == []
    assert store.ticket("zendesk:1").join_keys["organization_external_id"] == "CUST-7"


def test_a_ticket_moving_to_another_organisation_reads_nothing_again(tmp_path):
    store, organizations = mirror(tmp_path)
    changes = OrganizationChanges(store, JOIN)
    changes.note(store.ticket("zendesk:2"), ticket("2", TicketStatus.OPEN, "Beta"), organizations)
    zendesk = Organizations({})
    assert changes.check(zendesk, organizations) == [] and zendesk.asked == []


def test_an_organisation_that_lends_other_keys_joins_its_tickets_again(tmp_path):
    store, organizations = mirror(tmp_path)
    changes = OrganizationChanges(store, JOIN)
    relinked = {**ACME, "external_id": "CUST-8", "name": "Acme Ltd"}
    with store.transaction():
        changes.changed({"7": relinked}, organizations)
    closed = store.ticket("zendesk:1")
    assert closed is not None
    assert closed.join_keys == {"organization_external_id": "CUST-8", "email_domain": "a.io"}
    assert closed.organization == "Acme Ltd"


def test_a_named_zendesks_deleted_organisation_moves_its_tickets_alone(tmp_path):
    """Zendesk eu's organisation 7 is not the default's 7: eu's is read again through eu's
    own connector by its own id, and only eu's tickets lose the keys it lent."""
    store, _ = mirror(tmp_path)
    eu_closed = ticket("eu/1", TicketStatus.CLOSED, "Acme", organization_external_id="CUST-7")
    eu_working = ticket("eu/2", TicketStatus.OPEN, "Acme", organization_external_id="CUST-7")
    with store.transaction():
        store.upsert_tickets([eu_closed, eu_working])
        store.upsert_raw("zendesk", "organization", [("eu/7", ACME)])
    eu_organizations = {"7": dict(ACME)}
    changes = OrganizationChanges(store, JOIN, "eu")
    changes.note(eu_working, ticket("eu/2", TicketStatus.OPEN, None), eu_organizations)

    down = Organizations({}, failing=True)
    assert changes.check(down, eu_organizations) == []
    assert set(store.raw_records("zendesk", "organization_left")) == {"eu/7"}

    up = Organizations({})  # eu answers again: its organisation 7 is gone
    assert changes.check(up, eu_organizations) == ["7"] and up.asked == [["7"]]
    assert set(store.raw_records("zendesk", "organization")) == {"7"}
    assert store.raw_records("zendesk", "organization_left") == {}
    assert store.ticket("zendesk:eu/1").join_keys == {}
    assert store.ticket("zendesk:1").join_keys["organization_external_id"] == "CUST-7"
