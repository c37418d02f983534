"""A small world for integration tests: the sandbox with generated data, a config that
points at it, and runs of the real sync (real clients, real HTTPS on 127.0.0.1)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.loader import load_config
from config.schema import Config
from connectors.transport import RetryPolicy
from connectors.zendesk import JobPolling, ZendeskConnector
from sandbox import catalogue
from sandbox.generate import generate_dataset, write_dataset
from sandbox.runner import DATA_FILES, Sandbox
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config
from sync.connections import build_connectors
from sync.run import RunResult, run_once
from sync.state import StateStore
from sync.state_open import open_store

ANCHOR = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
SIZES = {"accounts": 30, "tickets": 240, "jira_issues": 30, "seed": 11}
# The sandbox runs an update_many job 0.05 s after it is queued (sandbox/zendesk/jobs.py): a run
# against it polls from then on, not after the 0.2 s a real Zendesk job takes at least (the
# default JobPolling). Backing off and giving up stay the default's.
SANDBOX_JOB_POLLING = JobPolling(first_wait_seconds=0.05)


def write_world_data(folder: Path, **sizes: int) -> Path:
    wanted = {**SIZES, **sizes}
    dataset = generate_dataset(
        wanted["accounts"], wanted["tickets"], wanted["jira_issues"], wanted["seed"], anchor=ANCHOR
    )
    write_dataset(dataset, folder)
    return folder


def poll_jobs_as_the_sandbox_runs_them(connectors: Any) -> None:
    """Every Zendesk connector among `connectors` (named instances too) polls its jobs with
    SANDBOX_JOB_POLLING."""
    for connector in connectors:
        members = getattr(connector, "members", None)
        if members is not None:
            poll_jobs_as_the_sandbox_runs_them(members.values())
        elif isinstance(connector, ZendeskConnector):
            connector.job_polling = SANDBOX_JOB_POLLING


def use_state_url(config_path: Path, url: str) -> None:
    """Point a sandbox config's state at a PostgreSQL URL (password: PASSWORD_ENV)."""
    from tests.postgres_server import PASSWORD_ENV

    text = config_path.read_text(encoding="utf-8")
    file_state = "state:\n  path: state/escalation-sync.sqlite\n"
    assert file_state in text
    config_path.write_text(
        text.replace(file_state, f"state:\n  url: {url}\n  password_env: {PASSWORD_ENV}\n"),
        encoding="utf-8",
    )


def reconcile_every_run(world: World, max_requests: int = 100) -> None:
    """The world's config reconciles on every run (`sync.reconcile.every_hours: 0`) within
    `max_requests` requests per instance name."""
    main = world.config_path
    main.write_text(
        main.read_text(encoding="utf-8")
        + f"sync:\n  reconcile:\n    every_hours: 0\n    max_requests: {max_requests}\n",
        encoding="utf-8",
    )
    world.config = load_config(main)


@contextmanager
def wrong_secret(variable: str, wrong: str) -> Iterator[None]:
    """The secret in the environment variable `variable` replaced by `wrong` for the block (an
    instance refusing us), the right one back after it."""
    right = os.environ[variable]
    os.environ[variable] = wrong
    try:
        yield
    finally:
        os.environ[variable] = right


def distrust(config_path: Path, system: str) -> None:
    """Make `system` unreachable at once: its ca_bundle becomes the public CAs' (certifi),
    which did not sign the sandbox's certificate. A closed port would do too, but a refused
    connection is tried again (15 s of backoff) before the system counts as unreachable."""
    import certifi
    import yaml

    connections = config_path.with_name("connections.yaml")
    data = yaml.safe_load(connections.read_text(encoding="utf-8"))
    data["connections"][system]["ca_bundle"] = certifi.where()
    connections.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


