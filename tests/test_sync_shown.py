"""Pure: a ticket without a stored engine state starts from what it shows (sync/shown.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from config.loader import load_config
from escalation.compiled import compile_matrix
from escalation.decision import ReasonKind
from escalation.engine import evaluate
from escalation.facts import Facts
from mapping.records import Ticket, TicketStatus
from sandbox import catalogue
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config
from sync.shown import noted_level, prior_from_shown, shown_level, timer_steps
from sync.wanted import field_reason

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday afternoon


@pytest.fixture
def config(tmp_path, monkeypatch):
    """The sandbox config, with timed escalation allowed all the way up (two steps)."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    urls = {name: "https://127.0.0.1:1" for name in ("zendesk", "jira", "salesforce")}
    loaded = load_config(write_sandbox_config(tmp_path / "cfg", urls, ca))
    timed = loaded.matrix.timed_escalation.model_copy(update={"max_level": "executive-review"})
    return loaded.model_copy(
        update={"matrix": loaded.matrix.model_copy(update={"timed_escalation": timed})}
    )


def unacknowledged() -> Ticket:
    created = NOW - timedelta(days=3)
    return Ticket(
        "zendesk", "41", "nobody answered", TicketStatus.NEW, created, created, severity=3
    )


def as_written(ticket: Ticket, decision, at: datetime) -> Ticket:
    """The ticket as our write of `decision` left it: level option, reason, tag, updated_at."""
    return replace(
        ticket,
        updated_at=at,
        managed_fields={
            "level": catalogue.ZD_LEVEL_TAGS[decision.level],
            "reason": field_reason(decision),
        },
        tags=(f"escalation_{decision.level}",),
    )


def test_a_timed_step_the_ticket_shows_is_not_taken_again_without_a_state(config):
    matrix = compile_matrix(config.matrix)
    ticket = unacknowledged()
    first = evaluate(ticket, None, None, NOW, matrix)
    assert first.level == "action-needed" and first.state.timed_steps == 1, first.reasons
    shown = as_written(ticket, first, NOW)
    later = NOW + timedelta(minutes=40)

    normal = evaluate(shown, None, Facts(prior=first.state), later, matrix)
    prior = prior_from_shown(shown, config, later)
    assert prior is not None and (prior.level, prior.timed_steps) == ("action-needed", 1)
    lost = evaluate(shown, None, Facts(prior=prior), later, matrix)

    assert lost.level == normal.level == "action-needed"
    assert ReasonKind.TIMED not in {r.kind for r in lost.reasons}, "no 'Moved up' again"
    assert field_reason(lost) == field_reason(normal) == field_reason(first)
    # Without a prior, the step to action-needed is announced all over again.
    fresh = evaluate(shown, None, None, later, matrix)
    assert ReasonKind.TIMED in {r.kind for r in fresh.reasons}


def test_the_level_shown_comes_from_our_field_else_our_tag(config):
    ticket = unacknowledged()
    assert shown_level(ticket, config) is None
    field = replace(ticket, managed_fields={"level": "esc_level_advisory"})
    assert shown_level(field, config) == "advisory"
    tagged = replace(ticket, tags=("escalation_action-needed", "vip"))
    assert shown_level(tagged, config) == "action-needed"
    assert noted_level("zendesk:41", "zendesk:41>hot", {"hot": "urgent"}) == "urgent"
    assert noted_level("zendesk:41", "advisory@2026-11-18T15:00:00+00:00", {}) == "advisory"


def test_a_level_whose_name_is_not_a_tag_is_recognised_by_its_slugged_tag(config):
    """Tags carry the slug of a level's name ("war room: CEO" -> war_room_ceo), so the level a
    ticket shows after a lost state file is found by the same slug, old names included."""
    levels = [
        *config.matrix.level_entries[:-1],
        config.matrix.level_entries[-1].model_copy(
            update={"name": "war room: CEO", "renamed_from": ("executive-review",)}
        ),
    ]
    renamed = config.model_copy(
        update={"matrix": config.matrix.model_copy(update={"level_entries": levels})}
    )
    ticket = unacknowledged()
    assert shown_level(replace(ticket, tags=("escalation_war_room_ceo",)), renamed) == (
        "war room: CEO"
    )
    old_tag = replace(ticket, tags=("escalation_executive-review",))
    assert shown_level(old_tag, renamed) == "war room: CEO"


def test_the_timer_steps_are_read_back_from_the_reason_field():
    assert timer_steps("Escalated by the SLA timer (2 steps); Open for long") == 2
    assert timer_steps("Kept at advisory: levels do not fall while the ticket is open") == 0
    assert timer_steps(None) == 0
