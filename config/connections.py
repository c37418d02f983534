"""How to reach Zendesk, Jira and Salesforce.

Secrets never live in the config: each `*_env` key names the environment variable that holds
one, read at use time (see config/secrets.py). TLS verification cannot be turned off; a private
CA is trusted through `ca_bundle` (a file) or `ca_bundle_env` (a variable holding the PEM, for a
container where the CA comes as a Secret and no file is mounted).
"""

from __future__ import annotations

import atexit
import os
import re
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.base import EnvVarName, HttpsUrl, RelativeProblem, StrictModel, existing_file
from config.join_schema import JoinStrategy, join_problems
from config.mapping_schema import JiraMapping, SalesforceMapping, ZendeskMapping
from config.policy import JiraSync, SalesforceSync, ZendeskSync

Seconds = Annotated[float, Field(gt=0, le=600)]


def ca_bundle_file(value: Any, info: ValidationInfo) -> Path | None:
    """An existing file that holds at least one CA certificate (PEM)."""
    path = existing_file(value, info)
    if path is not None:
        # Checked here: a file TLS cannot use would otherwise surface, per request, as a
        # handshake failure that looks like a network problem.
        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, ValueError):
            raise ValueError(
                f"found no CA certificate in {path}; expected a PEM file with the certificate "
                "of the CA that signed the server's certificate"
            ) from None
        except OSError as error:
            raise ValueError(
                f"cannot read {path} ({error.strerror}); expected a readable file"
            ) from None
    return path


CaBundle = Annotated[Path | None, BeforeValidator(ca_bundle_file)]


def pem_problem(pem: str) -> str | None:
    """Why PEM text cannot serve as a CA bundle, or None when it can (never quotes the text)."""
    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError):
        return "holds no CA certificate; expected the PEM text of the CA that signed the server's"
    return None


# PEM text -> the private temporary file written for it (requests verifies against a path).
_PEM_FILES: dict[str, str] = {}


def pem_file(pem: str) -> str:
    """A file holding `pem`, readable by this user only, removed when the process ends; one per
    distinct text, so the three connectors share one."""
    if pem not in _PEM_FILES:
        handle, path = tempfile.mkstemp(prefix="escalation-sync-ca-", suffix=".pem")
        with os.fdopen(handle, "w", encoding="ascii") as file:
            file.write(pem)
        atexit.register(_remove, path)
        _PEM_FILES[pem] = path
    return _PEM_FILES[pem]


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # already gone (a tmp cleaner); nothing to keep


