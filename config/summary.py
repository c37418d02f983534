"""The one-screen summary `validate` prints for a configuration that is ok, but the matrix."""

from __future__ import annotations

from config.schema import Config
from config.state_url import display_url


def _systems(config: Config) -> list[str]:
    lines = []
    connections = config.connections
    zendesk = connections.zendesk
    if zendesk is not None and zendesk.enabled:
        lines.append(f"  zendesk     {zendesk.url} ({zendesk.auth})")
    for name in connections.instance_names("zendesk"):
        named = connections.named("zendesk", name)  # its records read as zendesk:NAME/ID
        joins = f"; joins salesforce {named.salesforce}" if named.salesforce else ""
        joins += f"; links jira {named.jira}" if named.jira else ""
        lines.append(
            f"  zendesk {name}: {named.url} ({named.auth}; tickets zendesk:{name}/ID{joins})"
        )
    jira = connections.jira
    if jira is not None and jira.enabled:
        projects = ", ".join(jira.projects)
        lines.append(
            f"  jira        {jira.url} ({jira.deployment}, {jira.auth}; projects {projects})"
        )
    for name in connections.instance_names("jira"):
        site = connections.named("jira", name)  # its issues read as jira:NAME/ID
        projects = ", ".join(site.projects)
        lines.append(f"  jira {name}: {site.url} (projects {projects}; issues jira:{name}/ID)")
    sf = connections.salesforce
    if sf is not None and sf.enabled:
        lines.append(f"  salesforce  {sf.login_url} ({sf.auth}, API {sf.api_version})")
    for name in connections.instance_names("salesforce"):
        org = connections.named("salesforce", name)  # its accounts read as salesforce:NAME/ID
        lines.append(
            f"  salesforce {name}: {org.login_url} ({org.auth}; accounts salesforce:{name}/ID)"
        )
    off = [
        system for system in ("zendesk", "jira", "salesforce") if not connections.enabled(system)
    ]
    if off:
        lines.append(f"  off: {', '.join(off)}")
    return lines


def _writes(config: Config) -> list[str]:
    lines = []
    connections = config.connections
    if connections.enabled("zendesk"):
        zendesk = config.mapping.zendesk
        extras = []
        if zendesk.tags_prefix:
            extras.append(f"tags {zendesk.tags_prefix}<level>")
        if zendesk.private_note_on_level_change:
            extras.append("private note on level change")
        outputs = ", ".join(zendesk.write.outputs()) or "no fields"
        lines.append(f"  zendesk     {outputs}{'; ' if extras else ''}{'; '.join(extras)}")
    if connections.enabled("jira"):
        lines.append(
            f"  jira        {', '.join(config.mapping.jira.write.outputs()) or 'no fields'}"
        )
    if connections.enabled("salesforce"):
        salesforce = config.mapping.salesforce
        text = ", ".join(salesforce.write.outputs()) or "no account fields"
        record = salesforce.ticket_record
        if record is not None:
            text += f"; one {record.object} record per ticket"
            text += f" at {record.min_level} or above" if record.min_level else ""
        lines.append(f"  salesforce  {text}")
    return lines


def summarise_config(config: Config, secrets_missing: int | None = 0) -> str:
    """What this configuration does, in a screen: systems, join, writes, state; `validate`
    adds the matrix (escalation.summary, which compiles it: a layer above config/).

    `secrets_missing`: how many secret variables are not set here (None: not checked)."""
    lines = ["systems:", *_systems(config)]
    lines.append("join: " + " -> ".join(strategy.key for strategy in config.join))
    lines += ["writes:", *_writes(config)]
    if config.state.url is not None:  # PostgreSQL, locked with an advisory lock
        lines.append(f"state: {display_url(config.state.url)} (advisory lock)")
    else:
        lines.append(f"state: {config.state.path} (lock {config.state.lock_file})")
    secrets = len(config.secret_refs())
    if secrets_missing is None:
        checked = "not checked"
    else:
        checked = f"{secrets_missing} not set" if secrets_missing else "all set"
    lines.append(f"secrets: {secrets} environment variables, {checked}")
    return "\n".join(lines)
