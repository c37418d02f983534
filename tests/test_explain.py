"""`explain` as a person reads it: what we write to a record and where each value comes from,
"not set" for missing values, no empty sections. The real sync against the sandbox first."""

from __future__ import annotations

import pytest

import run_sync
from mapping.records import Ticket
from sync.run import RunResult
from tests.sync_world import World

pytestmark = pytest.mark.integration

RANK = {"none": 0, "informational": 1, "advisory": 2, "action-needed": 3, "executive-review": 4}


def explain(world: World, ref: str, capsys) -> str:
    capsys.readouterr()
    args = ["explain", "--config", str(world.config_path), "--now", world.now.isoformat(), ref]
    assert run_sync.main(args) == 0
    return capsys.readouterr().out


def calm_issue_with_a_hotter_ticket(first: RunResult) -> tuple[Ticket, str]:
    """A Jira issue whose own level is below that of a linked customer ticket with an account."""
    evaluation = first.evaluation
    assert evaluation is not None
    tickets = {t.ref: t for t in evaluation.tickets}
    levels = {d.ticket_ref: d.level for d in evaluation.decisions}
    for issue in (t for t in evaluation.tickets if t.system == "jira" and t.ref in levels):
        linked = [r for r in issue.linked if r in levels and tickets[r].account_id]
        if linked:
            top = max(linked, key=lambda r: RANK[levels[r]])
            if RANK[levels[top]] > RANK[levels[issue.ref]]:
                return issue, top
    raise AssertionError("the generated world has no such issue")


def test_explain_of_a_jira_issue_shows_the_values_written_and_the_tickets_they_come_from(
    world: World, capsys
):
    first = world.run()
    issue, ticket_ref = calm_issue_with_a_hotter_ticket(first)
    decisions = {d.ticket_ref: d for d in first.evaluation.decisions}
    account = first.evaluation.accounts[
        next(t for t in first.evaluation.tickets if t.ref == ticket_ref).account_id
    ]
    level = decisions[ticket_ref].level

    out = explain(world, f"jira:{issue.key}", capsys)

    assert f"its own level {decisions[issue.ref].level}" in out
    assert f"written to {issue.key}" in out
    assert f"    level: {level} (from {ticket_ref})" in out
    assert f"    customer_tier: {account.tier} (account {account.id} of {ticket_ref})" in out
    assert f"    label: escalation-{level} (from {ticket_ref})" in out
    # The history shows our write to the issue (audited under its id: a move keeps it).
    assert f"write: jira:{issue.id} ok:" in out


def test_explain_prints_not_set_for_missing_values_and_no_empty_sla_header(world: World, capsys):
    first = world.run()
    issue, _ = calm_issue_with_a_hotter_ticket(first)

    out = explain(world, f"jira:{issue.key}", capsys)

    # sla.systems runs clocks for Zendesk only: no SLA header without lines under it.
    assert "SLA (business time" not in out
    assert "SLA: no clocks for jira (sla.systems runs them for zendesk)" in out
    assert "None" not in out
    without_severity = next(
        t for t in first.evaluation.tickets if t.system == "zendesk" and t.severity is None
    )
    out = explain(world, without_severity.ref, capsys)
    assert "severity not set" in out and "None" not in out
    assert "SLA (business time of the ticket's calendar):\n    " in out
