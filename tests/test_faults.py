"""Faults injected per endpoint, on reads and on writes: after the fault clears, clean runs bring
every system to exactly the state of a fault-free run, with no note or record twice; the faulty
run's exit code and summary say what happened.

The real sync and clients run against the sandbox (module-scoped); each test starts from the same
generated data. Retry waits are recorded, not slept (FakeSleep), so Retry-After is checked as a
request to wait.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import run_sync
from sandbox.faults import Fault
from sandbox.runner import Sandbox
from sync.run import RunResult
from tests.fault_helpers import (
    FAULT_SIZES,
    FakeSleep,
    assert_fault_free_state,
    converge,
    fast_policy,
    field_writes,
    set_client_timeout,
    writes_repeated,
)
from tests.sync_world import World, write_world_data

pytestmark = pytest.mark.integration

SLOW_ANSWER = 1.2  # seconds the sandbox sits on a request
CLIENT_TIMEOUT = 0.4  # seconds the clients wait for an answer in the timeout cases


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory):
    data = write_world_data(tmp_path_factory.mktemp("data"), **FAULT_SIZES)
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False) as sandbox:
        yield sandbox, data


@pytest.fixture(scope="module")
def fault_free(running, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Counter]:
    """What the fault-free sync leaves in the three systems at the worlds' `now`, and the
    values it sent to get there."""
    sandbox, data = running
    world = World(sandbox, data, tmp_path_factory.mktemp("reference"))
    first = world.run()
    assert first.exit_code == 0, first.summary()
    converge(world)
    return world.snapshot(), field_writes(world)


@pytest.fixture(scope="module")
def reference(fault_free) -> dict:
    return fault_free[0]


@pytest.fixture
def world(running, tmp_path: Path) -> World:
    sandbox, data = running
    return World(sandbox, data, tmp_path)


@dataclass(frozen=True)
class Case:
    name: str
    system: str
    inject: Callable[[World, dict], object]  # (world, fault-free snapshot)
    exit_code: int
    check: Callable[[RunResult, FakeSleep], None]
    client_timeout: float | None = None  # seconds; None keeps the config's
    transport: bool = True  # False: a vendor fault that makes resending a processed request right


def status(system: str, endpoint: str, code: int, times: int = 1, retry_after: int | None = None):
    return lambda w, ref: w.sandbox.apps[system].faults.add(
        Fault(endpoint, "status", times=times, status=code, retry_after=retry_after)
    )


def reset(system: str, endpoint: str, times: int = 1):
    return lambda w, ref: w.sandbox.apps[system].faults.add(Fault(endpoint, "reset", times=times))


def slow(system: str, endpoint: str, times: int = 1):
    return lambda w, ref: w.sandbox.apps[system].faults.add(
        Fault(endpoint, "delay", times=times, delay_seconds=SLOW_ANSWER)
    )


# -- what the faulty run must say ------------------------------------------------------------
def clean_after_retries(system: str, retries: int, waited: float | None = None):
    """The run absorbed the fault: exit 0, and the summary counts the retries (and 429 waits)."""

    def check(result: RunResult, sleep: FakeSleep) -> None:
        transport = result.summary()["transport"][system]
        assert transport["retries"] >= retries, transport
        if waited is not None:
            assert sleep.requested.count(waited) >= retries, sleep.requested
            assert transport["throttled"] >= retries, transport
            assert transport["waited_seconds"] >= waited * retries

    return check


def writes_to_retry(system: str, words: str, whole_job: bool = False):
    """Exit 1: the writes whose outcome is unknown (or that failed for now) wait for next run.

    `whole_job`: every Zendesk write of the run's first job (up to 100 tickets) is among them.
    """

    def check(result: RunResult, sleep: FakeSleep) -> None:
        retry = [(ref, why) for ref, why in result.apply.retry if ref.startswith(system + ":")]
        planned = [p for p in result.writes if p.target.system == system]
        assert retry, result.summary()
        if whole_job:
            assert len(retry) == min(len(planned), 100), (len(retry), len(planned))
        assert result.summary()["retry"] == len(result.apply.retry)
        assert all(words in why for _, why in retry), retry[:3]
        assert result.apply.rejected == []

    return check


def unreachable(system: str, words: str = ""):
    def check(result: RunResult, sleep: FakeSleep) -> None:
        assert result.summary()["unreachable"] == [system], result.summary()
        assert words in result.unreachable[system], result.unreachable

    return check


def nothing_written_before_accounts_are_read(result: RunResult, sleep: FakeSleep) -> None:
    unreachable("salesforce", "500")(result, sleep)
    assert result.summary()["never_read"] == ["salesforce"]
    assert result.writes == [] and result.apply.results == {}


def conflicts_replanned(result: RunResult, sleep: FakeSleep) -> None:
    assert result.summary()["results"].get("zendesk:conflict", 0) >= 1, result.summary()
    assert result.apply.conflicts == []


def conflicts_left(result: RunResult, sleep: FakeSleep) -> None:
    assert result.summary()["conflicts"] >= 1 and result.apply.conflicts, result.summary()


def logged_in_again(result: RunResult, sleep: FakeSleep) -> None:
    assert result.summary()["transport"]["salesforce"]["logins"] == 2, result.summary()


def escalated_ticket_ids(reference: dict, count: int) -> list[int]:
    """Zendesk tickets the fault-free sync writes a level to, in a stable order."""
    return sorted(i for i, (fields, _, _) in reference["zendesk"].items() if any(fields.values()))[
        :count
    ]


def lock_rows(world: World, reference: dict):
    accounts = sorted(i for i, rollup in reference["accounts"].items() if any(rollup))[:6]
    tickets = sorted(reference["records"])[:40]
    return world.sandbox.salesforce.fail_records(accounts + tickets, "UNABLE_TO_LOCK_ROW", times=1)


def job_failure(world: World, reference: dict):
    ids = escalated_ticket_ids(reference, 40)
    return world.sandbox.zendesk.faults.add(
        Fault("update_many", "job_failure", detail={"ids": ids})
    )


def agent_keeps_editing(world: World, reference: dict):
    """An agent edits three tickets during our first update and again during the re-plan's.

    Zendesk's updated_stamp has whole seconds, so each edit happens two seconds later on the
    sandbox clock than the read before it (an edit in the same second cannot be detected).
    """
    app = world.sandbox.zendesk
    edit = app.jobs._agent_edit

    def a_little_later(ticket_id: int) -> None:
        app.advance_clock(2)
        edit(ticket_id)

    app.jobs._agent_edit = a_little_later
    ids = escalated_ticket_ids(reference, 3)
    return app.faults.add(Fault("update_many", "conflict", times=2, detail={"ids": ids}))


# fmt: off
CASES = [
    # 429 with Retry-After: waited for (logically), retried within the run.
    Case("429-zendesk-export", "zendesk", status("zendesk", "incremental_tickets", 429, 2, 7), 0,
         clean_after_retries("zendesk", 2, 7.0)),
    Case("429-jira-search", "jira", status("jira", "search_jql", 429, 1, 5), 0,
         clean_after_retries("jira", 1, 5.0)),
    Case("429-salesforce-query", "salesforce", status("salesforce", "query", 429, 1, 3), 0,
         clean_after_retries("salesforce", 1, 3.0)),
    Case("429-zendesk-update_many", "zendesk", status("zendesk", "update_many", 429, 1, 4), 0,
         clean_after_retries("zendesk", 1, 4.0)),
    Case("429-jira-edit", "jira", status("jira", "issue_edit", 429, 2, 2), 0,
         clean_after_retries("jira", 2, 2.0)),
    Case("429-salesforce-upsert", "salesforce", status("salesforce", "composite_upsert", 429, 1, 6), 0,
         clean_after_retries("salesforce", 1, 6.0)),
    Case("429-until-cleared-zendesk-export", "zendesk", status("zendesk", "incremental_tickets", 429, -1, 1), 3,
         unreachable("zendesk", "rate limited")),
    # 500/503: reads are retried; a 503 says nothing was done, so even a write is sent again;
    # a 500 on a write leaves its outcome unknown: RETRY, re-read and re-planned next run.
    Case("500-zendesk-export", "zendesk", status("zendesk", "incremental_tickets", 500, 2), 0,
         clean_after_retries("zendesk", 2)),
    Case("503-jira-search", "jira", status("jira", "search_jql", 503, 2), 0, clean_after_retries("jira", 2)),
    Case("500-salesforce-query-until-cleared", "salesforce", status("salesforce", "query", 500, -1), 3,
         nothing_written_before_accounts_are_read),
    Case("503-jira-search-until-cleared", "jira", status("jira", "search_jql", 503, -1), 3,
         unreachable("jira", "503")),
    Case("503-zendesk-update_many", "zendesk", status("zendesk", "update_many", 503, 1), 0,
         clean_after_retries("zendesk", 1)),
    Case("500-zendesk-update_many", "zendesk", status("zendesk", "update_many", 500, 1), 1,
         writes_to_retry("zendesk", "HTTP 500", whole_job=True)),
    Case("500-jira-edit", "jira", status("jira", "issue_edit", 500, 1), 1, writes_to_retry("jira", "HTTP 500")),
    Case("500-salesforce-update", "salesforce", status("salesforce", "composite_update", 500, 1), 1,
         writes_to_retry("salesforce", "HTTP 500")),
    Case("503-salesforce-upsert", "salesforce", status("salesforce", "composite_upsert", 503, 2), 0,
         clean_after_retries("salesforce", 2)),
    Case("503-jira-edit", "jira", status("jira", "issue_edit", 503, 1), 0, clean_after_retries("jira", 1)),
    Case("500-zendesk-job-status", "zendesk", status("zendesk", "job_status", 500, 2), 0,
         clean_after_retries("zendesk", 2)),
    # The job ran, but its status cannot be read: the outcome is unknown, the note is looked
    # for on each ticket next run instead of being posted again.
    Case("500-zendesk-job-status-until-cleared", "zendesk", status("zendesk", "job_status", 500, -1), 1,
         writes_to_retry("zendesk", "outcome unknown", whole_job=True)),
    # Connection reset: a read is retried, a write's outcome is unknown.
    Case("reset-zendesk-organizations", "zendesk", reset("zendesk", "incremental_organizations"), 0,
         clean_after_retries("zendesk", 1)),
    Case("reset-jira-search", "jira", reset("jira", "search_jql"), 0, clean_after_retries("jira", 1)),
    Case("reset-salesforce-query", "salesforce", reset("salesforce", "query"), 0,
         clean_after_retries("salesforce", 1)),
    Case("reset-zendesk-update_many", "zendesk", reset("zendesk", "update_many"), 1,
         writes_to_retry("zendesk", "ConnectionError", whole_job=True)),
    Case("reset-jira-edit", "jira", reset("jira", "issue_edit"), 1, writes_to_retry("jira", "ConnectionError")),
    Case("reset-salesforce-upsert", "salesforce", reset("salesforce", "composite_upsert"), 1,
         writes_to_retry("salesforce", "ConnectionError")),
    # An answer slower than the client's timeout: the read is sent again; the write most likely
    # landed (the sandbox applies it late), so it must be recognised, not written twice.
    Case("timeout-zendesk-export", "zendesk", slow("zendesk", "incremental_tickets"), 0,
         clean_after_retries("zendesk", 1), CLIENT_TIMEOUT),
    Case("timeout-salesforce-query", "salesforce", slow("salesforce", "query"), 0,
         clean_after_retries("salesforce", 1), CLIENT_TIMEOUT),
    Case("timeout-jira-search", "jira", slow("jira", "search_jql"), 0,
         clean_after_retries("jira", 1), CLIENT_TIMEOUT),
    Case("timeout-zendesk-update_many", "zendesk", slow("zendesk", "update_many"), 1,
         writes_to_retry("zendesk", "Timeout", whole_job=True), CLIENT_TIMEOUT),
    Case("timeout-jira-edit", "jira", slow("jira", "issue_edit"), 1,
         writes_to_retry("jira", "Timeout"), CLIENT_TIMEOUT),
    Case("timeout-salesforce-update", "salesforce", slow("salesforce", "composite_update"), 1,
         writes_to_retry("salesforce", "Timeout"), CLIENT_TIMEOUT),
    Case("timeout-salesforce-upsert", "salesforce", slow("salesforce", "composite_upsert"), 1,
         writes_to_retry("salesforce", "Timeout"), CLIENT_TIMEOUT),
    # Vendor faults: the request was handled, some records failed in it and are sent again.
    Case("zendesk-job-fails-for-some-tickets", "zendesk", job_failure, 1,
         writes_to_retry("zendesk", "TicketUpdateFailed"), transport=False),
    Case("zendesk-job-fails-whole", "zendesk", lambda w, ref: w.sandbox.zendesk.faults.add(
         Fault("update_many", "job_failed")), 1, writes_to_retry("zendesk", "the job was killed", whole_job=True), transport=False),
    Case("salesforce-unable-to-lock-row", "salesforce", lock_rows, 1,
         writes_to_retry("salesforce", "UNABLE_TO_LOCK_ROW"), transport=False),
    Case("zendesk-409-agent-edits-during-update", "zendesk", lambda w, ref: w.sandbox.zendesk.faults.add(
         Fault("update_many", "conflict", times=1)), 0, conflicts_replanned, transport=False),
    Case("zendesk-409-again-on-the-replan", "zendesk", agent_keeps_editing, 1, conflicts_left, transport=False),
    Case("salesforce-session-expires-on-read", "salesforce",
         lambda w, ref: w.sandbox.salesforce.expire_session_on("query"), 0, logged_in_again),
    Case("salesforce-session-expires-on-write", "salesforce",
         lambda w, ref: w.sandbox.salesforce.expire_session_on("composite_update"), 0, logged_in_again),
    Case("salesforce-session-refused-after-new-login", "salesforce",
         lambda w, ref: w.sandbox.salesforce.expire_session_on("composite_upsert", times=2), 3,
         unreachable("salesforce", "session")),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_after_the_fault_clears_clean_runs_reach_the_fault_free_state(
    case: Case, world: World, fault_free: tuple[dict, Counter]
):
    reference, sent_without_faults = fault_free
    if case.client_timeout is not None:
        set_client_timeout(world, case.client_timeout)
    sleep = FakeSleep()
    case.inject(world, reference)
    faulty = world.run(policy=fast_policy(sleep))
    assert faulty.exit_code == case.exit_code, faulty.summary()
    case.check(faulty, sleep)
    if case.client_timeout is not None:
        time.sleep(SLOW_ANSWER)  # the vendor finishes the request the client gave up on
    world.sandbox.zendesk.run_jobs()  # and any job it queued, as Zendesk does at once
    world.sandbox.clear_faults()
    # The next run follows at once: Zendesk's export does not show the last minute yet.
    converge(world, settle_first=False)
    assert_fault_free_state(reference, world)
    if case.transport:  # the vendor handled each request at most once: nothing is sent twice
        assert writes_repeated(world, sent_without_faults) == {}


# -- permanent rejections ---------------------------------------------------------------------
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
    return f"jira:{key}"


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

    # The data changes, so the payload does: it is sent, and lands once the vendor accepts it.
    world.sandbox.clear_faults()
    case.change(world, record, first)
    world.settle()
    world.sandbox.reset_traffic()
    changed = world.run()
    assert writes_to(world, record) >= 1
    assert changed.still_rejected == [] and changed.apply.rejected == [], changed.summary()
    store = world.store()
    try:
        assert tuple(record.split(":", 1)) not in store.failures()
    finally:
        store.close()


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
    world.settle()
    assert run_sync.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"still rejected {record} (the same values are not sent again): {words}",
        out[-1],
    ]
    assert "1 still rejected" in out[-1]


# -- a read that fails half-way ---------------------------------------------------------------
SMALL_PAGES = "sync:\n  zendesk:\n    page_size: 25\n  jira:\n    page_size: 4\n"


def fail_from_second_page(app, endpoint: str) -> None:
    """Once the first page of `endpoint` has been served, every later request to it gets 500."""
    record = app.traffic.record

    def record_then_fail(name: str, status_code: int) -> None:
        record(name, status_code)
        if name == endpoint and status_code == 200 and not app.faults.pending():
            app.faults.add(Fault(endpoint, "status", times=-1, status=500))

    app.traffic.record = record_then_fail


@pytest.mark.parametrize(
    ("system", "endpoint", "stream"),
    [("zendesk", "incremental_tickets", "zendesk.tickets"), ("jira", "search_jql", "jira.issues")],
)
def test_a_read_failing_after_its_first_page_keeps_that_page_and_its_cursor_only(
    system: str, endpoint: str, stream: str, running, reference: dict, tmp_path: Path
):
    sandbox, data = running
    world = World(sandbox, data, tmp_path, extra_config=SMALL_PAGES)
    app = sandbox.apps[system]
    fail_from_second_page(app, endpoint)
    try:
        faulty = world.run(policy=fast_policy(FakeSleep()))
    finally:
        del app.traffic.record
    assert faulty.exit_code == 3 and faulty.summary()["unreachable"] == [system]
    first_page = faulty.pull.records[stream]
    store = world.store()
    try:
        assert store.cursor(stream) is not None, "the first page's cursor is stored with it"
        assert len([t for t in store.tickets() if t.system == system]) == first_page
    finally:
        store.close()
    assert 0 < first_page < len(reference[system])

    sandbox.clear_faults()
    converge(world, settle_first=False)
    assert_fault_free_state(reference, world)
