"""The customers behind the data set: CRM accounts, their Zendesk organisations, CRM staff.

One pass decides who exists and how they join across systems; the vendor modules only render
it. Dirty data decided here: Zendesk organisations with no account, accounts sharing one
Zendesk external id, accounts with no Zendesk organisation, null renewal dates, tier labels
outside the picklist, unicode names.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from sandbox.catalogue import SALESFORCE_USERNAME
from sandbox.generate_text import (
    DIRTY_TIERS,
    TLDS_BY_REGION,
    UNICODE_COMPANIES,
    company_name,
    person,
)
from sandbox.generate_values import (
    SALESFORCE_KEY_PREFIXES,
    ZENDESK_ORG_ID_START,
    iso_date,
    salesforce_id,
    sample_indices,
    spread_values,
)

DAY = 86_400
YEAR = 365 * DAY

REGION_TIME_ZONES = {
    "AMER": (
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "America/Sao_Paulo",
        "America/Toronto",
    ),
    "EMEA": (
        "Europe/London",
        "Europe/Berlin",
        "Europe/Paris",
        "Europe/Madrid",
        "Africa/Johannesburg",
        "Asia/Dubai",
    ),
    "APAC": ("Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "Asia/Kolkata", "Asia/Seoul"),
}
REGIONS = tuple(REGION_TIME_ZONES)
REGION_WEIGHTS = (45, 35, 20)
# Few strategic accounts, many standard ones.
TIER_WEIGHTS = {"strategic": 3, "enterprise": 12, "growth": 30, "standard": 55}
ARR_RANGES = {
    "strategic": (1_000_000, 6_000_000),
    "enterprise": (250_000, 1_200_000),
    "growth": (50_000, 300_000),
    "standard": (5_000, 60_000),
}
# Bigger customers open more tickets: relative chance that a ticket belongs to them.
TICKET_WEIGHTS = {"strategic": 12.0, "enterprise": 6.0, "growth": 3.0, "standard": 1.0}
ORPHAN_ORG_TICKET_WEIGHT = 2.0
HEALTH_VALUES = ("Green", "Yellow", "Red", None)
HEALTH_WEIGHTS = (60, 25, 10, 5)
STAFF_DOMAIN = "example.com"

DUPLICATE_EXTERNAL_ID_RATE = 0.01
NO_ORG_RATE = 0.02
ORPHAN_ORG_RATE = 0.03
NULL_RENEWAL_RATE = 0.03
DIRTY_TIER_RATE = 0.02
UNICODE_NAME_RATE = 0.04
ORG_FIELD_ACCOUNT_ID_RATE = 0.6  # orgs whose salesforce_account_id field an admin filled in
STANDARD_WITHOUT_CSM_RATE = 0.15


@dataclass(frozen=True, slots=True)
class CrmUser:
    user_id: str
    name: str
    email: str
    modified_ts: int


@dataclass(frozen=True, slots=True)
class Company:
    """A Salesforce account, with the values it holds as the CRM stores them."""

    account_id: str
    name: str
    domain: str
    tier: str  # the true tier, drives ARR and ticket volume
    tier_label: str | None  # what Tier__c holds (sometimes not a picklist value)
    arr: float
    region: str
    time_zone: str
    health: str | None
    renewal_date: str | None
    owner_id: str
    csm_email: str | None
    external_id: str | None
    created_ts: int
    modified_ts: int


@dataclass(frozen=True, slots=True)
class Org:
    """A Zendesk organisation; `account_id` is set when it belongs to a CRM account."""

    org_id: int
    name: str
    domain: str
    external_id: str | None
    account_id: str | None
    account_id_field: str | None  # the organization_fields value, when filled in
    ticket_weight: float
    time_zone: str
    created_ts: int
    updated_ts: int


@dataclass(frozen=True, slots=True)
class World:
    companies: tuple[Company, ...]
    orgs: tuple[Org, ...]
    crm_users: tuple[CrmUser, ...]


class _UniqueNames:
    """Hands out unique names and domains: Zendesk refuses two organisations with one name."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def make(self, name: str, slug: str) -> tuple[str, str]:
        self._seen[slug] += 1
        count = self._seen[slug]
        if count == 1:
            return name, slug
        return f"{name} {count}", f"{slug}{count}"


