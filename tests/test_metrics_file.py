"""`sync --metrics-file PATH`: Prometheus text for node_exporter's textfile collector, parsed
with prometheus_client's own parser; and the JSON log line per decision that changed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

import run_sync
from tests.sync_world import World, distrust

pytestmark = pytest.mark.integration

WORLD_SIZES = {"tickets": 120, "accounts": 20, "jira_issues": 15}


def _sync(world: World, *extra: str, before: tuple[str, ...] = ()) -> int:
    return run_sync.main(
        [*before, "sync", "--config", str(world.config_path), "--now", world.now.isoformat()]
        + list(extra)
    )


def _samples(path) -> dict[tuple[str, tuple], float]:
    families = text_string_to_metric_families(path.read_text(encoding="utf-8"))
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


def test_metrics_file_holds_run_health_per_system_and_tickets_per_level(world, tmp_path, capsys):
    path = tmp_path / "textfile" / "escalation_sync.prom"
    assert _sync(world, "--metrics-file", str(path)) == 0
    samples = _samples(path)
    assert all(name.startswith("escalation_sync_") for name, _ in samples)
    assert samples[("escalation_sync_last_run_exit_code", ())] == 0
    assert samples[("escalation_sync_last_success_timestamp_seconds", ())] == pytest.approx(
        world.now.timestamp()
    )
    assert samples[("escalation_sync_run_duration_seconds", ())] > 0
    for system in ("zendesk", "jira", "salesforce"):
        assert samples[("escalation_sync_requests", (("system", system),))] > 0
        assert ("escalation_sync_throttled_responses", (("system", system),)) in samples
        assert ("escalation_sync_retries", (("system", system),)) in samples
    written = {
        system: samples[("escalation_sync_writes", (("result", "ok"), ("system", system)))]
        for system in ("zendesk", "jira", "salesforce")
    }
    assert ("escalation_sync_writes", (("result", "rejected"), ("system", "jira"))) in samples
    open_tickets = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "escalation_sync_open_tickets"
    }
    store = world.store()
    try:
        levels = store.runs()[-1]["summary"]["levels"]
        unmatched = store.runs()[-1]["summary"]["unmatched"]
        results = store.runs()[-1]["summary"]["results"]
    finally:
        store.close()
    assert written == {s: float(results.get(f"{s}:ok", 0)) for s in written}
    assert sum(written.values()) > 0
    per_level: dict[str, float] = {}
    for labels, value in open_tickets.items():
        per_level[dict(labels)["level"]] = per_level.get(dict(labels)["level"], 0) + value
    assert per_level == {level: float(n) for level, n in levels.items()}
    assert {dict(labels)["tier"] for labels in open_tickets} >= {"unknown"}
    assert samples[("escalation_sync_unmatched_tickets", ())] == unmatched
    for metric in ("acknowledge", "next_update", "resolve"):
        assert ("escalation_sync_breached_tickets", (("metric", metric),)) in samples
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left


def test_a_failed_run_keeps_the_last_success_time(world, tmp_path):
    path = tmp_path / "escalation_sync.prom"
    assert _sync(world, "--metrics-file", str(path)) == 0
    first_success = world.now
    world.now = world.now + timedelta(minutes=10)
    distrust(world.config_path, "salesforce")  # the run goes on without it and exits 3
    assert _sync(world, "--metrics-file", str(path)) == 3
    samples = _samples(path)
    assert samples[("escalation_sync_last_run_exit_code", ())] == 3
    assert samples[("escalation_sync_last_run_timestamp_seconds", ())] == world.now.timestamp()
    assert samples[("escalation_sync_last_success_timestamp_seconds", ())] == (
        first_success.timestamp()
    )


def test_json_logs_have_one_info_line_per_decision_that_changed(world, capsys):
    assert _sync(world, before=("--log-format", "json")) == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    decisions = [line for line in lines if "decision" in line]
    store = world.store()
    try:
        changed = store.audit_entries(kind="decision")
    finally:
        store.close()
    assert len(decisions) == len(changed) > 0
    first = decisions[0]
    assert first["level"] == "info" and first["logger"] == "escalation_sync.decisions"
    assert set(first["decision"]) == {"ticket", "old_level", "new_level", "reasons", "owner"}
    assert first["decision"]["old_level"] is None and first["decision"]["new_level"]


def test_each_sla_milestone_is_counted_beside_the_built_in_metrics(world, tmp_path):
    from tests.test_milestones_sync import _with_milestones

    matrix = world.config_path.parent / "matrix.yaml"
    matrix.write_text(_with_milestones(matrix.read_text(encoding="utf-8")), encoding="utf-8")
    path = tmp_path / "escalation_sync.prom"
    assert _sync(world, "--metrics-file", str(path)) == 0
    breached = {
        dict(labels)["metric"]
        for name, labels in _samples(path)
        if name == "escalation_sync_breached_tickets"
    }
    assert breached == {"acknowledge", "next_update", "resolve", "diagnosis", "interim_fix"}
