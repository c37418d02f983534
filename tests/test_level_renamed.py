"""Renaming a level (renamed_from) moves fields and tags silently: no note, no escalation.

The real clients against the sandbox on 127.0.0.1: sync, rename action-needed to urgent in the
matrix and the mapping's option keys (the vendors' option values stay), sync again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.loader import load_config
from tests.sync_world import World

pytestmark = pytest.mark.integration

OLD, NEW = "action-needed", "urgent"


def rename_level(world: World) -> None:
    folder = world.config_path.parent
    matrix = (folder / "matrix.yaml").read_text(encoding="utf-8").replace(OLD, NEW)
    levels = "levels: [none, informational, advisory, urgent, executive-review]"
    assert levels in matrix
    matrix = matrix.replace(
        levels,
        "levels:\n    - none\n    - informational\n    - advisory\n"
        f"    - name: {NEW}\n      renamed_from: {OLD}\n    - executive-review",
    )
    (folder / "matrix.yaml").write_text(matrix, encoding="utf-8")
    mapping = (folder / "mapping.yaml").read_text(encoding="utf-8")
    mapping = mapping.replace(f"{OLD}:", f"{NEW}:").replace(
        f"min_level: {OLD}", f"min_level: {NEW}"
    )
    # Salesforce's Level__c is a restricted picklist: the admin keeps its value.
    levels_text = "{none: none, informational: informational, advisory: advisory, "
    mapping = mapping.replace(
        "level: Level__c",
        "level: {field: Level__c, options: " + levels_text + f"{NEW}: {OLD}, "
        "executive-review: executive-review}}",
    )
    (folder / "mapping.yaml").write_text(mapping, encoding="utf-8")
    world.config = load_config(world.config_path)


def test_renaming_a_level_moves_tags_and_fields_without_a_note_or_an_escalation(world: World):
    first = world.run()
    before = {d.ticket_ref: d.level for d in first.evaluation.decisions}
    renamed = sorted(ref for ref, level in before.items() if level == OLD)
    assert renamed, "the world must hold tickets at the renamed level"
    world.settle()
    notes_before = {t: n for t, (_, _, n) in world.snapshot()["zendesk"].items()}

    rename_level(world)
    second = world.run(now=world.now + timedelta(minutes=2))

    assert second.exit_code == 0, second.apply.rejected[:3]
    after = {d.ticket_ref: d.level for d in second.evaluation.decisions}
    assert after == {ref: NEW if level == OLD else level for ref, level in before.items()}
    snapshot = world.snapshot()
    assert {t: n for t, (_, _, n) in snapshot["zendesk"].items()} == notes_before, "no note"
    zendesk_renamed = [ref.split(":")[1] for ref in renamed if ref.startswith("zendesk:")]
    for ticket_id in zendesk_renamed:
        _, tags, _ = snapshot["zendesk"][int(ticket_id)]
        assert tags == [f"escalation_{NEW}"], (ticket_id, tags)
    labels = {label for _, issue_labels in snapshot["jira"].values() for label in issue_labels}
    assert f"escalation-{NEW}" in labels and f"escalation-{OLD}" not in labels

    store = world.store()
    try:
        run_id = second.run_id
        entries = [e for e in store.audit_entries() if e["run_id"] == run_id]
    finally:
        store.close()
    assert not [e for e in entries if e["kind"] == "decision"], "a rename is no escalation"
    assert sorted(e["ref"] for e in entries if e["kind"] == "renamed") == renamed
    assert all(e["detail"] == {"from": OLD, "to": NEW} for e in entries if e["kind"] == "renamed")
    assert not [e for e in entries if e["kind"] == "write" and e["detail"]["note"]]
