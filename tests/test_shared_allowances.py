"""Allowances shared with the org's other integrations: the run spends its part of them on the
highest levels first and keeps the rest of its writes for the next run.

Salesforce's daily API allowance is the org's: the sandbox starts a run with most of it used by
other integrations (Sforce-Limit-Info and GET limits count them). With one record a collection
request, the reserve is reached part-way through the run's writes: those that went are the
highest levels, the rest wait for the next run, which writes them (the allowance having rolled)
and leaves every system as a run without a reserve would. The same holds when Jira's edit quota
runs out within the run's waiting budget. Zendesk's plan limit is the account's: a run takes
its share of the X-Rate-Limit Zendesk announces and never provokes a 429.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from connectors.transport import RetryPolicy
from errors import ExitCode
from sandbox.quotas import QuotaRule
from sandbox.salesforce.limits import DEFAULT_DAILY_LIMIT
from sync.report import summary_line
from sync.run import RunResult
from tests.fault_helpers import FAULT_SIZES, assert_fault_free_state, converge
from tests.sync_world import World

pytestmark = pytest.mark.integration
WORLD_SIZES = FAULT_SIZES
DAILY_LIMIT = 15_000
STOP_AT = 12_000  # the default reserve, 0.2: writing stops at 80% used
ONE_RECORD_A_REQUEST = "sync:\n  salesforce:\n    write_batch_size: 1\n"


@pytest.fixture
def near_the_reserve(world_sandbox, tmp_path) -> Iterator[World]:
    """A world whose Salesforce org has all but a few requests below the reserve used."""
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config=ONE_RECORD_A_REQUEST)
    sandbox.salesforce.set_api_allowance(DAILY_LIMIT, used_by_others=STOP_AT - 5)
    yield world
    sandbox.salesforce.allowance.configure(DEFAULT_DAILY_LIMIT, force=False)


def audit_writes(world: World, run_id: int, status: str) -> list[tuple[str, dict]]:
    """(record, detail) of the run's audited writes with this outcome."""
    store = world.store()
    try:
        rows = store.db.execute(
            "SELECT ref, detail FROM audit WHERE run_id = ? AND kind = 'write'", (run_id,)
        ).fetchall()
    finally:
        store.close()
    found = [(ref, json.loads(detail)) for ref, detail in rows]
    return [(ref, detail) for ref, detail in found if detail["status"] == status]


def salesforce_writes(result: RunResult, world: World) -> tuple[list[str], list[str]]:
    """(levels of the Salesforce writes that landed, levels of those that did not)."""
    landed = {ref for ref, _ in audit_writes(world, result.run_id, "ok")}
    planned = [p for p in result.writes if p.target.system == "salesforce"]
    return (
        [p.target.level for p in planned if p.write.ref in landed],
        [p.target.level for p in planned if p.write.ref not in landed],
    )


def test_salesforce_writes_stop_at_the_reserve_highest_levels_first_and_resume_next_run(
    near_the_reserve: World, reference: dict
):
    world = near_the_reserve
    rank = {level: i for i, level in enumerate(world.config.matrix.levels)}

    result = world.run()

    assert result.exit_code == ExitCode.QUOTA_BOUND, result.summary()
    used, limit = world.sandbox.salesforce.api_usage()
    assert limit == DAILY_LIMIT and used <= STOP_AT  # never past the reserve
    landed, kept = salesforce_writes(result, world)
    assert landed and kept
    assert min(rank[level] for level in landed) >= max(rank[level] for level in kept)
    assert result.allowances["salesforce"] == {
        "used": used, "limit": DAILY_LIMIT, "reserve": 0.2, "stop_writing_at": STOP_AT,
    }  # fmt: skip
    highest_first = sorted(set(kept), key=lambda level: -rank[level])
    line = summary_line(result)
    assert (
        f"salesforce writes: {len(landed)} of {len(landed) + len(kept)} done; {len(kept)} writes "
        f"for level{'s' if len(highest_first) > 1 else ''} {', '.join(highest_first)} kept for "
        "the next run: Salesforce API reserve reached (80% of 15,000 used)"
    ) in line, line
    assert f"salesforce API allowance: {used:,} of 15,000 used" in line
    store = world.store()
    try:
        [(detail,)] = store.db.execute(
            "SELECT detail FROM audit WHERE run_id = ? AND kind = 'api_allowance' "
            "AND ref = 'salesforce'",
            (result.run_id,),
        ).fetchall()
    finally:
        store.close()
    assert json.loads(detail)["used"] == used
    # Zendesk and Jira are not held back by Salesforce's reserve.
    assert result.summary()["results"].get("zendesk:ok") and result.summary()["results"].get(
        "jira:ok"
    )

    world.sandbox.salesforce.set_api_allowance(DAILY_LIMIT)  # the rolling window moved on
    [*_, last] = converge(world, settle_first=False)
    assert last.exit_code == ExitCode.OK, last.summary()
    assert_fault_free_state(reference, world)


