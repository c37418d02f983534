"""The emulated Jira site's records: issues, fields, select options and projects.

Issues are kept as GET /rest/api/3/issue/{key} returns them (v3: rich text as ADF). Each issue
also has a `Row` with what JQL filters and sorts on (epoch-millisecond times, the status
category, the key split into project and number), kept in step with every change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.clock import Clock
from sandbox.jira.contexts import FieldContexts

DEFAULT_TIME_ZONE = "Europe/Berlin"
RICH_TEXT_SYSTEM_FIELDS = frozenset({"description", "environment"})
FIRST_CUSTOM_FIELD_NUMBER = 10300
FIRST_OPTION_ID = 20000


def parse_jira_time(text: str) -> int:
    """Epoch milliseconds of a Jira timestamp ('2026-11-20T10:15:30.123+0100' or ISO forms)."""
    text = text.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0100 -> +01:00
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a Jira timestamp: {text!r}") from None
    if moment.tzinfo is None or "T" not in text:
        raise ValueError(f"not a Jira timestamp: {text!r}")
    return int(moment.timestamp() * 1000)


def format_jira_time(epoch_ms: int, zone: ZoneInfo) -> str:
    """Jira's rendering: milliseconds and a colon-less offset, in the user's time zone."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(zone)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}" + moment.strftime("%z")


@dataclass
class Row:
    key: str
    id: str
    project_id: str
    project_key: str
    number: int
    updated_ms: int
    created_ms: int
    category_key: str  # "new" | "indeterminate" | "done"


def _row(issue: dict[str, Any]) -> Row:
    fields = issue.get("fields") or {}
    project = fields.get("project") or {}
    key = issue["key"]
    prefix, _, number = key.rpartition("-")
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key", "new")
    updated = fields.get("updated")
    created = fields.get("created") or updated
    return Row(
        key=key,
        id=str(issue["id"]),
        project_id=str(project.get("id", "")),
        project_key=project.get("key", prefix),
        number=int(number) if number.isdigit() else 0,
        updated_ms=parse_jira_time(updated) if updated else 0,
        created_ms=parse_jira_time(created) if created else 0,
        category_key=category,
    )


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document, one paragraph per line."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_text(document: dict[str, Any]) -> str:
    """The text of an ADF document, paragraphs joined by newlines (what v2 returns)."""

    def text_of(node: dict[str, Any]) -> str:
        if node.get("type") == "text":
            return node.get("text", "")
        return "".join(text_of(child) for child in node.get("content") or [])

    return "\n".join(text_of(block) for block in document.get("content") or [])


