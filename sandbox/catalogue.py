"""The sandbox's fixed catalogue: custom fields, credentials and the data-set file contract.

The generator writes, and each emulation loads, one JSON file per vendor in the data folder:

- `zendesk.json`: {"tickets": [ticket as GET /api/v2/tickets/{id} returns it], "organizations":
  [...], "users": [...], "ticket_fields": [...], "organization_fields": [...], "views": [...],
  "ticket_metrics": [metric set as GET /api/v2/tickets/{id}/metrics returns it, one per ticket, with its
  "ticket_id"; nested into tickets as "metric_set" for include=metric_sets]}. Metric sets: a
  "new" ticket has no reply yet (replies 0, reply_time_in_minutes calendar/business null,
  assignee_updated_at null); any other has a first reply minutes to hours after creation (most
  within the acknowledge targets of config/example/matrix.yaml, some late), assignee_updated_at
  between that reply and updated_at, and solved_at once solved or closed.
- `jira.json`: {"issues": [issue as GET /rest/api/3/issue/{key} returns it, with "fields"],
  "fields": [as GET /rest/api/3/field returns them], "projects": [{"id","key","name"}],
  "screens": {project key: [field ids on its screen]} (absent: every field on every screen)}
- `salesforce.json`: {"sobjects": {"Account": [record with "attributes"], "User": [...],
  "Escalation__c": [...]}} (records as a SOQL query returns them; describe is derived from
  SALESFORCE_OBJECTS below; with "schema", the org's own objects and fields as
  sandbox/salesforce/schema.py `Schema.dump` writes them: a bare org, or one provision changed)

Ids below are the ones config/sandbox/ maps; a real org has its own, set in its config.
"""

from __future__ import annotations

# --- credentials the sandbox accepts (never real secrets; tests and the demo export them) ---
ZENDESK_EMAIL = "sync-bot@example.com"
ZENDESK_API_TOKEN = "zd-sandbox-token"
ZENDESK_OAUTH_TOKEN = "zd-sandbox-oauth"
JIRA_EMAIL = "sync-bot@example.com"
JIRA_API_TOKEN = "jira-sandbox-token"
JIRA_PAT = "jira-sandbox-pat"
SALESFORCE_CLIENT_ID = "sf-sandbox-client"
SALESFORCE_CLIENT_SECRET = "sf-sandbox-secret"
SALESFORCE_USERNAME = "sync-bot@example.com"
SALESFORCE_PASSWORD = "sf-sandbox-password"
SALESFORCE_SECURITY_TOKEN = "sf-sandbox-security-token"

LEVELS = ("none", "informational", "advisory", "action-needed", "executive-review")
CATEGORIES = ("outage", "defect", "contract", "privacy", "question")
TIERS = ("strategic", "enterprise", "growth", "standard")

# --- Zendesk ---------------------------------------------------------------------------
ZD_FIELD_ACCOUNT_ID = 360000000101  # text: Salesforce account id, set by agents
ZD_FIELD_CATEGORY = 360000000102  # tagger
ZD_FIELD_LEVEL = 360000000201  # tagger, managed by escalation-sync
ZD_FIELD_OWNER = 360000000202  # text, managed
ZD_FIELD_SLA_DUE = 360000000203  # text (date fields hold no time), managed
ZD_FIELD_REASON = 360000000204  # textarea, managed
ZD_CATEGORY_TAGS = {c: f"cat_{c}" for c in CATEGORIES}
ZD_LEVEL_TAGS = {level: f"esc_level_{level.replace('-', '_')}" for level in LEVELS}
ZD_ORG_FIELD_SF_ID = "salesforce_account_id"  # organization_fields key

# --- Jira ------------------------------------------------------------------------------
JIRA_PROJECTS = (("10000", "ENG", "Engineering"), ("10001", "OPS", "Operations"))
JIRA_FIELD_SEVERITY = "customfield_10100"  # select: Sev-1..Sev-4
JIRA_FIELD_ZENDESK_TICKET = "customfield_10101"  # text: linked Zendesk ticket ids, comma separated
JIRA_FIELD_LEVEL = "customfield_10200"  # select, managed
JIRA_FIELD_TIER = "customfield_10201"  # select, managed
JIRA_FIELD_RENEWAL = "customfield_10202"  # date, managed
JIRA_FIELD_ARR = "customfield_10203"  # number, managed
JIRA_FIELD_SLA_DUE = "customfield_10204"  # datetime, managed
JIRA_ESCALATION_LABEL = "customer-escalation"
JIRA_SEVERITY_OPTIONS = ("Sev-1", "Sev-2", "Sev-3", "Sev-4")

# --- Salesforce ------------------------------------------------------------------------
SALESFORCE_API_VERSION = "62.0"
# object -> {field: soap type}; "Id" and "SystemModstamp" exist on every object.
SALESFORCE_OBJECTS: dict[str, dict[str, str]] = {
    "Account": {
        "Id": "id",
        "Name": "string",
        "Tier__c": "picklist",
        "Renewal_Date__c": "date",
        "ARR__c": "currency",
        "OwnerId": "reference",
        "CSM_Email__c": "email",
        "Region__c": "picklist",
        "Time_Zone__c": "string",
        "Health__c": "picklist",
        "Website": "url",
        "Zendesk_Org_External_Id__c": "string",
        "Open_Escalations__c": "double",
        "Highest_Escalation_Level__c": "picklist",
        "Next_SLA_Breach__c": "datetime",
        # Signals the account matrix reads (mapping.salesforce.account.signals).
        "Active_Users_30d__c": "double",
        "NPS__c": "double",
        # Written by the account matrix (mapping.salesforce.account_matrix.write).
        "Account_Escalation_Level__c": "picklist",
        "Account_Escalation_Owner__c": "string",
        "Account_Escalation_Reason__c": "textarea",
        "Next_Outreach_Due__c": "date",
        # Set on a record in the Recycle Bin (queryAll shows it); the winner of a merge.
        "IsDeleted": "boolean",
        "MasterRecordId": "reference",
        "CreatedDate": "datetime",
        "LastModifiedDate": "datetime",
        "SystemModstamp": "datetime",
    },
    "User": {
        "Id": "id",
        "Name": "string",
        "Email": "email",
        "SystemModstamp": "datetime",
    },
    "Escalation__c": {
        "Id": "id",
        "Name": "string",
        "Ticket_Ref__c": "string",  # external id: "zendesk:123"
        "Account__c": "reference",
        "Level__c": "picklist",
        "Owner_Role__c": "string",
        "Owner__c": "string",
        "SLA_Due__c": "datetime",
        "Reason__c": "textarea",
        "SystemModstamp": "datetime",
    },
    # The standard activity object: the account matrix's playbook tasks.
    "Task": {
        "Id": "id",
        "Subject": "string",
        "Description": "textarea",
        "ActivityDate": "date",
        "Priority": "picklist",
        "Status": "picklist",
        "WhatId": "reference",
        "OwnerId": "reference",
        "CreatedDate": "datetime",
        "LastModifiedDate": "datetime",
        "SystemModstamp": "datetime",
    },
}
ACCOUNT_LEVELS = ("healthy", "watch", "at-risk", "executive-attention")
# The standard Task picklists (Setup > Activities > Task Fields).
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_PRIORITIES = ("High", "Normal", "Low")
SALESFORCE_EXTERNAL_ID_FIELDS = {
    "Escalation__c": ("Ticket_Ref__c",),
    "Account": ("Zendesk_Org_External_Id__c",),
}
