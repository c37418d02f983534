"""Open each enabled system's setup operations for one doctor or provision run, and close them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from config.schema import Config
from connectors.jira_setup import JiraSetup
from connectors.salesforce_setup import SalesforceSetup
from connectors.transport import RetryPolicy
from connectors.zendesk_setup import ZendeskSetup


@dataclass
class Systems:
    zendesk: ZendeskSetup | None = None
    jira: JiraSetup | None = None
    salesforce: SalesforceSetup | None = None
    # system -> its connector, to read records as a run does (doctor's join sample)
    connectors: dict[str, Any] = field(default_factory=dict)
    # system -> each named instance (connections.<system>.instances) -> its setup operations
    named: dict[str, dict[str, Any]] = field(default_factory=dict)


# system -> (its connector's module, its setup operations); in doctor's checklist order.
SETUPS: dict[str, tuple[str, type]] = {
    "zendesk": ("connectors.zendesk", ZendeskSetup),
    "jira": ("connectors.jira", JiraSetup),
    "salesforce": ("connectors.salesforce", SalesforceSetup),
}


@contextmanager
def open_systems(config: Config, policy: RetryPolicy | None = None) -> Iterator[Systems]:
    """The setup operations of every enabled system (secrets are read from the environment)."""
    policy = policy or RetryPolicy(max_total_wait_seconds=60)
    enabled = config.connections.enabled_systems()
    opened = []
    systems = Systems()
    try:
        for system, (module, setup) in SETUPS.items():
            if system not in enabled:
                continue
            factory = import_module(module).from_config
            opened.append(factory(config, config.secret, policy))
            systems.connectors[system] = opened[-1]
            setattr(systems, system, setup(opened[-1]))
            for name in config.connections.instance_names(system):
                view = config.as_named(system, name)  # its own connection and mapping
                opened.append(factory(view, view.secret, policy))
                systems.named.setdefault(system, {})[name] = setup(opened[-1])
        yield systems
    finally:
        for connector in opened:
            connector.close()
