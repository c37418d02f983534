"""Zendesk organisations: `PUT /api/v2/organizations/{id}.json`, one organisation a request.

The account matrix writes an organisation field and a tag. Zendesk merges
`organization_fields` key by key and replaces `tags` as a whole, so the write carries the
organisation's full tag list: its tags as last read, with ours added and removed.
An update is idempotent, so the shared transport may repeat it after a reset; 4xx other than
401/403/429 is the vendor's refusal of this record (rejected, with its words).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import requests

from connectors.base import FieldWrite, WriteResult, WriteStatus
from connectors.errors import AuthError, RateLimited, SystemUnavailable
from connectors.transport import WriteOutcomeUnknown
from connectors.zendesk import ZendeskConnector, _vendor_words


def update_organizations(
    connector: ZendeskConnector,
    writes: Sequence[FieldWrite],
    tags_now: Mapping[str, Sequence[str]],
) -> list[WriteResult]:
    """One result per write, in order. `tags_now`: organisation id -> its tags as last read.

    Raises AuthError when Zendesk refuses our credentials; once it stops answering, the
    remaining writes are RETRY.
    """
    results: list[WriteResult] = []
    stop_reason: str | None = None
    for write in writes:
        if not write.record_id.isdigit():
            results.append(
                WriteResult(write, WriteStatus.REJECTED, "not a Zendesk organisation id")
            )
            continue
        if stop_reason is not None:
            results.append(WriteResult(write, WriteStatus.RETRY, stop_reason))
            continue
        result, unreachable = _update(connector, write, tags_now.get(write.record_id, ()))
        if unreachable:
            stop_reason = result.reason
        results.append(result)
    return results


def organization_body(write: FieldWrite, tags_now: Sequence[str]) -> dict[str, object]:
    """The PUT body: the fields to set, and the whole tag list when ours change."""
    body: dict[str, object] = {}
    if write.fields:
        body["organization_fields"] = dict(write.fields)
    if write.tags_add or write.tags_remove:
        tags = (set(tags_now) - set(write.tags_remove)) | set(write.tags_add)
        body["tags"] = sorted(tags)
    return {"organization": body}


def _update(
    connector: ZendeskConnector, write: FieldWrite, tags_now: Sequence[str]
) -> tuple[WriteResult, bool]:
    """The result, and whether Zendesk is out of reach for the rest of the run."""
    path = f"/organizations/{write.record_id}.json"
    try:
        response = connector.session.put(
            connector.base_url + path,
            json=organization_body(write, tags_now),
            timeout=connector.timeout,
        )
    except WriteOutcomeUnknown as error:
        return WriteResult(write, WriteStatus.RETRY, str(error)), False
    except (RateLimited, SystemUnavailable) as error:
        return WriteResult(write, WriteStatus.RETRY, str(error)), True
    except requests.RequestException as error:
        reason = f"zendesk: PUT {path} failed ({type(error).__name__})"
        return WriteResult(write, WriteStatus.RETRY, reason), False
    status = response.status_code
    if status < 300:
        return WriteResult(write, WriteStatus.OK), False
    words = _vendor_words(response)
    if status in (401, 403):
        raise AuthError(f"zendesk: PUT {path} refused our credentials (HTTP {status}: {words})")
    if status == 429 or status >= 500:
        reason = f"zendesk: PUT {path} answered HTTP {status}"
        return WriteResult(write, WriteStatus.RETRY, reason), True
    return WriteResult(write, WriteStatus.REJECTED, f"HTTP {status}: {words}"), False