class _Connection(StrictModel):
    enabled: bool = True
    timeout_seconds: Seconds = 30.0
    ca_bundle: CaBundle = None
    # The name of a variable holding the CA's PEM text (checked by `validate` and at start).
    ca_bundle_env: EnvVarName | None = None

    @model_validator(mode="after")
    def _one_ca_source(self) -> _Connection:
        if self.ca_bundle is not None and self.ca_bundle_env is not None:
            raise ValueError(
                "found both ca_bundle and ca_bundle_env; expected one (a file, or a variable "
                "holding the PEM)"
            )
        return self

    def ca_bundle_path(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The CA file TLS verifies against: `ca_bundle`, or the PEM of `ca_bundle_env` written to
        a private temporary file; None: the system's CAs. The variable was checked at start
        (Config.check_environment)."""
        if self.ca_bundle is not None:
            return str(self.ca_bundle)
        if self.ca_bundle_env is None:
            return None
        pem = (os.environ if environ is None else environ).get(self.ca_bundle_env, "")
        if not pem or pem_problem(pem):
            raise ValueError(f"{self.ca_bundle_env} does not hold a CA certificate")
        return pem_file(pem)

    def secret_env_fields(self) -> dict[str, str]:
        """Key -> environment variable name, for every secret the chosen auth mode uses."""
        return {}

    def _require(self, needed: Mapping[str, str | None], mode: str) -> list[RelativeProblem]:
        return [
            (
                (key,),
                f"missing; auth '{mode}' needs it: the name of the environment variable holding the {what}",
            )
            for key, what in needed.items()
            if getattr(self, key) is None and what is not None
        ]

    def _present(self, keys: tuple[str, ...]) -> dict[str, str]:
        return {key: getattr(self, key) for key in keys if getattr(self, key) is not None}


# An instance's name leads its records' references (zendesk:eu/123) and its cursors' names.
_INSTANCE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")


def _instance_name(value: str) -> str:
    if not _INSTANCE_NAME.match(value):
        raise ValueError(
            f"found '{value}'; expected a name of lowercase letters, digits, _ and - that starts "
            "with a letter (at most 31 characters)"
        )
    return value


InstanceName = Annotated[str, AfterValidator(_instance_name)]


class _ZendeskBase(_Connection):
    url: HttpsUrl  # https://acme.zendesk.com
    auth: Literal["api_token", "oauth"] = "api_token"
    email_env: EnvVarName | None = None
    token_env: EnvVarName | None = None
    oauth_token_env: EnvVarName | None = None
    # The Salesforce org its tickets join to and whose escalation records they are
    # (connections.salesforce.instances); None: the default org.
    salesforce: InstanceName | None = None
    # The Jira site its tickets link to (connections.jira.instances); None: the default site.
    jira: InstanceName | None = None

    @field_validator("url")
    @classmethod
    def _host_only(cls, value: str) -> str:
        if urlsplit(value).path not in ("", "/"):
            raise ValueError(
                "found a path after the host; expected only https://yoursubdomain.zendesk.com"
            )
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def config_problems(self) -> list[RelativeProblem]:
        if self.auth == "api_token":
            needed = {"email_env": "agent's email address", "token_env": "API token"}
        else:
            needed = {"oauth_token_env": "OAuth access token"}
        return self._require(needed, self.auth)

    def secret_env_fields(self) -> dict[str, str]:
        if self.auth == "api_token":
            return self._present(("email_env", "token_env"))
        return self._present(("oauth_token_env",))


class ZendeskInstance(_ZendeskBase):
    """Another Zendesk (a brand on its own subdomain): its own connection and secrets, and,
    where they differ from the default's, its own field mapping, join rules and quotas. Each
    key given replaces the top-level section for this instance's tickets alone."""

    mapping: ZendeskMapping | None = None  # replaces mapping.zendesk
    join: list[JoinStrategy] | None = None  # replaces join
    sync: ZendeskSync | None = None  # replaces sync.zendesk (this subdomain's own quotas)

    def config_problems(self) -> list[RelativeProblem]:
        problems = super().config_problems()
        if self.join is not None:
            problems += [(("join",) + path, message) for path, message in join_problems(self.join)]
        return problems


class ZendeskConnection(_ZendeskBase):
    """The default Zendesk: its tickets are `zendesk:ID`, as with one Zendesk."""

    # More Zendesks by name (brands on their own subdomains): tickets `zendesk:NAME/ID`.
    instances: dict[InstanceName, ZendeskInstance] = Field(default_factory=dict)

    def config_problems(self) -> list[RelativeProblem]:
        # One Zendesk under two names would be read twice and written twice, as two tickets.
        return super().config_problems() + _same_instance_twice(
            "zendesk", self, self.instances, lambda z: (z.host, "url", z.url), "Zendesk"
        )


def _same_instance_twice(
    system: str,
    default: _Connection,
    instances: Mapping[str, _Connection],
    identity: Any,
    what: str,
) -> list[RelativeProblem]:
    """Named instances that are the default's or an earlier one's system again, by
    `identity(connection)` -> (what tells it apart, or None: cannot tell; the key that says
    it; that key's value): each record would be read and written twice, under two
    references (a private note added twice, a task made twice)."""
    problems: list[RelativeProblem] = []
    seen = {identity(default)[0]: f"connections.{system}"}
    for name, instance in instances.items():
        key, where, found = identity(instance)
        if key is None:
            continue
        first = seen.setdefault(key, f"connections.{system}.instances.{name}")
        if first != f"connections.{system}.instances.{name}":
            problems.append(
                (
                    ("instances", name, where),
                    f"found {found}, the {what} of {first}; expected another {what}",
                )
            )
    return problems


_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")


class JiraConnection(_Connection):
    url: HttpsUrl  # https://acme.atlassian.net, or a Data Center base URL with its context path
    deployment: Literal["cloud", "data_center"] = "cloud"
    auth: Literal["basic", "bearer"] = "basic"
    email_env: EnvVarName | None = None
    token_env: EnvVarName | None = None
    # Searches are always bounded by project: Jira Cloud rejects unbounded JQL.
    projects: list[str] = Field(min_length=1)
    jql: str | None = None  # an extra filter ANDed to the project clause

    @field_validator("projects")
    @classmethod
    def _project_keys(cls, keys: list[str]) -> list[str]:
        bad = [key for key in keys if not _PROJECT_KEY.match(key)]
        if bad:
            raise ValueError(
                f"found {bad}; expected Jira project keys such as SUP (capitals, digits, _)"
            )
        return keys

    def config_problems(self) -> list[RelativeProblem]:
        if self.auth == "basic":
            return self._require(
                {"email_env": "user's email address", "token_env": "API token"}, "basic"
            )
        return self._require({"token_env": "personal access token"}, "bearer")

    def secret_env_fields(self) -> dict[str, str]:
        if self.auth == "basic":
            return self._present(("email_env", "token_env"))
        return self._present(("token_env",))


class JiraInstance(JiraConnection):
    """Another Jira site: its own connection, secrets and projects, and, where they differ from
    the default's, its own field mapping and quotas (each replaces the top-level section for
    this site's issues alone). A Zendesk names it (`jira: NAME`) to link to it."""

    mapping: JiraMapping | None = None  # replaces mapping.jira
    sync: JiraSync | None = None  # replaces sync.jira


class JiraSites(JiraConnection):
    """The default Jira site (issues `jira:10001`, as with one), and more by name: issues
    `jira:NAME/10001`, keys `NAME/SUP-1`."""

    instances: dict[InstanceName, JiraInstance] = Field(default_factory=dict)

    def config_problems(self) -> list[RelativeProblem]:
        return super().config_problems() + _same_instance_twice(
            "jira", self, self.instances, _site, "Jira site"
        )


def _site(jira: JiraConnection) -> tuple[str, str, str]:
    """A Jira site's base URL as one site has one: host in lower case, no trailing slash."""
    parts = urlsplit(jira.url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}", "url", jira.url


def _api_version(value: Any) -> Any:
    # YAML reads 62.0 as a float and 62 as an int; both mean "62.0".
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):.1f}"
    return value


