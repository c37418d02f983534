"""Write a runnable escalation-sync config that points at a running sandbox.

The sandbox listens on ports chosen at start and trusts its own CA, so the demo and the
integration tests write the connections file next to the state file; field mappings come
from config/sandbox/mapping.yaml and the matrix from config/example/matrix.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sandbox import catalogue

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

ENVIRONMENT = {
    "ZENDESK_EMAIL": catalogue.ZENDESK_EMAIL,
    "ZENDESK_API_TOKEN": catalogue.ZENDESK_API_TOKEN,
    "JIRA_EMAIL": catalogue.JIRA_EMAIL,
    "JIRA_API_TOKEN": catalogue.JIRA_API_TOKEN,
    "SALESFORCE_CLIENT_ID": catalogue.SALESFORCE_CLIENT_ID,
    "SALESFORCE_CLIENT_SECRET": catalogue.SALESFORCE_CLIENT_SECRET,
}


# What the account matrix writes in the sandbox (mapping.salesforce.account_matrix and
# mapping.zendesk.organization): the account fields, the standard Task, the organisation's
# field and tag. Off by default: most tests look at the ticket matrix's writes alone.
ACCOUNT_MATRIX_MAPPING = """    account_matrix:
      write:
        account_level:
          field: Account_Escalation_Level__c
          options: {healthy: healthy, watch: watch, at-risk: at-risk,
                    executive-attention: executive-attention}
        account_owner: Account_Escalation_Owner__c
        account_reason: {field: Account_Escalation_Reason__c, max_length: 1000}
        next_outreach_due: Next_Outreach_Due__c
      task: {}
"""
ORGANIZATION_MAPPING = """    organization:
      level_field: account_escalation_level
      tags_prefix: account_
"""


def with_account_matrix_writes(mapping_text: str) -> str:
    """The sandbox mapping with the account matrix's writes added."""
    text = mapping_text.replace("  salesforce:\n", "  salesforce:\n" + ACCOUNT_MATRIX_MAPPING, 1)
    return text.replace(
        "    private_note_on_level_change: true\n",
        "    private_note_on_level_change: true\n" + ORGANIZATION_MAPPING,
        1,
    )


def write_sandbox_config(
    folder: Path,
    urls: dict[str, str],
    ca_path: Path,
    matrix: Path | None = None,
    extra: str = "",
    notifications: str | None = None,
    account_writes: bool = False,
) -> Path:
    """Write folder/escalation-sync.yaml (+ includes); returns the main file's path.

    `extra` is appended to the main file (tests use it for sync policy tweaks);
    `notifications` is written to notifications.yaml and included; `account_writes` adds the
    account matrix's writes to the mapping.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ca_path = ca_path.resolve()  # a relative path would be read relative to the config's folder
    mapping = (CONFIG_DIR / "sandbox" / "mapping.yaml").read_text(encoding="utf-8")
    if account_writes:
        mapping = with_account_matrix_writes(mapping)
    (folder / "mapping.yaml").write_text(mapping, encoding="utf-8")
    shutil.copyfile(matrix or CONFIG_DIR / "example" / "matrix.yaml", folder / "matrix.yaml")
    projects = ", ".join(key for _, key, _ in catalogue.JIRA_PROJECTS)
    (folder / "connections.yaml").write_text(
        f"""connections:
  zendesk:
    url: {urls["zendesk"]}
    auth: api_token
    email_env: ZENDESK_EMAIL
    token_env: ZENDESK_API_TOKEN
    ca_bundle: {ca_path}
    timeout_seconds: 10
  jira:
    url: {urls["jira"]}
    deployment: cloud
    auth: basic
    email_env: JIRA_EMAIL
    token_env: JIRA_API_TOKEN
    projects: [{projects}]
    ca_bundle: {ca_path}
    timeout_seconds: 10
  salesforce:
    login_url: {urls["salesforce"]}
    auth: client_credentials
    client_id_env: SALESFORCE_CLIENT_ID
    client_secret_env: SALESFORCE_CLIENT_SECRET
    api_version: "{catalogue.SALESFORCE_API_VERSION}"
    ca_bundle: {ca_path}
    timeout_seconds: 10
""",
        encoding="utf-8",
    )
    includes = "connections.yaml, mapping.yaml, matrix.yaml"
    if notifications is not None:
        (folder / "notifications.yaml").write_text(notifications, encoding="utf-8")
        includes += ", notifications.yaml"
    main = folder / "escalation-sync.yaml"
    main.write_text(
        f"""# Generated for the local sandbox: the ports and the CA change with every start.
include: [{includes}]
join:
  - strategy: account_id_field
    match: id
  - strategy: organization_field
    field: salesforce_account_id
    match: id
  - strategy: organization_external_id
    match: external_id
  - strategy: email_domain
  - strategy: linked_ticket
state:
  path: state/escalation-sync.sqlite
"""
        + extra,
        encoding="utf-8",
    )
    return main


def high_volume_pacing() -> str:
    """The `sync.zendesk` rates of an account with the High Volume API add-on (2500 requests
    and 30 incremental exports a minute), as lines of the config's `sync:` section."""
    from sandbox.zendesk.app import (
        HIGH_VOLUME_INCREMENTAL_LIMIT_PER_MINUTE,
        HIGH_VOLUME_LIMIT_PER_MINUTE,
    )

    return (
        f"  zendesk:\n    export_per_minute: {HIGH_VOLUME_INCREMENTAL_LIMIT_PER_MINUTE}\n"
        f"    requests_per_minute: {HIGH_VOLUME_LIMIT_PER_MINUTE}\n"
    )