def build_world(rng: random.Random, accounts: int, anchor_ts: int) -> World:
    """Decide the accounts, their organisations and the CRM staff for a data set."""
    crm_users = _crm_users(rng, max(4, accounts // 40), anchor_ts)
    # Duplicates and accounts without an organisation need a few ordinary accounts beside them.
    duplicates = max(1, round(accounts * DUPLICATE_EXTERNAL_ID_RATE)) if accounts >= 3 else 0
    primaries = accounts - duplicates
    names = _UniqueNames()
    without_org = sample_indices(rng, primaries, NO_ORG_RATE) if primaries >= 3 else frozenset()
    unicode_names = spread_values(
        sample_indices(rng, primaries, UNICODE_NAME_RATE), UNICODE_COMPANIES
    )
    null_renewals = sample_indices(rng, primaries, NULL_RENEWAL_RATE)
    dirty_tiers = spread_values(sample_indices(rng, primaries, DIRTY_TIER_RATE), DIRTY_TIERS)
    owners = crm_users[1 : 1 + (len(crm_users) - 1) // 2]
    csms = crm_users[1 + (len(crm_users) - 1) // 2 :]

    companies: list[Company] = []
    orgs: list[Org] = []
    for index in range(primaries):
        name, slug = unicode_names[index] if index in unicode_names else company_name(rng)
        name, slug = names.make(name, slug)
        tier = rng.choices(tuple(TIER_WEIGHTS), weights=tuple(TIER_WEIGHTS.values()))[0]
        region = rng.choices(REGIONS, weights=REGION_WEIGHTS)[0]
        low, high = ARR_RANGES[tier]
        csm = rng.choice(csms)
        no_csm = tier == "standard" and rng.random() < STANDARD_WITHOUT_CSM_RATE
        company = Company(
            account_id=salesforce_id(SALESFORCE_KEY_PREFIXES["Account"], index + 1),
            name=name,
            domain=slug + rng.choice(TLDS_BY_REGION[region]),
            tier=tier,
            tier_label=dirty_tiers.get(index, tier),
            arr=float(rng.randrange(low, high, 100)),
            region=region,
            time_zone=rng.choice(REGION_TIME_ZONES[region]),
            health=rng.choices(HEALTH_VALUES, weights=HEALTH_WEIGHTS)[0],
            # Renewals spread over the next 18 months; some already lapsed.
            renewal_date=None
            if index in null_renewals
            else iso_date(anchor_ts + rng.randint(-60, 540) * DAY),
            owner_id=rng.choice(owners).user_id,
            csm_email=None if no_csm else csm.email,
            external_id=None if index in without_org else f"CUST-{100_000 + index}",
            created_ts=anchor_ts - rng.randint(YEAR, 6 * YEAR),
            modified_ts=anchor_ts - rng.randint(120, 90 * DAY),
        )
        companies.append(company)
        if company.external_id is not None:
            orgs.append(_org_for(rng, company, len(orgs), anchor_ts))
    companies.extend(_duplicates(rng, companies, duplicates, anchor_ts))
    orgs.extend(_orphan_orgs(rng, names, primaries, len(orgs), anchor_ts))
    return World(tuple(companies), tuple(orgs), crm_users)


def _org_for(rng: random.Random, company: Company, position: int, anchor_ts: int) -> Org:
    filled = rng.random() < ORG_FIELD_ACCOUNT_ID_RATE
    return Org(
        org_id=ZENDESK_ORG_ID_START + position,
        name=company.name,
        domain=company.domain,
        external_id=company.external_id,
        account_id=company.account_id,
        account_id_field=company.account_id if filled else None,
        ticket_weight=TICKET_WEIGHTS[company.tier],
        time_zone=company.time_zone,
        created_ts=anchor_ts - rng.randint(YEAR, 5 * YEAR),
        updated_ts=anchor_ts - rng.randint(DAY, 180 * DAY),
    )


def _duplicates(
    rng: random.Random, companies: list[Company], count: int, anchor_ts: int
) -> list[Company]:
    """Second accounts for an existing customer, created by a migration or by hand."""
    donors = [company for company in companies if company.external_id is not None]
    if not donors:
        return []
    duplicates = []
    for offset in range(count):
        donor = rng.choice(donors)
        duplicates.append(
            Company(
                account_id=salesforce_id(
                    SALESFORCE_KEY_PREFIXES["Account"], len(companies) + offset + 1
                ),
                name=donor.name + rng.choice((" (old)", " - Migrated", " [DUPLICATE]")),
                domain=donor.domain,
                tier=donor.tier,
                tier_label=donor.tier_label,
                arr=donor.arr,
                region=donor.region,
                time_zone=donor.time_zone,
                health=None,
                renewal_date=donor.renewal_date,
                owner_id=donor.owner_id,
                csm_email=donor.csm_email,
                external_id=donor.external_id,
                created_ts=anchor_ts - rng.randint(30 * DAY, YEAR),
                modified_ts=anchor_ts - rng.randint(120, 90 * DAY),
            )
        )
    return duplicates


def _orphan_orgs(
    rng: random.Random, names: _UniqueNames, primaries: int, first: int, anchor_ts: int
) -> list[Org]:
    """Zendesk organisations no CRM account matches: trials, partners, typos."""
    count = max(1, round(primaries * ORPHAN_ORG_RATE)) if primaries > 0 else 0
    orgs = []
    for offset in range(count):
        name, domain_slug = names.make(*company_name(rng))
        region = rng.choice(REGIONS)
        orgs.append(
            Org(
                org_id=ZENDESK_ORG_ID_START + first + offset,
                name=name,
                domain=domain_slug + rng.choice(TLDS_BY_REGION[region]),
                # Half carry an external id that no account holds, half none at all.
                external_id=f"TRIAL-{offset:05d}" if offset % 2 == 0 else None,
                account_id=None,
                account_id_field=None,
                ticket_weight=ORPHAN_ORG_TICKET_WEIGHT,
                time_zone=rng.choice(REGION_TIME_ZONES[region]),
                created_ts=anchor_ts - rng.randint(30 * DAY, 3 * YEAR),
                updated_ts=anchor_ts - rng.randint(DAY, 180 * DAY),
            )
        )
    return orgs


def _crm_users(rng: random.Random, count: int, anchor_ts: int) -> tuple[CrmUser, ...]:
    """CRM staff: the integration user first, then account owners and CSMs."""
    prefix = SALESFORCE_KEY_PREFIXES["User"]
    users = [
        CrmUser(
            salesforce_id(prefix, 1), "Escalation Sync", SALESFORCE_USERNAME, anchor_ts - 30 * DAY
        )
    ]
    local_parts: Counter[str] = Counter()
    for serial in range(2, count + 2):
        name, local = person(rng)
        local_parts[local] += 1
        if local_parts[local] > 1:
            local = f"{local}{local_parts[local]}"
        users.append(
            CrmUser(
                user_id=salesforce_id(prefix, serial),
                name=name,
                email=f"{local}@{STAFF_DOMAIN}",
                modified_ts=anchor_ts - rng.randint(DAY, YEAR),
            )
        )
    return tuple(users)