class SalesforceConnection(_Connection):
    login_url: HttpsUrl = "https://login.salesforce.com"
    auth: Literal["client_credentials", "password"] = "client_credentials"
    client_id_env: EnvVarName | None = None
    client_secret_env: EnvVarName | None = None
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None
    security_token_env: EnvVarName | None = None  # optional: not needed from trusted IP ranges
    api_version: Annotated[str, BeforeValidator(_api_version), Field(pattern=r"^\d{2,3}\.0$")] = (
        "62.0"
    )

    def config_problems(self) -> list[RelativeProblem]:
        if self.auth == "client_credentials":
            needed = {
                "client_id_env": "connected app's consumer key",
                "client_secret_env": "consumer secret",
            }
        else:
            needed = {"username_env": "user name", "password_env": "password"}
        return self._require(needed, self.auth)

    def secret_env_fields(self) -> dict[str, str]:
        if self.auth == "client_credentials":
            return self._present(("client_id_env", "client_secret_env"))
        return self._present(
            (
                "username_env",
                "password_env",
                "security_token_env",
                "client_id_env",
                "client_secret_env",
            )
        )


class SalesforceInstance(SalesforceConnection):
    """Another Salesforce org: its own connection and secrets, and, where they differ from the
    default's, its own account mapping and quotas (each replaces the top-level section for this
    org's accounts and records alone). A Zendesk names it (`salesforce: NAME`) to join to it."""

    mapping: SalesforceMapping | None = None  # replaces mapping.salesforce
    sync: SalesforceSync | None = None  # replaces sync.salesforce (its own daily allowance)


class SalesforceOrgs(SalesforceConnection):
    """The default Salesforce org (accounts `salesforce:001...`, as with one), and more by name:
    accounts `salesforce:NAME/001...`."""

    instances: dict[InstanceName, SalesforceInstance] = Field(default_factory=dict)

    def config_problems(self) -> list[RelativeProblem]:
        return super().config_problems() + _same_instance_twice(
            "salesforce", self, self.instances, _org, "Salesforce org"
        )


