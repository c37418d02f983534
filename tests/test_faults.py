"""Faults injected per endpoint, on reads and on writes: after the fault clears, clean runs bring
every system to exactly the state of a fault-free run, with no note or record twice; the faulty
run's exit code and summary say what happened.

The real sync and clients run against the sandbox (module-scoped); each test starts from the same
generated data. Retry waits are recorded, not slept (FakeSleep), so Retry-After is checked as a
request to wait.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.faults import Fault
from sync.run import RunResult
from tests.fault_helpers import (
    FAULT_SIZES,
    FakeSleep,
    assert_fault_free_state,
    converge,
    escalated_ticket_ids,
    fast_policy,
    set_client_timeout,
    writes_repeated,
)
from tests.sync_world import World

pytestmark = pytest.mark.integration
# On PostgreSQL too: the cases in ON_POSTGRESQL and a read failing half-way; all on SQLite.

SLOW_ANSWER = 0.8  # seconds the sandbox sits on a request: twice the clients' timeout below
CLIENT_TIMEOUT = 0.4  # seconds the clients wait for an answer in the timeout cases


WORLD_SIZES = FAULT_SIZES  # the shared world_sandbox / world / fault_free fixtures use it


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


def quota_bound(system: str, words: str = ""):
    """Not 'unreachable': the system answered, its quota kept refusing (exit 10, resumes)."""

    def check(result: RunResult, sleep: FakeSleep) -> None:
        summary = result.summary()
        assert list(summary["quota_bound"]) == [system], summary
        assert summary["unreachable"] == [], summary
        assert words in result.quota_bound[system], result.quota_bound

    return check


def credentials_refused(system: str, words: str = ""):
    """Not 'unreachable': the system answered and refused us (exit 5, a person must act)."""

    def check(result: RunResult, sleep: FakeSleep) -> None:
        summary = result.summary()
        assert list(summary["credentials_refused"]) == [system], summary
        assert summary["unreachable"] == [], summary
        assert words in result.refused[system], result.refused

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
# Salesforce accounts are read with queryAll (deletions and merges show): its endpoint is "query_all".
CASES = [
    # 429 with Retry-After: waited for (logically), retried within the run.
    Case("429-zendesk-export", "zendesk", status("zendesk", "incremental_tickets", 429, 2, 7), 0,
         clean_after_retries("zendesk", 2, 7.0)),
    Case("429-jira-search", "jira", status("jira", "search_jql", 429, 1, 5), 0,
         clean_after_retries("jira", 1, 5.0)),
    Case("429-salesforce-query", "salesforce", status("salesforce", "query_all", 429, 1, 3), 0,
         clean_after_retries("salesforce", 1, 3.0)),
    Case("429-zendesk-update_many", "zendesk", status("zendesk", "update_many", 429, 1, 4), 0,
         clean_after_retries("zendesk", 1, 4.0)),
    Case("429-jira-edit", "jira", status("jira", "issue_edit", 429, 2, 2), 0,
         clean_after_retries("jira", 2, 2.0)),
    Case("429-salesforce-upsert", "salesforce", status("salesforce", "composite_upsert", 429, 1, 6), 0,
         clean_after_retries("salesforce", 1, 6.0)),
    # A quota that never lets up: the system answered, so the run is quota-bound, not unreachable.
    Case("429-until-cleared-zendesk-export", "zendesk", status("zendesk", "incremental_tickets", 429, -1, 1), 10,
         quota_bound("zendesk", "rate limited")),
    # 500/503: reads are retried; a 503 says nothing was done, so even a write is sent again;
    # a 500 on a write leaves its outcome unknown: RETRY, re-read and re-planned next run.
    Case("500-zendesk-export", "zendesk", status("zendesk", "incremental_tickets", 500, 2), 0,
         clean_after_retries("zendesk", 2)),
    Case("503-jira-search", "jira", status("jira", "search_jql", 503, 2), 0, clean_after_retries("jira", 2)),
    Case("500-salesforce-query-until-cleared", "salesforce", status("salesforce", "query_all", 500, -1), 3,
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
    Case("reset-salesforce-query", "salesforce", reset("salesforce", "query_all"), 0,
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
    Case("timeout-salesforce-query", "salesforce", slow("salesforce", "query_all"), 0,
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
         writes_to_retry("zendesk", "InternalError"), transport=False),
    Case("zendesk-job-fails-whole", "zendesk", lambda w, ref: w.sandbox.zendesk.faults.add(
         Fault("update_many", "job_failed")), 1, writes_to_retry("zendesk", "the job was killed", whole_job=True), transport=False),
    Case("salesforce-unable-to-lock-row", "salesforce", lock_rows, 1,
         writes_to_retry("salesforce", "UNABLE_TO_LOCK_ROW"), transport=False),
    Case("zendesk-409-agent-edits-during-update", "zendesk", lambda w, ref: w.sandbox.zendesk.faults.add(
         Fault("update_many", "conflict", times=1)), 0, conflicts_replanned, transport=False),
    Case("zendesk-409-again-on-the-replan", "zendesk", agent_keeps_editing, 1, conflicts_left, transport=False),
    Case("salesforce-session-expires-on-read", "salesforce",
         lambda w, ref: w.sandbox.salesforce.expire_session_on("query_all"), 0, logged_in_again),
    Case("salesforce-session-expires-on-write", "salesforce",
         lambda w, ref: w.sandbox.salesforce.expire_session_on("composite_update"), 0, logged_in_again),
    Case("salesforce-session-refused-after-new-login", "salesforce",
         lambda w, ref: w.sandbox.salesforce.expire_session_on("composite_upsert", times=2), 5,
         credentials_refused("salesforce", "session")),
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
    if case.client_timeout is not None:  # the vendor finishes the request the client gave up on
        assert all(app.traffic.wait_until_idle(timeout=30) for app in world.sandbox.apps.values())
    world.sandbox.zendesk.run_jobs()  # and any job it queued, as Zendesk does at once
    world.sandbox.clear_faults()
    # The next run follows at once: Zendesk's export does not show the last minute yet.
    converge(world, settle_first=False)
    assert_fault_free_state(reference, world)
    if case.transport:  # the vendor handled each request at most once: nothing is sent twice
        assert writes_repeated(world, sent_without_faults) == {}


# The cases that run on PostgreSQL too: a write whose answer was lost (each vendor's kind of
# write, a Zendesk job), a conflict re-planned, credentials refused after a new login.
ON_POSTGRESQL = (
    "timeout-salesforce-upsert",
    "timeout-zendesk-update_many",
    "timeout-jira-edit",
    "zendesk-409-again-on-the-replan",
    "salesforce-session-refused-after-new-login",
)
POSTGRESQL_CASES = [c for c in CASES if c.name in ON_POSTGRESQL]


@pytest.mark.state_backends("postgresql")
@pytest.mark.parametrize("case", POSTGRESQL_CASES, ids=[c.name for c in POSTGRESQL_CASES])
def test_on_postgresql_after_the_fault_clears_clean_runs_reach_the_fault_free_state(
    case: Case, world: World, fault_free: tuple[dict, Counter]
):
    test_after_the_fault_clears_clean_runs_reach_the_fault_free_state(case, world, fault_free)


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
    ("system", "endpoint", "stream", "state_backend"),
    [
        ("zendesk", "incremental_tickets", "zendesk.tickets", "sqlite"),
        ("zendesk", "incremental_tickets", "zendesk.tickets", "postgresql"),
        ("jira", "search_jql", "jira.issues", "sqlite"),
    ],
    indirect=["state_backend"],
)
def test_a_read_failing_after_its_first_page_keeps_that_page_and_its_cursor_only(
    system: str,
    endpoint: str,
    stream: str,
    world_sandbox,
    reference: dict,
    tmp_path: Path,
    state_url: str | None,
):
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config=SMALL_PAGES, state_url=state_url)
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
