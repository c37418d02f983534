"""The `state:` and `sync:` sections: where the run keeps its memory, and how it pages and batches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from config.base import StrictModel, resolve_path
from config.file_path import file_path_problem


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
    """Relative paths are relative to the folder of the main config file."""

    path: FilePath = Field(default="escalation-sync.sqlite", validate_default=True)
    lock_path: FilePath | None = None  # default: the state path + ".lock"
    # How long the report's history (ticket lifecycles, level and owner changes, SLA
    # outcomes) is kept; older rows are pruned at the end of each run.
    history_days: int = Field(default=400, ge=7, le=3650)

    @property
    def lock_file(self) -> Path:
        return self.lock_path or self.path.with_name(self.path.name + ".lock")


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


class JiraSync(StrictModel):
    # auto: enhanced (/search/jql, nextPageToken) on Cloud, start_at (/search) on Data Center.
    search: Literal["auto", "enhanced", "start_at"] = "auto"
    page_size: int = Field(default=100, ge=1, le=100)
    # Cloud only: send identical changes to many issues as one bulk edit task
    # (POST /rest/api/3/bulk/issues/fields) instead of one PUT per issue.
    use_bulk_edit: bool = False


class SalesforceSync(StrictModel):
    query_batch_size: int = Field(default=2000, ge=200, le=2000)
    write_batch_size: int = Field(default=200, ge=1, le=200)  # composite/sobjects: at most 200


class SyncPolicy(StrictModel):
    overrides: OverridePolicy = Field(default_factory=OverridePolicy)
    first_run: FirstRun = Field(default_factory=FirstRun)
    zendesk: ZendeskSync = Field(default_factory=ZendeskSync)
    jira: JiraSync = Field(default_factory=JiraSync)
    salesforce: SalesforceSync = Field(default_factory=SalesforceSync)
