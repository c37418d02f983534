"""The sandbox's setup endpoints: what doctor reads and provision creates, in the vendors' shapes."""

from __future__ import annotations

import pytest
import requests

from sandbox import catalogue
from sandbox.bare_org import bare_org
from sandbox.generate import generate_dataset
from sandbox.runner import DATA_FILES


def _zendesk(sandbox, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method,
        sandbox.urls["zendesk"] + path,
        auth=(f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN),
        verify=str(sandbox.ca_path),
        **kwargs,
    )


def _jira(sandbox, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method,
        sandbox.urls["jira"] + path,
        auth=(catalogue.JIRA_EMAIL, catalogue.JIRA_API_TOKEN),
        verify=str(sandbox.ca_path),
        **kwargs,
    )


class Salesforce:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        token = requests.post(
            sandbox.urls["salesforce"] + "/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": catalogue.SALESFORCE_CLIENT_ID,
                "client_secret": catalogue.SALESFORCE_CLIENT_SECRET,
            },
            verify=str(sandbox.ca_path),
        ).json()
        self.token = token
        self.user_id = token["id"].rsplit("/", 1)[1]
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}
        self.base = f"{token['instance_url']}/services/data/v{catalogue.SALESFORCE_API_VERSION}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method,
            self.base + path,
            headers=self.headers,
            verify=str(self.sandbox.ca_path),
            **kwargs,
        )

    def field(self, object_name: str, name: str) -> dict | None:
        described = self.call("GET", f"/sobjects/{object_name}/describe").json()
        return next((f for f in described["fields"] if f["name"] == name), None)


def _load_bare(sandbox) -> None:
    dataset = bare_org(generate_dataset(5, 10, 4, seed=3))
    for name in DATA_FILES:
        sandbox.apps[name].load_state(dataset[name])


# -- Zendesk ----------------------------------------------------------------------------------
def test_zendesk_users_me_reports_role_and_custom_role(sandbox):
    me = _zendesk(sandbox, "GET", "/api/v2/users/me.json").json()["user"]
    assert me["role"] == "admin" and me["custom_role_id"] is None
    sandbox.zendesk.api_user_role = "agent"
    sandbox.zendesk.api_custom_role = {"ticket_editing": False, "comment_access": "public"}
    me = _zendesk(sandbox, "GET", "/api/v2/users/me.json").json()["user"]
    role = _zendesk(sandbox, "GET", f"/api/v2/custom_roles/{me['custom_role_id']}.json").json()
    assert me["role"] == "agent"
    assert role["custom_role"]["configuration"]["ticket_editing"] is False


def test_zendesk_adds_a_dropdown_option_and_updates_one_with_the_same_value(sandbox):
    created = _zendesk(sandbox, "POST", "/api/v2/ticket_fields.json", json={"ticket_field": {
        "type": "tagger", "title": "Level", "custom_field_options": [{"name": "none", "value": "esc_none"}]}})  # fmt: skip
    field_id = created.json()["ticket_field"]["id"]
    path = f"/api/v2/ticket_fields/{field_id}/options.json"
    added = _zendesk(sandbox, "POST", path, json={"custom_field_option": {"name": "advisory", "value": "esc_advisory"}})  # fmt: skip
    again = _zendesk(sandbox, "POST", path, json={"custom_field_option": {"name": "Advisory", "value": "esc_advisory"}})  # fmt: skip
    field = _zendesk(sandbox, "GET", f"/api/v2/ticket_fields/{field_id}.json").json()[
        "ticket_field"
    ]
    assert (added.status_code, again.status_code) == (201, 200)
    assert [(o["name"], o["value"]) for o in field["custom_field_options"]] == [
        ("none", "esc_none"),
        ("Advisory", "esc_advisory"),
    ]


def test_zendesk_views_are_created_by_admins_only(sandbox):
    view = {"view": {"title": "Escalated: executive-review",
                     "all": [{"field": "current_tags", "operator": "includes", "value": "escalation_executive_review"}],
                     "output": {"sort_by": "custom_fields_1", "sort_order": "asc"}}}  # fmt: skip
    created = _zendesk(sandbox, "POST", "/api/v2/views.json", json=view)
    listed = _zendesk(sandbox, "GET", "/api/v2/views.json").json()["views"]
    sandbox.zendesk.api_user_role = "agent"
    refused = _zendesk(sandbox, "POST", "/api/v2/views.json", json=view)
    assert created.status_code == 201
    assert created.json()["view"]["execution"]["sort_order"] == "asc"
    assert [v["title"] for v in listed] == ["Escalated: executive-review"]
    assert refused.status_code == 403


