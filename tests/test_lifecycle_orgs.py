"""Zendesk organisations, requesters and brands that change under the sync: after the next run
every system equals what a first run on the changed world produces, field by field, with no
note or record twice (the style of tests/test_lifecycle_events.py).

What Zendesk does, as the sandbox emulates it: deleting an organisation
(`DELETE /api/v2/organizations/{id}`) removes it and its memberships; like a removed
membership, its working tickets get `organization_id` null (an update), closed tickets keep
the id of an organisation that no longer exists. A ticket's organisation is its requester's: a
new requester brings their default organisation. Brands are not read by the default mapping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from escalation.compiled import compile_matrix
from mapping.records import Account, Ticket, TicketStatus
from sandbox import catalogue
from sync.evaluate import evaluate_mirror
from tests.fault_helpers import FAULT_SIZES, converge, escalated_ticket_ids
from tests.lifecycle_helpers import (
    assert_equals_a_first_run,
    assert_the_event_mattered,
    before_and_after,
)
from tests.sync_world import World
from tests.test_account_escalation_sync import with_account_writes

pytestmark = pytest.mark.integration

WORLD_SIZES = FAULT_SIZES
WORKING = ("new", "open", "pending", "hold")
OTHER_BRAND_ID = 360_000_500_002


@dataclass(frozen=True)
class Subject:
    """An escalated working ticket joined to its account through its organisation."""

    ticket: int
    org: int


def account_field(ticket: dict[str, Any]) -> Any:
    return next(
        (f["value"] for f in ticket["custom_fields"] if f["id"] == catalogue.ZD_FIELD_ACCOUNT_ID),
        None,
    )


@pytest.fixture(scope="module")
def subject(world_sandbox, tmp_path_factory: pytest.TempPathFactory) -> Subject:
    world = World(*world_sandbox, tmp_path_factory.mktemp("plain"))
    converge(world)
    tickets = world.sandbox.zendesk.store.tickets
    for ticket_id in escalated_ticket_ids(world.snapshot(), 50):
        ticket = tickets[ticket_id]
        if ticket["status"] in WORKING and ticket["organization_id"] and not account_field(ticket):
            if f"zendesk:{ticket_id}" in world.snapshot()["records"]:
                return Subject(ticket_id, ticket["organization_id"])
    raise AssertionError("no escalated ticket joined through its organisation")


def free_mail_requesters(org_id: int) -> Any:
    """Every member of the organisation writes from a free mail address: the organisation is
    the only way their tickets reach the account (no email domain join)."""

    def prepare(world: World) -> None:
        zendesk = world.sandbox.zendesk
        for user in list(zendesk.store.users.values()):
            if user.get("organization_id") == org_id:
                name = user["email"].split("@", 1)[0]
                zendesk.put_user({**user, "email": f"{name}@gmail.com"})

    return prepare


def test_a_deleted_organisation_takes_its_tickets_off_the_account_as_a_first_run_does(
    world_sandbox, subject: Subject, tmp_path: Path
):
    outcome = before_and_after(
        world_sandbox,
        tmp_path,
        cause=lambda world: world.sandbox.zendesk.delete_organization(subject.org),
        prepare=free_mail_requesters(subject.org),
    )
    assert_the_event_mattered(outcome)
    assert_equals_a_first_run(outcome, outcome.live.config.matrix.levels[0])
    # The mirror joins every ticket (closed ones too, which Zendesk cannot update and which
    # keep the gone organisation's id) as a first run does: none through the gone organisation.
    assert outcome.found_keys == outcome.expected_keys


def test_a_deleted_organisation_is_no_error_and_is_reported_once(
    world_sandbox, subject: Subject, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    world = World(*world_sandbox, tmp_path)
    free_mail_requesters(subject.org)(world)
    converge(world)
    world.sandbox.zendesk.delete_organization(subject.org)
    world.settle()
    with caplog.at_level(logging.WARNING, logger="escalation_sync.organizations"):
        first = world.run()
        assert first.exit_code == 0, first.summary()
        assert first.apply.rejected == [], first.summary()
        converge(world)
        later = world.run()
    assert later.exit_code == 0 and not later.writes, later.summary()
    reported = [r.getMessage() for r in caplog.records if "was deleted" in r.getMessage()]
    assert len(reported) == 1 and str(subject.org) in reported[0], reported
    store = world.store()
    try:
        assert str(subject.org) not in store.raw_records("zendesk", "organization")
    finally:
        store.close()


def new_requester_from_another_organisation(ticket_id: int) -> Any:
    def cause(world: World) -> None:
        zendesk = world.sandbox.zendesk
        ticket = zendesk.get_ticket(ticket_id)
        assert ticket is not None
        others = sorted(
            (u["organization_id"], u["id"])
            for u in zendesk.store.users.values()
            if u.get("organization_id") not in (None, ticket["organization_id"])
        )
        zendesk.agent_edit(ticket_id, {"requester_id": others[0][1]})

    return cause


def test_a_new_requester_moves_the_ticket_to_their_organisation_and_account(
    world_sandbox, subject: Subject, tmp_path: Path
):
    outcome = before_and_after(
        world_sandbox, tmp_path, cause=new_requester_from_another_organisation(subject.ticket)
    )
    ticket = outcome.live.sandbox.zendesk.get_ticket(subject.ticket)
    assert ticket is not None and ticket["organization_id"] != subject.org
    assert_the_event_mattered(outcome)
    assert_equals_a_first_run(outcome, outcome.live.config.matrix.levels[0])
    assert outcome.found_keys == outcome.expected_keys


def test_a_brand_change_writes_nothing(world_sandbox, subject: Subject, tmp_path: Path):
    """Brands are not read by the mapping (no join, calendar or matrix rule uses them), so a
    ticket moved to another brand keeps every value we wrote and costs no write."""
    world = World(*world_sandbox, tmp_path)
    converge(world)
    before = world.snapshot()
    world.sandbox.zendesk.agent_edit(subject.ticket, {"brand_id": OTHER_BRAND_ID})
    world.settle()
    result = world.run()
    assert result.exit_code == 0, result.summary()
    assert not result.writes, result.summary()
    assert world.snapshot() == before
    ticket = world.sandbox.zendesk.get_ticket(subject.ticket)
    assert ticket is not None and ticket["brand_id"] == OTHER_BRAND_ID


# -- merged tickets: the surviving ticket carries on, counted once ---------------------------
A_DAY = timedelta(days=1)


def test_a_ticket_merged_into_another_is_not_counted_again_in_repeated_ticket_facts(
    world_sandbox, tmp_path: Path
):
    """Three requests of one account in 14 days fire "repeated-tickets"; once one is merged
    into another, the account made two requests: the survivor counts once, the merged none."""
    world = World(*world_sandbox, tmp_path)
    config, now = world.config, world.now
    account = Account("001A", "Big Co", tier="growth")

    def request(number: int) -> Ticket:
        created = now - A_DAY * number
        return Ticket(
            "zendesk",
            str(number),
            "printer on fire",
            TicketStatus.OPEN,
            created,
            created,
            severity=3,
            category="question",
            account_id="001A",
            join_keys={"account_id": "001A"},
        )

    tickets = [request(1), request(2), request(3)]
    merged = replace(tickets[2], status=TicketStatus.CLOSED, tags=("closed_by_merge",))

    def repeated(mirror: list[Ticket]) -> dict[str, bool]:
        evaluation = evaluate_mirror(
            config, compile_matrix(config.matrix), mirror, [account], {}, now
        )
        assert evaluation.ticket_created["001A"] == tuple(
            sorted(t.created_at.timestamp() for t in mirror if not t.withdrawn)
        )
        return {
            d.ticket_ref: any(r.name == "repeated-tickets" for r in d.reasons)
            for d in evaluation.decisions
        }

    assert repeated(tickets) == {"zendesk:1": True, "zendesk:2": True, "zendesk:3": True}
    after = repeated([tickets[0], tickets[1], merged])
    assert after["zendesk:1"] is False and after["zendesk:2"] is False
    assert "zendesk:3" not in after  # closed without a level of ours: not evaluated


def test_an_organisation_linked_to_another_account_takes_its_tickets_there(
    world_sandbox, subject: Subject, tmp_path: Path
):
    """A person points the organisation at another Salesforce account (its external id):
    the organisation export brings it again, its tickets (closed ones too) join the new one."""

    def cause(world: World) -> None:
        zendesk = world.sandbox.zendesk
        org = dict(zendesk.store.organizations[subject.org])
        others = sorted(
            o["external_id"]
            for o in zendesk.store.organizations.values()
            if o["id"] != subject.org and o.get("external_id")
        )
        org["external_id"] = others[0]
        org["organization_fields"] = {**org["organization_fields"], "salesforce_account_id": None}
        zendesk.put_organization(org, touch=True)

    outcome = before_and_after(
        world_sandbox, tmp_path, cause=cause, prepare=free_mail_requesters(subject.org)
    )
    assert_the_event_mattered(outcome)
    assert_equals_a_first_run(outcome, outcome.live.config.matrix.levels[0])
    assert outcome.found_keys == outcome.expected_keys


def test_a_deleted_organisation_the_account_matrix_writes_to_is_written_no_more(
    world_sandbox, subject: Subject, tmp_path: Path
):
    """With the account matrix writing its level onto organisations, a deleted one gets no
    update (Zendesk would answer 404): it left the mirror in the run that noticed it. The
    account rises to executive attention at the same time, so there is a new level to write."""
    writes_before: list[int] = []

    def cause(world: World) -> None:
        writes_before.append(len(world.sandbox.zendesk.traffic.writes))
        org = world.sandbox.zendesk.store.organizations[subject.org]
        salesforce = world.sandbox.salesforce
        [account] = [
            a["Id"]
            for a in salesforce.records("Account")
            if a["Zendesk_Org_External_Id__c"] == org["external_id"]
        ]
        renewal = (world.now + timedelta(days=30)).date().isoformat()
        salesforce.edit_record(
            "Account", account, Tier__c="strategic", Renewal_Date__c=renewal, Health__c="Red"
        )
        world.sandbox.zendesk.delete_organization(subject.org)

    outcome = before_and_after(
        world_sandbox,
        tmp_path,
        cause=cause,
        prepare=free_mail_requesters(subject.org),
        edit_config=with_account_writes,
    )
    assert_equals_a_first_run(outcome, outcome.live.config.matrix.levels[0])
    refused = [
        entry
        for entry in outcome.live.sandbox.zendesk.traffic.writes[writes_before[-1] :]
        if f"/organizations/{subject.org}" in entry.path
    ]
    assert refused == []
    store = outcome.live.store()
    try:
        assert store.failures() == {}
    finally:
        store.close()
