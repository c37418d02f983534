"""Zendesk organisations: "Update Many Organizations" jobs, up to 100 organisations a job.

`PUT /api/v2/organizations/update_many.json` with `{"organizations": [{"id", ...}, ...]}`
(the batch form: each organisation its own changes) queues a job whose `job_status` is polled;
its results give one entry per organisation. A first run of the account matrix writes
thousands of organisations: in jobs of 100 that is 1/100 of the submissions one PUT each
took, plus the polls, against the account's shared rate limit.

The account matrix writes an organisation field and a tag. Zendesk merges
`organization_fields` key by key and replaces `tags` as a whole, so an item carries the
organisation's full tag list: its tags as last read, with ours added and removed.
The jobs go through the ticket writes' job path (`ZendeskConnector.update_in_jobs`): the
same batching, polling and outcomes (connectors/outcomes.py's ZENDESK_JOB_ITEM).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zenpy.lib.api_objects import Organization

from connectors.base import FieldWrite, WriteResult
from connectors.zendesk import ZendeskConnector
from connectors.zenpy_objects import make


def update_organizations(
    connector: ZendeskConnector,
    writes: Sequence[FieldWrite],
    tags_now: Mapping[str, Sequence[str]],
) -> list[WriteResult]:
    """One result per write, in order. `tags_now`: organisation id -> its tags as last read.

    OK once the job reports the organisation updated; REJECTED with Zendesk's words when its
    result is an error (an unknown id, a rule of the account) or the id is not numeric; RETRY
    when the outcome is unknown, and for every write left once Zendesk stops answering or
    rate limits us. Raises AuthError when Zendesk refuses our credentials.
    """

    def send(batch: list[FieldWrite]) -> Any:
        items = [
            make(Organization, organization_item(w, tags_now.get(w.record_id, ()))) for w in batch
        ]
        return connector.client.organizations.update(items)

    return connector.update_in_jobs(writes, "organisation", send)


def organization_item(write: FieldWrite, tags_now: Sequence[str]) -> dict[str, Any]:
    """One update_many item: the id, the fields to set, and the whole tag list when ours change."""
    item: dict[str, Any] = {"id": int(write.record_id)}
    if write.fields:
        item["organization_fields"] = dict(write.fields)
    if write.tags_add or write.tags_remove:
        tags = (set(tags_now) - set(write.tags_remove)) | set(write.tags_add)
        item["tags"] = sorted(tags)
    return item