def test_zendesk_ticket_count_is_every_ticket_or_the_cached_value(sandbox):
    _load_bare(sandbox)
    exact = _zendesk(sandbox, "GET", "/api/v2/tickets/count.json").json()["count"]
    sandbox.zendesk.cached_ticket_count = 250_000
    cached = _zendesk(sandbox, "GET", "/api/v2/tickets/count").json()["count"]
    assert exact["value"] == 10 and exact["refreshed_at"]
    assert cached["value"] == 250_000


# -- Jira -------------------------------------------------------------------------------------
def test_jira_approximate_count_answers_bounded_jql_only(sandbox):
    for _ in range(3):
        sandbox.jira.create_issue("ENG", "Checkout fails")
    path = "/rest/api/3/search/approximate-count"
    counted = _jira(sandbox, "POST", path, json={"jql": "project in (ENG, OPS) AND statusCategory != Done"})  # fmt: skip
    unbounded = _jira(sandbox, "POST", path, json={"jql": "order by created"})
    assert counted.status_code == 200 and counted.json() == {"count": 3}
    assert unbounded.status_code == 400


def test_jira_mypermissions_answers_each_key_and_a_denied_one(sandbox):
    sandbox.jira.deny_permission("OPS", "EDIT_ISSUES")
    query = "/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS,EDIT_ISSUES&projectKey="
    eng = _jira(sandbox, "GET", query + "ENG").json()["permissions"]
    ops = _jira(sandbox, "GET", query + "OPS").json()["permissions"]
    assert eng["EDIT_ISSUES"]["havePermission"] is True
    assert ops["EDIT_ISSUES"]["havePermission"] is False
    assert ops["BROWSE_PROJECTS"]["havePermission"] is True
    assert _jira(sandbox, "GET", "/rest/api/3/mypermissions").status_code == 400


def test_jira_new_field_is_editable_only_once_added_to_the_projects_screen(sandbox):
    key = sandbox.jira.create_issue("ENG", "Checkout fails")
    field = _jira(sandbox, "POST", "/rest/api/3/field", json={
        "name": "Customer tier", "type": "com.atlassian.jira.plugin.system.customfieldtypes:select"}).json()  # fmt: skip
    before = _jira(sandbox, "GET", f"/rest/api/3/issue/{key}/editmeta").json()["fields"]
    project = _jira(sandbox, "GET", "/rest/api/3/project/ENG").json()
    scheme = _jira(
        sandbox, "GET", f"/rest/api/3/issuetypescreenscheme/project?projectId={project['id']}"
    ).json()
    scheme_id = scheme["values"][0]["issueTypeScreenScheme"]["id"]
    mapping = _jira(
        sandbox,
        "GET",
        f"/rest/api/3/issuetypescreenscheme/mapping?issueTypeScreenSchemeId={scheme_id}",
    ).json()
    screens = _jira(
        sandbox, "GET", f"/rest/api/3/screenscheme?id={mapping['values'][0]['screenSchemeId']}"
    ).json()
    screen_id = screens["values"][0]["screens"]["default"]
    tab_id = _jira(sandbox, "GET", f"/rest/api/3/screens/{screen_id}/tabs").json()[0]["id"]
    tab = f"/rest/api/3/screens/{screen_id}/tabs/{tab_id}/fields"
    added = _jira(sandbox, "POST", tab, json={"fieldId": field["id"]})
    twice = _jira(sandbox, "POST", tab, json={"fieldId": field["id"]})
    after = _jira(sandbox, "GET", f"/rest/api/3/issue/{key}/editmeta").json()["fields"]  # fmt: skip
    assert field["id"] not in before
    assert added.status_code == 200 and twice.status_code == 400
    assert after[field["id"]]["schema"]["type"] == "option"
    assert field["id"] in [f["id"] for f in _jira(sandbox, "GET", tab).json()]


def test_jira_field_taken_off_the_screen_leaves_editmeta(sandbox):
    key = sandbox.jira.create_issue("OPS", "Pager storm")
    sandbox.jira.remove_from_screen("OPS", catalogue.JIRA_FIELD_LEVEL)
    fields = _jira(sandbox, "GET", f"/rest/api/3/issue/{key}/editmeta").json()["fields"]
    assert catalogue.JIRA_FIELD_LEVEL not in fields
    assert [o["value"] for o in fields[catalogue.JIRA_FIELD_TIER]["allowedValues"]][:1] == [
        "strategic"
    ]


