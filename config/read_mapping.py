"""Read mappings: which vendor field fills which canonical attribute, and how values translate.

Each system starts from defaults an ops team would expect (Zendesk `priority` -> severity,
Jira status names and categories -> status, Salesforce `Name` -> name). In the YAML, an entry
WITH `source` replaces the default; an entry WITHOUT `source` adjusts it (its `translate`
entries are added to the default table); `null` switches the attribute off.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, create_model, field_validator, model_validator

from config.base import RelativeProblem, StrictModel
from config.problems import did_you_mean
from vocabulary.attributes import (
    ACCOUNT_ATTRIBUTES,
    COMPATIBLE_TYPES,
    REQUIRED_TICKET_ATTRIBUTES,
    TICKET_ATTRIBUTES,
    ValueKind,
)
from vocabulary.paths import SourcePath, parse_source_path
from vocabulary.values import ValueProblem, coerce, translation_key


class Unless(StrictModel):
    """`{source: <path>, in: [values]}`: the attribute is empty while the path holds a value."""

    source: str
    in_: list[str] = Field(alias="in", min_length=1)

    @field_validator("source")
    @classmethod
    def _parse_path(cls, value: str) -> str:
        parse_source_path(value)
        return value

    @field_validator("in_", mode="before")
    @classmethod
    def _as_text(cls, values: Any) -> Any:
        return [translation_key(v) for v in values] if isinstance(values, list) else values


class ReadField(StrictModel):
    """One canonical attribute: where it comes from and how its values translate."""

    # A path, or several tried in order: for a single value the first that yields a usable
    # value wins; for lists the values of all paths are joined.
    source: str | list[str]
    type: Literal["str", "int", "float", "date", "datetime", "list"] | None = None
    translate: dict[str, Any] | None = None  # source value (any case) -> canonical value
    keep_unknown: bool = False  # a value missing from `translate`: keep it (else `default`)
    default: Any = None
    prefix: str | None = None  # put before every value, e.g. "jira:" for linked issue keys
    # The source holds a number of minutes after another datetime attribute of the same record
    # (Zendesk's ticket metrics give the first reply as minutes after creation).
    minutes_after: str | None = None
    # Read nothing while another field of the record holds one of these values (Jira: an
    # issue still in the "new" status category has not been acknowledged, whatever the date).
    unless: Unless | None = None

    @field_validator("source")
    @classmethod
    def _parse_paths(cls, value: str | list[str]) -> str | list[str]:
        for text in [value] if isinstance(value, str) else value:
            parse_source_path(text)  # raises ValueError with the reason
        if isinstance(value, list) and not value:
            raise ValueError("found an empty list; expected at least one path")
        return value

    @field_validator("translate", mode="before")
    @classmethod
    def _text_keys(cls, table: Any) -> Any:
        # YAML makes 1, 2.5 or yes into numbers and booleans; match on the text form.
        if isinstance(table, dict):
            return {translation_key(key): value for key, value in table.items()}
        return table

    @property
    def paths(self) -> tuple[SourcePath, ...]:
        texts = [self.source] if isinstance(self.source, str) else self.source
        return tuple(parse_source_path(text) for text in texts)

    def value_kind(self, kind: ValueKind) -> ValueKind:
        """What the source value is read as: a number of minutes when `minutes_after` is set."""
        return "float" if self.minutes_after is not None else kind

    def check_kind(self, kind: ValueKind) -> list[RelativeProblem]:
        """Problems with this field filling an attribute of `kind`, relative to the field."""
        problems: list[RelativeProblem] = []
        kind = self.value_kind(kind)
        holds = f"holds {kind}" if self.minutes_after is None else "is read as minutes"
        if self.type is not None and self.type not in COMPATIBLE_TYPES[kind]:
            expected = " or ".join(COMPATIBLE_TYPES[kind])
            problems.append(
                (("type",), f"found '{self.type}'; this attribute {holds}, so expected {expected}")
            )
        for key, value in (self.translate or {}).items():
            if value is None:
                continue
            try:
                coerce(value, kind)
            except ValueProblem as problem:
                problems.append((("translate", key), f"{problem} (what this attribute holds)"))
        if self.default is not None:
            try:
                coerce(self.default, kind)
            except ValueProblem as problem:
                problems.append((("default",), f"{problem} (what this attribute holds)"))
        return problems


def _merge_entry(default: dict[str, Any] | None, given: Any) -> Any:
    if not isinstance(given, dict) or "source" in given or default is None:
        return given
    merged = {**default, **given}
    if isinstance(default.get("translate"), dict) and isinstance(given.get("translate"), dict):
        merged["translate"] = {**default["translate"], **given["translate"]}
    return merged


class ReadMappingBase(StrictModel):
    """Base of the per-system read mappings: one optional field per canonical attribute."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    attribute_kinds: ClassVar[dict[str, ValueKind]] = {}
    defaults: ClassVar[dict[str, dict[str, Any]]] = {}
    required: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, given: Any) -> Any:
        if given is None:
            given = {}
        if not isinstance(given, dict):
            return given
        merged: dict[str, Any] = {name: dict(entry) for name, entry in cls.defaults.items()}
        for name, entry in given.items():
            merged[name] = _merge_entry(cls.defaults.get(name), entry)
        return merged

    def mapped(self) -> dict[str, ReadField]:
        """Attribute -> its mapping, for every attribute that is mapped."""
        return {
            name: getattr(self, name)
            for name in self.attribute_kinds
            if getattr(self, name) is not None
        }

    def source_paths(self) -> tuple[SourcePath, ...]:
        """Every path read: connectors derive the fields to request from their heads."""
        return tuple(path for read in self.mapped().values() for path in read.paths)

    def config_problems(self) -> list[RelativeProblem]:
        problems: list[RelativeProblem] = []
        for name, read in self.mapped().items():
            problems.extend(
                ((name,) + path, message)
                for path, message in read.check_kind(self.attribute_kinds[name])
            )
        for name in self.required:
            if getattr(self, name) is None:
                problems.append(
                    ((name,), "switched off, but every record needs it; expected a mapping")
                )
        problems.extend(self._minutes_after_problems())
        return problems

    def _minutes_after_problems(self) -> list[RelativeProblem]:
        # The base must be read directly, so offsets never chain and their order never matters.
        mapped = self.mapped()
        bases = sorted(
            name
            for name, kind in self.attribute_kinds.items()
            if kind == "datetime" and name in mapped and mapped[name].minutes_after is None
        )
        expected = "expected a mapped date-time attribute read directly: " + (
            ", ".join(bases) or "none is mapped"
        )
        problems: list[RelativeProblem] = []
        for name, read in mapped.items():
            base = read.minutes_after
            if base is None or base in bases:
                continue
            if base not in self.attribute_kinds:
                found = (
                    f"found '{base}', which is not a canonical attribute{did_you_mean(base, bases)}"
                )
            elif self.attribute_kinds[base] != "datetime":
                found = f"found '{base}', which holds {self.attribute_kinds[base]}"
            elif base not in mapped:
                found = f"found '{base}', which is not mapped"
            else:
                found = f"found '{base}', itself counted in minutes after another attribute"
            problems.append(((name, "minutes_after"), f"{found}; {expected}"))
        return problems


