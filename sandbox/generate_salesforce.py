"""Render the world's accounts and staff as Salesforce query results (salesforce.json)."""

from __future__ import annotations

from typing import Any

from sandbox.catalogue import SALESFORCE_API_VERSION
from sandbox.generate_companies import Company, CrmUser, World
from sandbox.generate_values import salesforce_attributes, salesforce_time


def salesforce_dataset(world: World) -> dict[str, Any]:
    """{"sobjects": {"Account": [...], "User": [...], "Escalation__c": []}}.

    Escalation__c starts empty: escalation-sync creates those records by upsert.
    """
    return {
        "sobjects": {
            "Account": [_account(company) for company in world.companies],
            "User": [_user(user) for user in world.crm_users],
            "Escalation__c": [],
            "Task": [],
        }
    }


def _account(company: Company) -> dict[str, Any]:
    modified = salesforce_time(company.modified_ts)
    return {
        "attributes": salesforce_attributes("Account", company.account_id, SALESFORCE_API_VERSION),
        "Id": company.account_id,
        "Name": company.name,
        "Tier__c": company.tier_label,
        "Renewal_Date__c": company.renewal_date,
        "ARR__c": company.arr,
        "OwnerId": company.owner_id,
        "CSM_Email__c": company.csm_email,
        "Region__c": company.region,
        "Time_Zone__c": company.time_zone,
        "Health__c": company.health,
        "Website": f"https://www.{company.domain}",
        "Zendesk_Org_External_Id__c": company.external_id,
        # Managed by escalation-sync: empty until its first run.
        "Open_Escalations__c": None,
        "Highest_Escalation_Level__c": None,
        "Next_SLA_Breach__c": None,
        "Active_Users_30d__c": None,
        "NPS__c": None,
        "Account_Escalation_Level__c": None,
        "Account_Escalation_Owner__c": None,
        "Account_Escalation_Reason__c": None,
        "Next_Outreach_Due__c": None,
        "IsDeleted": False,  # live, not in the Recycle Bin
        "MasterRecordId": None,  # set on the loser of a merge
        "CreatedDate": salesforce_time(company.created_ts),
        "LastModifiedDate": modified,
        "SystemModstamp": modified,
    }


def _user(user: CrmUser) -> dict[str, Any]:
    return {
        "attributes": salesforce_attributes("User", user.user_id, SALESFORCE_API_VERSION),
        "Id": user.user_id,
        "Name": user.name,
        "Email": user.email,
        "SystemModstamp": salesforce_time(user.modified_ts),
    }
