"""SLA clocks run only for the systems the matrix names (sla.systems)."""

from datetime import UTC, datetime, timedelta

import yaml

from config.matrix import MatrixConfig
from escalation.engine import evaluate
from mapping.records import Ticket, TicketStatus
from tests.conftest import REPO_ROOT

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def matrix(systems: list[str] | None) -> MatrixConfig:
    data = yaml.safe_load((REPO_ROOT / "config/example/matrix.yaml").read_text())["matrix"]
    if systems is None:
        data["sla"].pop("systems", None)
    else:
        data["sla"]["systems"] = systems
    return MatrixConfig.model_validate(data)


def ticket(system: str) -> Ticket:
    created = NOW - timedelta(days=5)
    return Ticket(
        system,
        "1",
        "stuck",
        TicketStatus.OPEN,
        created,
        created,
        key="ENG-1" if system == "jira" else None,
    )


def test_jira_issues_run_no_sla_clock_when_only_zendesk_is_named():
    only_zendesk = matrix(["zendesk"])
    assert evaluate(ticket("jira"), None, None, NOW, only_zendesk).sla == {}
    zendesk = evaluate(ticket("zendesk"), None, None, NOW, only_zendesk)
    assert zendesk.sla and zendesk.sla["acknowledge"].state.value == "breached"


def test_by_default_both_ticket_systems_run_sla_clocks():
    both = matrix(None)
    assert (
        evaluate(ticket("jira"), None, None, NOW, both).sla["acknowledge"].state.value == "breached"
    )


def test_an_unnamed_system_is_not_escalated_by_the_timer():
    decision = evaluate(ticket("jira"), None, None, NOW, matrix(["zendesk"]))
    assert all(reason.kind.value != "timed_escalation" for reason in decision.reasons)
