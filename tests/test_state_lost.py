"""A lost state file is just a first run: what the systems hold is the starting point.

With the state file deleted (or left empty) between two runs, the next run must not post a
second note, move a ticket up by the SLA timer again or write anything a normal second run
would not. The real clients against the sandbox on 127.0.0.1.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.run import RunResult
from tests.sync_world import World

pytestmark = pytest.mark.integration

# A day on, some tickets have been moved up by the SLA timer; the run after the loss comes
# later still, so SLA clocks have moved on ("nothing changed" is not "no time passed").
A_DAY, LATER = timedelta(days=1), timedelta(minutes=40)


def sent(result: RunResult) -> dict[str, Any]:
    """Record -> what the run sent it (fields, tags, whether a note)."""
    return {
        p.write.ref: (
            p.write.fields,
            p.write.tags_add,
            p.write.tags_remove,
            p.write.note is not None,
        )
        for p in result.writes
    }


def levels(result: RunResult) -> dict[str, str]:
    return {d.ticket_ref: d.level for d in result.evaluation.decisions}


def run_after(world: World, lose_state: bool, how: str) -> tuple[RunResult, RunResult]:
    """Sync, sync a day later, (lose the state file,) sync again: (the day's run, the last)."""
    world.run()
    world.settle()
    first = world.run(now=world.now + A_DAY)
    world.settle()
    if lose_state:
        path = Path(world.config.state.path)
        if how == "deleted":
            path.unlink()
        else:
            path.write_bytes(b"")
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    return first, world.run(now=world.now + LATER)


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_run_after_the_state_file_is_lost_repeats_nothing(world_sandbox, tmp_path, how):
    sandbox, data = world_sandbox
    normal_world = World(sandbox, data, tmp_path / "normal")
    first, normal = run_after(normal_world, False, how)
    normal_snapshot = normal_world.snapshot()
    assert any(d.state.timed_steps for d in first.evaluation.decisions), (
        "the world must hold tickets moved up by the SLA timer, or the test proves less"
    )

    lost_world = World(sandbox, data, tmp_path / "lost")
    lost_first, lost = run_after(lost_world, True, how)
    assert levels(lost_first) == levels(first)
    notes_before = {
        ticket_id: notes for ticket_id, (_, _, notes) in lost_world.snapshot()["zendesk"].items()
    }

    assert lost.exit_code == 0, lost.summary()
    assert levels(lost) == levels(normal), "no level changes, no timed step taken again"
    assert sent(lost) == sent(normal), "no write beyond what a normal second run makes"
    after = lost_world.snapshot()
    assert {
        ticket_id: notes for ticket_id, (_, _, notes) in after["zendesk"].items()
    } == notes_before, "no note posted a second time"
    assert after == normal_snapshot


def test_a_first_run_without_state_stores_the_state_again(world_sandbox, tmp_path):
    """After the lost file is rebuilt, the run after it is a normal one: it writes nothing."""
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path / "w")
    run_after(world, True, "deleted")
    world.settle()
    third = world.run(now=world.now)
    assert third.writes == [], [w.write.ref for w in third.writes][:5]
