"""Pure: account decisions -> what each record should hold (sync/wanted.Target), per system.

- The Salesforce account: its account level, owner, reasons and next outreach due
  (mapping.salesforce.account_matrix.write).
- Its Zendesk organisations: an organisation field and a tag (mapping.zendesk.organization).
- Its playbook task: one open task per account and playbook, for the owner; the open task of
  a playbook the account has left is closed (mapping.salesforce.account_matrix.task).
Records are labelled with systems of their own ("salesforce.account", "zendesk.organization",
"salesforce.task"), so what we wrote, overrides and failures never mix with the ticket
matrix's writes to the same records. A record at the lowest level that we never wrote to and
that shows nothing of ours gets no target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from config.account_mapping import TaskMapping, ZendeskOrganizationWrite
from config.write_mapping import WriteField, WriteMappingBase, level_tag
from escalation.accounts import AccountDecision
from escalation.decision import ReasonKind
from sync.accounts_store import TaskMemory
from sync.formats import renderer
from sync.wanted import Target, target

SF_ACCOUNT = "salesforce.account"
ZD_ORGANIZATION = "zendesk.organization"
SF_TASK = "salesforce.task"
MARKER = "[escalation-sync:{playbook}]"
_MARKER = re.compile(r"\[escalation-sync:([a-z0-9][a-z0-9_-]*)\]")


def field_reason(decision: AccountDecision) -> str | None:
    """The reasons as one stable sentence: the triggers' texts, and a level held."""
    texts = [r.text for r in decision.reasons if r.kind is ReasonKind.TRIGGER]
    if any(r.kind is ReasonKind.HELD for r in decision.reasons):
        texts.append(f"Kept at {decision.level} until the quiet period has passed")
    return "; ".join(texts) or None


def account_targets(
    decisions: Iterable[AccountDecision],
    mapping: WriteMappingBase,
    current: Mapping[str, dict[str, Any]],
    written_ids: set[str],
    lowest: str,
) -> list[Target]:
    """The account fields. `current`: account id -> what our fields hold now."""
    targets = []
    writes = mapping.outputs()
    renderers = [(name, renderer(write)) for name, write in writes.items()]
    for decision in decisions:
        now = current.get(decision.account_id, {})
        if decision.level == lowest and decision.account_id not in written_ids:
            if all(now.get(name) in (None, "") for name in writes):
                continue  # nothing to say, and nothing of ours to take back
        outputs = {
            "account_level": decision.level,
            "account_owner": decision.owner.current,
            "account_reason": field_reason(decision),
            "next_outreach_due": decision.playbook.due if decision.playbook else None,
        }
        values = {name: render_value(outputs.get(name)) for name, render_value in renderers}
        targets.append(
            target(
                SF_ACCOUNT,
                "account",
                decision.account_id,
                decision.level,
                values,
                writes,
                current=now,
                ref=f"account:{decision.account_id}",
                reasons=tuple(r.name for r in decision.reasons),
            )
        )
    return targets


@dataclass(frozen=True)
class Organization:
    """A Zendesk organisation as the mirror holds it: its account, our field, its tags."""

    org_id: str
    account_id: str
    level_value: Any
    tags: tuple[str, ...]


def organization_targets(
    decisions: Mapping[str, AccountDecision],
    organizations: Iterable[Organization],
    mapping: ZendeskOrganizationWrite,
    written_ids: set[str],
    lowest: str,
) -> list[Target]:
    """The account level on each organisation of an account (field and tag)."""
    writes: dict[str, WriteField] = {}
    if mapping.level_field:
        writes["account_level"] = WriteField(field=mapping.level_field, format="text")
    prefix = mapping.tags_prefix
    options = mapping.options or {}
    # Per level, not per organisation (20k of them): the tag we want and the field's value.
    tags_of: dict[str, frozenset[str]] = {}
    targets = []
    for org in organizations:
        decision = decisions.get(org.account_id)
        if decision is None:
            continue
        level = decision.level
        values = {}
        if "account_level" in writes:
            values["account_level"] = options.get(level, level)
        wanted_tags = tags_of.get(level)
        if wanted_tags is None:
            wanted_tags = tags_of[level] = frozenset(
                {level_tag(prefix, level)} if prefix and level != lowest else ()
            )
        ours = frozenset(t for t in org.tags if t.startswith(prefix)) if prefix else frozenset()
        shows_ours = bool(ours) or org.level_value not in (None, "")
        if level == lowest and org.org_id not in written_ids and not shows_ours:
            continue
        targets.append(
            target(
                ZD_ORGANIZATION,
                "organization",
                org.org_id,
                level,
                values,
                writes,
                tag_prefix=prefix,
                wanted_tags=wanted_tags,
                current_tags=ours,
                current={"account_level": org.level_value},
                ref=f"account:{org.account_id}",
                reasons=tuple(r.name for r in decision.reasons),
            )
        )
    return targets


