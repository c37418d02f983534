"""Write mappings: which field of each system receives which of our outputs, in what format.

An output is named once per system, e.g.

    level: {field: 360001234, format: dropdown, options: {none: esc_none, advisory: esc_advisory}}
    owner: 360001235            # short form: just the field; the format follows from the output

`field` is a Zendesk ticket field id, a Jira field id (customfield_10171) or a Salesforce API
name (Open_Escalations__c). A `dropdown` needs `options`: our value -> the option's value (the
tag for Zendesk, the option name for Jira, the picklist value for Salesforce).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, create_model, field_validator, model_validator

from config.base import RelativeProblem, StrictModel

Format = Literal["dropdown", "text", "datetime_text", "datetime", "date", "number", "label"]

# What each output holds decides the formats it may be written in.
OutputKind = Literal["choice", "text", "datetime", "date", "number", "label"]
FORMATS_BY_KIND: dict[str, tuple[str, ...]] = {
    "choice": ("dropdown", "text"),
    "text": ("text",),
    "datetime": ("datetime", "datetime_text", "date"),
    "date": ("date", "text"),
    "number": ("number", "text"),
    "label": ("label",),
}
FORMATS_BY_SYSTEM: dict[str, tuple[str, ...]] = {
    # Zendesk has no date-time field type: due times go in a text field.
    "zendesk": ("dropdown", "text", "datetime_text", "date", "number"),
    "jira": ("dropdown", "text", "datetime_text", "datetime", "date", "number", "label"),
    "salesforce": ("dropdown", "text", "datetime_text", "datetime", "date", "number"),
}
# Outputs whose dropdown options are keyed by level name; checked against the matrix.
LEVEL_OUTPUTS = ("level", "highest_level")

_NOT_IN_SLUG = re.compile(r"[^a-z0-9_-]+")


def slug(name: str) -> str:
    """A level name as a Zendesk tag or Jira label can hold it: lowercase, and every run of
    characters other than a-z, 0-9, _ and - replaced by one _ ("war room: CEO" ->
    "war_room_ceo"). Zendesk lowercases tags and splits them at spaces; Jira refuses a label
    with a space, and with it the whole edit of the issue."""
    return _NOT_IN_SLUG.sub("_", name.lower())


def level_tag(prefix: str, level: str) -> str:
    """The tag (Zendesk) or label (Jira) we own for a level: prefix + slug of the level."""
    return f"{prefix}{slug(level)}"


TICKET_OUTPUTS: dict[str, OutputKind] = {
    "level": "choice",
    "owner": "text",
    "owner_backup": "text",
    "owner_role": "choice",
    "sla_next_due": "datetime",
    "sla_state": "choice",
    "reason": "text",
}
JIRA_OUTPUTS: dict[str, OutputKind] = {
    **TICKET_OUTPUTS,
    "customer_tier": "choice",
    "renewal_date": "date",
    "arr": "number",
    "label": "label",
}
SALESFORCE_ACCOUNT_OUTPUTS: dict[str, OutputKind] = {
    "open_escalations": "number",
    "highest_level": "choice",
    "next_breach_at": "datetime",
}
# What the account matrix (matrix.accounts) writes on the account, apart from the rollups.
ACCOUNT_MATRIX_OUTPUTS: dict[str, OutputKind] = {
    "account_level": "choice",
    "account_owner": "text",
    "account_reason": "text",
    "next_outreach_due": "date",
}
TICKET_RECORD_OUTPUTS: dict[str, OutputKind] = {
    "ticket_ref": "text",
    "system": "text",
    "subject": "text",
    "status": "text",
    "url": "text",
    "account_id": "text",
    "severity": "number",
    "category": "text",
    **TICKET_OUTPUTS,
}

_FIELD_PATTERNS = {
    "zendesk": (re.compile(r"^\d+$"), "the numeric id of a Zendesk ticket field, e.g. 360001234"),
    "jira": (
        re.compile(r"^(customfield_\d+|labels|duedate)$"),
        "a Jira field id such as customfield_10171 (or labels, duedate)",
    ),
    "salesforce": (
        re.compile(r"^[A-Za-z][A-Za-z0-9_]*$"),
        "a Salesforce field API name such as Level__c",
    ),
}


class WriteField(StrictModel):
    field: str
    format: Format
    options: dict[str, str] | None = None  # our value -> the system's option value
    prefix: str | None = None  # label format: the label is prefix + slug(level name)
    max_length: int | None = Field(default=None, ge=1)  # text is cut to fit the field

    @field_validator("field", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("options", mode="before")
    @classmethod
    def _options_as_text(cls, table: Any) -> Any:
        if isinstance(table, dict):
            return {
                str(key): str(value) if isinstance(value, int | float) else value
                for key, value in table.items()
            }
        return table


def _default_format(system: str, kind: OutputKind, entry: dict[str, Any]) -> str:
    if kind == "choice":
        return "dropdown" if entry.get("options") else "text"
    if kind == "datetime":
        return "datetime_text" if system == "zendesk" else "datetime"
    return kind


class WriteMappingBase(StrictModel):
    """Base of the per-system write mappings: one optional field per output."""

    target_system: ClassVar[str] = ""
    output_kinds: ClassVar[dict[str, OutputKind]] = {}

    @model_validator(mode="before")
    @classmethod
    def _expand(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        expanded: dict[str, Any] = {}
        for name, entry in given.items():
            kind = cls.output_kinds.get(name)
            if kind is not None and isinstance(entry, str | int) and not isinstance(entry, bool):
                entry = {"field": entry}
            if kind is not None and isinstance(entry, dict):
                entry = dict(entry)
                entry.setdefault("format", _default_format(cls.target_system, kind, entry))
                if kind == "label":
                    entry.setdefault("field", "labels")
            expanded[name] = entry
        return expanded

    def outputs(self) -> dict[str, WriteField]:
        """Output name -> where and how it is written, for every output that is mapped."""
        return {
            name: getattr(self, name)
            for name in self.output_kinds
            if getattr(self, name) is not None
        }

    def config_problems(self) -> list[RelativeProblem]:
        problems: list[RelativeProblem] = []
        pattern, expected_field = _FIELD_PATTERNS[self.target_system]
        for name, write in self.outputs().items():
            kind = self.output_kinds[name]
            allowed = [
                f for f in FORMATS_BY_KIND[kind] if f in FORMATS_BY_SYSTEM[self.target_system]
            ]
            if write.format not in allowed:
                problems.append(
                    (
                        (name, "format"),
                        f"found '{write.format}'; {name} can be written as {' or '.join(allowed)}",
                    )
                )
            if write.format == "dropdown" and not write.options:
                problems.append(
                    (
                        (name, "options"),
                        "missing; a dropdown needs options: our value -> the option's value",
                    )
                )
            if write.format == "label" and not (write.options or write.prefix):
                problems.append(((name,), "a label needs options (level -> label) or a prefix"))
            if not pattern.match(write.field):
                problems.append(
                    ((name, "field"), f"found '{write.field}'; expected {expected_field}")
                )
        return problems


def _write_model(name: str, system: str, kinds: dict[str, OutputKind]) -> type[WriteMappingBase]:
    field_definitions: dict[str, Any] = {output: (WriteField | None, None) for output in kinds}
    model = create_model(name, __base__=WriteMappingBase, **field_definitions)
    model.target_system = system
    model.output_kinds = kinds
    return model


if TYPE_CHECKING:
    # The type checker cannot see the fields create_model adds from the output tables: it sees
    # the base class, plus the outputs that code reads by name.
    class ZendeskWrite(WriteMappingBase):
        level: WriteField | None = None

    class JiraWrite(WriteMappingBase):
        level: WriteField | None = None
        label: WriteField | None = None

    SalesforceAccountWrite = WriteMappingBase
    TicketRecordWrite = WriteMappingBase
    AccountMatrixWrite = WriteMappingBase
else:
    ZendeskWrite = _write_model("ZendeskWrite", "zendesk", TICKET_OUTPUTS)
    JiraWrite = _write_model("JiraWrite", "jira", JIRA_OUTPUTS)
    SalesforceAccountWrite = _write_model(
        "SalesforceAccountWrite", "salesforce", SALESFORCE_ACCOUNT_OUTPUTS
    )
    TicketRecordWrite = _write_model("TicketRecordWrite", "salesforce", TICKET_RECORD_OUTPUTS)
    AccountMatrixWrite = _write_model("AccountMatrixWrite", "salesforce", ACCOUNT_MATRIX_OUTPUTS)


class SalesforceTicketRecord(StrictModel):
    """Optional: one Salesforce record per escalated ticket, upserted by an external id."""

    object: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")  # e.g. Escalation__c
    external_id_field: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")  # holds "zendesk:123"
    # Which tickets get a record: those at or above this level (None: every ticket with a level
    # above the lowest).
    min_level: str | None = None
    # A ticket deleted (or marked as spam, or merged into another) ends its escalation; its
    # record is then "close"d (upserted at the lowest level, kept for the history) or "delete"d.
    when_ticket_deleted: Literal["close", "delete"] = "close"
    # A record a person deleted (found by the periodic reconciliation, sync.reconcile) is
    # "recreate"d with what it should hold, or its deletion is "honour"ed: never written again.
    when_deleted_by_person: Literal["recreate", "honour"] = "recreate"
    fields: TicketRecordWrite
