"""The root of the configuration: `Config`, as the YAML files say it, validated.

Sections: connections (how to reach each system), mapping (fields read and written), join
(ticket -> account), matrix (config/matrix, the escalation rules), state and sync (policy).
Load it with `config.loader.load_config(path)`; code below that edge trusts it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import Field, PrivateAttr

from config.account_checks import account_problems
from config.base import RelativeProblem, StrictModel
from config.connections import SYSTEMS, Connections, pem_problem
from config.errors import ConfigError, ConfigProblem
from config.join_schema import JoinStrategy, default_join, join_problems
from config.mapping_schema import MappingConfig
from config.matrix import MatrixConfig
from config.notifications_rules import NotificationsConfig, notification_problems
from config.policy import StateConfig, SyncPolicy
from config.write_mapping import LEVEL_OUTPUTS, level_tag, slug
from config.yaml_source import Location, SourceMap
from vocabulary.conditions import SLA_STATES
from vocabulary.instances import split_instance


class Config(StrictModel):
    connections: Connections
    mapping: MappingConfig = Field(default_factory=MappingConfig)
    join: list[JoinStrategy] = Field(default_factory=default_join)
    matrix: MatrixConfig
    state: StateConfig = Field(default_factory=StateConfig)
    sync: SyncPolicy = Field(default_factory=SyncPolicy)
    notifications: NotificationsConfig | None = None  # notifications.yaml (notify/)

    _sources: SourceMap | None = PrivateAttr(default=None)
    # instance name -> this config as that Zendesk instance's records see it (for_instance)
    _instances: dict[str, Config] = PrivateAttr(default_factory=dict)
    # for_instance: key paths of the default's sections -> where the instance wrote its own
    _moved: tuple[tuple[tuple[str | int, ...], tuple[str | int, ...]], ...] = PrivateAttr(
        default=()
    )

    # --- where things were written ---------------------------------------------------------

    def attach_sources(self, sources: SourceMap) -> None:
        """Remember the file and line of every key (the loader calls this)."""
        self._sources = sources
        self._instances = {}  # built again with the sources, for their problems' lines

    def problem(self, path: tuple[str | int, ...], message: str) -> ConfigProblem:
        """A ConfigProblem at a key path, with the file and line it was written at when known."""
        sources = self._sources or SourceMap("(config)")
        return sources.problem(self.written_at(path), message)

    def location(self, path: tuple[str | int, ...]) -> Location:
        return (self._sources or SourceMap("(config)")).locate(self.written_at(path))

    def written_at(self, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
        """Where a key of this config was written: a named Zendesk's own connection, mapping,
        join and quotas are under connections.zendesk.instances.<name> (for_instance)."""
        for prefix, instead in self._moved:
            if path[: len(prefix)] == prefix:
                return instead + path[len(prefix) :]
        return path

    # --- secrets ---------------------------------------------------------------------------

    def secret_refs(self) -> list[tuple[tuple[str, ...], str]]:
        """(key path, environment variable name) for every secret an enabled system needs."""
        refs: list[tuple[tuple[str, ...], str]] = []
        for path, connection in self._enabled_connections():
            for key, env_name in connection.secret_env_fields().items():
                refs.append((path + (key,), env_name))
        if self.notifications is not None:
            refs += [
                (("notifications", *path), env) for path, env in self.notifications.secret_refs()
            ]
        if self.state.password_env is not None:  # the PostgreSQL state's password
            refs.append((("state", "password_env"), self.state.password_env))
        return refs

    def check_environment(self, environ: Mapping[str, str] | None = None) -> list[ConfigProblem]:
        """A problem for each secret whose environment variable is unset or empty. No values."""
        environ = os.environ if environ is None else environ
        return [
            self.problem(
                path,
                f"environment variable {env_name} is not set (or empty); expected it to hold the secret",
            )
            for path, env_name in self.secret_refs()
            if not environ.get(env_name)
        ] + self._ca_bundle_env_problems(environ)

    def _ca_bundle_env_problems(self, environ: Mapping[str, str]) -> list[ConfigProblem]:
        """A problem for each `ca_bundle_env` that is unset or holds no CA certificate."""
        problems = []
        for path, connection in self._enabled_connections():
            env_name = connection.ca_bundle_env
            if env_name is None:
                continue
            pem = environ.get(env_name)
            why = pem_problem(pem) if pem else "is not set (or empty); expected the CA's PEM text"
            if why:
                problems.append(
                    self.problem(
                        path + ("ca_bundle_env",), f"environment variable {env_name} {why}"
                    )
                )
        return problems

    def _enabled_connections(self) -> list[tuple[tuple[str, ...], Any]]:
        """(key path, connection) for every enabled connection, named instances' too."""
        found: list[tuple[tuple[str, ...], Any]] = [
            (("connections", system), getattr(self.connections, system))
            for system in self.connections.enabled_systems()
        ]
        for system in ("zendesk", "salesforce", "jira"):
            for name in self.connections.instance_names(system):
                named = self.connections.named(system, name)
                found.append((("connections", system, "instances", name), named))
        return found

    def secret(self, env_name: str, environ: Mapping[str, str] | None = None) -> str:
        """The value of a secret's environment variable, read now; ConfigError when unset."""
        environ = os.environ if environ is None else environ
        value = environ.get(env_name)
        if value:
            return value
        paths: list[tuple[str, ...]] = [
            path for path, name in self.secret_refs() if name == env_name
        ] or [("connections",)]
        raise ConfigError(
            [self.problem(paths[0], f"environment variable {env_name} is not set (or empty)")]
        )

    # --- named instances (connections.zendesk.instances) ------------------------------------

    def for_instance(self, name: str | None) -> Config:
        """This config as a named Zendesk instance sees it: its connection in place of
        connections.zendesk, and its own mapping, join rules and quotas where it gives them;
        the config itself for the default (None). Built once per name."""
        return self.as_named("zendesk", name)

    def for_org(self, name: str | None) -> Config:
        """This config as a named Salesforce org sees it: its connection in place of
        connections.salesforce, and its own account mapping and quotas where it gives them; the
        config itself for the default org (None). Built once per name."""
        return self.as_named("salesforce", name)

    def for_site(self, name: str | None) -> Config:
        """This config as a named Jira site sees it: its connection in place of
        connections.jira, and its own mapping and quotas where it gives them; the config itself
        for the default site (None). Built once per name."""
        return self.as_named("jira", name)

    def as_named(self, system: str, name: str | None) -> Config:
        """The view of one named instance of `system` (for_instance, for_org, for_site): its
        sections in place of the top-level ones, and where it wrote them (`written_at`)."""
        if name is None:
            return self
        key = f"{system}@{name}"
        if key not in self._instances:
            instance = self.connections.named(system, name)
            at: tuple[str | int, ...] = ("connections", system, "instances", name)
            sections: dict[str, Any] = {
                "connections": self.connections.model_copy(update={system: instance})
            }
            moved: list[tuple[tuple[str | int, ...], tuple[str | int, ...]]] = [
                (("connections", system), at)
            ]
            if instance.mapping is not None:
                sections["mapping"] = self.mapping.model_copy(update={system: instance.mapping})
                moved.append((("mapping", system), (*at, "mapping")))
            if getattr(instance, "join", None) is not None:  # Zendesk's alone
                sections["join"] = instance.join
                moved.append((("join",), (*at, "join")))
            if instance.sync is not None:
                sections["sync"] = self.sync.model_copy(update={system: instance.sync})
                moved.append((("sync", system), (*at, "sync")))
            derived = self.model_copy(update=sections)
            derived._instances = {}
            derived._moved = tuple(moved)
            self._instances[key] = derived
        return self._instances[key]

    def org_of_ticket(self, system: str, ticket_id: str) -> str | None:
        """The Salesforce org (None: the default) a ticket joins to: its Zendesk's
        `salesforce:`; Jira's issues join to the default org."""
        if system != "zendesk" or not self.connections.org_names():
            return None
        # On every named Zendesk, on or off: one turned off still owns its tickets.
        name, _ = split_instance(ticket_id, self.connections.zendesk_names())
        return self.connections.org_of(name)

    def for_record(self, system: str, record_id: str) -> Config:
        """The config of the instance a record's id names (the default's for a bare id); of
        one turned off too (its records are still evaluated by its own mapping and join)."""
        names = self.connections.all_names(system)
        if not names:
            return self
        name, _ = split_instance(record_id, names)
        if system == "salesforce":
            return self.for_org(name)
        return self.for_site(name) if system == "jira" else self.for_instance(name)

    # --- questions the rest of the code asks -----------------------------------------------

    def jira_search_mode(self) -> str:
        """ "enhanced" (/search/jql, Cloud) or "start_at" (/search, Data Center)."""
        if self.sync.jira.search != "auto":
            return self.sync.jira.search
        jira = self.connections.jira
        return "start_at" if jira is not None and jira.deployment == "data_center" else "enhanced"

    def base_url(self, system: str) -> str | None:
        connection = getattr(self.connections, system, None)
        if connection is None:
            return None
        return getattr(connection, "url", None) or getattr(connection, "login_url", None)

    # --- checks across sections ------------------------------------------------------------

    def config_problems(self) -> list[RelativeProblem]:
        problems = [(("join",) + path, message) for path, message in join_problems(self.join)]
        problems += self._level_option_problems()
        problems += self._tier_problems()
        problems += self._role_problems()
        problems += self._category_problems()
        problems += self._tag_problems()
        if self.notifications is not None:
            problems += notification_problems(self.notifications, self.matrix.levels, self.matrix)
        problems += account_problems(self)
        problems += self._instance_problems()
        jira = self.connections.jira
        if jira is not None and jira.deployment == "cloud" and self.sync.jira.search == "start_at":
            problems.append(
                (
                    ("sync", "jira", "search"),
                    "found 'start_at', but Jira Cloud removed /rest/api/*/search (410 Gone); "
                    "expected enhanced (or auto)",
                )
            )
        return problems

    def _instance_problems(self) -> list[RelativeProblem]:
        """A named instance's own Zendesk mapping is checked against the matrix as the default
        one is; its problems point at the instance's keys."""
        problems: list[RelativeProblem] = []
        for name in self.connections.instance_names("zendesk"):
            if self.connections.named("zendesk", name).mapping is None:
                continue
            derived = self.for_instance(name)
            where = ("connections", "zendesk", "instances", name, "mapping")
            for path, message in derived._level_option_problems() + derived._tag_problems():
                if path[:2] == ("mapping", "zendesk"):
                    problems.append((where + tuple(path[2:]), message))
        for name in self.connections.instance_names("salesforce"):
            if self.connections.named("salesforce", name).mapping is None:
                continue
            where = ("connections", "salesforce", "instances", name, "mapping")
            for path, message in self.for_org(name)._level_option_problems():
                if path[:2] == ("mapping", "salesforce"):
                    problems.append((where + tuple(path[2:]), message))
        return problems

    def write_fields(self) -> list[tuple[tuple[str | int, ...], str, Any]]:
        """(path, output name, WriteField) for every write mapping of every system."""
        writes: list[tuple[tuple[str | int, ...], str, Any]] = []
        for system, section in (("zendesk", "write"), ("jira", "write"), ("salesforce", "write")):
            mapping = getattr(getattr(self.mapping, system), section)
            for output, write in mapping.outputs().items():
                writes.append((("mapping", system, section, output), output, write))
        record = self.mapping.salesforce.ticket_record
        if record is not None:
            for output, write in record.fields.outputs().items():
                writes.append(
                    (("mapping", "salesforce", "ticket_record", "fields", output), output, write)
                )
        return writes

    def _option_problems(
        self, outputs: tuple[str, ...], names: tuple[str, ...], what: str
    ) -> list[RelativeProblem]:
        problems: list[RelativeProblem] = []
        for path, output, write in self.write_fields():
            if output not in outputs or not write.options:
                continue
            for key in write.options:
                if key not in names:
                    problems.append(
                        (
                            path + ("options", key),
                            f"unknown {what} '{key}'; expected one of {', '.join(names)}",
                        )
                    )
            if write.format == "dropdown":
                missing = [name for name in names if name not in write.options]
                if missing:
                    problems.append(
                        (
                            path + ("options",),
                            f"no option for {what} {', '.join(missing)}; expected one per {what}",
                        )
                    )
        return problems

    def _level_option_problems(self) -> list[RelativeProblem]:
        levels = tuple(self.matrix.levels)
        problems = self._option_problems(LEVEL_OUTPUTS + ("label",), levels, "level")
        record = self.mapping.salesforce.ticket_record
        if record is not None and record.min_level is not None and record.min_level not in levels:
            problems.append(
                (
                    ("mapping", "salesforce", "ticket_record", "min_level"),
                    f"unknown level '{record.min_level}'; expected one of {', '.join(levels)}",
                )
            )
        return problems

    def _tag_problems(self) -> list[RelativeProblem]:
        """The tags and labels levels are written as (an option, else prefix + `slug`) must tell
        levels apart, and a Jira label holds no space: Jira rejects the whole edit of the issue
        (and with it the tier, renewal and every other field of that edit)."""
        problems: list[RelativeProblem] = []
        owned: list[tuple[str, str, dict[str, str], tuple[str, ...]]] = []
        if self.mapping.zendesk.tags_prefix:
            owned.append(("tag", self.mapping.zendesk.tags_prefix, {}, ()))
        label = self.mapping.jira.write.label
        if label is not None:
            path: tuple[str, ...] = ("mapping", "jira", "write", "label")
            owned.append(("Jira label", label.prefix or "", label.options or {}, path))
            if any(character.isspace() for character in label.prefix or ""):
                message = f"found '{label.prefix}'; a Jira label cannot hold a space"
                problems.append((path + ("prefix",), message))
            for level, text in (label.options or {}).items():
                if not text or any(character.isspace() for character in text):
                    message = (
                        f"found '{text}'; a Jira label cannot hold a space "
                        f"(expected e.g. '{slug(text) or 'escalation'}')"
                    )
                    problems.append((path + ("options", level), message))
        for what, prefix, options, path in owned:
            first: dict[str, tuple[str, tuple[str | int, ...] | None]] = {}
            for index, level in enumerate(self.matrix.levels):
                tag = options.get(level) or level_tag(prefix, level)
                option = path + ("options", level) if level in options else None
                if tag in first:
                    earlier, earlier_option = first[tag]
                    problems.append(
                        (
                            option or earlier_option or ("matrix", "levels", index),
                            f"levels '{earlier}' and '{level}' are both written as the {what} "
                            f"'{tag}' (level names become lowercase, with _ for characters other "
                            "than a-z, 0-9, _ and -); expected one per level",
                        )
                    )
                first.setdefault(tag, (level, option))
        return problems

    def _translate_problems(
        self, path: tuple[str, ...], read: Any, names: tuple[str, ...] | None, what: str
    ) -> list[RelativeProblem]:
        """Translate values and the default of a read mapping must be names the matrix declares."""
        if read is None or names is None:
            return []
        problems: list[RelativeProblem] = []
        targets: list[tuple[tuple[str, ...], Any]] = [
            (("translate", key), value) for key, value in (read.translate or {}).items()
        ]
        targets.append((("default",), read.default))
        for sub_path, value in targets:
            if value is not None and str(value) not in names and str(value).lower() not in names:
                problems.append(
                    (path + sub_path, f"found {what} '{value}'; expected one of {', '.join(names)}")
                )
        return problems

    def _tier_problems(self) -> list[RelativeProblem]:
        tiers = tuple(self.matrix.tiers)
        problems = self._option_problems(("customer_tier",), tiers, "tier")
        account = self.mapping.salesforce.account
        base = ("mapping", "salesforce", "account")
        problems += self._translate_problems(base + ("tier",), account.tier, tiers, "tier")
        problems += self._translate_problems(
            base + ("region",), account.region, self.matrix.regions, "region"
        )
        return problems

    def _category_problems(self) -> list[RelativeProblem]:
        problems: list[RelativeProblem] = []
        for system in ("zendesk", "jira"):
            category = getattr(self.mapping, system).ticket.category
            path = ("mapping", system, "ticket", "category")
            problems += self._translate_problems(path, category, self.matrix.categories, "category")
        return problems

    def _role_problems(self) -> list[RelativeProblem]:
        problems = self._option_problems(("owner_role",), tuple(self.matrix.roles), "role")
        return problems + self._option_problems(("sla_state",), SLA_STATES, "SLA state")


__all__ = ["Config", "SYSTEMS"]
