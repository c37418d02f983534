"""The Jira emulation's setup endpoints validated against Atlassian's OpenAPI description.

mypermissions, editmeta, project, issue type screen schemes, screen tabs and tab fields: what
doctor reads and provision changes. (The file's ScreenTypes requires a `defaultScreen` key it
does not define, so screenscheme answers are checked by tests/test_sandbox_setup.py instead.)
"""

from __future__ import annotations

import pytest

from tests.test_sandbox_jira_openapi import SPEC_FILE, Site, check, openapi  # noqa: F401

pytestmark = pytest.mark.skipif(
    not SPEC_FILE.exists(),
    reason=f"Atlassian's OpenAPI description is not at {SPEC_FILE} (../shared/specs)",
)


@pytest.fixture
def site(sandbox):
    sandbox.jira.create_issue("ENG", "Checkout fails")
    return Site(sandbox)


def test_mypermissions_matches_permissions(openapi, site):  # noqa: F811
    site.sandbox.jira.deny_permission("ENG", "EDIT_ISSUES")
    query = {"projectKey": "ENG", "permissions": "BROWSE_PROJECTS,EDIT_ISSUES"}
    response = site.call("GET", "/rest/api/3/mypermissions", params=query)
    assert response.status_code == 200
    check(openapi, "GET", "/rest/api/3/mypermissions", response, query)


def test_editmeta_matches_issue_update_metadata(openapi, site):  # noqa: F811
    response = site.call("GET", "/rest/api/3/issue/ENG-1/editmeta")
    assert response.status_code == 200 and response.json()["fields"]
    check(openapi, "GET", "/rest/api/3/issue/ENG-1/editmeta", response)


def test_project_matches_project(openapi, site):  # noqa: F811
    response = site.call("GET", "/rest/api/3/project/ENG")
    assert response.status_code == 200
    check(openapi, "GET", "/rest/api/3/project/ENG", response)


def test_screen_chain_matches_its_page_beans(openapi, site):  # noqa: F811
    path = "/rest/api/3/issuetypescreenscheme/project"
    schemes = site.call("GET", path, params={"projectId": "10000"})
    check(openapi, "GET", path, schemes, {"projectId": "10000"})
    scheme_id = schemes.json()["values"][0]["issueTypeScreenScheme"]["id"]
    path = "/rest/api/3/issuetypescreenscheme/mapping"
    mapping = site.call("GET", path, params={"issueTypeScreenSchemeId": scheme_id})
    check(openapi, "GET", path, mapping, {"issueTypeScreenSchemeId": scheme_id})
    tabs = site.call("GET", "/rest/api/3/screens/110000/tabs")
    check(openapi, "GET", "/rest/api/3/screens/110000/tabs", tabs)
    fields_path = f"/rest/api/3/screens/110000/tabs/{tabs.json()[0]['id']}/fields"
    fields = site.call("GET", fields_path)
    check(openapi, "GET", fields_path, fields)
    created = site.call("POST", "/rest/api/3/field", json={
        "name": "Tier", "type": "com.atlassian.jira.plugin.system.customfieldtypes:select"}).json()  # fmt: skip
    added = site.call("POST", fields_path, json={"fieldId": created["id"]})
    assert added.status_code == 200
    check(openapi, "POST", fields_path, added, body={"fieldId": created["id"]})


def test_field_context_creation_and_project_mapping_match_their_beans(openapi, site):  # noqa: F811
    created = site.call("POST", "/rest/api/3/field", json={
        "name": "Tier", "type": "com.atlassian.jira.plugin.system.customfieldtypes:select"}).json()  # fmt: skip
    path = f"/rest/api/3/field/{created['id']}/context"
    body = {"name": "escalation-sync", "description": "ENG only", "projectIds": ["10000"], "issueTypeIds": []}  # fmt: skip
    made = site.call("POST", path, json=body)
    assert made.status_code == 201
    check(openapi, "POST", path, made, body=body)
    check(openapi, "GET", path, site.call("GET", path))
    mapping = site.call("GET", f"{path}/projectmapping")
    check(openapi, "GET", f"{path}/projectmapping", mapping)
    assert site.call("DELETE", f"{path}/{made.json()['id']}").status_code == 204
