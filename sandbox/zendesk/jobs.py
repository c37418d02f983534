"""Background jobs of update_many (tickets, organisations): queued on submit, run a little
later, polled by id.

A job runs once `delay_seconds` have passed, at the next request that reaches the app (or
at `run_due(force=True)`), so its effects are visible to every read that comes after it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.faults import FaultPlan
from sandbox.zendesk.store import ZendeskStore, zendesk_time

# An organisation job's item: (index, organisation id, its changes) -> its result entry.
ItemUpdate = Callable[[int, int, dict[str, Any]], dict[str, Any]]

# The job_failure fault's default: a failure of Zendesk's own for now, retried next run.
DEFAULT_FAILURE = ("InternalError", "The ticket could not be updated, please retry")
# How a job reports a ticket's validation errors (a 422 RecordInvalid on a single-ticket PUT).
VALIDATION_FAILURE = "TicketUpdateFailed"


@dataclass
class JobFaults:
    """Vendor faults fixed when the job is submitted."""

    failing: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (error, details)
    agent_edits: frozenset[int] = frozenset()  # tickets a person edits just before the job runs
    job_failed: str | None = None  # the whole job fails with this message


def bulk_faults(faults: FaultPlan, endpoint: str, ids: list[int]) -> JobFaults:
    """The faults of any update_many job (`endpoint`: its route's name): `job_failure` (those
    ids, default all, fail with `error`/`details`) and `job_failed` (the whole job fails)."""
    found = JobFaults()
    failure = faults.take_vendor(endpoint, "job_failure")
    if failure is not None:
        chosen = failure.detail.get("ids") or ids
        reason = (
            failure.detail.get("error", DEFAULT_FAILURE[0]),
            failure.detail.get("details", DEFAULT_FAILURE[1]),
        )
        found.failing = {int(i): reason for i in chosen if int(i) in ids}
    failed = faults.take_vendor(endpoint, "job_failed")
    if failed is not None:
        found.job_failed = failed.detail.get("message", "Failed: the job was killed, please retry")
    return found


@dataclass
class Job:
    id: str
    tickets: list[dict[str, Any]]  # one update per record (ticket or organisation), as sent
    author_id: int
    due: float
    faults: JobFaults
    status: str = "queued"
    message: str | None = None
    results: list[dict[str, Any]] | None = None
    progress: int = 0
    update_item: ItemUpdate | None = None  # how an item is applied; None: a ticket job

    def as_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": f"{base_url}/api/v2/job_statuses/{self.id}.json",
            "job_type": "bulk_update",
            "total": len(self.tickets),
            "progress": self.progress,
            "status": self.status,
            "message": self.message,
            "results": self.results,
        }


class JobQueue:
    def __init__(
        self,
        store: ZendeskStore,
        agent_edit: Callable[[int], None],
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.jobs: dict[str, Job] = {}
        self.delay_seconds = 0.05
        self._agent_edit = agent_edit
        self._monotonic = monotonic
        self._serial = itertools.count(1)

    def submit(
        self,
        tickets: list[dict[str, Any]],
        author_id: int,
        faults: JobFaults,
        update_item: ItemUpdate | None = None,
    ) -> Job:
        """Queue a job of updates: tickets, or with `update_item` other records (organisations)."""
        job_id = f"{next(self._serial):08x}{'0' * 24}"
        job = Job(job_id, tickets, author_id, self._monotonic() + self.delay_seconds, faults)
        job.update_item = update_item
        self.jobs[job_id] = job
        return job

    def run_due(self, force: bool = False) -> None:
        now = self._monotonic()
        for job in self.jobs.values():
            if job.status in ("queued", "working") and (force or job.due <= now):
                self._run(job)

    def _run(self, job: Job) -> None:
        if job.faults.job_failed is not None:
            job.status, job.message, job.results = "failed", job.faults.job_failed, []
            return
        if job.update_item is not None:
            self._run_items(job, job.update_item)
            return
        results = []
        for index, changes in enumerate(job.tickets):
            ticket_id = int(changes.get("id") or 0)
            if ticket_id in job.faults.agent_edits:
                self._agent_edit(ticket_id)
            failure = job.faults.failing.get(ticket_id)
            if failure is None:
                refused = self.store.update_ticket(ticket_id, changes, job.author_id)
                if refused is not None and refused.status == 422:
                    results.append(validation_failure(index, ticket_id, refused.details))
                    continue
                failure = (refused.error, refused.details) if refused else None
            if failure is None:
                results.append(updated_item(index, ticket_id))
            elif failure[0] == VALIDATION_FAILURE:
                results.append(validation_failure(index, ticket_id, failure[1]))
            else:
                results.append(failed_item(index, ticket_id, *failure))
        job.status, job.results, job.progress = "completed", results, len(job.tickets)
        job.message = f"Completed at {zendesk_time(self.store.clock.timestamp())}"

    def _run_items(self, job: Job, update_item: ItemUpdate) -> None:
        results = []
        for index, changes in enumerate(job.tickets):
            record_id = int(changes.get("id") or 0)
            failure = job.faults.failing.get(record_id)
            if failure is None:
                results.append(update_item(index, record_id, changes))
            else:
                results.append(failed_item(index, record_id, *failure))
        job.status, job.results, job.progress = "completed", results, len(job.tickets)
        job.message = f"Completed at {zendesk_time(self.store.clock.timestamp())}"


def updated_item(index: int, record_id: int) -> dict[str, Any]:
    """A record the job updated."""
    return {
        "id": record_id,
        "index": index,
        "action": "update",
        "status": "Updated",
        "success": True,
    }


def failed_item(index: int, record_id: int, error: str, details: str) -> dict[str, Any]:
    """A record the job did not update for a reason other than its values (not found, a fault)."""
    return {
        "id": record_id,
        "index": index,
        "action": "update",
        "success": False,
        "error": error,
        "details": details,
    }


def validation_failure(
    index: int, ticket_id: int, details: str, error: str = VALIDATION_FAILURE
) -> dict[str, Any]:
    """A record the job refused for its values, as Zendesk reports it: no `success`, no
    `action`, the error "<Resource>UpdateFailed" and the validation messages in `details`."""
    return {"index": index, "error": error, "id": ticket_id, "details": details}