@dataclass(frozen=True)
class FoundTask:
    """One of our tasks as Salesforce holds it now."""

    task_id: str
    account_id: str
    playbook: str
    values: dict[str, Any]  # output name -> value (subject, description, due, ...)
    is_closed: bool


def task_key(account_id: str, playbook: str) -> str:
    return f"{account_id}/{playbook}"


def parse_task(
    row: Mapping[str, Any], mapping: TaskMapping, fields: Mapping[str, str] | None = None
) -> FoundTask | None:
    """A Task record found by our marker (or key field); None when it is not ours.
    `fields`: task_fields(mapping), when the caller parses many rows."""
    if mapping.key_field:
        account_id, _, playbook = str(row.get(mapping.key_field) or "").partition("/")
    else:
        found = _MARKER.search(str(row.get(mapping.subject_field) or ""))
        account_id = str(row.get(mapping.related_field) or "")
        playbook = found.group(1) if found else ""
    if not account_id or not playbook:
        return None
    fields = task_fields(mapping) if fields is None else fields
    values = {name: row.get(field) for name, field in fields.items()}
    status = row.get(mapping.status_field)
    return FoundTask(
        str(row["Id"]), account_id, playbook, values, status in mapping.closed_statuses
    )


def task_fields(mapping: TaskMapping) -> dict[str, str]:
    """Output name -> the task's field."""
    fields = {
        "subject": mapping.subject_field,
        "description": mapping.description_field,
        "due": mapping.due_field,
        "status": mapping.status_field,
        "related": mapping.related_field,
    }
    if mapping.priority_field:
        fields["priority"] = mapping.priority_field
    if mapping.owner_field:
        fields["owner"] = mapping.owner_field
    if mapping.key_field:
        fields["key"] = mapping.key_field
    return fields


def task_writes(mapping: TaskMapping) -> dict[str, WriteField]:
    lengths = {"subject": 255, "description": mapping.description_max_length}
    return {
        name: WriteField(
            field=field, format="date" if name == "due" else "text", max_length=lengths.get(name)
        )
        for name, field in task_fields(mapping).items()
    }


def task_description(decision: AccountDecision, account_name: str) -> str:
    """What the owner reads: why, what to do, what to gather, by when. Stable between runs
    while the decision does not change (no times of the run in it)."""
    playbook, owner = decision.playbook, decision.owner
    assert playbook is not None
    backup = f"; backup {owner.backup}" if owner.backup else ""
    lines = [
        f"{account_name} is at account level {decision.level} since "
        f"{decision.level_since:%Y-%m-%d} (escalation-sync).",
        f"Owner: {owner.current or 'nobody'} ({owner.role}){backup}",
    ]
    if owner.note:
        lines.append(f"Routing: {owner.note}")
    lines += ("", "Why:")
    lines += [f"- {r.text}" for r in decision.reasons if r.kind is ReasonKind.TRIGGER]
    lines += _playbook_lines(playbook.actions, playbook.required_data)
    lines += ("", f"Outreach due: {playbook.due:%Y-%m-%d} ({playbook.calendar} calendar)")
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _playbook_lines(actions: tuple[str, ...], required_data: tuple[str, ...]) -> tuple[str, ...]:
    """A playbook's actions and data, as the description lists them: the same text for every
    account at the level (15k tasks), so made once."""
    lines: list[str] = []
    if actions:
        lines += ["", "Recommended actions:"]
        lines += [f"{n}. {action}" for n, action in enumerate(actions, start=1)]
    if required_data:
        lines += ["", "Have at hand:"] + [f"- {item}" for item in required_data]
    return tuple(lines)


@dataclass(frozen=True)
class TaskPlan:
    targets: list[Target]
    task_ids: dict[str, str]  # target record id (task key) -> the Salesforce Id to update
    left_alone: list[tuple[str, str, str]]  # (account id, playbook, why) - audited once
    adopted: dict[tuple[str, str], TaskMemory]  # tasks found without a memory of them
    # Task keys whose status is closed by us now: the status is written whatever a person set.
    closing: set[str]


