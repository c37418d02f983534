"""Zendesk's side of the data set: field definitions, organisations and users (zendesk.json).

Tickets are built in generate_tickets.py from the people made here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox.catalogue import (
    CATEGORIES,
    LEVELS,
    ZD_CATEGORY_TAGS,
    ZD_FIELD_ACCOUNT_ID,
    ZD_FIELD_CATEGORY,
    ZD_FIELD_LEVEL,
    ZD_FIELD_OWNER,
    ZD_FIELD_REASON,
    ZD_FIELD_SLA_DUE,
    ZD_LEVEL_TAGS,
    ZD_ORG_FIELD_SF_ID,
    ZENDESK_EMAIL,
)
from sandbox.generate_companies import DAY, STAFF_DOMAIN, YEAR, Org, World
from sandbox.generate_text import person
from sandbox.generate_values import ZENDESK_BASE_URL, ZENDESK_USER_ID_START, zendesk_time

SYSTEM_FIELD_ID_START = 360_000_000_001
ORG_FIELD_ID = 360_000_300_001
FREE_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.co.jp", "web.de", "proton.me")
# Zendesk reports both its own zone name and the IANA one.
ZENDESK_ZONE_NAMES = {
    "America/New_York": "Eastern Time (US & Canada)",
    "America/Toronto": "Eastern Time (US & Canada)",
    "America/Chicago": "Central Time (US & Canada)",
    "America/Los_Angeles": "Pacific Time (US & Canada)",
    "America/Sao_Paulo": "Brasilia",
    "Europe/London": "London",
    "Europe/Berlin": "Berlin",
    "Europe/Paris": "Paris",
    "Europe/Madrid": "Madrid",
    "Africa/Johannesburg": "Pretoria",
    "Asia/Dubai": "Abu Dhabi",
    "Asia/Tokyo": "Tokyo",
    "Asia/Singapore": "Singapore",
    "Australia/Sydney": "Sydney",
    "Asia/Kolkata": "New Delhi",
    "Asia/Seoul": "Seoul",
    "UTC": "UTC",
}


@dataclass(frozen=True, slots=True)
class Person:
    user_id: int
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class People:
    """Who can appear on a ticket, with the Zendesk user records they came from."""

    users: list[dict[str, Any]]
    agents: list[Person]
    contacts_by_org: list[list[Person]]  # parallel to World.orgs
    # End users with no organisation: some write from a customer's own domain (the e-mail
    # domain join finds them), others from free-mail addresses (nothing finds them).
    orgless_customer_domain: list[Person]
    orgless_free_mail: list[Person]


def ticket_fields(anchor_ts: int) -> list[dict[str, Any]]:
    """System fields and every custom field the catalogue names, as GET /ticket_fields returns."""
    created = anchor_ts - 2 * YEAR
    system = [
        _field(SYSTEM_FIELD_ID_START + position, kind, title, created, position, system=True)
        for position, (kind, title) in enumerate(
            (
                ("subject", "Subject"),
                ("description", "Description"),
                ("status", "Status"),
                ("tickettype", "Type"),
                ("priority", "Priority"),
                ("group", "Group"),
                ("assignee", "Assignee"),
            )
        )
    ]
    category_options = [(c.capitalize(), ZD_CATEGORY_TAGS[c]) for c in CATEGORIES]
    level_options = [
        (level.replace("-", " ").capitalize(), ZD_LEVEL_TAGS[level]) for level in LEVELS
    ]
    custom = [
        _field(ZD_FIELD_ACCOUNT_ID, "text", "Salesforce Account ID", created, 10),
        _field(ZD_FIELD_CATEGORY, "tagger", "Category", created, 11, options=category_options),
        _field(ZD_FIELD_LEVEL, "tagger", "Escalation level", created, 20, options=level_options),
        _field(ZD_FIELD_OWNER, "text", "Escalation owner", created, 21),
        _field(ZD_FIELD_SLA_DUE, "text", "Escalation SLA due", created, 22),
        _field(ZD_FIELD_REASON, "textarea", "Escalation reason", created, 23),
    ]
    return system + custom


def _field(
    field_id: int,
    kind: str,
    title: str,
    created_ts: int,
    position: int,
    system: bool = False,
    options: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    stamp = zendesk_time(created_ts)
    field: dict[str, Any] = {
        "url": f"{ZENDESK_BASE_URL}/api/v2/ticket_fields/{field_id}.json",
        "id": field_id,
        "type": kind,
        "title": title,
        "raw_title": title,
        "description": "",
        "raw_description": "",
        "position": position,
        "active": True,
        "required": False,
        "collapsed_for_agents": False,
        "regexp_for_validation": None,
        "title_in_portal": title,
        "raw_title_in_portal": title,
        "visible_in_portal": kind in ("subject", "description"),
        "editable_in_portal": kind in ("subject", "description"),
        "required_in_portal": kind in ("subject", "description"),
        "agent_can_edit": True,
        "tag": None,
        "created_at": stamp,
        "updated_at": stamp,
        "removable": not system,
        "agent_description": None,
    }
    if options is not None:
        field["custom_field_options"] = [
            {
                "id": field_id * 1000 + position + 1,  # unique across fields
                "name": name,
                "raw_name": name,
                "value": tag,
                "default": False,
            }
            for position, (name, tag) in enumerate(options)
        ]
    return field


def organization_fields(anchor_ts: int) -> list[dict[str, Any]]:
    """The organisation field holding the Salesforce account id."""
    stamp = zendesk_time(anchor_ts - 2 * YEAR)
    return [
        {
            "url": f"{ZENDESK_BASE_URL}/api/v2/organization_fields/{ORG_FIELD_ID}.json",
            "id": ORG_FIELD_ID,
            "type": "text",
            "key": ZD_ORG_FIELD_SF_ID,
            "title": "Salesforce Account ID",
            "raw_title": "Salesforce Account ID",
            "description": "Set by the CRM integration or an admin",
            "raw_description": "Set by the CRM integration or an admin",
            "position": 0,
            "active": True,
            "system": False,
            "regexp_for_validation": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
    ]


def organization(org: Org) -> dict[str, Any]:
    """An organisation as GET /api/v2/organizations/{id} returns it."""
    return {
        "url": f"{ZENDESK_BASE_URL}/api/v2/organizations/{org.org_id}.json",
        "id": org.org_id,
        "name": org.name,
        "shared_tickets": False,
        "shared_comments": False,
        "external_id": org.external_id,
        "created_at": zendesk_time(org.created_ts),
        "updated_at": zendesk_time(org.updated_ts),
        "domain_names": [org.domain],
        "details": "",
        "notes": "",
        "group_id": None,
        "tags": [],
        "organization_fields": {ZD_ORG_FIELD_SF_ID: org.account_id_field},
    }


class _UserFactory:
    def __init__(self, rng: random.Random, anchor_ts: int):
        self.rng = rng
        self.anchor_ts = anchor_ts
        self.users: list[dict[str, Any]] = []

    def add(self, role: str, name: str, email: str, org_id: int | None, time_zone: str) -> Person:
        user_id = ZENDESK_USER_ID_START + len(self.users)
        created = self.anchor_ts - self.rng.randint(DAY, 3 * YEAR)
        self.users.append(
            {
                "url": f"{ZENDESK_BASE_URL}/api/v2/users/{user_id}.json",
                "id": user_id,
                "name": name,
                "email": email,
                "role": role,
                "organization_id": org_id,
                "time_zone": ZENDESK_ZONE_NAMES.get(time_zone, "UTC"),
                "iana_time_zone": time_zone,
                "locale": "en-US",
                "active": True,
                "verified": True,
                "suspended": False,
                "external_id": None,
                "tags": [],
                "created_at": zendesk_time(created),
                "updated_at": zendesk_time(self.rng.randint(created, self.anchor_ts - 120)),
            }
        )
        return Person(user_id, name, email)


def build_people(rng: random.Random, world: World, tickets: int, anchor_ts: int) -> People:
    """The integration admin, support agents, and the customers' contacts."""
    factory = _UserFactory(rng, anchor_ts)
    factory.add("admin", "Escalation Sync", ZENDESK_EMAIL, None, "UTC")
    agents = [
        factory.add("agent", name, f"{local}.{index}@{STAFF_DOMAIN}", None, "UTC")
        for index, (name, local) in enumerate(person(rng) for _ in range(max(3, tickets // 500)))
    ]
    contacts_by_org = []
    for org in world.orgs:
        # Customers that write more tickets have more people writing them.
        count = rng.randint(1, max(1, round(org.ticket_weight / 2)))
        contacts_by_org.append(
            [_contact(factory, org.domain, org.org_id, org.time_zone) for _ in range(count)]
        )
    pool_size = max(1, len(world.orgs) // 50)
    customer_domain = []
    if world.companies:
        for _ in range(pool_size):
            company = rng.choice(world.companies)
            customer_domain.append(_contact(factory, company.domain, None, company.time_zone))
    free_mail = [
        _contact(factory, rng.choice(FREE_MAIL_DOMAINS), None, "UTC") for _ in range(pool_size)
    ]
    return People(factory.users, agents, contacts_by_org, customer_domain, free_mail)


def _contact(factory: _UserFactory, domain: str, org_id: int | None, time_zone: str) -> Person:
    name, local = person(factory.rng)
    # The user id keeps addresses unique without a lookup.
    email = f"{local}.{len(factory.users)}@{domain}"
    return factory.add("end-user", name, email, org_id, time_zone)
