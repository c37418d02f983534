"""What a configuration expects to find in each system: the fields we write, their kinds and
options, and the vendor fields whose values a translate table names. Pure: config in, data out.

Doctor compares these with what the systems hold; provision creates what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.schema import Config
from config.write_mapping import LEVEL_OUTPUTS, WriteField

# Outputs -> the name a person sees on the created field.
TITLES = {
    "level": "Escalation level",
    "owner": "Escalation owner",
    "owner_backup": "Escalation backup",
    "owner_role": "Escalation role",
    "sla_next_due": "Escalation SLA due",
    "sla_state": "Escalation SLA state",
    "reason": "Escalation reason",
    "customer_tier": "Customer tier",
    "renewal_date": "Renewal date",
    "arr": "Customer ARR",
    "open_escalations": "Open escalations",
    "highest_level": "Highest escalation level",
    "next_breach_at": "Next SLA breach",
    "ticket_ref": "Ticket reference",
    "system": "Ticket system",
    "subject": "Subject",
    "status": "Ticket status",
    "url": "Ticket URL",
    "account_id": "Account",
    "severity": "Severity",
    "category": "Category",
    "account_level": "Account escalation level",
    "account_owner": "Account escalation owner",
    "account_reason": "Account escalation reason",
    "next_outreach_due": "Next outreach due",
    "task_key": "Escalation task key",
}
LONG_TEXT_OUTPUTS = frozenset({"reason", "account_reason"})  # written as multi-line text


@dataclass(frozen=True)
class WantedField:
    """One field we write: where (system, object, field), as what, with which options."""

    system: str  # zendesk | jira | salesforce
    output: str  # our output name: level, owner...
    field: str  # Zendesk id, Jira field id, Salesforce API name
    kind: str  # dropdown, text, long_text, datetime, date, number, label, reference, external_id
    key_path: tuple[str, ...]  # where the config names the field (what provision rewrites)
    options: tuple[str, ...] = ()  # the option values we write (tags, option names, picklist)
    option_names: tuple[str, ...] = ()  # our value of each option (level names), same order
    object_name: str | None = None  # Salesforce: Account or the ticket record object
    max_length: int | None = None
    # Salesforce reference fields: the object they point at (a task's owner: User)
    reference_to: str = "Account"
    # A standard field (Task.Subject): found or not, never created; its picklist values are
    # added by a person (Setup), so a missing one is a problem doctor names, not a step.
    standard: bool = False

    @property
    def title(self) -> str:
        return TITLES.get(self.output, self.output.replace("_", " ").capitalize())

    @property
    def label(self) -> str:
        where = f"{self.object_name}." if self.object_name else ""
        return f"{self.output} ({where}{self.field})"


@dataclass(frozen=True)
class TranslatedSource:
    """A vendor field read through a translate table: its keys should be the field's options."""

    system: str
    attribute: str
    field: str  # Zendesk id, Jira field id, Salesforce API name (Account)
    values: tuple[str, ...]
    key_path: tuple[str, ...]


def wanted_fields(config: Config) -> list[WantedField]:
    """Every field the enabled systems' write mappings name."""
    mapping, enabled = config.mapping, config.connections.enabled_systems()
    levels = tuple(config.matrix.levels)
    found: list[WantedField] = []
    if "zendesk" in enabled:
        found += _writes("zendesk", mapping.zendesk.write.outputs(), ("mapping", "zendesk", "write"), None, levels)  # fmt: skip
    if "jira" in enabled:
        found += _writes("jira", mapping.jira.write.outputs(), ("mapping", "jira", "write"), None, levels)  # fmt: skip
    if "salesforce" in enabled:
        sf = mapping.salesforce
        found += _writes(
            "salesforce", sf.write.outputs(), ("mapping", "salesforce", "write"), "Account", levels
        )
        record = sf.ticket_record
        if record is not None:
            path = ("mapping", "salesforce", "ticket_record")
            found += _writes(
                "salesforce", record.fields.outputs(), (*path, "fields"), record.object, levels
            )
            found.append(WantedField("salesforce", "ticket_ref", record.external_id_field,
                                     "external_id", (*path, "external_id_field"), object_name=record.object))  # fmt: skip
        found += account_matrix_fields(config)
    return [f for f in found if f.kind != "label"]


