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


# system -> the connector its named instances are wrapped in (sync/instances.py).
NAMED_WRAPPERS: dict[str, type[Instances]] = {
    "zendesk": Instances,
    "salesforce": SalesforceOrgs,
    "jira": Instances,
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
    for system, wrapper in NAMED_WRAPPERS.items():
        # Ids are split on every named instance, on or off: a record of one turned off never
        # goes to another (its writes and reads wait: no member answers for it).
        split_on = config.connections.all_names(system)
        if not split_on or system not in connectors:
            continue
        names = config.connections.instance_names(system)  # the ones turned on
        # Each named instance from the config as it sees it: its own URL or login, secrets,
        # quotas and mapping (Config.as_named).
        factory = import_module(CONNECTOR_MODULES[system]).from_config
        members: dict[str | None, Connector] = {None: connectors[system]}
        for name in names:
            members[name] = factory(config.as_named(system, name), config.secret, policy)
        connectors[system] = wrapper(members, split_on)
    return connectors
