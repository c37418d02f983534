"""`replay`: the current matrix replayed over the period the audit log covers decides what the
runs decided, ticket by ticket, level by level and owner by owner; evaluating a ticket only
when its decision can change gives what evaluating it at every step gives."""

from __future__ import annotations

import json
import shutil
from bisect import bisect_right
from datetime import datetime, timedelta

import pytest

from escalation.compiled import compile_matrix
from rehearse.past import load_past
from rehearse.replay import replay, runs_between
from run_sync import main

pytestmark = pytest.mark.integration

WORLD_SIZES = {"accounts": 30, "tickets": 240, "jira_issues": 30, "seed": 11}


def _audit_decisions(store) -> list[tuple[float, str, str, str | None]]:
    return sorted(
        (
            datetime.fromisoformat(entry["at"]).timestamp(),
            entry["ref"],
            entry["detail"]["level"],
            (entry["detail"]["owner"] or {}).get("current"),
        )
        for entry in store.audit_entries(kind="decision")
    )


def _changed(trace) -> list[tuple[float, str, str, str | None]]:
    return sorted(
        (step.at, ref, step.level, step.owner)
        for ref, steps in trace.steps.items()
        for step in steps
        if step.changed
    )


def _edit_at(world, moment: datetime, ticket_id: str, changes: dict) -> None:
    """A person's edit at `moment`: the sandbox's record clock is moved there first, so the
    ticket's times say when it happened, as a real Zendesk's would."""
    app = world.sandbox.zendesk
    app.advance_clock(max(0.0, moment.timestamp() - app.clock.timestamp()))
    app.agent_edit(int(ticket_id), changes)


def _open_escalated(world, count: int) -> list[str]:
    store = world.store()
    try:
        rows = store.db.execute(
            "SELECT ref FROM ticket_history WHERE is_open = 1 AND level != 'none' "
            "AND ref LIKE 'zendesk:%' ORDER BY ref"
        ).fetchall()
    finally:
        store.close()
    return [ref.split(":", 1)[1] for (ref,) in rows[:count]]


def test_replaying_the_current_matrix_at_the_runs_reproduces_the_audit_log(world):
    start = world.now
    solved = pending = None
    for hours in (0, 1, 2, 3.5, 5, 8, 13, 24, 30, 49):
        at = start + timedelta(hours=hours)
        if hours == 3.5:  # between the runs at 2h and 3.5h: one solved, one waits on the customer
            solved, pending = _open_escalated(world, 2)
            _edit_at(world, start + timedelta(hours=3), solved, {"status": "solved"})
            _edit_at(world, start + timedelta(hours=3, minutes=10), pending, {"status": "pending"})
        if hours == 24:  # the solved ticket reopens, the pending one is answered
            _edit_at(world, start + timedelta(hours=20), solved, {"status": "open"})
            _edit_at(world, start + timedelta(hours=20, minutes=5), pending, {"status": "open"})
        world.settle()
        assert world.run(now=at).exit_code == 0
    store = world.store()
    try:
        past = load_past(store, world.config)
        logged = _audit_decisions(store)
    finally:
        store.close()
    compiled = compile_matrix(world.config.matrix)
    moments = runs_between(past.runs, past.runs[0], past.runs[-1])
    assert len(moments) == 10
    trace = replay(compiled, past.tickets, past.accounts, past.account_created, moments)

    assert _changed(trace) == logged
    # The period holds more than first decisions: levels moved later on, the edits among them.
    assert len({at for at, *_ in logged}) > 3
    refs = {ref for _, ref, _, _ in logged}
    assert {f"zendesk:{solved}", f"zendesk:{pending}"} <= refs
    solved_levels = [level for _, ref, level, _ in logged if ref == f"zendesk:{solved}"]
    assert solved_levels[-2:][0] == "none"  # the escalation ended when it was solved ...
    assert solved_levels[-1] != "none"  # ... and the reopened ticket escalated again


def test_replay_evaluating_only_at_change_moments_equals_evaluating_every_step(world):
    start = world.now
    for hours in range(0, 73, 6):
        world.settle()
        assert world.run(now=start + timedelta(hours=hours)).exit_code == 0
    store = world.store()
    try:
        past = load_past(store, world.config)
    finally:
        store.close()
    compiled = compile_matrix(world.config.matrix)
    moments = [start.timestamp() + i * 900.0 for i in range(0, 24 * 4 * 6)]  # 6 days, 15m
    fast = replay(compiled, past.tickets, past.accounts, past.account_created, moments)
    every = replay(
        compiled, past.tickets, past.accounts, past.account_created, moments, every_moment=True
    )

    def view(trace):
        """Each ticket's decision in effect at each moment (a paused clock's due time moves
        at every step, so the steps themselves differ: a step is kept when something moved)."""
        found = {}
        for ref, steps in trace.steps.items():
            times = [step.at for step in steps]
            for moment in moments:
                index = bisect_right(times, moment)
                if index:
                    step = steps[index - 1]
                    found[(ref, moment)] = (step.level, step.owner, step.states)
        return found

    assert view(fast) == view(every)
    assert fast.evaluations * 5 < every.evaluations


def test_replay_command_of_the_current_matrix_as_draft_shows_no_difference(world, tmp_path):
    start = world.now.replace(minute=0)
    for hours in range(1, 8):
        world.settle()
        assert world.run(now=start + timedelta(hours=hours)).exit_code == 0
    draft = tmp_path / "draft.yaml"
    shutil.copy(world.config_path.parent / "matrix.yaml", draft)
    out = tmp_path / "out"
    args = ["replay", "--config", str(world.config_path), "--matrix", str(draft)]
    args += [
        "--from",
        (start + timedelta(hours=1)).isoformat(),
        "--to",
        (start + timedelta(hours=7)).isoformat(),
    ]
    assert main([*args, "--step", "1h", "--format", "json", "--out", str(out)]) == 0
    body = json.loads((out / "replay.json").read_text(encoding="utf-8"))
    assert body["tables"]["differences"]["rows"] == []
    store = world.store()
    try:
        logged = _audit_decisions(store)
    finally:
        store.close()
    raised = body["tables"]["notifications_current"]["rows"]
    assert raised == body["tables"]["notifications_draft"]["rows"]
    assert body["tickets"] == len({ref for _, ref, _, _ in logged})
    assert main([*args, "--step", "1h", "--format", "html", "--out", str(out)]) == 0
    page = (out / "replay.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page and '<table id="differences"' in page
