"""Open each enabled system's setup operations for one doctor or provision run, and close them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    # a named instance (connections.<system>.instances) -> its setup operations (doctor)
    named_zendesks: dict[str, ZendeskSetup] = field(default_factory=dict)
    named_sites: dict[str, JiraSetup] = field(default_factory=dict)
    named_orgs: dict[str, SalesforceSetup] = field(default_factory=dict)


@contextmanager
def open_systems(config: Config, policy: RetryPolicy | None = None) -> Iterator[Systems]:
    """The setup operations of every enabled system (secrets are read from the environment)."""
    policy = policy or RetryPolicy(max_total_wait_seconds=60)
    enabled = config.connections.enabled_systems()
    opened = []
    systems = Systems()
    try:
        if "zendesk" in enabled:
            from connectors.zendesk import from_config as zendesk

            opened.append(zendesk(config, config.secret, policy))
            systems.connectors["zendesk"] = opened[-1]
            systems.zendesk = ZendeskSetup(opened[-1])
            for name in config.connections.instance_names("zendesk"):
                named = config.for_instance(name)
                opened.append(zendesk(named, named.secret, policy))
                systems.named_zendesks[name] = ZendeskSetup(opened[-1])
        if "jira" in enabled:
            from connectors.jira import from_config as jira

            opened.append(jira(config, config.secret, policy))
            systems.connectors["jira"] = opened[-1]
            systems.jira = JiraSetup(opened[-1])
            for name in config.connections.instance_names("jira"):
                site = config.for_site(name)
                opened.append(jira(site, site.secret, policy))
                systems.named_sites[name] = JiraSetup(opened[-1])
        if "salesforce" in enabled:
            from connectors.salesforce import from_config as salesforce

            opened.append(salesforce(config, config.secret, policy))
            systems.connectors["salesforce"] = opened[-1]
            systems.salesforce = SalesforceSetup(opened[-1])
            for name in config.connections.instance_names("salesforce"):
                org = config.for_org(name)
                opened.append(salesforce(org, org.secret, policy))
                systems.named_orgs[name] = SalesforceSetup(opened[-1])
        yield systems
    finally:
        for connector in opened:
            connector.close()
