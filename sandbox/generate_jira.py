"""Jira's side of the data set: issues linked to Zendesk tickets, the field list (jira.json).

Links run both ways. The issue lists its tickets in JIRA_FIELD_ZENDESK_TICKET as
comma-separated ids ("1001,1002"; a few with a space after the comma, as people type them),
and each linked ticket carries the tag `jira_link_tag(key)` ("jira_eng_123"), which is how
the Zendesk side of such integrations marks a ticket.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox.catalogue import (
    JIRA_ESCALATION_LABEL,
    JIRA_FIELD_ARR,
    JIRA_FIELD_LEVEL,
    JIRA_FIELD_RENEWAL,
    JIRA_FIELD_SEVERITY,
    JIRA_FIELD_SLA_DUE,
    JIRA_FIELD_TIER,
    JIRA_FIELD_ZENDESK_TICKET,
    JIRA_PROJECTS,
    JIRA_SEVERITY_OPTIONS,
    LEVELS,
    TIERS,
)
from sandbox.generate_companies import DAY
from sandbox.generate_text import COMPONENTS, INJECTION_SUBJECTS, UNICODE_SUBJECTS, person
from sandbox.generate_tickets import TicketSet
from sandbox.generate_values import (
    JIRA_BASE_URL,
    JIRA_ISSUE_ID_START,
    jira_time,
    sample_indices,
    spread_values,
)

JIRA_LINK_TAG_PREFIX = "jira_"
PROJECT_WEIGHTS = (70, 30)  # parallel to JIRA_PROJECTS
# (status name, status id, category key, category id, category colour, category name)
STATUSES = (
    ("To Do", "10000", "new", 2, "blue-gray", "To Do"),
    ("In Progress", "3", "indeterminate", 4, "yellow", "In Progress"),
    ("In Review", "10001", "indeterminate", 4, "yellow", "In Progress"),
    ("Done", "10002", "done", 3, "green", "Done"),
)
STATUS_WEIGHTS = (30, 35, 10, 25)
PRIORITIES = (("Highest", "1"), ("High", "2"), ("Medium", "3"), ("Low", "4"), ("Lowest", "5"))
PRIORITY_WEIGHTS = (5, 20, 50, 20, 5)
ISSUE_TYPES = (("Bug", "10004"), ("Task", "10002"), ("Story", "10001"))
ISSUE_TYPE_WEIGHTS = (60, 25, 15)
SEVERITY_CHOICES = (*JIRA_SEVERITY_OPTIONS, None)
SEVERITY_WEIGHTS = (5, 20, 45, 20, 10)
LABELS = ("backend", "frontend", "regression", "performance", "security", "tech-debt")
SUMMARIES = (
    "{component} returns 502 under load",
    "{component} drops records on retry",
    "Fix timeout in {component}",
    "{component}: wrong totals after upgrade",
    "Investigate memory growth in {component}",
)
# Option ids of the select fields, as the field's context would list them.
FIELD_OPTIONS = {
    JIRA_FIELD_SEVERITY: (10300, JIRA_SEVERITY_OPTIONS),
    JIRA_FIELD_LEVEL: (10400, LEVELS),
    JIRA_FIELD_TIER: (10500, (*TIERS, "unknown")),  # tickets matching no account
}
LINKED_RATE = 0.75
RESOLVED = ("solved", "closed")
ESCALATION_LABEL_RATE = 0.4  # of linked issues
SPACED_LINK_RATE = 0.02
UNICODE_SUMMARY_RATE = 0.03
INJECTION_SUMMARY_RATE = 0.02
SUMMARY_MAX = 255


@dataclass(frozen=True, slots=True)
class JiraSet:
    dataset: dict[str, Any]
    # Ticket position -> keys of the issues that link it.
    links: dict[int, list[str]]


def jira_link_tag(issue_key: str) -> str:
    """The Zendesk tag marking a ticket as linked to a Jira issue: ENG-123 -> jira_eng_123."""
    return JIRA_LINK_TAG_PREFIX + issue_key.lower().replace("-", "_")


def build_jira(rng: random.Random, count: int, tickets: TicketSet, anchor_ts: int) -> JiraSet:
    """`count` issues over the catalogue's projects, most linked to one to three tickets."""
    engineers = [_engineer(rng) for _ in range(max(3, count // 100))]
    projects = rng.choices(range(len(JIRA_PROJECTS)), weights=PROJECT_WEIGHTS, k=count)
    statuses = rng.choices(STATUSES, weights=STATUS_WEIGHTS, k=count)
    unicode_ones = spread_values(sample_indices(rng, count, UNICODE_SUMMARY_RATE), UNICODE_SUBJECTS)
    injections = spread_values(
        sample_indices(rng, count, INJECTION_SUMMARY_RATE), INJECTION_SUBJECTS
    )
    spaced = sample_indices(rng, count, SPACED_LINK_RATE)
    pool = tickets.linkable or list(range(len(tickets.tickets)))
    # Engineering work still open is linked to tickets still open, finished work to solved
    # ones; either pool falls back to the whole pool when empty.
    unresolved = [p for p in pool if tickets.tickets[p]["status"] not in RESOLVED] or pool
    resolved = [p for p in pool if tickets.tickets[p]["status"] in RESOLVED] or pool
    next_number = [0] * len(JIRA_PROJECTS)
    issues: list[dict[str, Any]] = []
    links: dict[int, list[str]] = {}
    for position in range(count):
        project_id, project_key, project_name = JIRA_PROJECTS[projects[position]]
        next_number[projects[position]] += 1
        key = f"{project_key}-{next_number[projects[position]]}"
        done = statuses[position][2] == "done"
        from_pool = resolved if done else unresolved
        linked = _pick_tickets(rng, from_pool) if pool and rng.random() < LINKED_RATE else []
        for ticket_position in linked:
            links.setdefault(ticket_position, []).append(key)
        if linked:
            first_ticket = min(tickets.created_ts[p] for p in linked)
            created_ts = min(first_ticket + rng.randint(600, 3 * DAY), anchor_ts - 300)
        else:
            created_ts = anchor_ts - rng.randint(600, 90 * DAY)
        updated_ts = rng.randint(created_ts, anchor_ts - 120)
        summary = injections.get(position) or unicode_ones.get(position) or _summary(rng)
        ticket_ids = [str(tickets.tickets[p]["id"]) for p in linked]
        fields = {
            "summary": summary[:SUMMARY_MAX],
            "description": _adf(f"Customer impact: Zendesk tickets {', '.join(ticket_ids)}.")
            if linked
            else None,
            "issuetype": _issue_type(rng),
            "project": {
                "self": f"{JIRA_BASE_URL}/rest/api/3/project/{project_id}",
                "id": project_id,
                "key": project_key,
                "name": project_name,
            },
            **_status_fields(rng, statuses[position], created_ts, updated_ts),
            "priority": _priority(rng),
            "labels": _labels(rng, bool(linked)),
            "assignee": None
            if statuses[position][2] == "new" and rng.random() < 0.5
            else rng.choice(engineers),
            "reporter": rng.choice(engineers),
            "created": jira_time(created_ts),
            "updated": jira_time(updated_ts),
            JIRA_FIELD_SEVERITY: _option(
                JIRA_FIELD_SEVERITY, rng.choices(SEVERITY_CHOICES, weights=SEVERITY_WEIGHTS)[0]
            ),
            JIRA_FIELD_ZENDESK_TICKET: (", " if position in spaced else ",").join(ticket_ids)
            or None,
            # Managed by escalation-sync: empty until its first run.
            JIRA_FIELD_LEVEL: None,
            JIRA_FIELD_TIER: None,
            JIRA_FIELD_RENEWAL: None,
            JIRA_FIELD_ARR: None,
            JIRA_FIELD_SLA_DUE: None,
        }
        issue_id = str(JIRA_ISSUE_ID_START + position)
        issues.append(
            {
                "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                "id": issue_id,
                "self": f"{JIRA_BASE_URL}/rest/api/3/issue/{issue_id}",
                "key": key,
                "fields": fields,
            }
        )
    dataset = {
        "issues": issues,
        "fields": jira_fields(),
        "projects": [{"id": pid, "key": pkey, "name": name} for pid, pkey, name in JIRA_PROJECTS],
        # Not part of GET /field: the options each select field's context offers.
        "field_options": field_options(),
    }
    return JiraSet(dataset, links)


def _summary(rng: random.Random) -> str:
    return rng.choice(SUMMARIES).format(component=rng.choice(COMPONENTS))


def _pick_tickets(rng: random.Random, pool: list[int]) -> list[int]:
    wanted = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    picked: list[int] = []
    for _ in range(wanted):
        candidate = rng.choice(pool)
        if candidate not in picked:
            picked.append(candidate)
    return picked


def _engineer(rng: random.Random) -> dict[str, Any]:
    name, local = person(rng)
    account_id = f"{rng.getrandbits(96):024x}"
    return {
        "self": f"{JIRA_BASE_URL}/rest/api/3/user?accountId={account_id}",
        "accountId": account_id,
        "emailAddress": f"{local}.{account_id[:4]}@example.com",
        "displayName": name,
        "active": True,
        "timeZone": "UTC",
        "accountType": "atlassian",
    }


def _status_fields(
    rng: random.Random, status: tuple, created_ts: int, updated_ts: int
) -> dict[str, Any]:
    name, status_id, category_key, category_id, colour, category_name = status
    done = category_key == "done"
    return {
        "status": {
            "self": f"{JIRA_BASE_URL}/rest/api/3/status/{status_id}",
            "description": "",
            "iconUrl": f"{JIRA_BASE_URL}/images/icons/statuses/generic.png",
            "name": name,
            "id": status_id,
            "statusCategory": {
                "self": f"{JIRA_BASE_URL}/rest/api/3/statuscategory/{category_id}",
                "id": category_id,
                "key": category_key,
                "colorName": colour,
                "name": category_name,
            },
        },
        "statuscategorychangedate": jira_time(rng.randint(created_ts, updated_ts)),
        "resolution": (
            {
                "self": f"{JIRA_BASE_URL}/rest/api/3/resolution/10000",
                "id": "10000",
                "description": "Work has been completed on this issue.",
                "name": "Done",
            }
            if done
            else None
        ),
        "resolutiondate": jira_time(updated_ts) if done else None,
    }


def _priority(rng: random.Random) -> dict[str, str]:
    name, priority_id = rng.choices(PRIORITIES, weights=PRIORITY_WEIGHTS)[0]
    return {
        "self": f"{JIRA_BASE_URL}/rest/api/3/priority/{priority_id}",
        "iconUrl": f"{JIRA_BASE_URL}/images/icons/priorities/{name.lower()}.svg",
        "name": name,
        "id": priority_id,
    }


def _issue_type(rng: random.Random) -> dict[str, Any]:
    name, type_id = rng.choices(ISSUE_TYPES, weights=ISSUE_TYPE_WEIGHTS)[0]
    return {
        "self": f"{JIRA_BASE_URL}/rest/api/3/issuetype/{type_id}",
        "id": type_id,
        "description": "",
        "iconUrl": f"{JIRA_BASE_URL}/images/icons/issuetypes/{name.lower()}.svg",
        "name": name,
        "subtask": False,
        "hierarchyLevel": 0,
    }


def _labels(rng: random.Random, linked: bool) -> list[str]:
    labels = rng.sample(LABELS, rng.randint(0, 2))
    if linked and rng.random() < ESCALATION_LABEL_RATE:
        labels.append(JIRA_ESCALATION_LABEL)
    return labels


def _adf(text: str) -> dict[str, Any]:
    """Text as an Atlassian Document Format document: v3 returns rich-text fields this way."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def _option(field_id: str, value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    first_id, values = FIELD_OPTIONS[field_id]
    option_id = str(first_id + values.index(value))
    return {
        "self": f"{JIRA_BASE_URL}/rest/api/3/customFieldOption/{option_id}",
        "value": value,
        "id": option_id,
    }


def field_options() -> dict[str, list[dict[str, Any]]]:
    """Field id -> its select options, [{"id", "value", "disabled"}]."""
    return {
        field_id: [
            {"id": str(first_id + index), "value": value, "disabled": False}
            for index, value in enumerate(values)
        ]
        for field_id, (first_id, values) in FIELD_OPTIONS.items()
    }


_SYSTEM_FIELDS = (
    # (id, name, schema type, items)
    ("summary", "Summary", "string", None),
    ("description", "Description", "string", None),
    ("issuetype", "Issue Type", "issuetype", None),
    ("project", "Project", "project", None),
    ("status", "Status", "status", None),
    ("statuscategorychangedate", "Status Category Changed", "datetime", None),
    ("resolution", "Resolution", "resolution", None),
    ("resolutiondate", "Resolved", "datetime", None),
    ("priority", "Priority", "priority", None),
    ("labels", "Labels", "array", "string"),
    ("assignee", "Assignee", "user", None),
    ("reporter", "Reporter", "user", None),
    ("created", "Created", "datetime", None),
    ("updated", "Updated", "datetime", None),
)
_CUSTOM_FIELDS = (
    # (id, name, schema type, custom type)
    (JIRA_FIELD_SEVERITY, "Severity", "option", "select"),
    (JIRA_FIELD_ZENDESK_TICKET, "Zendesk Ticket IDs", "string", "textfield"),
    (JIRA_FIELD_LEVEL, "Escalation Level", "option", "select"),
    (JIRA_FIELD_TIER, "Customer Tier", "option", "select"),
    (JIRA_FIELD_RENEWAL, "Renewal Date", "date", "datepicker"),
    (JIRA_FIELD_ARR, "ARR", "number", "float"),
    (JIRA_FIELD_SLA_DUE, "Escalation SLA Due", "datetime", "datetime"),
)


def jira_fields() -> list[dict[str, Any]]:
    """The field list as GET /rest/api/3/field returns it (FieldDetails)."""
    fields = []
    for field_id, name, schema_type, items in _SYSTEM_FIELDS:
        schema: dict[str, Any] = {"type": schema_type, "system": field_id}
        if items:
            schema["items"] = items
        fields.append(_field_details(field_id, name, False, [field_id], schema))
    for field_id, name, schema_type, custom_type in _CUSTOM_FIELDS:
        custom_id = int(field_id.removeprefix("customfield_"))
        schema = {
            "type": schema_type,
            "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{custom_type}",
            "customId": custom_id,
        }
        fields.append(_field_details(field_id, name, True, [f"cf[{custom_id}]", name], schema))
    return fields


def _field_details(
    field_id: str, name: str, custom: bool, clause_names: list[str], schema: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": field_id,
        "key": field_id,
        "name": name,
        "custom": custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": clause_names,
        "schema": schema,
    }
