"""Build the connectors a config enables, with the run's retry policy and page/batch sizes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from config.schema import Config
from connectors.base import Page
from connectors.transport import RetryPolicy


def salesforce_account_fields(config: Config) -> list[str]:
    """The Account fields to SELECT: every mapped source path and every field we write."""
    mapping = config.mapping.salesforce
    fields = {path.text for path in mapping.account.source_paths()}
    fields |= {write.field for write in mapping.write.outputs().values()}
    if mapping.account_matrix is not None:  # what the account matrix wrote: honour edits
        fields |= {write.field for write in mapping.account_matrix.write.outputs().values()}
    return sorted(fields)


class _SalesforceAccounts:
    """Gives the Salesforce connector the fields and the account filter the mapping names."""

    def __init__(self, connector: Any, fields: list[str], where: str | None):
        self.connector = connector
        self.fields = fields
        self.where = where

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connector, name)

    def read_account_changes(self, cursor: str | None) -> Iterator[Page]:
        return self.connector.read_account_changes(cursor, self.fields, self.where)


def build_connectors(config: Config, policy: RetryPolicy | None = None) -> dict[str, Any]:
    """system -> connector for every enabled system. Secrets are read from the environment now."""
    policy = policy or RetryPolicy()
    connectors: dict[str, Any] = {}
    enabled = config.connections.enabled_systems()
    if "zendesk" in enabled:
        from connectors.zendesk import from_settings as zendesk_connector

        zendesk = zendesk_connector(
            config.connections.zendesk,
            config.secret,
            policy,
            write_batch_size=config.sync.zendesk.write_batch_size,
        )
        zendesk.page_size = config.sync.zendesk.page_size
        connectors["zendesk"] = zendesk
    if "jira" in enabled:
        from connectors.jira import from_settings as jira_connector

        connectors["jira"] = jira_connector(config, config.secret, policy)
    if "salesforce" in enabled:
        from connectors.salesforce import from_config as salesforce_connector

        salesforce = salesforce_connector(
            config.connections.salesforce,
            config.secret,
            policy,
            write_batch_size=config.sync.salesforce.write_batch_size,
        )
        salesforce.batch_size = config.sync.salesforce.query_batch_size
        connectors["salesforce"] = _SalesforceAccounts(
            salesforce, salesforce_account_fields(config), config.mapping.salesforce.where
        )
    return connectors
