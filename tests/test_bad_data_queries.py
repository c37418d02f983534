"""Values from data in JQL and SOQL: quoted so that they match literally and never change the
query, checked against the sandbox's own JQL and SOQL parsers through the real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.errors import ConnectorError
from connectors.jira import JiraConnector, jql_string
from connectors.salesforce import SalesforceConnector, SalesforceCredentials, soql_quote
from connectors.transport import RetryPolicy
from sandbox import catalogue
from sandbox.jira.jql import parse
from sandbox.runner import Sandbox
from sandbox.salesforce.soql_lexer import tokenize

pytestmark = pytest.mark.integration

HOSTILE = [
    'x" OR project = "OPS',
    "x' OR Name != '",
    'x\\" OR key != "X',
    "x\\",
    "\\",
    "x\\' OR '1'='1",
    "a\\nb literal backslash-n",
    "\\u0041 not an escape",
    "line\nbreak\rreturn\ttab",
    "bell\x07 vt\x0b esc\x1b unit\x1f del\x7f",
    "x) OR (project = OPS",
    "x ORDER BY key DESC",
    "100% _match_ LIKE",
    "مرحبا עברית \u200f\u202e",
    "🚀 emoji 👩‍👩‍👧",
    "  leading and trailing  ",
    "",
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False) as running:
        yield running


def quick() -> RetryPolicy:
    return RetryPolicy(sleep=lambda seconds: None, backoff_initial_seconds=0.01)


def jira(sandbox: Sandbox, projects: list[str]) -> JiraConnector:
    return JiraConnector(
        sandbox.urls["jira"],
        email=catalogue.JIRA_EMAIL,
        api_token=catalogue.JIRA_API_TOKEN,
        projects=projects,
        ca_bundle=str(sandbox.ca_path),
        policy=quick(),
    )


def salesforce(sandbox: Sandbox) -> SalesforceConnector:
    return SalesforceConnector(
        sandbox.urls["salesforce"],
        SalesforceCredentials(catalogue.SALESFORCE_CLIENT_ID, catalogue.SALESFORCE_CLIENT_SECRET),
        ca_bundle=str(sandbox.ca_path),
        policy=quick(),
    )


# --- the quoting functions against the sandbox's parsers -------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_quoted_jql_value_parses_back_to_itself_as_one_value(value: str) -> None:
    query = parse(f'project in ({jql_string(value)}, "ENG") AND key = {jql_string(value)}')
    membership, equality = query.where.parts
    assert [v.text for v in membership.values] == [value, "ENG"]
    assert [v.text for v in equality.values] == [value]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_quoted_soql_value_lexes_back_to_itself_as_one_string(value: str) -> None:
    tokens = tokenize(f"SELECT Id FROM User WHERE Name IN ({soql_quote(value)}, 'b') LIMIT 1")
    strings = [token.value for token in tokens if token.kind == "string"]
    assert strings == [value, "b"]
    assert [t.value for t in tokens if t.kind == "ident"] == ["SELECT", "Id", "FROM", "User",
                                                               "WHERE", "Name", "IN", "LIMIT"]  # fmt: skip


# --- the queries the connectors build, sent to the sandbox ----------------------------------


@pytest.fixture(scope="module")
def hostile_project(sandbox: Sandbox) -> Iterator[dict[str, str]]:
    """One project per hostile name (Jira names are free text), one issue in each."""
    keys: dict[str, str] = {}
    for n, name in enumerate(value for value in HOSTILE if value.strip()):
        key = f"H{chr(65 + n)}X"
        sandbox.jira.store.projects.append({"id": str(20000 + n), "key": key, "name": name})
        keys[name] = sandbox.jira.create_issue(key, f"issue of {key}")
    sandbox.jira.create_issue("ENG", "an issue the hostile names must not reach")
    yield keys


@pytest.mark.parametrize("name", [value for value in HOSTILE if value.strip()])
def test_a_hostile_project_name_reads_exactly_that_project(
    sandbox: Sandbox, hostile_project: dict[str, str], name: str
) -> None:
    connector = jira(sandbox, [name])
    try:
        found = [r.data["key"] for page in connector.read_issue_changes(None) for r in page.records]
    finally:
        connector.close()
    assert found == [hostile_project[name]]


def test_values_that_are_not_issue_keys_are_left_out_and_the_asked_issue_is_read(
    sandbox: Sandbox, hostile_project: dict[str, str]
) -> None:
    wanted = sandbox.jira.create_issue("ENG", "the one issue asked for")
    connector = jira(sandbox, ["ENG"])
    try:
        found = connector.read_issues([wanted, *HOSTILE, f'{wanted}" OR project = "ENG'])
    finally:
        connector.close()
    assert [record.data["key"] for record in found] == [wanted]


@pytest.mark.parametrize("value", [v for v in HOSTILE if v.strip()])
def test_a_hostile_value_in_a_soql_in_list_matches_exactly_the_record_holding_it(
    sandbox: Sandbox, value: str
) -> None:
    decoys = ["x", "Plain", "b", value.strip(), value + "x", value.replace("'", "")]
    for name in dict.fromkeys([value, *decoys]):
        sandbox.salesforce.put_record("User", {"Name": name, "Email": "u@example.com"})
    connector = salesforce(sandbox)
    try:
        found = connector.read_records("User", "user", ["Name"], [value], key_field="Name")
    finally:
        connector.close()
    assert [record.data["Name"] for record in found] == [value]


def test_a_cursor_from_data_cannot_extend_a_soql_query(sandbox: Sandbox) -> None:
    connector = salesforce(sandbox)
    try:
        with pytest.raises(ConnectorError, match="is not a dateTime"):
            next(connector.read_account_changes("2026-01-01T00:00:00Z OR Name != null", []))
    finally:
        connector.close()
