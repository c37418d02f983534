"""Planning is pure: every read it depends on (comments to look for our note, escalation
records to read back, records to read again) happens in the stage before it
(sync/readback.py). Checked at the transport: no request leaves while targets are planned."""

from __future__ import annotations

import pytest

from connectors.base import Option
from connectors.transport import PolicyAdapter
from sandbox.faults import Fault
from sync.run import SyncRun
from tests.fault_helpers import FakeSleep, fast_policy
from tests.sync_world import World

pytestmark = pytest.mark.integration


def test_after_an_unknown_outcome_tickets_and_notes_are_read_before_planning_not_during(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    planning = False
    requests: list[tuple[str, bool]] = []
    send, plan_targets = PolicyAdapter.send, SyncRun._plan_targets

    def spy_send(self, request, *args, **kwargs):
        requests.append((f"{request.method} {request.path_url.split('?')[0]}", planning))
        return send(self, request, *args, **kwargs)

    def spy_plan(self, *args, **kwargs):
        nonlocal planning
        planning = True
        try:
            return plan_targets(self, *args, **kwargs)
        finally:
            planning = False

    # The first run's update_many gets no answer: its tickets and notes have unknown outcomes.
    world.sandbox.zendesk.faults.add(Fault("update_many", "reset"))
    first = world.run(policy=fast_policy(FakeSleep()))
    assert first.apply.retry, first.summary()
    world.settle()
    monkeypatch.setattr(PolicyAdapter, "send", spy_send)
    monkeypatch.setattr(SyncRun, "_plan_targets", spy_plan)
    world.run()
    paths = [path for path, _ in requests]
    assert any(p.endswith("/comments.json") for p in paths), "notes are looked for"
    assert any(p.endswith("/tickets/show_many.json") for p in paths), "tickets are read again"
    assert [path for path, during in requests if during] == []


def test_a_dropdown_value_is_an_option_each_connector_shapes(world: World):
    """sync/ hands a dropdown's option over as an Option; Jira's {"value": ...} is the Jira
    connector's to make, so the written issue holds the option."""
    result = world.run()
    jira = [p for p in result.writes if p.target.system == "jira" and p.write.fields]
    dropdowns = {
        p.target.writes[name].field
        for p in jira
        for name, write in p.target.writes.items()
        if write.format == "dropdown"
    }
    assert dropdowns, "the world writes a Jira select list"
    sent = [v for p in jira for f, v in p.write.fields.items() if f in dropdowns]
    assert sent and all(isinstance(v, Option) for v in sent if v is not None)
    key = jira[0].write.record_id
    issue = world.sandbox.jira.get_issue(key)
    field = next(f for f in dropdowns if f in jira[0].write.fields)
    assert issue["fields"][field]["value"] == str(jira[0].write.fields[field])
