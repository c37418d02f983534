"""Pure: which values each record should hold, from decisions (sync/wanted.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
import trustme

from config.loader import load_config
from escalation.engine import evaluate
from mapping.records import Account, Ticket, TicketStatus
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config
from sync.wanted import TargetBuilder

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path, monkeypatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    urls = {name: "https://127.0.0.1:1" for name in ("zendesk", "jira", "salesforce")}
    return load_config(write_sandbox_config(tmp_path / "cfg", urls, ca))


def test_jira_issue_carries_its_customers_level_and_account_on_a_tie(config):
    strategic = Account(
        "001A", "Big Co", tier="strategic", renewal_date=date(2027, 1, 31), arr=900000.0
    )
    created = NOW - timedelta(hours=3)
    customer = Ticket(
        "zendesk",
        "7",
        "login fails",
        TicketStatus.OPEN,
        created,
        created,
        severity=2,
        category="defect",
        account_id="001A",
    )
    issue = Ticket(
        "jira",
        "10001",
        "login bug",
        TicketStatus.OPEN,
        created,
        created,
        key="ENG-1",
        severity=2,
        category="defect",
        linked=("zendesk:7",),
    )
    matrix = config.matrix
    decisions = [
        evaluate(customer, strategic, None, NOW, matrix),
        evaluate(issue, None, None, NOW, matrix),
    ]
    builder = TargetBuilder(config, [customer, issue], [strategic], decisions, set(), {})
    [target] = builder.jira_targets()
    assert target.record_id == "10001"  # written by id: a move changes the key, not the id
    assert target.level == max((d.level for d in decisions), key=matrix.levels.index)
    assert target.values["customer_tier"] == "strategic"
    assert target.values["renewal_date"] == "2027-01-31"
    assert target.values["arr"] == 900000.0


def test_tickets_at_the_lowest_level_never_written_get_no_target(config):
    created = NOW - timedelta(minutes=5)
    quiet = Ticket(
        "zendesk",
        "8",
        "question",
        TicketStatus.OPEN,
        created,
        created,
        severity=4,
        category="question",
    )
    decision = evaluate(quiet, None, None, NOW, config.matrix)
    assert decision.level == config.matrix.levels[0]
    assert TargetBuilder(config, [quiet], [], [decision], set(), {}).zendesk_targets() == []
    known = TargetBuilder(config, [quiet], [], [decision], {("zendesk", "8")}, {}).zendesk_targets()
    assert [t.record_id for t in known] == ["8"], "a ticket we wrote to before is brought back down"


def test_on_an_exact_tie_the_customer_account_is_used(config):
    created = NOW - timedelta(hours=3)
    plain = Account("001B", "Small Co", tier="standard")
    # Both carry the "vip" tag, and nothing else fires: the same level for both.
    customer_vip = Ticket(
        "zendesk",
        "9",
        "typo",
        TicketStatus.OPEN,
        created,
        created,
        severity=4,
        category="question",
        account_id="001B",
        tags=("vip",),
    )
    issue = Ticket(
        "jira",
        "10002",
        "typo",
        TicketStatus.OPEN,
        created,
        created,
        key="ENG-2",
        severity=4,
        category="question",
        linked=("zendesk:9",),
        tags=("vip",),
    )
    decisions = [
        evaluate(customer_vip, plain, None, NOW, config.matrix),
        evaluate(issue, None, None, NOW, config.matrix),
    ]
    assert decisions[0].level == decisions[1].level != config.matrix.levels[0], [
        d.level for d in decisions
    ]
    [target] = TargetBuilder(
        config, [customer_vip, issue], [plain], decisions, set(), {}
    ).jira_targets()
    assert target.values["customer_tier"] == "standard"


def test_issues_joined_through_links_do_not_count_as_the_customers_repeated_tickets(config):
    from escalation.compiled import compile_matrix
    from sync.evaluate import evaluate_mirror

    account = Account("001A", "Alpha", tier="standard")
    created = NOW - timedelta(hours=2)
    tickets = [
        Ticket(
            "zendesk",
            "1",
            "a",
            TicketStatus.OPEN,
            created,
            created,
            join_keys={"account_id": "001A"},
        ),
        *(
            Ticket(
                "jira",
                f"100{i}",
                "b",
                TicketStatus.OPEN,
                created,
                created,
                key=f"ENG-{i}",
                linked=("zendesk:1",),
            )
            for i in range(6)
        ),
    ]
    evaluation = evaluate_mirror(config, compile_matrix(config.matrix), tickets, [account], {}, NOW)
    joined = {t.ref: t.account_id for t in evaluation.tickets}
    assert all(account_id == "001A" for account_id in joined.values()), (
        "the issues reach the account"
    )
    zendesk = next(d for d in evaluation.decisions if d.ticket_ref == "zendesk:1")
    assert not any(
        r.name in ("repeated-tickets", "many-tickets-this-month") for r in zendesk.reasons
    )


def test_a_level_name_with_spaces_becomes_one_tag_and_one_label_by_its_slug(config):
    created = NOW - timedelta(hours=3)
    issue = Ticket(
        "jira", "10002", "outage", TicketStatus.OPEN, created, created, key="ENG-2", severity=1
    )
    ticket = Ticket("zendesk", "9", "outage", TicketStatus.OPEN, created, created, severity=1)
    decisions = [
        dataclasses.replace(evaluate(record, None, None, NOW, config.matrix), level="War room: CEO")
        for record in (ticket, issue)
    ]
    builder = TargetBuilder(config, [ticket, issue], [], decisions, set(), {})
    [zendesk] = builder.zendesk_targets()
    [jira] = builder.jira_targets()
    assert zendesk.wanted_tags == {"escalation_war_room_ceo"}
    assert jira.wanted_tags == {"escalation-war_room_ceo"}