def _org(salesforce: SalesforceConnection) -> tuple[str | None, str, str]:
    """What tells a Salesforce org apart in the config: the client credentials flow logs in
    at the org's own My Domain URL, so one URL is one org; the password flow shares
    login.salesforce.com, and one user (its name's variable) belongs to one org."""
    host = urlsplit(salesforce.login_url).netloc.lower()
    if salesforce.auth == "client_credentials":
        return host, "login_url", salesforce.login_url
    user = salesforce.username_env
    return (f"{host} {user}" if user else None), "username_env", f"{user} at {host}"


SYSTEMS = ("zendesk", "jira", "salesforce")


class Connections(StrictModel):
    """Each system may be omitted or `enabled: false`; a sync then leaves it alone."""

    zendesk: ZendeskConnection | None = None
    jira: JiraSites | None = None
    salesforce: SalesforceOrgs | None = None

    def enabled(self, system: str) -> bool:
        connection = getattr(self, system)
        return connection is not None and connection.enabled

    def enabled_systems(self) -> tuple[str, ...]:
        return tuple(system for system in SYSTEMS if self.enabled(system))

    def config_problems(self) -> list[RelativeProblem]:
        if not (self.enabled("zendesk") or self.enabled("jira")):
            return [((), "no ticket system enabled; expected zendesk or jira (or both)")]
        return self._org_problems()

    def _org_problems(self) -> list[RelativeProblem]:
        """Each Zendesk's `salesforce:` names an org of connections.salesforce.instances, its
        `jira:` a site of connections.jira.instances."""
        if self.zendesk is None:
            return []
        where: list[tuple[tuple[str, ...], Any]] = [(("zendesk",), self.zendesk)]
        where += [(("zendesk", "instances", n), z) for n, z in self.zendesk.instances.items()]
        problems: list[RelativeProblem] = []
        for system, what in (("salesforce", "Salesforce org"), ("jira", "Jira site")):
            known = tuple(getattr(getattr(self, system), "instances", {}))
            for path, zendesk in where:
                wanted = getattr(zendesk, system)
                if wanted is not None and wanted not in known:
                    named = ", ".join(known) if known else "none are named"
                    problems.append(
                        (
                            path + (system,),
                            f"unknown {what} '{wanted}'; expected one of "
                            f"connections.{system}.instances ({named})",
                        )
                    )
        return problems

    def instance_names(self, system: str) -> tuple[str, ...]:
        """The names of a system's enabled named instances, as written; none when the system
        itself is off."""
        if not self.enabled(system):
            return ()
        named = getattr(getattr(self, system), "instances", {})
        return tuple(name for name, instance in named.items() if instance.enabled)

    def named(self, system: str, name: str) -> Any:
        """The connection of a named instance (`instance_names`)."""
        return getattr(self, system).instances[name]

    def all_names(self, system: str) -> tuple[str, ...]:
        """Every named instance of a system, on or off: its record ids are split on all of
        them, so one turned off keeps its records to itself, never the default's."""
        return tuple(getattr(getattr(self, system), "instances", {}))

    def turned_off(self, system: str, name: str | None) -> bool:
        """Whether a named instance (None: the default, never) is turned off in the config."""
        return name is not None and name not in self.instance_names(system)

    def zendesk_names(self) -> tuple[str, ...]:
        """Every named Zendesk, on or off (ticket ids are split on all of them)."""
        return self.all_names("zendesk")

    def site_names(self) -> tuple[str, ...]:
        """Every named Jira site, on or off (keys are split on all of them)."""
        return self.all_names("jira")

    def site_of(self, zendesk: str | None) -> str | None:
        """The Jira site (None: the default) a Zendesk's (None: the default's) tickets link to."""
        connection = self.zendesk if zendesk is None else self.named("zendesk", zendesk)
        return getattr(connection, "jira", None)

    def org_names(self) -> tuple[str, ...]:
        """Every named Salesforce org, on or off: an account id is split on all of them, so an
        org turned off keeps its accounts and records to itself."""
        return self.all_names("salesforce")

    def org_of(self, zendesk: str | None) -> str | None:
        """The Salesforce org (None: the default) the tickets of a Zendesk (None: the default)
        join to and whose escalation records they are; an org turned off still owns them."""
        connection = self.zendesk if zendesk is None else self.named("zendesk", zendesk)
        return getattr(connection, "salesforce", None)