def task_targets(
    decisions: Mapping[str, AccountDecision],
    account_names: Mapping[str, str],
    found: Iterable[FoundTask],
    memory: Mapping[tuple[str, str], TaskMemory],
    owner_ids: Mapping[str, str],
    mapping: TaskMapping,
    org_id: Callable[[str], str] | None = None,
) -> TaskPlan:
    """One open task per account and playbook, updated in place; others closed.

    - The account's playbook has an open task of ours: it is updated (a person's edits are
      overrides, honoured by the plan); none: one is made, unless we made one in this stay at
      the level that is now closed or gone (a person closed or deleted it: left alone). With
      no memory at all (a lost state file), a task of ours closed within the lookback counts
      as closed by a person in this stay.
    - An open task of ours for a playbook the account no longer has is closed.

    `org_id`: a named org's account ids as the org itself knows them (`eu/001...` -> `001...`),
    for what the task holds (its account, its key); records, memory and plan keep the run's.
    """
    writes = task_writes(mapping)
    renderers = [(name, renderer(write)) for name, write in writes.items()]
    by_key: dict[tuple[str, str], list[FoundTask]] = {}
    for task in found:
        by_key.setdefault((task.account_id, task.playbook), []).append(task)
    plan = TaskPlan([], {}, [], {}, set())
    for account_id, decision in decisions.items():
        playbook = decision.playbook
        if playbook is None:
            continue
        key = (account_id, playbook.name)
        since = decision.level_since.isoformat()
        tasks = by_key.get(key, ())
        open_task = next((t for t in tasks if not t.is_closed), None) if tasks else None
        remembered = memory.get(key)
        this_stay = remembered is not None and remembered.since == since
        if open_task is None and this_stay and remembered is not None:
            if not remembered.left_alone and remembered.task_id is not None:
                gone = (
                    "closed" if any(t.task_id == remembered.task_id for t in tasks) else "deleted"
                )
                plan.left_alone.append((account_id, playbook.name, f"a person {gone} it"))
            continue
        if open_task is None and remembered is None and tasks:
            # No memory of this account and playbook (a lost state file) and a task of ours
            # closed lately (the query reads closed ones within the lookback): a person's
            # closing, honoured for this stay at the level.
            plan.adopted[key] = TaskMemory(tasks[0].task_id, since, left_alone=True)
            why = "a person closed it (found after the state file was lost)"
            plan.left_alone.append((account_id, playbook.name, why))
            continue
        if open_task is not None and not this_stay:
            plan.adopted[key] = TaskMemory(open_task.task_id, since)
        subject = playbook.subject
        if not mapping.key_field:
            subject = f"{subject[: 255 - 40]} {MARKER.format(playbook=playbook.name)}"
        record_id = task_key(account_id, playbook.name)
        outputs: dict[str, Any] = {
            "subject": subject,
            "description": task_description(decision, account_names.get(account_id, account_id)),
            "due": playbook.due,
            "status": mapping.open_status,
            "related": account_id if org_id is None else org_id(account_id),
            "priority": playbook.priority,
            "owner": owner_ids.get((decision.owner.current or "").lower()),
            "key": record_id if org_id is None else org_id(record_id),
        }
        values = {name: render_value(outputs.get(name)) for name, render_value in renderers}
        if open_task is not None:
            plan.task_ids[record_id] = open_task.task_id
        plan.targets.append(
            target(
                SF_TASK,
                "task",
                record_id,
                decision.level,
                values,
                writes,
                current=open_task.values if open_task is not None else {},
                ref=f"account:{account_id}",
                reasons=tuple(r.name for r in decision.reasons),
            )
        )
    for (account_id, playbook_name), tasks in by_key.items():
        holder = decisions.get(account_id)
        if holder is None or (holder.playbook and holder.playbook.name == playbook_name):
            continue
        # One open task per account and playbook; a second one (a person's copy) is theirs.
        for task in [t for t in tasks if not t.is_closed][:1]:
            record_id = task_key(account_id, playbook_name)
            plan.task_ids[record_id] = task.task_id
            plan.closing.add(record_id)
            plan.targets.append(
                target(
                    SF_TASK,
                    "task",
                    record_id,
                    holder.level,
                    {"status": mapping.closed_status},
                    {"status": writes["status"]},
                    current={"status": task.values.get("status")},
                    ref=f"account:{account_id}",
                    reasons=(f"left {playbook_name}",),
                )
            )
    return plan
