"""Jira issues that move, vanish or lose a link under the sync: after the next run (or the
reconciliation, where only it can see the event) every system equals what a first run on the
changed world produces, field by field, with no note or record twice.

Each event is caused through the sandbox's admin API, as a person would in Jira's UI (moving
an issue gives it a new key and keeps its id; the old key still finds it). The reference is a
fresh world with the event applied before its first run; the other world syncs, meets the
event, and syncs again. An issue whose customer impact ended holds what our last write left
(the level "none", no label) where a first run wrote nothing: that is what "ended" means.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_config
from connectors.transport import RetryPolicy
from sandbox import catalogue
from sync.connections import build_connectors
from tests.fault_helpers import (
    FAULT_SIZES,
    converge,
    duplicate_escalation_records,
    duplicate_notes,
    escalated_ticket_ids,
    snapshot_differences,
)
from tests.sync_world import World
from tests.test_lifecycle_events import ended

pytestmark = pytest.mark.integration

WORLD_SIZES = FAULT_SIZES
RECONCILE_EVERY_RUN = "sync:\n  reconcile:\n    every_hours: 0\n    max_requests: 50\n"
LEVEL = catalogue.JIRA_FIELD_LEVEL
LINKS = catalogue.JIRA_FIELD_ZENDESK_TICKET


@dataclass(frozen=True)
class Subjects:
    """What the events happen to: an issue a plain first run writes customer impact to, and
    an escalated Zendesk ticket it links to."""

    issue: str  # its key before any event
    issue_id: str
    ticket: int
    # An issue linked to two or more tickets of one account, and the one whose link is
    # removed: the account (which reaches the issue through its links) stays, so the issue's
    # own level is not held at what the lost account gave it (levels do not fall while open).
    shared_issue: str = ""
    shared_ticket: int = 0


@dataclass(frozen=True)
class Event:
    name: str
    cause: Callable[[World, Subjects], None]
    config: str = ""  # added to the world's config (before its first run)
    # Changes the world's config before its first run (in both worlds).
    setup: Callable[[World, Subjects], None] | None = None


def move_to_the_other_project(world: World, subjects: Subjects) -> None:
    world.sandbox.jira.move_issue(subjects.issue, other_project(subjects.issue))


def delete_issue(world: World, subjects: Subjects) -> None:
    world.sandbox.jira.delete_issue(subjects.issue)


def remove_the_link(world: World, subjects: Subjects) -> None:
    world.sandbox.jira.remove_link(subjects.shared_issue, subjects.shared_ticket)


def other_project(key: str) -> str:
    return next(p for _, p, _ in catalogue.JIRA_PROJECTS if not key.startswith(f"{p}-"))


def drop_project(world: World, project: str) -> None:
    """Take `project` out of connections.jira.projects."""
    connections = world.config_path.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    every = ", ".join(p for _, p, _ in catalogue.JIRA_PROJECTS)
    kept = ", ".join(p for _, p, _ in catalogue.JIRA_PROJECTS if p != project)
    assert f"projects: [{every}]" in text
    connections.write_text(text.replace(f"projects: [{every}]", f"projects: [{kept}]"))
    world.config = load_config(world.config_path)


def drop_the_issues_project(world: World, subjects: Subjects) -> None:
    drop_project(world, subjects.issue.rpartition("-")[0])


def only_the_issues_project(world: World, subjects: Subjects) -> None:
    drop_project(world, other_project(subjects.issue))


EVENTS = [
    Event("jira-issue-moved-to-another-project", move_to_the_other_project),
    Event("jira-issue-deleted", delete_issue, RECONCILE_EVERY_RUN),
    Event("jira-link-to-the-ticket-removed", remove_the_link),
    Event("jira-project-dropped-from-the-config", drop_the_issues_project),
    # The search reads the configured projects only: the reconciliation finds it by id.
    Event(
        "jira-issue-moved-out-of-the-configured-projects",
        move_to_the_other_project,
        RECONCILE_EVERY_RUN,
        only_the_issues_project,
    ),
]


def issue_ended(snapshot: dict[str, Any], lowest: str) -> dict[str, Any]:
    """`ended`, and issues holding the lowest level with no label read as never written."""
    nothing = json.dumps(dict.fromkeys(json.loads(next(iter(snapshot["jira"].values()))[0])))
    jira = {}
    for key, (fields, labels) in snapshot["jira"].items():
        values = json.loads(fields)
        if values.get(LEVEL) in (lowest, {"value": lowest}) and not labels:
            fields = nothing
        jira[key] = (fields, labels)
    return ended({**snapshot, "jira": jira}, lowest)


def in_projects(snapshot: dict[str, Any], projects: set[str]) -> dict[str, Any]:
    """The snapshot's Jira part limited to issues of `projects`."""
    jira = {k: v for k, v in snapshot["jira"].items() if k.rpartition("-")[0] in projects}
    return {**snapshot, "jira": jira}


