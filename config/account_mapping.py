"""Where the account matrix's decisions are written: account fields, the task, the organisation.

- `mapping.salesforce.account_matrix.write`: the account's level, owner, reasons and next
  outreach due, on the Account (fields of their own, beside the ticket rollups).
- `mapping.salesforce.account_matrix.task`: one open Task (or a custom object such as a CTA,
  with its own field names) per account and playbook, for the owner.
- `mapping.zendesk.organization`: the account's level on its Zendesk organisation (an
  organisation field and a tag), so agents see it on every ticket of the customer.
"""

from __future__ import annotations

from pydantic import Field

from config.base import StrictModel
from config.write_mapping import AccountMatrixWrite

_API_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


class TaskMapping(StrictModel):
    """The Salesforce object and fields of the playbook task. Defaults: the standard Task.

    Defaults are given as `default=`: mypy reads only a keyword default as one, and
    `Field(default_factory=TaskMapping)` below needs every field to have a default."""

    object: str = Field(default="Task", pattern=_API_NAME)
    subject_field: str = Field(default="Subject", pattern=_API_NAME)
    description_field: str = Field(default="Description", pattern=_API_NAME)
    due_field: str = Field(default="ActivityDate", pattern=_API_NAME)  # a date field
    priority_field: str | None = Field(default="Priority", pattern=_API_NAME)
    status_field: str = Field(default="Status", pattern=_API_NAME)
    related_field: str = Field(default="WhatId", pattern=_API_NAME)  # holds the Account Id
    # Holds the owner's User Id, looked up by the owner's email; None: left to Salesforce.
    owner_field: str | None = Field(default="OwnerId", pattern=_API_NAME)
    open_status: str = Field(default="Not Started", min_length=1)
    closed_status: str = Field(default="Completed", min_length=1)  # what we set when the level ends
    # Statuses that mean the task is done (a person may close it with any of them).
    closed_statuses: tuple[str, ...] = ("Completed",)
    # A text field holding our key ("<account id>/<playbook>"): found by it, whatever a person
    # does to the subject. None: the key is a marker at the end of the subject.
    key_field: str | None = Field(default=None, pattern=_API_NAME)
    # After a lost state file, a task of ours a person closed (last modified) within this many
    # days is honoured: no new one for the account and playbook. Older closed tasks are not
    # read at all (they pile up over the years).
    closed_lookback_days: int = Field(default=90, ge=1, le=3650)
    description_max_length: int = Field(default=32000, ge=100)


class SalesforceAccountMatrix(StrictModel):
    write: AccountMatrixWrite = Field(default_factory=AccountMatrixWrite)
    task: TaskMapping | None = Field(default_factory=TaskMapping)


class ZendeskOrganizationWrite(StrictModel):
    """The account level on the account's Zendesk organisation."""

    # The organisation field's key (organization_fields); None: no field is written.
    level_field: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")
    # Account level -> the value written (a dropdown's option tag); None: the level's name.
    options: dict[str, str] | None = None
    # The tag added for a level: prefix + the level made safe; None: no tag.
    tags_prefix: str | None = Field(default="account_", pattern=r"^[a-z0-9_\-/]+$")