class World:
    """One test's view: fresh sandbox state, fresh sync state, runs at chosen moments."""

    def __init__(
        self,
        sandbox: Sandbox,
        data: Path,
        folder: Path,
        extra_config: str = "",
        notifications: str | None = None,
        state_url: str | None = None,
    ):
        """`state_url`: a PostgreSQL state (the `state_url` fixture) instead of the file."""
        self.sandbox = sandbox
        self.data = data
        for name, filename in DATA_FILES.items():
            sandbox.apps[name].load_state(json.loads((data / filename).read_text(encoding="utf-8")))
        sandbox.reset_traffic()
        sandbox.clear_faults()
        for name, value in ENVIRONMENT.items():
            os.environ[name] = value
        self.config_path = write_sandbox_config(
            folder / "config",
            sandbox.urls,
            sandbox.ca_path,
            extra=extra_config,
            notifications=notifications,
        )
        if state_url is not None:
            use_state_url(self.config_path, state_url)
        self.config: Config = load_config(self.config_path)
        self.now = ANCHOR + timedelta(minutes=5)

    def run(
        self, now: datetime | None = None, dry_run: bool = False, policy: RetryPolicy | None = None
    ) -> RunResult:
        """One sync run in this process through the real connectors."""
        self.now = now or self.now
        connectors = build_connectors(self.config, policy or RetryPolicy(max_total_wait_seconds=30))
        poll_jobs_as_the_sandbox_runs_them(connectors.values())
        store = self.store()
        try:
            return run_once(self.config, connectors, store, self.now, dry_run=dry_run)
        finally:
            store.close()
            for connector in connectors.values():
                connector.close()

    def settle(self) -> None:
        """Let the vendors' last writes become readable (Zendesk exports lag one minute)."""
        self.sandbox.zendesk.advance_clock(61)

    def store(self) -> StateStore:
        if self.config.state.url is None:
            return StateStore(self.config.state.path)
        return open_store(self.config.state)

    # -- reading the systems back -------------------------------------------------------------
    def zendesk_field(self, ticket_id: int | str, field_id: int) -> Any:
        ticket = self.sandbox.zendesk.get_ticket(int(ticket_id))
        return next((f["value"] for f in ticket["custom_fields"] if f["id"] == field_id), None)

    def zendesk_level(self, ticket_id: int | str) -> str | None:
        tag = self.zendesk_field(ticket_id, catalogue.ZD_FIELD_LEVEL)
        return tag.removeprefix("esc_level_").replace("_", "-") if tag else None

    def zendesk_notes(self, ticket_id: int | str) -> list[str]:
        return [
            c["body"]
            for c in self.sandbox.zendesk.comments(int(ticket_id))
            if "[escalation-sync:" in c.get("body", "")
        ]

    def writes(self) -> dict[str, int]:
        return {name: len(app.traffic.writes) for name, app in self.sandbox.apps.items()}

    def snapshot(self) -> dict[str, Any]:
        """Every value we manage, in every system: what a fault-free run is compared with."""
        zendesk_fields = (
            catalogue.ZD_FIELD_LEVEL,
            catalogue.ZD_FIELD_OWNER,
            catalogue.ZD_FIELD_SLA_DUE,
            catalogue.ZD_FIELD_REASON,
        )
        zendesk = {}
        for ticket in self.sandbox.zendesk.store.tickets.values():
            if ticket.get("status") == "deleted":
                continue  # gone for everyone but the export: no value of ours is seen
            fields = {
                f["id"]: f["value"] for f in ticket["custom_fields"] if f["id"] in zendesk_fields
            }
            tags = sorted(t for t in ticket["tags"] if t.startswith("escalation_"))
            notes = len(
                [
                    c
                    for c in self.sandbox.zendesk.comments(ticket["id"])
                    if "[escalation-sync:" in c.get("body", "")
                ]
            )
            zendesk[ticket["id"]] = (fields, tags, notes)
        jira_fields = (
            "customfield_10200",
            "customfield_10201",
            "customfield_10202",
            "customfield_10203",
            "customfield_10204",
        )
        jira = {}
        for key in sorted(self.sandbox.jira.store.rows):
            issue = self.sandbox.jira.get_issue(key)
            fields = {f: issue["fields"].get(f) for f in jira_fields}
            labels = sorted(
                label
                for label in issue["fields"].get("labels", [])
                if label.startswith("escalation-")
            )
            jira[key] = (json.dumps(fields, sort_keys=True), labels)
        accounts = {
            r["Id"]: (
                r.get("Open_Escalations__c"),
                r.get("Highest_Escalation_Level__c"),
                r.get("Next_SLA_Breach__c"),
            )
            for r in self.sandbox.salesforce.records("Account")
        }
        records = {
            r["Ticket_Ref__c"]: (
                r.get("Level__c"),
                r.get("Owner__c"),
                r.get("SLA_Due__c"),
                r.get("Reason__c"),
            )
            for r in self.sandbox.salesforce.records("Escalation__c")
        }
        return {
            "zendesk": zendesk,
            "jira": jira,
            "accounts": accounts,
            "records": records,
            "record_count": len(self.sandbox.salesforce.records("Escalation__c")),
        }