@pytest.fixture(scope="module")
def subjects(world_sandbox, tmp_path_factory: pytest.TempPathFactory) -> Subjects:
    """An issue with customer impact written by a plain first run, and one of its escalated
    tickets."""
    world = World(*world_sandbox, tmp_path_factory.mktemp("plain"))
    converge(world)
    snapshot = world.snapshot()
    escalated = set(escalated_ticket_ids(snapshot, 10_000))
    lowest = world.config.matrix.levels[0]
    store = world.store()
    try:
        account_of = {int(t.id): t.account_id for t in store.tickets() if t.system == "zendesk"}
    finally:
        store.close()
    found: list[tuple[str, str, list[int]]] = []
    for key in sorted(snapshot["jira"]):
        level = json.loads(snapshot["jira"][key][0]).get(LEVEL)
        issue = world.sandbox.jira.get_issue(key)
        assert issue is not None
        linked = [int(t) for t in str(issue["fields"].get(LINKS) or "").split(",") if t.strip()]
        mine = [t for t in linked if t in escalated]
        if level not in (None, lowest, {"value": lowest}) and mine:
            # A ticket whose account another linked ticket shares.
            kept = [
                t
                for t in mine
                if any(account_of.get(o) == account_of.get(t) for o in linked if o != t)
            ]
            found.append((key, str(issue["id"]), mine, kept))
    assert found, "no issue with customer impact from an escalated ticket"
    key, issue_id, mine, _ = found[0]
    shared, _, _, kept = next(f for f in found if f[3])
    return Subjects(key, issue_id, mine[0], shared, kept[0])


def first_run_on_the_changed_world(
    world_sandbox, subjects: Subjects, event: Event, folder: Path
) -> World:
    world = World(*world_sandbox, folder, extra_config=event.config)
    if event.setup is not None:
        event.setup(world, subjects)
    event.cause(world, subjects)
    converge(world)
    return world


@pytest.mark.parametrize("event", EVENTS, ids=[e.name for e in EVENTS])
def test_after_the_event_the_next_run_equals_a_first_run_on_the_changed_world(
    event: Event, world_sandbox, subjects: Subjects, tmp_path: Path
):
    changed_first = first_run_on_the_changed_world(
        world_sandbox, subjects, event, tmp_path / "reference"
    )
    lowest = changed_first.config.matrix.levels[0]
    projects = set(changed_first.config.connections.jira.projects)
    expected = issue_ended(in_projects(changed_first.snapshot(), projects), lowest)

    world = World(*world_sandbox, tmp_path / "live", extra_config=event.config)
    if event.setup is not None:
        event.setup(world, subjects)
    converge(world)
    assert subjects.issue in world.snapshot()["jira"]
    event.cause(world, subjects)
    converge(world)
    found = issue_ended(in_projects(world.snapshot(), projects), lowest)
    differences = snapshot_differences(expected, found)
    assert not differences, "\n".join(differences)
    assert duplicate_notes(world) == {}
    assert duplicate_escalation_records(world) == []


