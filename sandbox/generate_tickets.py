"""Zendesk tickets, as GET /api/v2/tickets/{id} returns them (plus generated_timestamp), and
their metric sets (generate_timeline.py decides each ticket's status and times).

Per-ticket choices are drawn in bulk with `random.choices` where possible: this loop runs
100k times for the scale benchmark. Dirty data decided here: tickets with no organisation
(some from a customer's own e-mail domain), unicode subjects, subjects of a few kilobytes,
subjects that look like JQL or SOQL, and account ids pasted in their 15-character form.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

from sandbox.catalogue import (
    CATEGORIES,
    ZD_CATEGORY_TAGS,
    ZD_FIELD_ACCOUNT_ID,
    ZD_FIELD_CATEGORY,
    ZD_FIELD_LEVEL,
    ZD_FIELD_OWNER,
    ZD_FIELD_REASON,
    ZD_FIELD_SLA_DUE,
)
from sandbox.generate_companies import World
from sandbox.generate_text import (
    INJECTION_SUBJECTS,
    UNICODE_SUBJECTS,
    description,
    long_subject,
    subject,
)
from sandbox.generate_timeline import build_timeline, metric_set
from sandbox.generate_values import (
    ZENDESK_BASE_URL,
    ZENDESK_TICKET_ID_START,
    sample_indices,
    spread_values,
    zendesk_time,
)
from sandbox.generate_zendesk import People, Person

PRIORITIES = ("urgent", "high", "normal", "low", None)
PRIORITY_WEIGHTS = (5, 20, 50, 15, 10)
TYPES = ("incident", "problem", "question", "task", None)
TYPE_WEIGHTS = (35, 5, 35, 5, 20)
TICKET_CATEGORIES = (*CATEGORIES, None)
# Most tickets are questions and defects; outages, contract disputes and privacy incidents
# (which the example matrix escalates on sight) are rare.
CATEGORY_WEIGHTS = {
    "outage": 4,
    "defect": 34,
    "contract": 4,
    "privacy": 2,
    "question": 44,
    None: 12,
}
CHANNELS = ("email", "web", "api", "chat")
CHANNEL_WEIGHTS = (50, 30, 10, 10)
GROUP_IDS = {
    "Support": 360_200_000_001,
    "Tier 2": 360_200_000_002,
    "Billing": 360_200_000_003,
    "Privacy": 360_200_000_004,
}
GROUP_BY_CATEGORY = {
    "outage": "Tier 2",
    "defect": "Tier 2",
    "contract": "Billing",
    "privacy": "Privacy",
}
EXTRA_TAGS = ("api", "sso", "billing", "mobile", "follow_up", "web_widget", "renewal")
SUPPORT_ADDRESS = "support@sandbox.zendesk.com"
TICKET_FORM_ID = 360_000_400_001
BRAND_ID = 360_000_500_001
LINKABLE_CATEGORIES = ("outage", "defect")  # what engineering gets Jira issues for

ORGLESS_CUSTOMER_DOMAIN_RATE = 0.02
ORGLESS_FREE_MAIL_RATE = 0.02
UNICODE_SUBJECT_RATE = 0.03
INJECTION_SUBJECT_RATE = 0.01
LONG_SUBJECT_RATE = 0.002
ACCOUNT_FIELD_RATE = 0.25  # tickets where an agent filled in the Salesforce account id
SHORT_ACCOUNT_ID_RATE = 0.04  # of those, pasted as the 15-character id


@dataclass(frozen=True, slots=True)
class TicketSet:
    tickets: list[dict[str, Any]]
    created_ts: list[int]  # parallel to tickets
    linkable: list[int]  # positions of tickets engineering would open an issue for
    metric_sets: list[dict[str, Any]]  # one per ticket, in ticket order


@dataclass(frozen=True, slots=True)
class _Requester:
    person: Person
    org_position: int | None


def build_tickets(
    rng: random.Random, world: World, people: People, count: int, anchor_ts: int
) -> TicketSet:
    """`count` tickets spread over the organisations, bigger customers getting more."""
    requesters = _requesters(rng, world, people, count)
    tiers = _tiers(world)
    priorities = rng.choices(PRIORITIES, weights=PRIORITY_WEIGHTS, k=count)
    types = rng.choices(TYPES, weights=TYPE_WEIGHTS, k=count)
    categories = rng.choices(TICKET_CATEGORIES, weights=tuple(CATEGORY_WEIGHTS.values()), k=count)
    channels = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS, k=count)
    subjects = _subjects(rng, categories)
    account_fields = _account_field_values(rng, world, requesters)

    tickets: list[dict[str, Any]] = []
    created: list[int] = []
    metric_sets: list[dict[str, Any]] = []
    for position in range(count):
        requester = requesters[position]
        category = categories[position]
        priority = "urgent" if category == "outage" and rng.random() < 0.5 else priorities[position]
        tier = "unknown" if requester.org_position is None else tiers[requester.org_position]
        timeline = build_timeline(rng, anchor_ts, tier, priority, category)
        status, created_ts, updated_ts = timeline.status, timeline.created_ts, timeline.updated_ts
        tags = [ZD_CATEGORY_TAGS[category]] if category else []
        if rng.random() < 0.3:
            tags.append(rng.choice(EXTRA_TAGS))
        org_id = (
            None if requester.org_position is None else world.orgs[requester.org_position].org_id
        )
        routing = _routing(rng, people, status, category, channels[position], requester.person)
        ticket_id = ZENDESK_TICKET_ID_START + position
        metric_sets.append(metric_set(ticket_id, timeline))
        tickets.append(
            {
                "url": f"{ZENDESK_BASE_URL}/api/v2/tickets/{ticket_id}.json",
                "id": ticket_id,
                "external_id": None,
                "via": routing["via"],
                "created_at": zendesk_time(created_ts),
                "updated_at": zendesk_time(updated_ts),
                "generated_timestamp": updated_ts,
                "type": types[position],
                "subject": subjects[position],
                "raw_subject": subjects[position],
                "description": description(
                    subjects[position], requester.person.name, _org_name(world, requester)
                ),
                "priority": priority,
                "status": status,
                "recipient": routing["recipient"],
                "requester_id": requester.person.user_id,
                "submitter_id": routing["submitter_id"],
                "assignee_id": routing["assignee_id"],
                "organization_id": org_id,
                "group_id": routing["group_id"],
                "collaborator_ids": [],
                "follower_ids": [],
                "email_cc_ids": [],
                "forum_topic_id": None,
                "problem_id": None,
                "has_incidents": False,
                "is_public": True,
                "due_at": None,
                "tags": tags,
                "custom_fields": _custom_fields(account_fields.get(position), category),
                "satisfaction_rating": None,
                "sharing_agreement_ids": [],
                "followup_ids": [],
                "ticket_form_id": TICKET_FORM_ID,
                "brand_id": BRAND_ID,
                "allow_channelback": False,
                "allow_attachments": True,
                "from_messaging_channel": channels[position] == "chat",
            }
        )
        created.append(created_ts)
    linkable = [
        position for position in range(count) if categories[position] in LINKABLE_CATEGORIES
    ]
    return TicketSet(tickets, created, linkable, metric_sets)


def _tiers(world: World) -> list[str]:
    """The true tier of each organisation's account, parallel to World.orgs."""
    by_account = {company.account_id: company.tier for company in world.companies}
    return [by_account.get(org.account_id or "", "unknown") for org in world.orgs]