def account_matrix_fields(config: Config) -> list[WantedField]:
    """The account matrix's Salesforce fields (matrix.accounts enabled): its account fields,
    with one picklist value per account level, and the playbook task's object and fields,
    with the statuses and priorities we write among their picklist values."""
    accounts, matrix_write = config.matrix.accounts, config.mapping.salesforce.account_matrix
    if accounts is None or matrix_write is None:
        return []
    path = ("mapping", "salesforce", "account_matrix")
    levels = tuple(accounts.levels)
    found = _writes("salesforce", matrix_write.write.outputs(), (*path, "write"), "Account", levels)
    task = matrix_write.task
    if task is None:
        return found
    statuses = tuple(dict.fromkeys((task.open_status, task.closed_status)))
    priorities = tuple(dict.fromkeys(p.priority for p in accounts.playbooks.values()))
    task_path = (*path, "task")
    rows: list[tuple[str, str | None, str, tuple[str, ...], str]] = [
        ("subject", task.subject_field, "text", (), "subject_field"),
        ("reason", task.description_field, "long_text", (), "description_field"),
        ("next_outreach_due", task.due_field, "date", (), "due_field"),
        ("status", task.status_field, "dropdown", statuses, "status_field"),
        ("priority", task.priority_field, "dropdown", priorities, "priority_field"),
        ("account_id", task.related_field, "reference", (), "related_field"),
        ("owner", task.owner_field, "reference", (), "owner_field"),
        ("task_key", task.key_field, "text", (), "key_field"),
    ]
    for output, field, kind, options, key in rows:
        if field is None:
            continue
        found.append(
            WantedField(
                "salesforce",
                output,
                field,
                kind,
                (*task_path, key),
                options,
                options,
                task.object,
                255 if output in ("subject", "task_key") else None,
                "User" if output == "owner" else "Account",
                standard=not field.endswith("__c"),
            )
        )
    return found


def _writes(
    system: str,
    outputs: dict[str, WriteField],
    path: tuple[str, ...],
    object_name: str | None,
    levels: tuple[str, ...],
) -> list[WantedField]:
    found = []
    for output, write in outputs.items():
        kind = write.format
        if kind in ("text", "datetime_text"):
            kind = "long_text" if output in LONG_TEXT_OUTPUTS else "text"
        if system == "salesforce" and output == "account_id":
            kind = "reference"
        if system == "salesforce" and write.field == "Name":
            kind = "name"  # the object's own Name field: it comes with the object
        options = write.options or {}
        if not options and output in (*LEVEL_OUTPUTS, "account_level"):
            # a level written as text is the level's name: a picklist must hold every one
            options = {level: level for level in levels}
        found.append(
            WantedField(
                system,
                output,
                write.field,
                kind,
                (*path, output),
                tuple(options.values()),
                tuple(options),
                object_name,
                write.max_length,
            )  # fmt: skip
        )
    return found


_ZENDESK_CUSTOM = re.compile(r"^custom_fields\[(\d+)\]$")
_JIRA_VALUE = re.compile(r"^fields\.(customfield_\d+)(?:\.value)?$")
_SALESFORCE_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def translated_sources(config: Config) -> list[TranslatedSource]:
    """Vendor fields read through a translate table, with the source values the table names."""
    mapping, enabled = config.mapping, config.connections.enabled_systems()
    tables = []
    if "zendesk" in enabled:
        tables.append(("zendesk", mapping.zendesk.ticket.mapped(), _ZENDESK_CUSTOM))
    if "jira" in enabled:
        tables.append(("jira", mapping.jira.ticket.mapped(), _JIRA_VALUE))
    if "salesforce" in enabled:
        tables.append(("salesforce", mapping.salesforce.account.mapped(), _SALESFORCE_FIELD))
    found = []
    section = {"zendesk": "ticket", "jira": "ticket", "salesforce": "account"}
    for system, mapped, pattern in tables:
        for attribute, read in mapped.items():
            sources = [read.source] if isinstance(read.source, str) else list(read.source)
            match = pattern.match(sources[0]) if len(sources) == 1 else None
            if match and read.translate:
                field = match.group(1) if match.groups() else match.group(0)
                path = ("mapping", system, section[system], attribute, "translate")
                found.append(
                    TranslatedSource(system, attribute, field, tuple(read.translate), path)
                )
    return found