class JiraStore:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.issues: dict[str, dict[str, Any]] = {}  # key -> issue
        self.rows: dict[str, Row] = {}
        self.keys_by_id: dict[str, str] = {}
        # A moved issue's former keys -> its id: Jira keeps them, so GET /issue/{old key} and
        # JQL `key = OLD-1` still find the issue (under its new key).
        self.moved_keys: dict[str, str] = {}
        self.fields: list[dict[str, Any]] = []
        self.options: dict[str, list[dict[str, Any]]] = {}  # field id -> [{id, value, disabled}]
        self.contexts = FieldContexts()  # which projects each custom field applies to
        self.projects: list[dict[str, Any]] = []
        self.time_zone = DEFAULT_TIME_ZONE
        self.version = 0  # bumped by every change; search caches results against it

    # -- state ---------------------------------------------------------------------------
    def load(self, state: dict[str, Any]) -> None:
        self.issues.clear()
        self.rows.clear()
        self.keys_by_id.clear()
        self.moved_keys = dict(state.get("moved_keys") or {})
        self.fields = copy.deepcopy(state.get("fields") or [])
        self.options = copy.deepcopy(state.get("field_options") or {})
        self.projects = copy.deepcopy(state.get("projects") or [])
        self.contexts.load(state.get("field_contexts"))
        for field in self.fields:
            if field.get("custom") and (field.get("schema") or {}).get("type") == "option":
                self.options.setdefault(field["id"], [])
        for field in self.fields:
            if field.get("custom"):  # every custom field applies somewhere: global by default
                self.contexts.default(field["id"], field["name"])
        self.time_zone = state.get("time_zone", self.time_zone)
        for issue in state.get("issues") or []:
            self.put_issue(issue)
        self.version += 1

    def dump(self) -> dict[str, Any]:
        return {
            "issues": [copy.deepcopy(self.issues[key]) for key in self.issues],
            "fields": copy.deepcopy(self.fields),
            "projects": copy.deepcopy(self.projects),
            "field_options": copy.deepcopy(self.options),
            "field_contexts": self.contexts.dump(),
            "time_zone": self.time_zone,
            "moved_keys": dict(self.moved_keys),
        }

    # -- issues --------------------------------------------------------------------------
    def put_issue(self, issue: dict[str, Any]) -> None:
        issue = copy.deepcopy(issue)
        old = self.issues.get(issue["key"])
        if old is not None and str(old["id"]) != str(issue["id"]):
            self.keys_by_id.pop(str(old["id"]), None)
        self.issues[issue["key"]] = issue
        self.keys_by_id[str(issue["id"])] = issue["key"]
        self.rows[issue["key"]] = _row(issue)
        self.version += 1

    def find(self, id_or_key: str) -> dict[str, Any] | None:
        """The issue by id, key or a key it had before a move."""
        key = self.keys_by_id.get(id_or_key, id_or_key.upper())
        if key not in self.issues and key in self.moved_keys:
            key = self.keys_by_id.get(self.moved_keys[key], key)
        return self.issues.get(key)

    def move(self, key: str, project: dict[str, Any], new_key: str) -> None:
        """The issue becomes `new_key` in `project`; its id, fields and history stay, and its
        old key keeps resolving to it."""
        issue = self.issues.pop(key)
        del self.rows[key]
        before = issue["fields"].get("project") or {}
        issue["key"] = new_key
        issue["fields"]["project"] = dict(project)
        self.moved_keys[key] = str(issue["id"])
        self.put_issue(issue)
        # Jira's changelog of a move: the key and the project, by name.
        self.record_change(new_key, "Key", key, new_key)
        self.record_change(new_key, "project", before, project)

    def delete(self, key: str) -> None:
        """The issue is gone: no key, old or new, finds it any more."""
        issue = self.issues.pop(key)
        del self.rows[key]
        issue_id = str(issue["id"])
        self.keys_by_id.pop(issue_id, None)
        self.moved_keys = {old: i for old, i in self.moved_keys.items() if i != issue_id}
        self.version += 1

    def record_change(self, key: str, field: str, old: Any, new: Any) -> None:
        """Add a history to the issue's changelog (expand=changelog shows it), as Jira does for
        a status, priority or link change. Kept on the issue under a private key."""
        if old == new:
            return
        histories = self.issues[key].setdefault("_histories", [])
        histories.append(
            {
                "id": str(10000 + sum(len(i.get("_histories", ())) for i in self.issues.values())),
                "created": format_jira_time(self.clock.now_ms(), ZoneInfo(self.time_zone)),
                "items": [
                    {
                        "field": field,
                        "fieldtype": "jira",
                        "fromString": _change_text(old),
                        "toString": _change_text(new),
                    }
                ],
            }
        )

    def touch(self, key: str) -> None:
        """Record a change to the issue: `updated` moves to now, as on any edit."""
        now = self.clock.now_ms()
        self.issues[key]["fields"]["updated"] = format_jira_time(now, ZoneInfo("UTC"))
        self.rows[key].updated_ms = now
        self.version += 1

    # -- fields and options -----------------------------------------------------------------
    def field(self, field_id: str) -> dict[str, Any] | None:
        return next((field for field in self.fields if field["id"] == field_id), None)

    def create_field(
        self, name: str, description: str, custom_type: str, schema_type: str, items: str | None
    ) -> dict[str, Any]:
        numbers = [
            int(f["id"].removeprefix("customfield_"))
            for f in self.fields
            if f["id"].startswith("customfield_")
        ]
        number = max([FIRST_CUSTOM_FIELD_NUMBER - 1, *numbers]) + 1
        field_id = f"customfield_{number}"
        schema: dict[str, Any] = {"type": schema_type, "custom": custom_type, "customId": number}
        if items:
            schema["items"] = items
        field = {
            "id": field_id,
            "key": field_id,
            "name": name,
            "custom": True,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": [f"cf[{number}]", name],
            "schema": schema,
        }
        if description:
            field["description"] = description
        self.fields.append(field)
        if schema_type == "option" or items == "option":
            self.options[field_id] = []
        self.contexts.default(field_id, name)
        self.version += 1
        return field

    def context_options(self, field_id: str, context_id: str) -> list[dict[str, Any]]:
        """The options of one context of the field."""
        return [
            option
            for option in self.options.get(field_id, [])
            if self.contexts.context_of_option(field_id, option["id"]) == context_id
        ]

    def add_options(
        self, field_id: str, values: list[tuple[str, bool]], context_id: str | None = None
    ) -> list[dict[str, Any]]:
        every = [
            int(o["id"])
            for options in self.options.values()
            for o in options
            if str(o["id"]).isdigit()
        ]
        next_id = max([FIRST_OPTION_ID - 1, *every]) + 1
        added = []
        for offset, (value, disabled) in enumerate(values):
            option = {"id": str(next_id + offset), "value": value, "disabled": disabled}
            self.options.setdefault(field_id, []).append(option)
            if context_id is not None:
                self.contexts.option_context[option["id"]] = context_id
            added.append(option)
        self.version += 1
        return added

    def option_by(
        self, field_id: str, *, value: str | None = None, option_id: str | None = None
    ) -> dict[str, Any] | None:
        for option in self.options.get(field_id, []):
            if option.get("disabled"):
                continue
            if value is not None and option["value"] == value:
                return option
            if option_id is not None and str(option["id"]) == str(option_id):
                return option
        return None

    def datetime_field_ids(self) -> set[str]:
        ids = {f["id"] for f in self.fields if (f.get("schema") or {}).get("type") == "datetime"}
        return ids | {"created", "updated"}

    def option_field_ids(self) -> set[str]:
        return {f["id"] for f in self.fields if (f.get("schema") or {}).get("type") == "option"}