def test_a_run_starting_past_the_reserve_writes_nothing_to_salesforce_and_loses_nothing(
    near_the_reserve: World, reference: dict
):
    world = near_the_reserve
    world.sandbox.salesforce.set_api_allowance(DAILY_LIMIT, used_by_others=STOP_AT + 1)

    result = world.run()

    assert result.exit_code == ExitCode.QUOTA_BOUND, result.summary()
    assert world.writes()["salesforce"] == 0
    assert result.summary()["results"].get("salesforce:ok") is None
    writes = result.summary()["quota_bound"]["salesforce"]["writes"]
    assert writes["waiting"] == writes["planned"] > 0

    world.sandbox.salesforce.set_api_allowance(DAILY_LIMIT)
    converge(world, settle_first=False)
    assert_fault_free_state(reference, world)


@pytest.fixture
def jira_edits_scarce(world_sandbox, tmp_path) -> Iterator[World]:
    """A world whose Jira allows three issue edits a minute, and a run that may wait 1 s."""
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config="sync:\n  max_wait: 1s\n")
    sandbox.jira.quotas.set_rules([QuotaRule("burst:issue_edit", 3, 60.0, ("issue_edit",))])
    sandbox.jira.quotas.enabled = True
    yield world
    sandbox.jira.quotas.enabled = False
    sandbox.jira.quotas.set_rules(sandbox.jira.default_quota_rules())


def test_a_run_out_of_jira_quota_edits_the_highest_levels_first_and_keeps_the_rest(
    jira_edits_scarce: World, reference: dict
):
    world = jira_edits_scarce
    rank = {level: i for i, level in enumerate(world.config.matrix.levels)}

    result = world.run(policy=RetryPolicy(max_total_wait_seconds=1))

    assert result.exit_code == ExitCode.QUOTA_BOUND, result.summary()
    edits = [p for p in result.writes if p.target.system == "jira"]
    landed = {ref for ref, _ in audit_writes(world, result.run_id, "ok")}
    sent = [p.target.level for p in edits if p.write.ref in landed]
    waiting = [p.target.level for p in edits if p.write.ref not in landed]
    assert len(sent) == 3 and waiting
    assert min(rank[level] for level in sent) >= max(rank[level] for level in waiting)
    entry = result.summary()["quota_bound"]["jira"]["writes"]
    assert entry["waiting"] == len(waiting)
    assert entry["levels"] == sorted(set(waiting), key=lambda level: -rank[level])
    assert "kept for the next run" in summary_line(result)

    world.sandbox.jira.quotas.enabled = False  # minutes later: the quota is back
    converge(world, settle_first=False)
    assert_fault_free_state(reference, world)


@pytest.fixture
def zendesk_plan_of_six(world_sandbox, tmp_path) -> Iterator[World]:
    """A Zendesk plan of 6 requests a minute (a run needs 5), shared half and half with other
    apps; a run that may wait 1 s (the next minute is the next run's)."""
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config="sync:\n  max_wait: 1s\n")
    sandbox.zendesk.quotas.set_rules([QuotaRule("account", 6, 60.0)])
    sandbox.zendesk.quotas.enabled = True
    yield world
    sandbox.zendesk.quotas.enabled = False
    sandbox.zendesk.quotas.set_rules(sandbox.zendesk.default_quota_rules())


def test_a_run_takes_only_its_share_of_the_zendesk_plan_limit_and_resumes_next_run(
    zendesk_plan_of_six: World, reference: dict
):
    world = zendesk_plan_of_six
    zendesk = world.sandbox.zendesk

    result = world.run(policy=RetryPolicy(max_total_wait_seconds=1))

    # X-Rate-Limit says 6; the default rate_share of 0.5 leaves the other apps three.
    assert sum(zendesk.traffic.requests.values()) == 3
    assert not [key for key in zendesk.traffic.statuses if key[1] == 429]
    assert result.exit_code == ExitCode.QUOTA_BOUND, result.summary()
    assert "zendesk" in result.quota_bound

    zendesk.quotas.enabled = False  # the next runs come minutes later
    converge(world, max_runs=6, settle_first=False)
    assert_fault_free_state(reference, world)
