"""Several Salesforce orgs' API reserves (sync/allowance.py OrgReserves): each write is weighed
against the allowance of the org it goes to, with that org's own reserve."""

from __future__ import annotations

from types import SimpleNamespace

from config.loader import load_config
from connectors.base import FieldWrite
from sync.allowance import OrgReserves, SalesforceReserve, write_budgets
from sync.instances import SalesforceOrgs
from tests.test_allowance_budget import Org
from tests.test_config_orgs import _with_org


class Member(Org):
    """An org's connector as far as the budget sees it: its usage."""

    system = "salesforce"
    streams = ("accounts",)


def item(record_id: str) -> SimpleNamespace:
    write = FieldWrite("salesforce", "account", record_id)
    return SimpleNamespace(write=write, target=SimpleNamespace(level="advisory"))


def test_a_named_org_at_its_reserve_stops_only_at_its_own_writes():
    default, eu = Org(used=0), Org(used=12_000)  # eu: at 80% of 15,000
    budget = OrgReserves(
        {None: SalesforceReserve(default, 0.2, 200), "eu": SalesforceReserve(eu, 0.2, 200)},
        ("eu",),
    )
    assert budget.allowed([item("001A"), item("001B")]) == 2
    assert budget.allowed([item("001A"), item("eu/001B"), item("001C")]) == 1
    assert budget.why() == "Salesforce API reserve reached (80% of 15,000 used) in salesforce@eu"
    assert budget.summary() == SalesforceReserve(default, 0.2, 200).summary()


def test_the_default_org_at_its_reserve_does_not_stop_a_named_orgs_writes():
    default, eu = Org(used=12_000), Org(used=0)
    budget = OrgReserves(
        {None: SalesforceReserve(default, 0.2, 200), "eu": SalesforceReserve(eu, 0.2, 200)},
        ("eu",),
    )
    assert budget.allowed([item("eu/001A"), item("eu/001B"), item("001C")]) == 2
    assert budget.why().endswith("(80% of 15,000 used)")


def test_each_org_is_weighed_with_its_own_reserve(tmp_path):
    org = (
        "    instances:\n      eu:\n        login_url: https://acme-eu.my.salesforce.com\n"
        "        client_id_env: SALESFORCE_EU_CLIENT_ID\n"
        "        client_secret_env: SALESFORCE_EU_CLIENT_SECRET\n"
        "        sync: {api_reserve: 0.5}\n"
    )
    config = load_config(_with_org(tmp_path, org))
    default, eu = Member(used=8_000), Member(used=8_000)  # under 80%, over 50% of 15,000
    connectors = {"salesforce": SalesforceOrgs({None: default, "eu": eu}, ("eu",))}  # type: ignore[dict-item]
    budget = write_budgets(config, connectors)["salesforce"]
    assert budget.allowed([item("001A")]) == 1
    assert budget.allowed([item("eu/001A")]) == 0
