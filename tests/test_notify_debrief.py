"""Debriefs: a solved ticket that reached action-needed gets one Salesforce Task on its account
and one Zendesk private note with its timeline, through the outbox, never twice (a second run,
a kill between the send and its record, a lost state file); one that stayed lower gets none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from notify.debrief import (
    business_day_due,
    debrief_marker,
    debrief_metrics,
    debrief_rows,
    task_subject,
)
from sandbox.runner import Sandbox
from sync.run import RunResult
from sync.shown import last_marker
from tests.fault_helpers import FAULT_SIZES
from tests.notify_helpers import notify_world, reset_channels
from tests.sync_world import World, write_world_data

LEVELS = ("informational", "advisory", "action-needed", "executive-review")


# -- pure --------------------------------------------------------------------------------------
def test_the_debrief_marker_is_not_read_as_a_level_note():
    note = debrief_rows(
        ticket_ref="zendesk:7", event_key="k", level="action-needed", system="zendesk",
        ticket_id="7", subject="Down", account_id="001A", owner="a@b.example", text="Debrief",
        due=date(2026, 12, 1), now=datetime(2026, 11, 23, tzinfo=UTC),
    )[-1]  # fmt: skip
    assert debrief_marker("zendesk:7") in note.message["text"]
    level_note = "Escalated [escalation-sync:zendesk:7>advisory]"
    assert last_marker([level_note, note.message["text"]]) == "zendesk:7>advisory"


def test_the_task_subject_keeps_its_marker_however_long_the_ticket_subject():
    subject = task_subject("zendesk:7", "x" * 400)
    assert len(subject) <= 255 and subject.endswith(debrief_marker("zendesk:7"))


def test_due_counts_business_days_of_the_calendar():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    weekdays = business_day_due(friday, 5, "UTC", lambda d: d.weekday() < 5)
    assert weekdays == date(2026, 12, 4)  # Mon..Fri of the next week
    every_day = business_day_due(friday, 5, "UTC", lambda d: True)
    assert every_day == date(2026, 12, 2)


def test_metrics_say_taken_against_target_and_count_breaches():
    metrics, breaches = debrief_metrics(
        [
            ("acknowledge", 1500.0, 1800.0, False),
            ("next_update", 3000.0, 3600.0, False),
            ("next_update", 4000.0, 3600.0, True),
            ("resolve", None, 86400.0, False),
        ]
    )
    by_name = {m["name"].split(" (")[0]: m for m in metrics}
    assert by_name["time to acknowledge"] == {
        "name": "time to acknowledge", "taken": "25m", "target": "30m", "breached": False,
    }  # fmt: skip
    assert (
        by_name["update cadence"]["breached"]
        and "2 updates, 1 late" in (by_name["update cadence"]["name"])
    )
    assert by_name["resolution"]["taken"] == "-" and breaches == 1


# -- against the sandbox -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory):
    data = write_world_data(tmp_path_factory.mktemp("data"), **FAULT_SIZES)
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False, channels=True) as sandbox:
        yield sandbox, data


def world(running, tmp_path: Path) -> World:
    reset_channels(running[0])
    return notify_world(running[0], running[1], tmp_path)


def zendesk_at(first: RunResult, levels: set[str]) -> tuple[str, str]:
    """(ref, id) of an open Zendesk ticket with an account the first run put at `levels`."""
    assert first.evaluation is not None
    tickets = {t.ref: t for t in first.evaluation.tickets}
    for decision in first.evaluation.decisions:
        ticket = tickets[decision.ticket_ref]
        if decision.level in levels and ticket.system == "zendesk" and ticket.account_id:
            if ticket.status.is_open:
                return ticket.ref, ticket.id
    raise AssertionError(f"no open Zendesk ticket at {levels}")


def debrief_tasks(sandbox: Sandbox, ref: str) -> list[dict]:
    marker = debrief_marker(ref)
    return [t for t in sandbox.salesforce.records("Task") if marker in (t.get("Subject") or "")]


def debrief_notes(sandbox: Sandbox, ticket_id: str) -> list[str]:
    marker = debrief_marker(f"zendesk:{ticket_id}")
    return [c["body"] for c in sandbox.zendesk.comments(int(ticket_id)) if marker in c["body"]]


def solve(w: World, ticket_id: str) -> None:
    w.sandbox.zendesk.agent_edit(int(ticket_id), {"status": "solved"})
    w.settle()


@pytest.mark.integration
def test_a_solved_action_needed_ticket_gets_one_task_and_one_note(running, tmp_path):
    w = world(running, tmp_path)
    first = w.run()
    ref, ticket_id = zendesk_at(first, {"action-needed", "executive-review"})
    account = next(t.account_id for t in first.evaluation.tickets if t.ref == ref)
    solve(w, ticket_id)
    w.run(now=w.now + timedelta(minutes=2))
    tasks = debrief_tasks(w.sandbox, ref)
    notes = debrief_notes(w.sandbox, ticket_id)
    assert len(tasks) == 1 and len(notes) == 1
    task = tasks[0]
    assert task["WhatId"] == account and task["ActivityDate"] > w.now.date().isoformat()
    assert "Timeline:" in task["Description"] and "escalated" in notes[0]
    assert "time to acknowledge" in notes[0]
    assert w.zendesk_notes(ticket_id)[-1] != notes[0]  # not taken for a level note
    w.settle()
    w.run(now=w.now + timedelta(minutes=2))
    assert len(debrief_tasks(w.sandbox, ref)) == 1 and len(debrief_notes(w.sandbox, ticket_id)) == 1


@pytest.mark.integration
def test_a_debrief_left_sending_by_a_kill_or_planned_again_is_not_made_twice(running, tmp_path):
    w = world(running, tmp_path)
    first = w.run()
    ref, ticket_id = zendesk_at(first, {"action-needed", "executive-review"})
    solve(w, ticket_id)
    w.run(now=w.now + timedelta(minutes=2))
    store = w.store()
    try:  # as if the run died after the requests left, before their outcome was stored
        marked = store.db.execute("UPDATE outbox SET state = 'sending' WHERE event = 'debrief'")
        assert marked.rowcount == 2
    finally:
        store.close()
    w.settle()
    w.run(now=w.now + timedelta(minutes=2))
    Path(w.config.state.path).unlink()  # the state file is lost
    w.settle()
    w.run(now=w.now + timedelta(minutes=2))
    assert len(debrief_tasks(w.sandbox, ref)) == 1 and len(debrief_notes(w.sandbox, ticket_id)) == 1


@pytest.mark.integration
def test_a_ticket_that_stayed_advisory_gets_no_debrief(running, tmp_path):
    w = world(running, tmp_path)
    first = w.run()
    ref, ticket_id = zendesk_at(first, {"advisory"})
    solve(w, ticket_id)
    second = w.run(now=w.now + timedelta(minutes=2))
    assert any(
        e.kind == "resolved" and e.ticket_ref == ref for e in second.notifications.planned.events
    )
    assert debrief_tasks(w.sandbox, ref) == [] and debrief_notes(w.sandbox, ticket_id) == []


class _Zendesk:
    """A connector stand-in: the ticket's comments, or an error reading them."""

    def __init__(self, texts=None, error=None):
        self.texts, self.error, self.applied = texts or [], error, []

    def read_note_texts(self, record_id):
        if self.error is not None:
            raise self.error
        return self.texts

    def apply(self, writes):
        from connectors.base import WriteResult, WriteStatus

        self.applied += writes
        return [WriteResult(w, WriteStatus.OK) for w in writes]


