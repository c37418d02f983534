"""Records a vendor refuses for good (a Zendesk job result, a Jira 400 on one issue, Salesforce
validation errors in a collection): listed with the vendor's words, not sent again with the same
values, sent once the values change; the sync command prints each one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

import run_sync
from sandbox.faults import Fault
from sync.run import RunResult
from tests.fault_helpers import (
    FAULT_SIZES,
    FakeSleep,
    escalated_ticket_ids,
    fast_policy,
    field_writes,
)
from tests.postgres_server import BOTH_BACKENDS
from tests.sync_world import World

pytestmark = pytest.mark.integration
# On SQLite and PostgreSQL: the tests marked BOTH_BACKENDS (tests/conftest.py); the rest on SQLite.


WORLD_SIZES = FAULT_SIZES  # the shared world_sandbox / world / fault_free fixtures use it


@dataclass(frozen=True)
class Rejection:
    name: str
    inject: Callable[[World, dict], str]  # scripts the vendor's refusal; returns the record ref
    words: str  # the vendor's reason, as the run must report it
    change: Callable[[World, str, RunResult], None]  # a change in the data that changes the payload


def zendesk_refuses(world: World, reference: dict) -> str:
    ticket_id = escalated_ticket_ids(reference, 5)[-1]
    detail = {
        "ids": [ticket_id],
        "error": "RecordInvalid",
        "details": "Status: closed prevents ticket update",
    }
    world.sandbox.zendesk.faults.add(Fault("update_many", "job_failure", times=-1, detail=detail))
    return f"zendesk:{ticket_id}"


def jira_refuses(world: World, reference: dict) -> str:
    key = next(k for k, (_, labels) in sorted(reference["jira"].items()) if labels)
    world.sandbox.jira.reject_edit(
        key, errors={"customfield_10204": "SLA due must be a date in the future"}
    )
    return f"jira:{world.sandbox.jira.get_issue(key)['id']}"  # issues are written by id


def salesforce_refuses_account(world: World, reference: dict) -> str:
    account = next(
        a for a, (count, _, _) in sorted(reference["accounts"].items()) if count and count >= 2
    )
    world.sandbox.salesforce.fail_records(
        [account],
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "Next breach must fall in business hours",
        times=-1,
    )
    return f"salesforce:{account}"


def salesforce_refuses_record(world: World, reference: dict) -> str:
    ref = sorted(reference["records"])[0]
    world.sandbox.salesforce.fail_records(
        [ref], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Reason is locked", times=-1
    )
    return f"salesforce:{ref}"


def engineer_adds_a_stale_level_label(world: World, record: str, first: RunResult) -> None:
    """The label is ours to manage: removing it joins the edit, so the payload differs."""
    world.sandbox.jira.human_edit(
        record.split(":", 1)[1], update={"labels": [{"add": "escalation-advisory"}]}
    )


def close_ticket(world: World, ref: str, first: RunResult) -> None:
    """A person solves the ticket (Zendesk) or moves the issue to done (Jira): its escalation ends."""
    assert first.evaluation is not None
    ticket = next(t for t in first.evaluation.tickets if t.ref == ref)
    if ticket.system == "zendesk":
        world.sandbox.zendesk.agent_edit(int(ticket.id), {"status": "solved"})
    else:
        world.sandbox.jira.transition(str(ticket.key), "done")


def an_escalated_ticket_of_the_account_is_closed(
    world: World, record: str, first: RunResult
) -> None:
    account = record.split(":", 1)[1]
    assert first.evaluation is not None
    accounts = {t.ref: t.account_id for t in first.evaluation.tickets}
    lowest = world.config.matrix.levels[0]
    ref = next(
        d.ticket_ref
        for d in first.evaluation.decisions
        if accounts[d.ticket_ref] == account and d.level != lowest
    )
    close_ticket(world, ref, first)


def its_subject_is_edited(world: World, record: str, first: RunResult) -> None:
    """The record's Name is the ticket's subject: a person retitles the ticket or issue."""
    assert first.evaluation is not None
    ticket = next(
        t for t in first.evaluation.tickets if t.ref == record.removeprefix("salesforce:")
    )
    if ticket.system == "zendesk":
        world.sandbox.zendesk.agent_edit(int(ticket.id), {"subject": "Retitled by an agent"})
    else:
        world.sandbox.jira.human_edit(
            str(ticket.key), fields={"summary": "Retitled by an engineer"}
        )


def agent_adds_an_escalation_tag(world: World, record: str, first: RunResult) -> None:
    """Tags with our prefix are ours to manage: removing it joins the update, the payload differs."""
    world.sandbox.zendesk.agent_edit(
        int(record.split(":", 1)[1]), {"additional_tags": ["escalation_by_hand"]}
    )


# fmt: off
REJECTIONS = [
    Rejection("zendesk-job-refuses-a-ticket", zendesk_refuses,
              "RecordInvalid: Status: closed prevents ticket update", agent_adds_an_escalation_tag),
    Rejection("jira-400-on-one-issue", jira_refuses,
              "customfield_10204: SLA due must be a date in the future", engineer_adds_a_stale_level_label),
    Rejection("salesforce-validation-on-an-account", salesforce_refuses_account,
              "FIELD_CUSTOM_VALIDATION_EXCEPTION: Next breach must fall in business hours",
              an_escalated_ticket_of_the_account_is_closed),
    Rejection("salesforce-validation-on-an-escalation-record", salesforce_refuses_record,
              "FIELD_CUSTOM_VALIDATION_EXCEPTION: Reason is locked", its_subject_is_edited),
]
# fmt: on


def writes_to(world: World, record: str) -> int:
    system, record_id = record.split(":", 1)
    return sum(
        n for (s, r, _, _), n in field_writes(world).items() if (s, r) == (system, record_id)
    )


@pytest.mark.parametrize("case", REJECTIONS, ids=[c.name for c in REJECTIONS])
def test_a_permanently_rejected_record_is_listed_with_the_vendors_reason_and_not_resent(
    case: Rejection, world: World, reference: dict
):
    record = case.inject(world, reference)
    first = world.run(policy=fast_policy(FakeSleep()))
    assert first.exit_code == 1, first.summary()
    assert [(ref, case.words in why) for ref, why in first.apply.rejected] == [(record, True)], (
        first.apply.rejected
    )
    assert first.summary()["rejected"] == 1 and first.apply.retry == []

    # The vendor still refuses; the same payload is not sent again, and the run still lists it.
    world.settle()
    world.sandbox.reset_traffic()
    again = world.run()
    assert writes_to(world, record) == 0
    assert [(ref, case.words in why) for ref, why in again.still_rejected] == [(record, True)]
    assert again.summary()["still_rejected"] == 1
    # Monitoring sees the failure on every run while it remains, not on the first run only.
    assert again.exit_code == 1

    # The data changes, so the payload does: it is sent, and lands once the vendor accepts it.
    world.sandbox.clear_faults()
    case.change(world, record, first)
    world.settle()
    world.sandbox.reset_traffic()
    changed = world.run()
    assert writes_to(world, record) >= 1
    assert changed.still_rejected == [] and changed.apply.rejected == [], changed.summary()
    assert changed.exit_code == 0
    store = world.store()
    try:
        assert tuple(record.split(":", 1)) not in store.failures()
    finally:
        store.close()


@BOTH_BACKENDS
def test_sync_command_prints_each_rejected_record_with_the_vendors_words(
    world: World, reference: dict, capsys
):
    record = jira_refuses(world, reference)
    words = "customfield_10204: SLA due must be a date in the future"
    args = ["sync", "--config", str(world.config_path), "--now", world.now.isoformat()]
    assert run_sync.main(args) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"rejected {record}: {words}" in out
    assert out[-1].startswith("escalation-sync: some records failed;") and "1 rejected" in out[-1]
    first_failed = world.now.strftime("%Y-%m-%d %H:%M UTC")
    for _ in range(2):  # every later run exits 1 while the record stays rejected
        world.settle()
        assert run_sync.main(args) == 1
        out = capsys.readouterr().out.splitlines()
        assert out == [
            f"still rejected {record} (the same values are not sent again): {words}",
            out[-1],
        ]
        assert out[-1].startswith("escalation-sync: some records failed;")
        assert f"1 still rejected (since {first_failed})" in out[-1]
