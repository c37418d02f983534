"""The debrief's two "channels": a Salesforce Task and a Zendesk private note, made once.

They plug into the outbox's Deliverer like Slack or e-mail, with one difference: each looks
for the debrief's marker on the record before making it (the Task's subject on the account;
the note among the ticket's comments). So a row a killed run left `sending` is simply sent
again (`IDEMPOTENT`), and a row planned again after the state file was lost finds what the
first one made and makes nothing.
"""

from __future__ import annotations

from typing import Any

from simple_salesforce.exceptions import SalesforceError

from connectors.base import FieldWrite, WriteStatus
from connectors.channels import TURNED_OFF, SendResult, SendStatus
from connectors.errors import AuthError, ConnectorError, RateLimited, SystemUnavailable
from connectors.salesforce_records import find_records, save_records
from notify.debrief import NOTE_CHANNEL, TASK_CHANNEL
from vocabulary.instances import split_instance

IDEMPOTENT = (TASK_CHANNEL, NOTE_CHANNEL)  # resent after a kill: they look before they make
# After these the debrief waits for a later run, never given up: the system is busy, out of
# allowance or refusing our credentials (the run says so and exits 5; once the secret is
# fixed, the debrief goes).
WAITS = (AuthError, RateLimited, SystemUnavailable)
_STATUS = {
    WriteStatus.OK: SendStatus.SENT,
    WriteStatus.REJECTED: SendStatus.REJECTED,
    WriteStatus.RETRY: SendStatus.RETRY,
    WriteStatus.CONFLICT: SendStatus.RETRY,
}


class SalesforceTaskChannel:
    """A Task on the account (WhatId), for the owner when Salesforce knows them by e-mail.

    With several orgs (sync/instances.py SalesforceOrgs) the Task is made in the org of the
    account (`eu/001...`: org eu, on its Id `001...`), its owner looked up there."""

    name = TASK_CHANNEL

    def __init__(self, connector: Any):
        self.connector = connector
        self._users: dict[tuple[str | None, str], str | None] = {}

    def send(self, message: Any) -> SendResult:
        payload = dict(message.payload or {})
        marker = str(payload["marker"])
        org, account_id = _org_of(self.connector, str(message.to))
        connector = _member(self.connector, org)
        if org in getattr(self.connector, "turned_off", ()):
            return SendResult(message.key, SendStatus.RETRY, f"{TURNED_OFF}salesforce@{org}")
        if connector is None:
            why = f"salesforce@{org} could not be reached this run"
            return SendResult(message.key, SendStatus.RETRY, why)
        try:
            found = find_records(connector, "Task", ["Subject"], "WhatId", [account_id])
            existing = next((r for r in found if marker in str(r.data.get("Subject") or "")), None)
            if existing is not None:
                return SendResult(message.key, SendStatus.SENT, "already there", existing.id)
            fields = {
                "Subject": message.subject,
                "Description": message.text[:32000],
                "ActivityDate": payload["due"],
                "WhatId": account_id,
                "Status": "Not Started",
            }
            owner_id = self._user_id(connector, org, payload.get("owner"))
            if owner_id:
                fields["OwnerId"] = owner_id
            write = FieldWrite("salesforce", "task", message.key, fields)
            outcome = save_records(connector, "Task", [write], create=True)[0]
        except WAITS as error:
            return SendResult(message.key, SendStatus.RETRY, _waiting(org, error))
        except (ConnectorError, SalesforceError) as error:  # refused for good: say so, once
            return SendResult(message.key, SendStatus.REJECTED, _one_line(error))
        status = _STATUS[outcome.result.status]
        return SendResult(message.key, status, outcome.result.reason or "", outcome.record_id)

    def _user_id(self, connector: Any, org: str | None, owner: object) -> str | None:
        """The owner's User Id by e-mail in the org; None for a queue or someone it lacks."""
        if not isinstance(owner, str) or "@" not in owner:
            return None
        if (org, owner) not in self._users:
            try:
                users = find_records(connector, "User", ["Email"], "Email", [owner])
            except SalesforceError:  # an org that lets us not read users: left to Salesforce
                users = []
            self._users[(org, owner)] = users[0].id if users else None
        return self._users[(org, owner)]

    def close(self) -> None:
        """The connector belongs to the run, which closes it."""


class ZendeskNoteChannel:
    """A private note on the ticket, through the connector's own update (a job)."""

    name = NOTE_CHANNEL

    def __init__(self, connector: Any):
        self.connector = connector

    def send(self, message: Any) -> SendResult:
        marker = str((message.payload or {})["marker"])
        zendesk, _ = _org_of(self.connector, str(message.to))  # its Zendesk, by the same split
        if zendesk in getattr(self.connector, "turned_off", ()):
            return SendResult(message.key, SendStatus.RETRY, f"{TURNED_OFF}zendesk@{zendesk}")
        try:
            texts = self.connector.read_note_texts(message.to)
            if any(marker in text for text in texts):
                return SendResult(message.key, SendStatus.SENT, "already there")
            write = FieldWrite("zendesk", "ticket", message.to, note=message.text)
            result = self.connector.apply([write])[0]
        except WAITS as error:
            return SendResult(message.key, SendStatus.RETRY, str(error))
        except ConnectorError as error:  # the ticket is gone or not ours to read: for good
            return SendResult(message.key, SendStatus.REJECTED, _one_line(error))
        return SendResult(message.key, _STATUS[result.status], result.reason or "")

    def close(self) -> None:
        """The connector belongs to the run, which closes it."""


def _org_of(connector: Any, account_id: str) -> tuple[str | None, str]:
    """(the org, None for the default; the account's Id in it)."""
    names = getattr(connector, "names", None)
    return split_instance(account_id, names) if names else (None, account_id)


def _member(connector: Any, org: str | None) -> Any:
    """The org's own connector: one of several orgs', or the only one."""
    members = getattr(connector, "members", None)
    return connector if members is None else members.get(org)


def _waiting(org: str | None, error: Exception) -> str:
    """Why a debrief waits, naming a named org (salesforce@eu) when it is one's."""
    return str(error) if org is None else f"salesforce@{org}: {error}"


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__


def debrief_channels(connectors: Any) -> dict[str, Any]:
    """The debrief channels the run's connectors allow (a system not configured: none)."""
    channels: dict[str, Any] = {}
    if connectors.get("salesforce") is not None:
        # Of several orgs (sync/instances.py SalesforceOrgs), each Task goes to its account's.
        channels[TASK_CHANNEL] = SalesforceTaskChannel(connectors["salesforce"])
    if connectors.get("zendesk") is not None:
        channels[NOTE_CHANNEL] = ZendeskNoteChannel(connectors["zendesk"])
    return channels
