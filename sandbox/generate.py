"""The deterministic data set the sandbox serves: Zendesk tickets, Jira issues, CRM accounts.

`generate_dataset` returns one dict per vendor in the shapes sandbox/catalogue.py describes;
`write_dataset` writes them as the files sandbox/runner.py loads. Same sizes, seed and anchor
give byte-identical files. Every time in the data is relative to `anchor`: tickets and issues
were created within the 90 days before it, renewals fall between two months before and
eighteen months after it.

Joins the data set offers (and the dirty data that breaks them at small seeded rates):
- Zendesk organisation external_id == Account.Zendesk_Org_External_Id__c (organisations no
  account matches; two accounts sharing one external id; accounts with none);
- organization_fields.salesforce_account_id and the ticket field ZD_FIELD_ACCOUNT_ID hold
  Account.Id when filled in (a few pasted as 15-character ids);
- requester e-mail domain == the domain of Account.Website (tickets with no organisation,
  some from a customer's domain, some from free-mail);
- Jira JIRA_FIELD_ZENDESK_TICKET lists ticket ids; those tickets carry jira_link_tag(key).
"""

from __future__ import annotations

import gc
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.generate_companies import build_world
from sandbox.generate_jira import JIRA_LINK_TAG_PREFIX, build_jira, jira_link_tag
from sandbox.generate_salesforce import salesforce_dataset
from sandbox.generate_tickets import build_tickets
from sandbox.generate_zendesk import build_people, organization, organization_fields, ticket_fields
from sandbox.runner import DATA_FILES

__all__ = [
    "JIRA_LINK_TAG_PREFIX",
    "default_anchor",
    "generate_dataset",
    "jira_link_tag",
    "write_dataset",
]


def default_anchor() -> datetime:
    """Now, in UTC, rounded down to the minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def generate_dataset(
    accounts: int, tickets: int, jira_issues: int, seed: int, anchor: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """{"zendesk": ..., "jira": ..., "salesforce": ...} for the given sizes, seed and anchor."""
    for name, size in (("accounts", accounts), ("tickets", tickets), ("jira_issues", jira_issues)):
        if size < 0:
            raise ValueError(f"{name} must not be negative, got {size}")
    if anchor is None:
        anchor = default_anchor()
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    with _gc_paused():
        return _generate(accounts, tickets, jira_issues, seed, int(anchor.timestamp()))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the data set is millions of acyclic containers, and
    collections triggered by allocating them more than double the generation time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _generate(
    accounts: int, tickets: int, jira_issues: int, seed: int, anchor_ts: int
) -> dict[str, dict[str, Any]]:
    # One generator per part: growing one part (more tickets) leaves the others unchanged.
    world = build_world(random.Random(f"{seed}:accounts"), accounts, anchor_ts)
    people = build_people(random.Random(f"{seed}:people"), world, tickets, anchor_ts)
    ticket_set = build_tickets(random.Random(f"{seed}:tickets"), world, people, tickets, anchor_ts)
    jira_set = build_jira(random.Random(f"{seed}:jira"), jira_issues, ticket_set, anchor_ts)
    for position, keys in jira_set.links.items():
        ticket_set.tickets[position]["tags"].extend(jira_link_tag(key) for key in keys)
    zendesk = {
        "tickets": ticket_set.tickets,
        "organizations": [organization(org) for org in world.orgs],
        "users": people.users,
        "ticket_fields": ticket_fields(anchor_ts),
        "organization_fields": organization_fields(anchor_ts),
        "ticket_metrics": ticket_set.metric_sets,
    }
    return {"zendesk": zendesk, "jira": jira_set.dataset, "salesforce": salesforce_dataset(world)}


def write_dataset(dataset: dict[str, dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Write each vendor's part to its file in `out_dir` (created if missing); returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for vendor, filename in DATA_FILES.items():
        path = out_dir / filename
        # dumps, not dump: json.dump streams through the pure-Python encoder, several times
        # slower. ASCII escapes, because the C encoder is about twice as fast with them.
        path.write_text(json.dumps(dataset[vendor], separators=(",", ":")), encoding="utf-8")
        written[vendor] = path
    return written
