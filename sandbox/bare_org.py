"""An org before escalation-sync was set up: the data set without the fields we write.

What stays is what the customer already had (Zendesk's category and account-id fields and the
organisation field, Jira's severity and linked-ticket fields, Salesforce's tier, renewal, ARR,
region...); what goes is what `escalation-sync provision` creates: the managed ticket fields,
the managed Jira fields, the Account fields we write (the account matrix's too) and the
`Escalation__c` object (with its records); tags on users and organisations are off, as in a
new Zendesk account. `sandbox generate --bare-org` writes such a data set.

With `organization_field=False` the organisation field the join reads goes too (its
definition and every organisation's value): an org where nobody ever filled in the
Salesforce account id, for provision to create the field.
"""

from __future__ import annotations

from typing import Any

from sandbox import catalogue
from sandbox.salesforce.schema import Schema

ZENDESK_MANAGED = frozenset(
    {
        catalogue.ZD_FIELD_LEVEL,
        catalogue.ZD_FIELD_OWNER,
        catalogue.ZD_FIELD_SLA_DUE,
        catalogue.ZD_FIELD_REASON,
    }
)
JIRA_MANAGED = frozenset(
    {
        catalogue.JIRA_FIELD_LEVEL,
        catalogue.JIRA_FIELD_TIER,
        catalogue.JIRA_FIELD_RENEWAL,
        catalogue.JIRA_FIELD_ARR,
        catalogue.JIRA_FIELD_SLA_DUE,
    }
)
SALESFORCE_MANAGED: dict[str, tuple[str, ...] | None] = {
    "Account": (
        "Open_Escalations__c",
        "Highest_Escalation_Level__c",
        "Next_SLA_Breach__c",
        # the account matrix's fields (mapping.salesforce.account_matrix.write)
        "Account_Escalation_Level__c",
        "Account_Escalation_Owner__c",
        "Account_Escalation_Reason__c",
        "Next_Outreach_Due__c",
    ),
    "Escalation__c": None,  # the whole object
}


def bare_org(
    dataset: dict[str, dict[str, Any]], organization_field: bool = True
) -> dict[str, dict[str, Any]]:
    """The data set (as generate_dataset returns it) without our fields, changed in place;
    without the join's organisation field too when `organization_field` is False."""
    _bare_zendesk(dataset["zendesk"])
    if not organization_field:
        _without_organization_field(dataset["zendesk"], catalogue.ZD_ORG_FIELD_SF_ID)
    _bare_jira(dataset["jira"])
    _bare_salesforce(dataset["salesforce"])
    return dataset


def _bare_zendesk(zendesk: dict[str, Any]) -> None:
    # Tags on users and organisations start off in a new Zendesk account.
    zendesk["account_settings"] = {"user": {"tagging": False}}
    zendesk["ticket_fields"] = [
        f for f in zendesk["ticket_fields"] if f["id"] not in ZENDESK_MANAGED
    ]
    level_tags = set(catalogue.ZD_LEVEL_TAGS.values())
    for ticket in zendesk["tickets"]:
        for key in ("custom_fields", "fields"):
            if key in ticket:
                ticket[key] = [e for e in ticket[key] if e.get("id") not in ZENDESK_MANAGED]
        ticket["tags"] = [t for t in ticket.get("tags") or [] if t not in level_tags]


def _without_organization_field(zendesk: dict[str, Any], key: str) -> None:
    zendesk["organization_fields"] = [
        f for f in zendesk.get("organization_fields") or [] if f.get("key") != key
    ]
    for organization in zendesk.get("organizations") or []:
        (organization.get("organization_fields") or {}).pop(key, None)


def _bare_jira(jira: dict[str, Any]) -> None:
    jira["fields"] = [f for f in jira.get("fields") or [] if f["id"] not in JIRA_MANAGED]
    options = jira.get("field_options") or {}
    jira["field_options"] = {k: v for k, v in options.items() if k not in JIRA_MANAGED}
    for issue in jira.get("issues") or []:
        for field_id in JIRA_MANAGED:
            issue["fields"].pop(field_id, None)


def _bare_salesforce(salesforce: dict[str, Any]) -> None:
    schema = Schema().without(SALESFORCE_MANAGED)
    salesforce["schema"] = schema.dump()
    sobjects = salesforce["sobjects"]
    for object_name, fields in SALESFORCE_MANAGED.items():
        if fields is None:
            sobjects.pop(object_name, None)
            continue
        for record in sobjects.get(object_name) or []:
            for name in fields:
                record.pop(name, None)
