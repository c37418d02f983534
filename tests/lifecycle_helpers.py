"""Helpers for the lifecycle tests of organisations and accounts: a world that meets an event
between runs, compared with a world where the event happened before its first run.

`prepare` shapes the data set the same way in both worlds (before any run); `cause` is the
event, caused through the sandbox's admin API as a person would in the vendor's UI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox import catalogue
from tests.fault_helpers import (
    converge,
    duplicate_escalation_records,
    duplicate_notes,
    snapshot_differences,
)
from tests.sync_world import World

Change = Callable[[World], None]


def nothing(world: World) -> None:
    """No change."""


@dataclass(frozen=True)
class Outcome:
    before: dict[str, Any]  # the live world before the event
    expected: dict[str, Any]  # a first run on the changed world
    found: dict[str, Any]  # the live world after the event and the next runs
    expected_keys: dict[str, dict[str, str]]  # ticket ref -> join keys in the reference mirror
    found_keys: dict[str, dict[str, str]]
    live: World
    expected_more: Any = None  # what `read` found in the reference world
    found_more: Any = None  # ... and in the live world


def join_keys(world: World) -> dict[str, dict[str, str]]:
    """Every ticket's join keys as the mirror holds them (closed tickets too)."""
    store = world.store()
    try:
        return {t.ref: dict(t.join_keys) for t in store.tickets()}
    finally:
        store.close()


def before_and_after(
    world_sandbox: Any,
    folder: Path,
    cause: Change,
    prepare: Change = nothing,
    extra_config: str = "",
    edit_config: Change = nothing,
    read: Callable[[World], Any] = nothing,
) -> Outcome:
    """Run the reference world (event first) and the live world (event between runs); `read`
    reads more of each world after its last run (both share one sandbox: read it then)."""
    reference = World(*world_sandbox, folder / "reference", extra_config=extra_config)
    edit_config(reference)
    prepare(reference)
    cause(reference)
    converge(reference)
    expected, expected_keys = reference.snapshot(), join_keys(reference)
    expected_more = read(reference)

    live = World(*world_sandbox, folder / "live", extra_config=extra_config)
    edit_config(live)
    prepare(live)
    converge(live)
    before = live.snapshot()
    cause(live)
    converge(live)
    found = live.snapshot()
    return Outcome(
        before, expected, found, expected_keys, join_keys(live), live, expected_more, read(live)
    )


def ended(snapshot: dict[str, Any], lowest: str) -> dict[str, Any]:
    """The snapshot with what an ended escalation leaves behind read as nothing written: an
    account back at no open escalation (a first run never wrote it), escalation records closed
    at the lowest level."""
    accounts = {
        k: (None, None, None) if v[:2] in ((0, lowest), (0.0, lowest)) and v[2] is None else v
        for k, v in snapshot["accounts"].items()
    }
    records = {k: v for k, v in snapshot["records"].items() if v[0] != lowest}
    return {**snapshot, "accounts": accounts, "records": records, "record_count": len(records)}


def without_new_notes(snapshot: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without the note counts of tickets whose level changed since `before`: the
    live world announced the level it held before the event, then the new one (two notes, each
    once), where a first run announces only the new one."""
    level = catalogue.ZD_FIELD_LEVEL
    zendesk = {
        k: (fields, tags, None)
        if fields.get(level) != before["zendesk"].get(k, ({}, [], 0))[0].get(level)
        else (fields, tags, notes)
        for k, (fields, tags, notes) in snapshot["zendesk"].items()
    }
    return {**snapshot, "zendesk": zendesk}


def assert_equals_a_first_run(outcome: Outcome, lowest: str) -> None:
    """Every system as a first run on the changed world left it, field by field; no note or
    escalation record twice."""
    differences = snapshot_differences(
        without_new_notes(ended(outcome.expected, lowest), outcome.before),
        without_new_notes(ended(outcome.found, lowest), outcome.before),
    )
    assert not differences, "\n".join(differences)
    assert duplicate_notes(outcome.live) == {}
    assert duplicate_escalation_records(outcome.live) == []


def assert_the_event_mattered(outcome: Outcome) -> None:
    """The event changed what a first run writes: without it the test could not fail."""
    assert snapshot_differences(outcome.before, outcome.expected), "the event changed nothing"
