"""What `sync` logs at each verbosity, in text and JSON, and the summary in JSON mode.

Default: our own info lines, one per step (stderr), and the summary (stdout); JSON logs also a
line per decision that changed (what log shippers alert on). -v: that line in text logs too.
-vv: also the client libraries' debug. Customer payloads
(ticket subjects and descriptions) never appear at info level or above.
"""

from __future__ import annotations

import json
import re

import pytest

import run_sync
from tests.sync_world import World

pytestmark = pytest.mark.integration

WORLD_SIZES = {"tickets": 120, "accounts": 20, "jira_issues": 15}
DECISIONS_LOGGER = "escalation_sync.decisions"
TEXT_LINE = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR) (\S+): (.*)$")
STEPS = ("pulled zendesk.tickets", "pulled jira.issues", "pulled salesforce.accounts",
         "evaluated ", "planned ", "wrote ")  # fmt: skip


def sync(world: World, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[str, str]:
    argv = ["sync", "--config", str(world.config_path), "--now", world.now.isoformat(), *options]
    assert run_sync.main(argv) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def log_records(err: str, log_format: str) -> list[tuple[str, str, str]]:
    """(level, logger, message) of each stderr line; fails on a line of neither format."""
    records = []
    for line in err.splitlines():
        if log_format == "json":
            record = json.loads(line)
            records.append((record["level"], record["logger"], record["message"]))
        else:
            match = TEXT_LINE.match(line)
            assert match, f"not a log line: {line!r}"
            records.append((match[1].lower(), match[2], match[3]))
    return records


def changed_levels(world: World) -> dict[str, str]:
    """ticket ref -> level, for every decision this run audited as changed."""
    store = world.store()
    try:
        return {e["ref"]: e["detail"]["level"] for e in store.audit_entries(kind="decision")}
    finally:
        store.close()


def customer_texts(world: World) -> list[str]:
    """Subjects and descriptions of the sandbox's tickets: what must never reach info logs."""
    texts = []
    for ticket in world.sandbox.zendesk.store.tickets.values():
        texts += [ticket.get("subject") or "", ticket.get("description") or ""]
    return [t for t in texts if len(t) >= 20]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_default_run_logs_one_info_line_of_our_own_per_step(
    world: World, capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    out, err = sync(world, capsys, "--log-format", log_format)
    records = log_records(err, log_format)
    assert {level for level, _, _ in records} == {"info"}
    assert all(logger.startswith("escalation_sync.") for _, logger, _ in records)
    # JSON logs carry one line per decision that changed (what log shippers alert on, tested
    # in test_metrics_file.py); text logs keep those for -v.
    steps = [r for r in records if r[1] != DECISIONS_LOGGER]
    messages = [message for _, _, message in steps]
    for step in STEPS:
        assert any(m.startswith(step) for m in messages), (step, messages)
    assert len(steps) <= 12  # a few lines per run: cron appends them to a file
    if log_format == "text":
        assert len(steps) == len(records)
        assert not any(ref in err for ref in changed_levels(world))  # no line per decision
    assert len(out.splitlines()) == 1


def test_json_mode_prints_the_summary_as_one_json_object(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = sync(world, capsys, "--log-format", "json")
    lines = out.splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["status"] == "ok" and summary["exit_code"] == 0
    assert summary["dry_run"] is False and isinstance(summary["run_id"], int)
    assert summary["message"].startswith("escalation-sync: ok;")
    assert summary["evaluated"] > 0 and summary["results"]
    assert summary["rejected_records"] == []


def test_json_mode_summary_of_a_dry_run_carries_the_plan(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = sync(world, capsys, "--log-format", "json", "--dry-run")
    summary = json.loads(out)
    assert summary["dry_run"] is True and "would write" in summary["message"]
    assert summary["plan"], "a first dry run plans writes"
    first = summary["plan"][0]
    assert {"ref", "system", "level", "why", "fields"} <= set(first)
    assert all({"old", "new"} == set(change) for change in first["fields"].values())
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_verbose_adds_a_line_per_changed_decision_and_no_library_debug(
    world: World, capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    _, err = sync(world, capsys, "--log-format", log_format, "-v")
    records = log_records(err, log_format)
    assert all(logger.startswith("escalation_sync.") for _, logger, _ in records)
    decisions = [m for _, logger, m in records if logger == DECISIONS_LOGGER]
    changed = changed_levels(world)
    assert changed and len(decisions) == len(changed)
    for ref, level in changed.items():
        line = next(m for m in decisions if m.startswith(f"{ref} level "))
        assert line.split("; ")[0].endswith(f" -> {level}")
        assert "owner " in line and "why: " in line


def test_very_verbose_adds_the_client_libraries_debug(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = sync(world, capsys, "--log-format", "json", "-vv")
    loggers = {logger.split(".")[0] for _, logger, _ in log_records(err, "json")}
    assert {"escalation_sync", "urllib3"} <= loggers


@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vv"]])
def test_customer_payloads_never_appear_at_info_level(
    world: World, capsys: pytest.CaptureFixture[str], verbosity: list[str]
) -> None:
    texts = customer_texts(world)
    assert texts
    _, err = sync(world, capsys, "--log-format", "json", *verbosity)
    above_debug = "\n".join(
        message for level, _, message in log_records(err, "json") if level != "debug"
    )
    assert [t for t in texts if t in above_debug] == []
    if not verbosity or verbosity == ["-v"]:
        assert [t for t in texts if t in err] == []