def test_jira_project_context_limits_a_new_field_to_its_projects(sandbox):
    eng, ops = (sandbox.jira.create_issue(p, "Checkout fails") for p in ("ENG", "OPS"))
    field = _jira(sandbox, "POST", "/rest/api/3/field", json={
        "name": "Customer tier", "type": "com.atlassian.jira.plugin.system.customfieldtypes:select"}).json()["id"]  # fmt: skip
    for key in ("ENG", "OPS"):
        project = _jira(sandbox, "GET", f"/rest/api/3/project/{key}").json()
        sandbox.jira.screen_fields(key).append(field)
        if key == "ENG":
            eng_id = project["id"]
    [default] = _jira(sandbox, "GET", f"/rest/api/3/field/{field}/context").json()["values"]
    made = _jira(sandbox, "POST", f"/rest/api/3/field/{field}/context", json={
        "name": "escalation-sync", "projectIds": [eng_id], "issueTypeIds": []})  # fmt: skip
    again = _jira(sandbox, "POST", f"/rest/api/3/field/{field}/context", json={"name": "x", "projectIds": [eng_id]})  # fmt: skip
    context = made.json()["id"]
    _jira(sandbox, "POST", f"/rest/api/3/field/{field}/context/{context}/option", json={"options": [{"value": "gold"}]})  # fmt: skip
    deleted = _jira(sandbox, "DELETE", f"/rest/api/3/field/{field}/context/{default['id']}")
    mapping = _jira(sandbox, "GET", f"/rest/api/3/field/{field}/context/projectmapping").json()
    listed = _jira(sandbox, "GET", f"/rest/api/3/field/{field}/context").json()["values"]
    options = _jira(sandbox, "GET", f"/rest/api/3/field/{field}/context/{context}/option").json()
    assert default["isGlobalContext"] is True
    assert made.status_code == 201 and made.json()["projectIds"] == [eng_id]
    assert again.status_code == 400 and deleted.status_code == 204
    assert mapping["values"] == [{"contextId": context, "projectId": eng_id}]
    assert [(c["id"], c["isGlobalContext"], c["isAnyIssueType"]) for c in listed] == [(context, False, True)]  # fmt: skip
    assert [o["value"] for o in options["values"]] == ["gold"]
    assert field in _jira(sandbox, "GET", f"/rest/api/3/issue/{eng}/editmeta").json()["fields"]
    assert field not in _jira(sandbox, "GET", f"/rest/api/3/issue/{ops}/editmeta").json()["fields"]


# -- Salesforce -------------------------------------------------------------------------------
def test_salesforce_tooling_field_shows_in_describe_and_is_editable_once_permitted(sandbox):
    _load_bare(sandbox)
    sf = Salesforce(sandbox)
    assert sf.field("Account", "Open_Escalations__c") is None
    created = sf.call("POST", "/tooling/sobjects/CustomField/", json={
        "FullName": "Account.Highest_Escalation_Level__c",
        "Metadata": {"label": "Highest escalation level", "type": "Picklist", "valueSet": {
            "restricted": True, "valueSetDefinition": {"value": [{"fullName": "none", "label": "none"}]}}}})  # fmt: skip
    duplicate = sf.call("POST", "/tooling/sobjects/CustomField/", json={
        "FullName": "Account.Highest_Escalation_Level__c", "Metadata": {"label": "x", "type": "Text", "length": 10}})  # fmt: skip
    described = sf.field("Account", "Highest_Escalation_Level__c")
    assert created.status_code == 201 and duplicate.status_code == 400
    assert described["type"] == "picklist" and described["restrictedPicklist"] is True
    assert described["updateable"] is False  # no field-level security granted yet

    permission_set = sf.call("POST", "/sobjects/PermissionSet/", json={"Name": "Escalation_Sync", "Label": "Escalation Sync"}).json()["id"]  # fmt: skip
    sf.call("POST", "/sobjects/FieldPermissions/", json={
        "ParentId": permission_set, "SobjectType": "Account", "Field": "Account.Highest_Escalation_Level__c",
        "PermissionsRead": True, "PermissionsEdit": True})  # fmt: skip
    assert sf.field("Account", "Highest_Escalation_Level__c")["updateable"] is False  # not assigned
    sf.call("POST", "/sobjects/PermissionSetAssignment/", json={"AssigneeId": sf.user_id, "PermissionSetId": permission_set})  # fmt: skip
    assert sf.field("Account", "Highest_Escalation_Level__c")["updateable"] is True