def _change_text(value: Any) -> str | None:
    # A changelog item shows names: a status or priority object by its name.
    if isinstance(value, dict):
        return value.get("name")
    return None if value is None else str(value)


# expand=changelog nests at most this many histories (Jira's cap, JRACLOUD-67458): the latest,
# the older ones are left out (a guess on which: reports say the oldest go, sandbox/README.md).
CHANGELOG_CAP = 100


def changelog_of(issue: dict[str, Any], cap: int = CHANGELOG_CAP) -> dict[str, Any]:
    """The issue's changelog as expand=changelog nests it: its latest `cap` histories, oldest
    first, with `startAt` the index of the first of them and `total` all the issue has."""
    histories = copy.deepcopy(issue.get("_histories") or [])
    start = max(0, len(histories) - cap)
    shown = histories[start:]
    return {"startAt": start, "maxResults": len(shown), "total": len(histories), "histories": shown}  # fmt: skip


def changelog_page(issue: dict[str, Any], start: int, limit: int) -> dict[str, Any]:
    """GET /issue/{key}/changelog: a PageBean of the issue's histories, oldest first."""
    histories = copy.deepcopy(issue.get("_histories") or [])
    values = histories[start : start + limit]
    return {
        "startAt": start,
        "maxResults": limit,
        "total": len(histories),
        "isLast": start + len(values) >= len(histories),
        "values": values,
    }


def render_issue(
    store: JiraStore,
    issue: dict[str, Any],
    base_url: str,
    api_version: str,
    wanted: set[str] | None,
) -> dict[str, Any]:
    """An issue as the API version returns it: self links, times in the user's zone, v2 text.

    `wanted` is the set of field ids to include; None means all.
    """
    zone = ZoneInfo(store.time_zone)
    datetimes = store.datetime_field_ids()
    selects = store.option_field_ids()
    fields: dict[str, Any] = {}
    for field_id, value in issue.get("fields", {}).items():
        if wanted is not None and field_id not in wanted:
            continue
        if field_id in datetimes and isinstance(value, str):
            value = format_jira_time(parse_jira_time(value), zone)
        elif field_id in selects and isinstance(value, dict) and "id" in value:
            value = {
                "self": f"{base_url}/rest/api/{api_version}/customFieldOption/{value['id']}",
                **{k: v for k, v in value.items() if k != "self"},
            }
        elif isinstance(value, dict) and value.get("type") == "doc" and api_version == "2":
            value = adf_text(value)
        else:
            value = copy.deepcopy(value)
        fields[field_id] = value
    return {
        "expand": issue.get(
            "expand",
            "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        ),
        "id": str(issue["id"]),
        "self": f"{base_url}/rest/api/{api_version}/issue/{issue['id']}",
        "key": issue["key"],
        "fields": fields,
    }