_SIGNAL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def signal_kind(read: ReadField) -> ValueKind:
    """A signal holds a number when the mapping reads one (type int or float), else text."""
    return "float" if read.type in ("int", "float") else "str"


class AccountReadBase(ReadMappingBase):
    """The Salesforce account read mapping: the canonical attributes, and signals."""

    # Further account fields the account matrix reads as account.<name> (usage, NPS,
    # adoption...): a number with type int or float, else text (a picklist's value).
    signals: dict[str, ReadField] = {}

    def source_paths(self) -> tuple[SourcePath, ...]:
        signal_paths = tuple(path for read in self.signals.values() for path in read.paths)
        return super().source_paths() + signal_paths

    def config_problems(self) -> list[RelativeProblem]:
        problems = super().config_problems()
        for name, read in self.signals.items():
            if not _SIGNAL_NAME.match(name) or name in self.attribute_kinds:
                problems.append(
                    (
                        ("signals", name),
                        f"found '{name}'; a signal's name is lowercase letters, digits and _ "
                        "and not one of the account's attributes",
                    )
                )
            if read.type in ("date", "datetime", "list") or read.minutes_after or read.unless:
                problems.append(
                    (("signals", name), "a signal is a number (type int or float) or a text")
                )
                continue
            problems += [
                (("signals", name, *path), message)
                for path, message in read.check_kind(signal_kind(read))
            ]
        return problems


def _read_model(
    name: str,
    kinds: dict[str, ValueKind],
    defaults: dict[str, dict[str, Any]],
    required: tuple[str, ...],
    base: type[ReadMappingBase] = ReadMappingBase,
) -> type[ReadMappingBase]:
    field_definitions: dict[str, Any] = {attribute: (ReadField | None, None) for attribute in kinds}
    model = create_model(name, __base__=base, **field_definitions)
    model.attribute_kinds = kinds
    model.defaults = defaults
    model.required = required
    return model


