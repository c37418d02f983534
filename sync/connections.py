"""Build the connectors a config enables, with the run's retry policy.

Each vendor module has the same factory, `from_config(config, secret, policy)`: it reads its
own sections of the config (connections, sync sizes, and what the mapping asks it to read).
"""

from __future__ import annotations

from importlib import import_module

from config.schema import Config
from connectors.base import Connector
from connectors.transport import RetryPolicy
from sync.instances import Instances, SalesforceOrgs
from sync.pacing import run_policy

# system -> the module of its connector; imported only when the config enables the system.
CONNECTOR_MODULES = {
    "zendesk": "connectors.zendesk",
    "jira": "connectors.jira",
    "salesforce": "connectors.salesforce",
}


def build_connectors(config: Config, policy: RetryPolicy | None = None) -> dict[str, Connector]:
    """system -> connector for every enabled system. Secrets are read from the environment now.

    Without a `policy`, waits are bounded by `sync.max_wait`; each connector paces itself to the
    `sync:` rates it reads from the config."""
    policy = policy or run_policy(config)
    enabled = config.connections.enabled_systems()
    connectors: dict[str, Connector] = {
        system: import_module(module).from_config(config, config.secret, policy)
        for system, module in CONNECTOR_MODULES.items()
        if system in enabled
    }
    names = config.connections.instance_names("zendesk")
    if names and "zendesk" in connectors:
        # Each named Zendesk from the config as it sees it: its own URL, secrets and quotas.
        factory = import_module(CONNECTOR_MODULES["zendesk"]).from_config
        members: dict[str | None, Connector] = {None: connectors["zendesk"]}
        for name in names:
            members[name] = factory(config.for_instance(name), config.secret, policy)
        connectors["zendesk"] = Instances(members)
    orgs = config.connections.instance_names("salesforce")
    if orgs and "salesforce" in connectors:
        # Each named org from the config as it sees it: its own login, secrets and mapping.
        factory = import_module(CONNECTOR_MODULES["salesforce"]).from_config
        members = {None: connectors["salesforce"]}
        for name in orgs:
            members[name] = factory(config.for_org(name), config.secret, policy)
        # Ids are split on every named org, on or off: an org's records never go to another.
        connectors["salesforce"] = SalesforceOrgs(members, config.connections.org_names())
    sites = config.connections.instance_names("jira")
    if sites and "jira" in connectors:
        # Each named Jira site from the config as it sees it: its URL, secrets and projects.
        factory = import_module(CONNECTOR_MODULES["jira"]).from_config
        members = {None: connectors["jira"]}
        for name in sites:
            members[name] = factory(config.for_site(name), config.secret, policy)
        connectors["jira"] = Instances(members, config.connections.site_names())
    return connectors