def _note_message(ref: str = "zendesk:7"):
    from connectors.channels import Message

    marker = debrief_marker(ref)
    return Message(
        f"{ref}|debrief|note", "n", "7", "s", f"text\n\n{marker}", payload={"marker": marker}
    )


def test_the_note_channel_makes_no_second_note_and_reports_a_ticket_it_cannot_read():
    from connectors.channels import SendStatus
    from connectors.errors import ConnectorError, SystemUnavailable
    from notify.debrief_send import ZendeskNoteChannel

    there = _Zendesk([f"old\n\n{debrief_marker('zendesk:7')}"])
    assert ZendeskNoteChannel(there).send(_note_message()).status is SendStatus.SENT
    assert there.applied == []
    fresh = _Zendesk(["Escalated [escalation-sync:zendesk:7>action-needed]"])
    assert ZendeskNoteChannel(fresh).send(_note_message()).status is SendStatus.SENT
    assert [w.note for w in fresh.applied] == [_note_message().text]
    gone = ZendeskNoteChannel(_Zendesk(error=ConnectorError("zendesk: ticket 7 not found")))
    refused = gone.send(_note_message())
    assert refused.status is SendStatus.REJECTED and "not found" in refused.detail
    busy = ZendeskNoteChannel(_Zendesk(error=SystemUnavailable("zendesk: 503")))
    assert busy.send(_note_message()).status is SendStatus.RETRY


class _RefusingZendesk(_Zendesk):
    """Reads the comments, then refuses our credentials on the update (revoked mid-run)."""

    def apply(self, writes):
        from connectors.errors import AuthError

        raise AuthError("zendesk: credentials refused (HTTP 401)")


def _task_message(ref: str = "zendesk:7"):
    from connectors.channels import Message

    marker = debrief_marker(ref)
    return Message(
        f"{ref}|debrief|task",
        "task",
        "001000000000001AAA",
        "Debrief",
        "text",
        payload={"marker": marker, "due": "2026-12-09", "owner": None},
    )


@pytest.mark.parametrize("refused_at", ["find", "save"])
def test_a_debrief_task_refused_our_credentials_waits_for_a_later_run(monkeypatch, refused_at):
    """Refused credentials are the run's to report (exit 5); the debrief is not given up: once
    the secret is fixed it goes (it was REJECTED for good at the look-up, and the save's
    refusal escaped the channel)."""
    import notify.debrief_send as debrief_send
    from connectors.channels import SendStatus
    from connectors.errors import AuthError

    def refuse(*args, **kwargs):
        raise AuthError("salesforce: login refused (invalid_grant: expired)")

    monkeypatch.setattr(
        debrief_send, "find_records", refuse if refused_at == "find" else (lambda *a, **k: [])
    )
    monkeypatch.setattr(debrief_send, "save_records", refuse)
    result = debrief_send.SalesforceTaskChannel(object()).send(_task_message())
    assert result.status is SendStatus.RETRY and "refused" in result.detail


def test_a_debrief_note_refused_our_credentials_waits_for_a_later_run():
    from connectors.channels import SendStatus
    from connectors.errors import AuthError
    from notify.debrief_send import ZendeskNoteChannel

    reading = ZendeskNoteChannel(_Zendesk(error=AuthError("zendesk: credentials refused")))
    assert reading.send(_note_message()).status is SendStatus.RETRY
    writing = ZendeskNoteChannel(_RefusingZendesk(["Escalated"]))
    result = writing.send(_note_message())
    assert result.status is SendStatus.RETRY and "refused" in result.detail
