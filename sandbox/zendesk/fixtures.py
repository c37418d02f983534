"""A small hand-made Zendesk data set in catalogue.py's data-file contract, for tests.

`small_dataset(n)` gives n open tickets (ids 1..n) spread over two organisations, their
requesters, the catalogue's custom fields and the organisation field holding the
Salesforce account id. Load it with `app.load_state(small_dataset(n))`.
"""

from __future__ import annotations

from typing import Any

from sandbox import catalogue
from sandbox.zendesk.store import zendesk_time

BASE_TS = 1_700_000_000  # 2023-11-14: every record is older than the export lag
ORG_IDS = (9001, 9002)
ACCOUNT_IDS = ("001000000000001AAA", "001000000000002AAA")
BOT_ID = 500


def tagger(field_id: int, title: str, tags: dict[str, str]) -> dict[str, Any]:
    options = [
        {"id": field_id * 1000 + n, "name": name, "raw_name": name, "value": tag, "default": False}
        for n, (name, tag) in enumerate(tags.items(), start=1)
    ]
    return {
        "id": field_id,
        "type": "tagger",
        "title": title,
        "active": True,
        "custom_field_options": options,
    }


def text_field(field_id: int, title: str, kind: str = "text") -> dict[str, Any]:
    return {"id": field_id, "type": kind, "title": title, "active": True}


def ticket(
    ticket_id: int, org_index: int = 0, status: str = "open", ts: int | None = None
) -> dict[str, Any]:
    stamp = zendesk_time(ts if ts is not None else BASE_TS + ticket_id)
    return {
        "id": ticket_id,
        "external_id": None,
        "via": {"channel": "email"},
        "created_at": zendesk_time(BASE_TS - 86_400),
        "updated_at": stamp,
        "type": "problem",
        "subject": f"Ticket {ticket_id}",
        "raw_subject": f"Ticket {ticket_id}",
        "description": f"Something broke ({ticket_id})",
        "priority": "normal",
        "status": status,
        "requester_id": 100 + org_index,
        "submitter_id": 100 + org_index,
        "assignee_id": BOT_ID,
        "organization_id": ORG_IDS[org_index],
        "group_id": None,
        "tags": ["cat_defect"],
        "custom_fields": [
            {"id": catalogue.ZD_FIELD_CATEGORY, "value": "cat_defect"},
            {"id": catalogue.ZD_FIELD_LEVEL, "value": None},
            {"id": catalogue.ZD_FIELD_OWNER, "value": None},
        ],
        "fields": [
            {"id": catalogue.ZD_FIELD_CATEGORY, "value": "cat_defect"},
            {"id": catalogue.ZD_FIELD_LEVEL, "value": None},
            {"id": catalogue.ZD_FIELD_OWNER, "value": None},
        ],
        "generated_timestamp": ts if ts is not None else BASE_TS + ticket_id,
    }


def metric_set(ticket_id: int, reply_minutes: int | None = 30) -> dict[str, Any]:
    """A ticket's metric set; `reply_minutes` None: no agent has replied yet."""
    created = BASE_TS - 86_400
    replied = reply_minutes is not None
    return {
        "id": 70_000 + ticket_id,
        "ticket_id": ticket_id,
        "created_at": zendesk_time(created),
        "updated_at": zendesk_time(BASE_TS + ticket_id),
        "replies": 1 if replied else 0,
        "reply_time_in_minutes": {"calendar": reply_minutes, "business": reply_minutes},
        "assignee_updated_at": zendesk_time(created + 60 * reply_minutes) if replied else None,
    }


def organization(index: int) -> dict[str, Any]:
    return {
        "id": ORG_IDS[index],
        "name": f"Customer {index + 1}",
        "external_id": f"ext-{index + 1}",
        "domain_names": [f"customer{index + 1}.example"],
        "created_at": zendesk_time(BASE_TS - 86_400),
        "updated_at": zendesk_time(BASE_TS + index),
        "tags": [],
        "organization_fields": {catalogue.ZD_ORG_FIELD_SF_ID: ACCOUNT_IDS[index]},
    }


def user(
    user_id: int, email: str, role: str = "end-user", org_id: int | None = None
) -> dict[str, Any]:
    return {
        "id": user_id,
        "name": email.split("@")[0],
        "email": email,
        "role": role,
        "organization_id": org_id,
    }


def small_dataset(tickets: int = 5) -> dict[str, Any]:
    return {
        "tickets": [ticket(i, org_index=i % 2) for i in range(1, tickets + 1)],
        "organizations": [organization(0), organization(1)],
        "users": [
            user(100, "ana@customer1.example", org_id=ORG_IDS[0]),
            user(101, "ben@customer2.example", org_id=ORG_IDS[1]),
            user(BOT_ID, catalogue.ZENDESK_EMAIL, role="agent"),
        ],
        "ticket_fields": [
            text_field(catalogue.ZD_FIELD_ACCOUNT_ID, "Salesforce Account ID"),
            tagger(
                catalogue.ZD_FIELD_CATEGORY,
                "Category",
                dict(zip(catalogue.CATEGORIES, catalogue.ZD_CATEGORY_TAGS.values(), strict=True)),
            ),
            tagger(
                catalogue.ZD_FIELD_LEVEL,
                "Escalation level",
                dict(zip(catalogue.LEVELS, catalogue.ZD_LEVEL_TAGS.values(), strict=True)),
            ),
            text_field(catalogue.ZD_FIELD_OWNER, "Escalation owner"),
            text_field(catalogue.ZD_FIELD_SLA_DUE, "Escalation SLA due"),
            text_field(catalogue.ZD_FIELD_REASON, "Escalation reason", "textarea"),
        ],
        "organization_fields": [
            {
                "id": 360_000_300_001,
                "type": "text",
                "key": catalogue.ZD_ORG_FIELD_SF_ID,
                "title": "Salesforce Account ID",
            }
        ],
    }
