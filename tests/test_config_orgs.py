"""Named Salesforce orgs (connections.salesforce.instances) and the org a Zendesk joins to
(`salesforce:` on a Zendesk connection): what is accepted, and each mistake at its own key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load_config
from config.summary import summarise_config
from tests.test_config_instances import EU, _config, _line_of, _problems

ORG = """    instances:
      eu:
        login_url: https://acme-eu.my.salesforce.com
        client_id_env: SALESFORCE_EU_CLIENT_ID
        client_secret_env: SALESFORCE_EU_CLIENT_SECRET
"""
SALESFORCE_END = '    api_version: "62.0"\n    timeout_seconds: 60\n'


def _with_org(tmp_path: Path, org: str = ORG, zendesk: str = EU + "        salesforce: eu\n"):
    return _config(tmp_path, zendesk, (SALESFORCE_END, SALESFORCE_END + org))


def test_a_named_org_has_its_own_connection_mapping_and_quotas(tmp_path: Path):
    own = ORG + (
        "        mapping: {ticket_record: {object: Escalation__c, external_id_field: Ref__c,"
        " fields: {level: Level__c}}}\n"
        "        sync: {api_reserve: 0.5}\n"
    )
    config = load_config(_with_org(tmp_path, own))
    assert config.connections.instance_names("salesforce") == ("eu",)
    eu = config.for_org("eu")
    assert eu.connections.salesforce.login_url == "https://acme-eu.my.salesforce.com"
    assert eu.mapping.salesforce.ticket_record.external_id_field == "Ref__c"
    assert eu.mapping.zendesk == config.mapping.zendesk
    assert eu.sync.salesforce.api_reserve == 0.5 != config.sync.salesforce.api_reserve
    assert config.for_org(None) is config
    assert config.for_record("salesforce", "eu/001A") is eu
    # Zendesk eu's tickets join to org eu; the default Zendesk's and Jira's to the default org.
    assert config.org_of_ticket("zendesk", "eu/12") == "eu"
    assert config.org_of_ticket("zendesk", "12") is None
    assert config.org_of_ticket("jira", "SUP-1") is None


def test_the_default_zendesk_may_name_an_org_too(tmp_path: Path):
    main = _with_org(tmp_path, zendesk="")
    assert load_config(main).org_of_ticket("zendesk", "12") is None
    connections = main.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    text = text.replace(
        "    timeout_seconds: 30\n", "    timeout_seconds: 30\n    salesforce: eu\n", 1
    )
    connections.write_text(text, encoding="utf-8")
    assert load_config(main).org_of_ticket("zendesk", "12") == "eu"


def test_each_secret_of_a_named_org_is_checked_at_its_key(tmp_path: Path):
    main = _with_org(tmp_path)
    config = load_config(main)
    environ = {
        name: "x" for _, name in config.secret_refs() if name != "SALESFORCE_EU_CLIENT_SECRET"
    }
    problems = config.check_environment(environ)
    assert [str(p).split(": ", 1)[1] for p in problems] == [
        "connections.salesforce.instances.eu.client_secret_env: environment variable "
        "SALESFORCE_EU_CLIENT_SECRET is not set (or empty); expected it to hold the secret"
    ]
    assert problems[0].line == _line_of(main, "SALESFORCE_EU_CLIENT_SECRET")


@pytest.mark.parametrize(
    ("org", "zendesk", "expected"),
    [
        (
            ORG,
            EU + "        salesforce: us\n",
            "connections.zendesk.instances.eu.salesforce: unknown Salesforce org 'us'; expected "
            "one of connections.salesforce.instances (eu)",
        ),
        (
            "",
            EU + "        salesforce: eu\n",
            "connections.zendesk.instances.eu.salesforce: unknown Salesforce org 'eu'; expected "
            "one of connections.salesforce.instances (none are named)",
        ),
        (
            ORG.replace("        client_secret_env: SALESFORCE_EU_CLIENT_SECRET\n", ""),
            EU,
            "connections.salesforce.instances.eu.client_secret_env: missing; auth "
            "'client_credentials' needs it",
        ),
        (
            ORG + "        mapping: {account: {tier: Nope}}\n",
            EU,
            "connections.salesforce.instances.eu.mapping.account.tier",
        ),
        (
            ORG + "        mapping: {ticket_record: {object: E__c, external_id_field: R__c, "
            "min_level: urgent, fields: {level: L__c}}}\n",
            EU,
            "connections.salesforce.instances.eu.mapping.ticket_record.min_level: unknown level "
            "'urgent'; expected one of none, informational",
        ),
        (
            ORG.replace("      eu:", "      EU:"),
            EU,
            "connections.salesforce.instances.EU: found 'EU'; expected a name of lowercase",
        ),
    ],
    ids=["unknown-org", "no-orgs", "secret-missing", "mapping", "mapping-level", "name"],
)
def test_a_named_orgs_mistake_is_reported_at_its_key(
    tmp_path: Path, org: str, zendesk: str, expected: str
):
    problems = _problems(_with_org(tmp_path, org, zendesk))
    assert any(p.startswith(expected) for p in problems), problems


def test_validate_lists_each_named_org_and_the_org_a_zendesk_joins_to(tmp_path: Path):
    summary = summarise_config(load_config(_with_org(tmp_path)))
    assert (
        "  salesforce eu: https://acme-eu.my.salesforce.com (client_credentials; "
        "accounts salesforce:eu/ID)"
    ) in summary
    assert "tickets zendesk:eu/ID; joins salesforce eu)" in summary


SITE = """    instances:
      eu:
        url: https://acme-eu.atlassian.net
        email_env: JIRA_EU_EMAIL
        token_env: JIRA_EU_API_TOKEN
        projects: [EUS]