def _requesters(rng: random.Random, world: World, people: People, count: int) -> list[_Requester]:
    """Who asked, and through which organisation (None: the ticket has no organisation)."""
    orgless_domain = sample_indices(rng, count, ORGLESS_CUSTOMER_DOMAIN_RATE)
    orgless_free = sample_indices(rng, count, ORGLESS_FREE_MAIL_RATE)
    org_positions: list[int] = []
    if world.orgs:
        cumulative = list(itertools.accumulate(org.ticket_weight for org in world.orgs))
        org_positions = rng.choices(range(len(world.orgs)), cum_weights=cumulative, k=count)
    requesters = []
    for position in range(count):
        if position in orgless_domain and people.orgless_customer_domain:
            requesters.append(_Requester(rng.choice(people.orgless_customer_domain), None))
        elif position in orgless_domain or position in orgless_free or not org_positions:
            requesters.append(_Requester(rng.choice(people.orgless_free_mail), None))
        else:
            org_position = org_positions[position]
            requesters.append(
                _Requester(rng.choice(people.contacts_by_org[org_position]), org_position)
            )
    return requesters


def _subjects(rng: random.Random, categories: list[str | None]) -> list[str]:
    count = len(categories)
    long_ones = sample_indices(rng, count, LONG_SUBJECT_RATE)
    injections = spread_values(
        sample_indices(rng, count, INJECTION_SUBJECT_RATE), INJECTION_SUBJECTS
    )
    unicode_ones = spread_values(sample_indices(rng, count, UNICODE_SUBJECT_RATE), UNICODE_SUBJECTS)
    subjects = []
    for position, category in enumerate(categories):
        if position in long_ones:
            subjects.append(long_subject(rng))
        else:
            subjects.append(
                injections.get(position) or unicode_ones.get(position) or subject(rng, category)
            )
    return subjects


