"""A level a person set on a ticket by hand is the ticket's level for everything derived from
it: our tag, the linked Jira issues' impact, the Salesforce rollups and records, explain and
the audit. The real clients against the sandbox on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest

import run_sync
from sandbox import catalogue
from sync.run import RunResult
from tests.sync_world import World

pytestmark = pytest.mark.integration

RANK = {level: i for i, level in enumerate(catalogue.LEVELS)}


def set_level_by_hand(world: World, ticket_id: int, level: str) -> None:
    world.sandbox.zendesk.agent_edit(
        ticket_id,
        {
            "custom_fields": [
                {"id": catalogue.ZD_FIELD_LEVEL, "value": catalogue.ZD_LEVEL_TAGS[level]}
            ]
        },
    )
    world.settle()


def our_tags(world: World, ticket_id: int) -> list[str]:
    ticket = world.sandbox.zendesk.get_ticket(ticket_id)
    return sorted(t for t in ticket["tags"] if t.startswith("escalation_"))


def account_row(world: World, account_id: str) -> dict:
    return next(r for r in world.sandbox.salesforce.records("Account") if r["Id"] == account_id)


def escalation_record(world: World, ref: str) -> dict | None:
    return next(
        (r for r in world.sandbox.salesforce.records("Escalation__c") if r["Ticket_Ref__c"] == ref),
        None,
    )


def explain(world: World, ref: str, capsys) -> str:
    capsys.readouterr()
    args = ["explain", "--config", str(world.config_path), "--now", world.now.isoformat(), ref]
    assert run_sync.main(args) == 0
    return capsys.readouterr().out


def below_executive_with_a_linked_issue(first: RunResult) -> tuple[str, str, str]:
    """(ticket ref, its account, a Jira issue linking it): a ticket we escalated below
    executive review, whose account and issue have nothing at executive review either."""
    evaluation = first.evaluation
    assert evaluation is not None
    tickets = {t.ref: t for t in evaluation.tickets}
    levels = {d.ticket_ref: d.level for d in evaluation.decisions}
    top_of_account: dict[str, int] = {}
    for ref, level in levels.items():
        account_id = tickets[ref].account_id
        if account_id:
            top_of_account[account_id] = max(top_of_account.get(account_id, 0), RANK[level])
    for issue in (t for t in evaluation.tickets if t.system == "jira" and t.key):
        for link in issue.linked:
            ticket = tickets.get(link)
            if ticket is None or levels[link] in ("none", "executive-review"):
                continue
            near = [levels[r] for r in (*issue.linked, issue.ref) if r in levels]
            if (
                ticket.account_id
                and top_of_account[ticket.account_id] < RANK["executive-review"]
                and max(RANK[level] for level in near) < RANK["executive-review"]
            ):
                return link, ticket.account_id, issue.key
    raise AssertionError("the generated world has no such ticket")


def test_a_ticket_raised_by_hand_to_executive_review_is_executive_review_everywhere(
    world: World, capsys
):
    first = world.run()
    ref, account_id, issue_key = below_executive_with_a_linked_issue(first)
    ticket_id = int(ref.split(":")[1])
    assert escalation_record(world, ref) is None or (
        escalation_record(world, ref)["Level__c"] != "executive-review"
    )

    set_level_by_hand(world, ticket_id, "executive-review")
    result = world.run(now=world.now + timedelta(minutes=2))
    assert (ref, "level", catalogue.ZD_LEVEL_TAGS["executive-review"]) in result.overrides_found
    day = f"{world.now:%Y-%m-%d}"

    # The field is the person's; our tag and reason follow it.
    assert world.zendesk_level(ticket_id) == "executive-review"
    assert our_tags(world, ticket_id) == ["escalation_executive-review"]
    reason = world.zendesk_field(ticket_id, catalogue.ZD_FIELD_REASON)
    assert f"set by a person on {day}" in reason
    # The linked Jira issue's impact, the account's rollup and a per-ticket record.
    issue = world.sandbox.jira.get_issue(issue_key)["fields"]
    assert issue[catalogue.JIRA_FIELD_LEVEL]["value"] == "executive-review"
    assert "escalation-executive-review" in issue["labels"]
    assert account_row(world, account_id)["Highest_Escalation_Level__c"] == "executive-review"
    record = escalation_record(world, ref)
    assert record is not None and record["Level__c"] == "executive-review"
    assert f"set by a person on {day}" in record["Reason__c"]
    # explain says the person's level and why, and the history names the override.
    out = explain(world, ref, capsys)
    assert "level executive-review" in out and f"set by a person on {day}" in out
    override_line = next(line for line in out.splitlines() if " override:" in line)
    assert "level" in override_line and "esc_level_executive_review" in override_line
    # A run right after (the same moment: only the read-back differs) writes nothing.
    world.settle()
    again = world.run(now=world.now)
    assert again.writes == [], [w.write.ref for w in again.writes]
    assert world.zendesk_level(ticket_id) == "executive-review"


def test_a_ticket_lowered_by_hand_to_none_loses_our_tag_and_leaves_the_rollup(world: World, capsys):
    first = world.run()
    evaluation = first.evaluation
    assert evaluation is not None
    tickets = {t.ref: t for t in evaluation.tickets}
    decision = next(
        d
        for d in evaluation.decisions
        if d.ticket_ref.startswith("zendesk:")
        and d.level == "action-needed"
        and tickets[d.ticket_ref].account_id
    )
    ref, account_id = decision.ticket_ref, tickets[decision.ticket_ref].account_id
    ticket_id = int(ref.split(":")[1])
    assert our_tags(world, ticket_id) == ["escalation_action-needed"]
    open_before = account_row(world, account_id)["Open_Escalations__c"]

    set_level_by_hand(world, ticket_id, "none")
    world.run(now=world.now + timedelta(minutes=2))

    assert world.zendesk_level(ticket_id) == "none"
    assert our_tags(world, ticket_id) == []
    assert account_row(world, account_id)["Open_Escalations__c"] == open_before - 1
    assert escalation_record(world, ref)["Level__c"] == "none"
    assert world.zendesk_notes(ticket_id) and len(world.zendesk_notes(ticket_id)) == 1
    out = explain(world, ref, capsys)
    assert "level none" in out and "set by a person on" in out
    assert "the matrix computes action-needed" in out


def test_our_level_tag_removed_by_hand_is_put_back_while_the_field_holds_the_level(
    world: World,
):
    world.run()
    store = world.store()
    try:
        ticket_id = next(
            int(record_id)
            for (system, record_id), values in store.written().items()
            if system == "zendesk" and values.get("level") == "esc_level_advisory"
        )
    finally:
        store.close()
    assert our_tags(world, ticket_id) == ["escalation_advisory"]
    world.sandbox.zendesk.agent_edit(ticket_id, {"remove_tags": ["escalation_advisory"]})
    world.settle()

    result = world.run(now=world.now + timedelta(minutes=2))

    assert our_tags(world, ticket_id) == ["escalation_advisory"]
    assert world.zendesk_level(ticket_id) == "advisory"
    assert not [o for o in result.overrides_found if o[0] == f"zendesk:{ticket_id}"]
    restored = next(w for w in result.writes if w.write.ref == f"zendesk:{ticket_id}")
    assert restored.write.tags_add == ("escalation_advisory",) and not restored.write.fields


def test_when_the_matrixs_level_rises_past_a_persons_level_the_matrix_takes_over_again(
    world: World, capsys
):
    first = world.run()
    evaluation = first.evaluation
    assert evaluation is not None
    tickets = {t.ref: t for t in evaluation.tickets}
    decision = next(
        d
        for d in evaluation.decisions
        if d.ticket_ref.startswith("zendesk:")
        and d.level in ("informational", "advisory")
        and tickets[d.ticket_ref].account_id
        and tickets[d.ticket_ref].status.value in ("new", "open")
    )
    ref, ticket_id = decision.ticket_ref, int(decision.ticket_ref.split(":")[1])
    set_level_by_hand(world, ticket_id, "none")
    world.run(now=world.now + timedelta(minutes=2))
    assert our_tags(world, ticket_id) == [] and world.zendesk_level(ticket_id) == "none"

    world.sandbox.zendesk.agent_edit(
        ticket_id,
        {
            "priority": "urgent",
            "custom_fields": [{"id": catalogue.ZD_FIELD_CATEGORY, "value": "cat_outage"}],
        },
    )
    world.settle()
    result = world.run(now=world.now + timedelta(minutes=2))

    risen = next(d for d in result.evaluation.decisions if d.ticket_ref == ref).level
    assert RANK[risen] > RANK[decision.level]
    assert world.zendesk_level(ticket_id) == risen
    assert our_tags(world, ticket_id) == [f"escalation_{risen}"]
    assert f"-> {risen}" in world.zendesk_notes(ticket_id)[-1]
    out = explain(world, ref, capsys)
    assert f"level {risen}" in out and "set by a person on" not in out.split("history:")[0]


def test_a_jira_issues_level_set_by_hand_moves_its_label(world: World):
    world.run()
    key = next(
        key
        for key in sorted(world.sandbox.jira.store.rows)
        if "escalation-advisory" in world.sandbox.jira.get_issue(key)["fields"]["labels"]
    )
    world.sandbox.jira.human_edit(
        key, fields={catalogue.JIRA_FIELD_LEVEL: {"value": "executive-review"}}
    )

    result = world.run(now=world.now + timedelta(minutes=3))

    issue_id = world.sandbox.jira.get_issue(key)["id"]  # issues are known by id
    assert (f"jira:{issue_id}", "level", "executive-review") in result.overrides_found
    fields = world.sandbox.jira.get_issue(key)["fields"]
    assert fields[catalogue.JIRA_FIELD_LEVEL]["value"] == "executive-review"
    labels = [label for label in fields["labels"] if label.startswith("escalation-")]
    assert labels == ["escalation-executive-review"]
