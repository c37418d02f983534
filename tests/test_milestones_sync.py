"""SLA milestones through the sync: the stored changes reach the engine, the linked Jira
issue's through its link; the example matrix's commented milestones are a valid config."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme
import yaml

from config.loader import load_config
from config.matrix import MatrixConfig
from config.schema import Config
from escalation.compiled import compile_matrix
from escalation.decision import SlaState
from mapping.records import Account, Ticket, TicketStatus
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config
from sync.evaluate import evaluate_mirror
from sync.state import StateStore
from sync.ticket_changes import Change, milestone_changes, store_changes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "config" / "example" / "matrix.yaml").read_text(encoding="utf-8")
NOW = datetime(2026, 3, 4, 15, tzinfo=UTC)  # a Wednesday


def _with_milestones(text: str) -> str:
    """The example matrix with its commented milestones block switched on and a target."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "(example-milestones)" in line) + 1
    end = start
    while lines[end].lstrip().startswith("#"):
        lines[end] = lines[end].replace("# ", "", 1)
        end += 1
    text = "\n".join(lines)
    return re.sub(
        r"(tier: strategic,  acknowledge: 30m, next_update: 4h,  resolve: 2d)",
        r"\1, milestones: {diagnosis: 1d, interim_fix: 3d}",
        text,
    )


def test_the_example_milestones_are_a_valid_matrix() -> None:
    raw = yaml.safe_load(_with_milestones(EXAMPLE))["matrix"]
    matrix = MatrixConfig.model_validate(raw)
    assert [m.name for m in matrix.sla.milestones] == ["diagnosis", "interim_fix"]
    assert matrix.sla.targets[0].milestones == {"diagnosis": "1d", "interim_fix": "3d"}


def _config(tmp_path: Path, monkeypatch) -> Config:  # noqa: ANN001
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    urls = {name: "https://127.0.0.1:1" for name in ("zendesk", "jira", "salesforce")}
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(_with_milestones(EXAMPLE), encoding="utf-8")
    return load_config(write_sandbox_config(tmp_path / "cfg", urls, ca, matrix=matrix))


def test_the_linked_issue_in_progress_meets_diagnosis(tmp_path, monkeypatch) -> None:
    config = _config(tmp_path, monkeypatch)
    created = NOW - timedelta(hours=30)
    account = Account("001A", "Alpha", tier="strategic")
    ticket = Ticket(
        "zendesk", "1", "a", TicketStatus.OPEN, created, created, join_keys={"account_id": "001A"}
    )
    ticket = replace(ticket, linked=("jira:ENG-1",))
    issue = Ticket("jira", "1001", "b", TicketStatus.OPEN, created, created, key="ENG-1")
    reached = created + timedelta(hours=2)
    store = StateStore(tmp_path / "state.sqlite")
    try:
        store_changes(
            store.db, [Change("jira:1001", "1.0", "status", reached, "In Progress", "To Do")]
        )
        changes = milestone_changes(store.db, config.matrix.sla.milestones)
        assert milestone_changes(store.db, ()) is None  # no milestones: nothing read
    finally:
        store.close()
    compiled = compile_matrix(config.matrix)
    evaluation = evaluate_mirror(config, compiled, [ticket, issue], [account], {}, NOW, changes)
    decision = next(d for d in evaluation.decisions if d.ticket_ref == "zendesk:1")
    assert decision.sla["diagnosis"].met_at == reached
    assert decision.sla["diagnosis"].state is SlaState.OK
    assert decision.sla["interim_fix"].met_at is None
    without = evaluate_mirror(config, compiled, [ticket, issue], [account], {}, NOW)
    assert (
        next(d for d in without.decisions if d.ticket_ref == "zendesk:1").sla["diagnosis"].met_at
        is None
    )


def _loader_problems(tmp_path: Path, main: str, matrix: str) -> dict[str, tuple[str, int]]:
    from tests.test_config_loader import problems, write

    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=matrix))
    return {p.key_path: (p.file, p.line) for p in found}


def test_retention_and_milestone_mistakes_name_file_key_and_line(tmp_path: Path) -> None:
    from tests.test_config_loader import MAIN, MATRIX

    main = MAIN + "  changes_days: 0\n"
    matrix = MATRIX.replace(
        "  sla:\n    targets:\n      - {acknowledge: 4h, next_update: 1d, resolve: 5d}\n",
        "  sla:\n"
        "    milestones:\n"
        "      - {name: diagnosis, met_when: [{tag_added: diagnosed}]}\n"
        "    targets:\n"
        "      - {acknowledge: 4h, resolve: 5d, milestones: {diagnosys: 1d}}\n",
    )
    found = _loader_problems(tmp_path, main, matrix)
    assert found["state.changes_days"] == (str(tmp_path / "main.yaml"), 12)
    assert found["matrix.sla.targets[0].milestones"] == (
        str(tmp_path / "matrix.yaml"),
        12,
    )  # the row's line


def test_replay_sees_the_milestone_reached_at_its_time(tmp_path, monkeypatch) -> None:
    from rehearse.past import load_past
    from rehearse.replay import replay

    config = _config(tmp_path, monkeypatch)
    created = NOW - timedelta(hours=30)
    ticket = Ticket(
        "zendesk", "1", "a", TicketStatus.OPEN, created, created,
        join_keys={"account_id": "001A"}, linked=("jira:ENG-1",),
    )  # fmt: skip
    issue = Ticket(
        "jira", "1001", "b", TicketStatus.OPEN, created, created, key="ENG-1", severity=3
    )
    reached = created + timedelta(hours=2)
    store = StateStore(config.state.path)
    try:
        store.upsert_tickets([ticket, issue])
        store.upsert_accounts([Account("001A", "Alpha", tier="strategic")])
        store_changes(
            store.db, [Change("jira:1001", "1.0", "status", reached, "In Progress", None)]
        )
        past = load_past(store, config, with_changes=True)
        plain = load_past(store, config)
    finally:
        store.close()
    moments = [
        (created + timedelta(hours=1)).timestamp(),
        (reached + timedelta(hours=1)).timestamp(),
    ]
    compiled = compile_matrix(config.matrix)
    steps = replay(compiled, past.tickets, past.accounts, past.account_created, moments).steps
    before, after = steps["zendesk:1"]
    assert ("diagnosis", "ok") in before.states
    assert "diagnosis" not in dict(after.states)  # met: no longer a running clock
    assert reached.timestamp() in past.tickets["zendesk:1"].points
    assert reached.timestamp() not in plain.tickets["zendesk:1"].points  # no milestones: as before