"""


def _with_site(tmp_path: Path, site: str = SITE, zendesk: str = EU + "        jira: eu\n"):
    main = _config(tmp_path, zendesk)
    connections = main.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    end = text.index("\n", text.index("    timeout_seconds: 30", text.index("  jira:"))) + 1
    connections.write_text(text[:end] + site + text[end:], encoding="utf-8")
    return main


def test_a_named_jira_site_has_its_own_connection_projects_and_mapping(tmp_path: Path):
    own = SITE + "        sync: {page_size: 50}\n"
    config = load_config(_with_site(tmp_path, own))
    assert config.connections.instance_names("jira") == ("eu",)
    eu = config.for_site("eu")
    assert eu.connections.jira.url == "https://acme-eu.atlassian.net"
    assert eu.connections.jira.projects == ["EUS"]
    assert eu.sync.jira.page_size == 50 != config.sync.jira.page_size
    assert config.for_record("jira", "eu/10001") is eu
    assert config.for_record("jira", "10001") is config
    assert config.connections.site_of("eu") == "eu" and config.connections.site_of(None) is None
    summary = summarise_config(config)
    assert "  jira eu: https://acme-eu.atlassian.net (projects EUS; issues jira:eu/ID)" in summary
    assert "tickets zendesk:eu/ID; links jira eu)" in summary


@pytest.mark.parametrize(
    ("site", "zendesk", "expected"),
    [
        (
            SITE,
            EU + "        jira: us\n",
            "connections.zendesk.instances.eu.jira: unknown Jira site 'us'; expected one of "
            "connections.jira.instances (eu)",
        ),
        (
            SITE.replace("        projects: [EUS]\n", ""),
            EU,
            "connections.jira.instances.eu.projects: required key 'projects' is missing",
        ),
        (
            SITE.replace("        token_env: JIRA_EU_API_TOKEN\n", ""),
            EU,
            "connections.jira.instances.eu.token_env: missing; auth 'basic' needs it",
        ),
    ],
    ids=["unknown-site", "no-projects", "secret-missing"],
)
def test_a_named_sites_mistake_is_reported_at_its_key(
    tmp_path: Path, site: str, zendesk: str, expected: str
):
    problems = _problems(_with_site(tmp_path, site, zendesk))
    assert any(p.startswith(expected) for p in problems), problems


def test_each_secret_of_a_named_site_is_checked_at_its_key(tmp_path: Path):
    main = _with_site(tmp_path)
    config = load_config(main)
    environ = {name: "x" for _, name in config.secret_refs() if name != "JIRA_EU_API_TOKEN"}
    problems = config.check_environment(environ)
    assert [str(p).split(": ", 1)[1] for p in problems] == [
        "connections.jira.instances.eu.token_env: environment variable JIRA_EU_API_TOKEN "
        "is not set (or empty); expected it to hold the secret"
    ]