def test_a_moved_issue_keeps_its_state_under_its_id_and_is_not_written_or_stored_twice(
    world_sandbox, subjects: Subjects, tmp_path: Path
):
    world = World(*world_sandbox, tmp_path)
    converge(world)
    new_key = world.sandbox.jira.move_issue(subjects.issue, other_project(subjects.issue))
    already = len(world.sandbox.jira.traffic.writes)
    world.settle()
    result = world.run()
    assert result.exit_code == 0, result.summary()
    # Written by id, never by a key, old or new.
    paths = [w.path for w in world.sandbox.jira.traffic.writes[already:]]
    assert not [p for p in paths if subjects.issue in p or new_key in p]
    store = world.store()
    try:
        issues = [t for t in store.tickets() if t.system == "jira" and t.id == subjects.issue_id]
        written = store.written()
    finally:
        store.close()
    assert [t.key for t in issues] == [new_key]
    assert ("jira", subjects.issue_id) in written
    assert not [rid for system, rid in written if system == "jira" and not rid.isdigit()]


def test_jira_answers_a_moved_issues_old_key_with_the_issue_under_its_new_key(world):
    key = sorted(world.sandbox.jira.store.issues)[0]
    issue_id = str(world.sandbox.jira.get_issue(key)["id"])
    new_key = world.sandbox.jira.move_issue(key, other_project(key))
    jira = build_connectors(world.config, RetryPolicy())["jira"]
    try:
        [by_old_key] = jira.read_by_id("issue", [key])
        [by_id] = jira.read_by_id("issue", [issue_id])
        world.sandbox.jira.delete_issue(new_key)
        assert jira.read_by_id("issue", [issue_id, key, new_key]) == []
    finally:
        jira.close()
    assert (by_old_key.id, by_old_key.data["key"]) == (issue_id, new_key)
    assert by_id.data["key"] == new_key
    moves = [
        (item["field"], item["fromString"], item["toString"])
        for history in by_id.data["changelog"]["histories"]
        for item in history["items"]
    ]
    assert ("Key", key, new_key) in moves


def test_a_deleted_issue_is_found_by_the_reconciliation_and_never_written_again(
    world_sandbox, subjects: Subjects, tmp_path: Path
):
    world = World(*world_sandbox, tmp_path, extra_config=RECONCILE_EVERY_RUN)
    converge(world)
    world.sandbox.jira.delete_issue(subjects.issue)
    already = len(world.sandbox.jira.traffic.writes)
    world.settle()
    result = world.run()
    reconciled = result.summary()["reconciled"]
    assert reconciled["gone"] == 1 and reconciled["requests"] >= 1
    assert reconciled["mirror_checked"]["jira"] >= 1
    assert result.apply.rejected == [], result.summary()
    store = world.store()
    try:
        assert store.audit_entries(f"jira:{subjects.issue_id}", "left_mirror")
    finally:
        store.close()
    converge(world)
    writes = world.sandbox.jira.traffic.writes[already:]
    edits = [w for w in writes if subjects.issue_id in w.path or subjects.issue in w.path]
    assert edits == []


def test_a_level_a_person_set_on_an_issue_stays_theirs_after_the_issue_moves(
    world_sandbox, tmp_path: Path
):
    world = World(*world_sandbox, tmp_path)
    converge(world)
    jira = world.sandbox.jira
    key = next(
        k
        for k in sorted(jira.store.rows)
        if "escalation-advisory" in jira.get_issue(k)["fields"]["labels"]
    )
    issue_id = str(jira.get_issue(key)["id"])
    jira.human_edit(key, fields={LEVEL: {"value": "executive-review"}})
    world.settle()
    found = world.run()
    assert (f"jira:{issue_id}", "level", "executive-review") in found.overrides_found
    converge(world)
    new_key = jira.move_issue(key, other_project(key))
    converge(world)
    fields = jira.get_issue(new_key)["fields"]
    assert fields[LEVEL]["value"] == "executive-review"
    labels = [label for label in fields["labels"] if label.startswith("escalation-")]
    assert labels == ["escalation-executive-review"]
    store = world.store()
    try:
        assert ("jira", issue_id, "level") in store.overrides()
    finally:
        store.close()