ZENDESK_STATUSES = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
    "deleted": "deleted",
}

ZENDESK_TICKET_DEFAULTS: dict[str, dict[str, Any]] = {
    "subject": {"source": ["subject", "raw_subject"], "default": ""},
    "status": {"source": "status", "translate": ZENDESK_STATUSES},
    "created_at": {"source": "created_at"},
    "updated_at": {"source": "updated_at"},
    "severity": {
        "source": "priority",
        "translate": {"urgent": 1, "high": 2, "normal": 3, "low": 4},
    },
    "organization": {"source": ["organization.name", "organization_id"]},
    "requester_email": {"source": "requester.email"},
    "assignee": {"source": ["assignee.email", "assignee_id"]},
    "tags": {"source": "tags"},
    # Ticket metrics, sideloaded with include=metric_sets: the first reply comes as minutes
    # after creation (calendar time); the assignee's last update as a time.
    "first_response_at": {
        "source": "metric_set.reply_time_in_minutes.calendar",
        "minutes_after": "created_at",
    },
    "last_agent_update_at": {"source": "metric_set.assignee_updated_at"},
    "status_changed_at": {"source": "metric_set.status_updated_at"},
}

# Status names first (a workflow's own words), then the status category every Jira status has
# (new / indeterminate / done), so an unlisted name still lands somewhere sensible.
JIRA_STATUSES = {
    "to do": "new",
    "open": "open",
    "in progress": "open",
    "waiting for support": "open",
    "waiting for customer": "pending",
    "pending": "pending",
    "on hold": "on_hold",
    "resolved": "solved",
    "done": "closed",
    "closed": "closed",
    "new": "new",
    "indeterminate": "open",
}

JIRA_TICKET_DEFAULTS: dict[str, dict[str, Any]] = {
    "key": {"source": "key"},
    "subject": {"source": "fields.summary", "default": ""},
    "status": {
        "source": ["fields.status.name", "fields.status.statusCategory.key"],
        "translate": JIRA_STATUSES,
    },
    "created_at": {"source": "fields.created"},
    "updated_at": {"source": "fields.updated"},
    "severity": {
        "source": "fields.priority.name",
        "translate": {"highest": 1, "high": 2, "medium": 3, "low": 4, "lowest": 5},
    },
    "requester_email": {"source": "fields.reporter.emailAddress"},
    "assignee": {"source": ["fields.assignee.emailAddress", "fields.assignee.displayName"]},
    "tags": {"source": "fields.labels"},
    "linked": {
        "source": ["fields.issuelinks[*].outwardIssue.key", "fields.issuelinks[*].inwardIssue.key"],
        "prefix": "jira:",
    },
    # Engineering acknowledges an issue by starting work on it: the time its status category
    # left "new" (To Do). An issue still in To Do is not acknowledged, whatever that date says.
    "first_response_at": {
        "source": "fields.statuscategorychangedate",
        "unless": {"source": "fields.status.statusCategory.key", "in": ["new"]},
    },
}

SALESFORCE_ACCOUNT_DEFAULTS: dict[str, dict[str, Any]] = {
    "name": {"source": "Name"},
    "owner": {"source": "Owner.Email"},
    "domains": {"source": "Website"},
}

if TYPE_CHECKING:
    # The type checker cannot see the fields create_model adds from the attribute tables: it
    # sees the base class, plus the attributes that code reads by name.
    class TicketReadFields(ReadMappingBase):
        @property
        def status(self) -> ReadField:  # a required attribute of every ticket read
            ...

    ZendeskTicketRead = TicketReadFields
    JiraTicketRead = TicketReadFields

    class SalesforceAccountRead(AccountReadBase):
        tier: ReadField | None = None
        region: ReadField | None = None

else:
    ZendeskTicketRead = _read_model(
        "ZendeskTicketRead", TICKET_ATTRIBUTES, ZENDESK_TICKET_DEFAULTS, REQUIRED_TICKET_ATTRIBUTES
    )
    JiraTicketRead = _read_model(
        "JiraTicketRead", TICKET_ATTRIBUTES, JIRA_TICKET_DEFAULTS, REQUIRED_TICKET_ATTRIBUTES
    )
    SalesforceAccountRead = _read_model(
        "SalesforceAccountRead",
        ACCOUNT_ATTRIBUTES,
        SALESFORCE_ACCOUNT_DEFAULTS,
        (),
        AccountReadBase,
    )