def test_salesforce_tooling_query_finds_a_field_whose_picklist_is_then_extended(sandbox):
    _load_bare(sandbox)
    sf = Salesforce(sandbox)
    sf.call("POST", "/tooling/sobjects/CustomField/", json={
        "FullName": "Account.Highest_Escalation_Level__c",
        "Metadata": {"label": "Level", "type": "Picklist", "valueSet": {
            "restricted": True, "valueSetDefinition": {"value": [{"fullName": "none"}]}}}})  # fmt: skip
    found = sf.call("GET", "/tooling/query/", params={"q": "SELECT Id FROM CustomField WHERE TableEnumOrId = 'Account' AND DeveloperName = 'Highest_Escalation_Level'"}).json()  # fmt: skip
    field_id = found["records"][0]["Id"]
    patched = sf.call("PATCH", f"/tooling/sobjects/CustomField/{field_id}", json={"Metadata": {
        "label": "Level", "type": "Picklist", "valueSet": {"restricted": True, "valueSetDefinition": {
            "value": [{"fullName": "none"}, {"fullName": "advisory"}]}}}})  # fmt: skip
    values = [
        v["value"] for v in sf.field("Account", "Highest_Escalation_Level__c")["picklistValues"]
    ]
    assert patched.status_code == 204 and values == ["none", "advisory"]


def test_salesforce_custom_object_with_a_unique_external_id(sandbox):
    _load_bare(sandbox)
    sf = Salesforce(sandbox)
    assert sf.call("GET", "/sobjects/Escalation__c/describe").status_code == 404
    made = sf.call("POST", "/tooling/sobjects/CustomObject/", json={"FullName": "Escalation__c", "Metadata": {
        "label": "Escalation", "pluralLabel": "Escalations", "nameField": {"label": "Escalation Name", "type": "Text"},
        "deploymentStatus": "Deployed", "sharingModel": "ReadWrite"}})  # fmt: skip
    sf.call("POST", "/tooling/sobjects/CustomField/", json={"FullName": "Escalation__c.Ticket_Ref__c", "Metadata": {
        "label": "Ticket ref", "type": "Text", "length": 100, "externalId": True, "unique": True}})  # fmt: skip
    described = sf.call("GET", "/sobjects/Escalation__c/describe").json()
    ref = next(f for f in described["fields"] if f["name"] == "Ticket_Ref__c")
    assert made.status_code == 201 and described["createable"] is False
    assert (ref["externalId"], ref["unique"], ref["length"]) == (True, True, 100)


def test_salesforce_missing_field_permission_is_scriptable_and_refuses_writes(sandbox):
    sf = Salesforce(sandbox)
    sandbox.salesforce.set_field_editable("Account", "Next_SLA_Breach__c", False)
    account = sandbox.salesforce.put_record("Account", {"Name": "Acme"})
    refused = sf.call("PATCH", f"/sobjects/Account/{account}", json={"Next_SLA_Breach__c": "2026-01-01T00:00:00Z"})  # fmt: skip
    assert sf.field("Account", "Next_SLA_Breach__c")["updateable"] is False
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_salesforce_token_names_its_scopes_and_one_without_api_is_refused_by_rest(sandbox):
    granted = Salesforce(sandbox)
    sandbox.salesforce.oauth.scopes = ("id", "web")
    limited = Salesforce(sandbox)
    refused = limited.call("GET", "/limits")
    assert granted.token["scope"] == "api" and limited.token["scope"] == "id web"
    assert granted.call("GET", "/limits").status_code == 200
    assert refused.status_code == 401
    assert refused.json() == [{"message": "This session is not valid for use with the REST API", "errorCode": "INVALID_SESSION_ID"}]  # fmt: skip


@pytest.mark.parametrize("vendor", ["zendesk", "jira", "salesforce"])
def test_bare_org_survives_save_and_load(sandbox, vendor, tmp_path):
    _load_bare(sandbox)
    state = sandbox.apps[vendor].dump_state()
    sandbox.apps[vendor].load_state(state)
    assert sandbox.apps[vendor].dump_state() == state
