"""Background jobs of update_many: queued on submit, run a little later, polled by id.

A job runs once `delay_seconds` have passed, at the next request that reaches the app (or
at `run_due(force=True)`), so its effects are visible to every read that comes after it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.zendesk.store import ZendeskStore, zendesk_time

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


@dataclass
class Job:
    id: str
    tickets: list[dict[str, Any]]  # one update per ticket, as sent
    author_id: int
    due: float
    faults: JobFaults
    status: str = "queued"
    message: str | None = None
    results: list[dict[str, Any]] | None = None
    progress: int = 0

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

    def submit(self, tickets: list[dict[str, Any]], author_id: int, faults: JobFaults) -> Job:
        job_id = f"{next(self._serial):08x}{'0' * 24}"
        job = Job(job_id, tickets, author_id, self._monotonic() + self.delay_seconds, faults)
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
                results.append(
                    {
                        "id": ticket_id,
                        "index": index,
                        "action": "update",
                        "status": "Updated",
                        "success": True,
                    }
                )
            elif failure[0] == VALIDATION_FAILURE:
                results.append(validation_failure(index, ticket_id, failure[1]))
            else:
                error, details = failure
                results.append(
                    {
                        "id": ticket_id,
                        "index": index,
                        "action": "update",
                        "success": False,
                        "error": error,
                        "details": details,
                    }
                )
        job.status, job.results, job.progress = "completed", results, len(job.tickets)
        job.message = f"Completed at {zendesk_time(self.store.clock.timestamp())}"


def validation_failure(index: int, ticket_id: int, details: str) -> dict[str, Any]:
    """A ticket the job refused for its values, as Zendesk reports it: no `success`, no
    `action`, the error "<Resource>UpdateFailed" and the validation messages in `details`."""
    return {"index": index, "error": VALIDATION_FAILURE, "id": ticket_id, "details": details}
