"""The Jira emulation's responses validated against Atlassian's OpenAPI description (July 2022).

The file lives outside the repo (tests/conftest.py SHARED_SPECS); it predates enhanced search
and bulk edit, so search/jql is checked as an envelope of the spec's IssueBean and bulk edit
is not checked here.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
import requests

from sandbox import catalogue
from tests.conftest import SHARED_SPECS

SPEC_FILE = SHARED_SPECS / "jira-cloud-platform-v3.openapi.json"
SPEC_HOST = "https://your-domain.atlassian.net"

pytestmark = pytest.mark.skipif(
    not SPEC_FILE.exists(),
    reason=f"Atlassian's OpenAPI description is not at {SPEC_FILE} (../shared/specs)",
)


@pytest.fixture(scope="module")
def openapi():
    from openapi_core import Config, OpenAPI

    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    spec = copy.deepcopy(spec)
    # search/jql (2025) is newer than the file: describe its documented envelope around IssueBean.
    spec["paths"]["/rest/api/3/search/jql"] = {
        "get": {
            "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("jql", "fields", "maxResults", "nextPageToken")],
            "responses": {"200": {"description": "page", "content": {"application/json": {"schema": {
                "type": "object",
                "additionalProperties": False,
                "required": ["issues", "isLast"],
                "properties": {
                    "issues": {"type": "array", "items": {"$ref": "#/components/schemas/IssueBean"}},
                    "nextPageToken": {"type": "string"},
                    "isLast": {"type": "boolean"},
                },
            }}}}},
        }
    }  # fmt: skip
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class Site:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.base = sandbox.urls["jira"]

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method,
            self.base + path,
            auth=(catalogue.JIRA_EMAIL, catalogue.JIRA_API_TOKEN),
            verify=str(self.sandbox.ca_path),
            **kwargs,
        )


# Jira writes timestamps as '2022-07-15T09:19:40.227+0000' (the description's own serverInfo
# example does), which the strict RFC 3339 'date-time' format check refuses; tolerated exactly.
JIRA_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")


def check(
    openapi,
    method: str,
    path: str,
    response: requests.Response,
    query: dict | None = None,
    body=None,
) -> None:
    from openapi_core.testing import MockRequest, MockResponse
    from openapi_core.validation.response.exceptions import InvalidData

    request = MockRequest(
        SPEC_HOST, method.lower(), path, args=query or {}, data=json.dumps(body) if body else None
    )
    content_type = response.headers.get("Content-Type", "application/json").split(";")[0]
    reply = MockResponse(
        response.content or b"{}", status_code=response.status_code, content_type=content_type
    )
    try:
        openapi.validate_response(request, reply)
    except InvalidData as invalid:
        problems = getattr(invalid.__cause__, "schema_errors", None) or [invalid]
        for problem in problems:
            is_jira_timestamp = getattr(
                problem, "validator", None
            ) == "format" and JIRA_TIMESTAMP.match(str(problem.instance))
            assert is_jira_timestamp, problem


@pytest.fixture
def site(sandbox):
    sandbox.jira.create_issue("ENG", "Checkout fails", updated="2026-11-20T09:00:30.000+0000",
                              fields={catalogue.JIRA_FIELD_SEVERITY: {"value": "Sev-2", "id": "10301"}})  # fmt: skip
    return Site(sandbox)


def test_issue_get_matches_issue_bean(openapi, site):
    response = site.call("GET", "/rest/api/3/issue/ENG-1")
    assert response.status_code == 200
    check(openapi, "GET", "/rest/api/3/issue/ENG-1", response)


def test_issue_edit_answers_204_as_described(openapi, site):
    body = {
        "fields": {catalogue.JIRA_FIELD_LEVEL: {"value": "advisory"}},
        "update": {"labels": [{"add": "x"}]},
    }
    response = site.call(
        "PUT", "/rest/api/3/issue/ENG-1", params={"notifyUsers": "false"}, json=body
    )
    assert response.status_code == 204
    check(openapi, "PUT", "/rest/api/3/issue/ENG-1", response, {"notifyUsers": "false"}, body)


def test_edit_errors_match_error_collection(openapi, site):
    from openapi_schema_validator import OAS30Validator, validate

    response = site.call(
        "PUT",
        "/rest/api/3/issue/ENG-1",
        json={"fields": {catalogue.JIRA_FIELD_LEVEL: {"value": "nope"}}},
    )
    assert response.status_code == 400
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    validate(response.json(), spec["components"]["schemas"]["ErrorCollection"], cls=OAS30Validator)


def test_field_list_and_create_match_field_details(openapi, site):
    check(openapi, "GET", "/rest/api/3/field", site.call("GET", "/rest/api/3/field"))
    body = {
        "name": "Escalation Owner",
        "type": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
    }
    created = site.call("POST", "/rest/api/3/field", json=body)
    assert created.status_code == 201
    check(openapi, "POST", "/rest/api/3/field", created, body=body)


def test_field_contexts_and_options_match_their_pages(openapi, site):
    field = catalogue.JIRA_FIELD_LEVEL
    contexts = site.call("GET", f"/rest/api/3/field/{field}/context")
    check(openapi, "GET", f"/rest/api/3/field/{field}/context", contexts)
    context_id = contexts.json()["values"][0]["id"]
    path = f"/rest/api/3/field/{field}/context/{context_id}/option"
    check(openapi, "GET", path, site.call("GET", path))


def test_server_info_and_myself_answers_match_the_openapi_spec(openapi, site):
    check(openapi, "GET", "/rest/api/3/serverInfo", site.call("GET", "/rest/api/3/serverInfo"))
    check(openapi, "GET", "/rest/api/3/myself", site.call("GET", "/rest/api/3/myself"))


def test_classic_search_page_matches_search_results(openapi, site):
    site.sandbox.jira.deployment = "datacenter"
    query = {"jql": "project = ENG", "startAt": "0", "maxResults": "10"}
    response = site.call("GET", "/rest/api/2/search", params=query)
    assert response.status_code == 200 and response.json()["total"] == 1
    check(openapi, "GET", "/rest/api/3/search", response, query)


def test_search_jql_issues_match_issue_bean(openapi, site):
    query = {"jql": "project = ENG", "fields": "*all"}
    response = site.call("GET", "/rest/api/3/search/jql", params=query)
    assert response.status_code == 200
    check(openapi, "GET", "/rest/api/3/search/jql", response, query)