def _account_field_values(
    rng: random.Random, world: World, requesters: list[_Requester]
) -> dict[int, str]:
    """Ticket position -> the Salesforce account id an agent typed into the ticket field."""
    eligible = [
        position
        for position, requester in enumerate(requesters)
        if requester.org_position is not None and world.orgs[requester.org_position].account_id
    ]
    chosen = sorted(sample_indices(rng, len(eligible), ACCOUNT_FIELD_RATE)) if eligible else []
    short = sample_indices(rng, len(chosen), SHORT_ACCOUNT_ID_RATE)
    values = {}
    for rank, eligible_index in enumerate(chosen):
        position = eligible[eligible_index]
        account_id = world.orgs[requesters[position].org_position].account_id
        values[position] = account_id[:15] if rank in short else account_id
    return values


def _routing(
    rng: random.Random,
    people: People,
    status: str,
    category: str | None,
    channel: str,
    requester: Person,
) -> dict[str, Any]:
    """Routing: channel, submitter, group and assignee."""
    agent = rng.choice(people.agents)
    if channel == "email":
        source = {
            "from": {"address": requester.email, "name": requester.name},
            "to": {"address": SUPPORT_ADDRESS, "name": "Support"},
            "rel": None,
        }
    else:
        source = {"from": {}, "to": {}, "rel": None}
    return {
        "via": {"channel": channel, "source": source},
        "recipient": SUPPORT_ADDRESS if channel == "email" else None,
        # Tickets created through the API are usually submitted by an agent or integration.
        "submitter_id": agent.user_id if channel == "api" else requester.user_id,
        "assignee_id": None if status == "new" else agent.user_id,
        "group_id": GROUP_IDS[GROUP_BY_CATEGORY.get(category or "", "Support")],
    }


def _custom_fields(account_id: str | None, category: str | None) -> list[dict[str, Any]]:
    """Every custom field on the form, as Zendesk lists them; the managed ones still empty."""
    return [
        {"id": ZD_FIELD_ACCOUNT_ID, "value": account_id},
        {"id": ZD_FIELD_CATEGORY, "value": ZD_CATEGORY_TAGS[category] if category else None},
        {"id": ZD_FIELD_LEVEL, "value": None},
        {"id": ZD_FIELD_OWNER, "value": None},
        {"id": ZD_FIELD_SLA_DUE, "value": None},
        {"id": ZD_FIELD_REASON, "value": None},
    ]


def _org_name(world: World, requester: _Requester) -> str | None:
    return None if requester.org_position is None else world.orgs[requester.org_position].name
