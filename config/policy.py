"""The `state:` and `sync:` sections: where the run keeps its memory, and how it pages and batches."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from config.base import EnvVarName, RelativeProblem, StrictModel, resolve_path
from config.file_path import file_path_problem
from config.state_url import url_problem


def _config_relative(value: object, info: ValidationInfo) -> object:
    return resolve_path(value, info) if value is not None else value


ConfigPath = Annotated[Path, BeforeValidator(_config_relative)]


def _can_be_file(path: Path) -> Path:
    problem = file_path_problem(path)
    if problem:
        raise ValueError(problem)
    return path


# A file the run creates and writes: not a directory, not under /proc (config/file_path.py).
FilePath = Annotated[ConfigPath, AfterValidator(_can_be_file)]


class StateConfig(StrictModel):
    """Relative paths are relative to the folder of the main config file.

    A SQLite file at `path` (locked with flock on `lock_path`), or, with `url`, a PostgreSQL
    database (locked with an advisory lock; path and lock_path unused): sync/state_open.py.
    """

    path: FilePath = Field(default="escalation-sync.sqlite", validate_default=True)
    lock_path: FilePath | None = None  # default: the state path + ".lock"
    # postgresql://user@host[:port]/database, never with the password: that is read from
    # the environment variable `password_env` names (or libpq's PGPASSWORD / ~/.pgpass).
    url: str | None = None
    password_env: EnvVarName | None = None
    # How long the report's history (ticket lifecycles, level and owner changes, SLA
    # outcomes) is kept; older rows are pruned at the end of each run.
    history_days: int = Field(default=400, ge=7, le=3650)
    # How long the tickets' field changes (status, priority, tags, links: exact pauses and
    # SLA milestones read them) are kept; each ticket's latest change of a field stays.
    changes_days: int = Field(default=400, ge=1, le=3650)

    def config_problems(self) -> list[RelativeProblem]:
        problem = url_problem(self.url) if self.url is not None else None
        if problem:
            return [(("url",), problem)]
        if self.password_env is not None and self.url is None:
            return [(("password_env",), "found password_env without url; expected both or neither")]
        return []

    @property
    def lock_file(self) -> Path:
        return self.lock_path or self.path.with_name(self.path.name + ".lock")


_WALL_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")


def wall_seconds(value: object) -> object:
    """A wall-clock duration ("90s", "10m", "1h30m") as seconds. Not the matrix's business
    durations: a "d" there is a working day, and a wait counts every second of the clock."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value  # pydantic reports the type
    if not isinstance(value, str):
        raise ValueError(
            f"found {value}; expected a duration with a unit, such as '{value}s' or '10m'"
        )
    match = _WALL_DURATION.match(value)
    if not match or not any(match.groups()):
        raise ValueError(
            f"found {value!r}; expected a duration like '90s', '10m' or '1h30m' (h, m, s)"
        )
    hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


# Seconds, written in the config as a duration with its unit.
WallSeconds = Annotated[float, BeforeValidator(wall_seconds)]


class ReconcilePolicy(StrictModel):
    """A periodic look at what incremental reads cannot see (an escalation record a person
    deleted: we upsert those and never pull them; a Jira issue deleted; a change a cursor
    missed), within a request budget shared by the records and the mirror (sync/reconcile.py)."""

    every_hours: float = Field(default=24.0, ge=0, le=24 * 31)  # 0: every run
    max_requests: int = Field(default=20, ge=1, le=100000)  # per reconciliation


class OverridePolicy(StrictModel):
    """A level an agent set by hand: kept until it expires."""

    expire: Literal["never", "on_level_rise"] = "on_level_rise"


class FirstRun(StrictModel):
    """What the first run (no state yet) reads."""

    # open_tickets: every open ticket updated within lookback_days; none: only tickets and
    # issues that change after the first run starts (accounts are always read in full).
    backfill: Literal["open_tickets", "none"] = "open_tickets"
    lookback_days: int = Field(default=365, ge=1, le=3650)  # open tickets updated within this


class ZendeskSync(StrictModel):
    page_size: int = Field(default=1000, ge=1, le=1000)  # incremental export: at most 1000
    write_batch_size: int = Field(default=100, ge=1, le=100)  # update_many: at most 100
    # The quotas the transport paces to (connectors/transport.py Pacer). Incremental exports:
    # 10 a minute, 30 with the High Volume API add-on. The account-wide limit is the plan's:
    # Team 200, Growth and Professional 400, Enterprise 700 a minute; Enterprise Plus and the
    # High Volume API add-on 2500.
    export_per_minute: int = Field(default=10, ge=1, le=1000)
    requests_per_minute: int = Field(default=700, ge=1, le=100000)
    # The plan's limit is the account's, shared with every other app and integration: this
    # run paces itself to at most this share of it (of X-Rate-Limit once Zendesk has sent it,
    # of requests_per_minute before), leaving the rest to the others.
    rate_share: float = Field(default=0.5, gt=0, le=1)


class JiraSync(StrictModel):
    # auto: enhanced (/search/jql, nextPageToken) on Cloud, start_at (/search) on Data Center.
    search: Literal["auto", "enhanced", "start_at"] = "auto"
    page_size: int = Field(default=100, ge=1, le=100)
    # Cloud only: send identical changes to many issues as one bulk edit task
    # (POST /rest/api/3/bulk/issues/fields) instead of one PUT per issue.
    use_bulk_edit: bool = False
    # Jira Cloud's burst limit per endpoint (its documents give no number; 10 a second is what
    # clients observe and the sandbox assumes): searches and edits are paced to it.
    requests_per_second: int = Field(default=10, ge=1, le=1000)


class SalesforceSync(StrictModel):
    query_batch_size: int = Field(default=2000, ge=200, le=2000)
    write_batch_size: int = Field(default=200, ge=1, le=200)  # composite/sobjects: at most 200
    # The org's daily API allowance (100,000 + 1,000 per licence on Enterprise). Salesforce has no
    # per-minute limit to pace to: this sizes a backfill, and `doctor` compares it with the
    # Sforce-Limit-Info header.
    requests_per_day: int = Field(default=100000, ge=1)
    # The daily allowance is the org's, shared with every other integration: writing stops
    # when this share of it is left (0.2: at 80% used, from Sforce-Limit-Info and /limits).
    # The writes not sent are planned again by the next run, highest levels first.
    api_reserve: float = Field(default=0.2, ge=0, lt=1)


class SyncPolicy(StrictModel):
    # How long one run may wait, per system, in all (pacing to a quota, Retry-After, rate-limit
    # resets). Past it the run stops reading that system, keeps its cursors and ends
    # quota-bound (exit 10); the next run resumes. `backfill` has no such limit (or --max-time).
    max_wait: WallSeconds = Field(default=600.0, ge=0, le=86400)
    # Quota windows are taken to last this many times their real length: only for the sandbox
    # (`sandbox serve --time-factor`), whose windows run faster. 1 against the real vendors.
    quota_time_factor: float = Field(default=1.0, gt=0, le=1)
    overrides: OverridePolicy = Field(default_factory=OverridePolicy)
    reconcile: ReconcilePolicy = Field(default_factory=ReconcilePolicy)
    first_run: FirstRun = Field(default_factory=FirstRun)
    zendesk: ZendeskSync = Field(default_factory=ZendeskSync)
    jira: JiraSync = Field(default_factory=JiraSync)
    salesforce: SalesforceSync = Field(default_factory=SalesforceSync)
