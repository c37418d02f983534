"""The shared-allowance budget's arithmetic (sync/allowance.py), on plain values: how many of the
next writes fit in the requests left before the reserve, and the order writes are spent in."""

from __future__ import annotations

from types import SimpleNamespace

from connectors.base import ApiUsage, FieldWrite
from sync.allowance import SalesforceReserve, highest_levels_first


class Org:
    """A DailyAllowance that reports a fixed usage and counts the GET limits it was asked."""

    def __init__(self, used: int, limit: int = 15_000):
        self.usage = ApiUsage(used, limit)
        self.refreshes = 0

    def api_usage(self, refresh: bool = False) -> ApiUsage | None:
        self.refreshes += refresh
        return self.usage


def item(kind: str, level: str = "advisory", delete: bool = False) -> SimpleNamespace:
    write = FieldWrite("salesforce", kind, f"{kind}-{id(object())}", delete=delete)
    return SimpleNamespace(write=write, target=SimpleNamespace(level=level))


def test_writes_are_cut_to_the_requests_left_before_the_reserve():
    org = Org(used=11_997)  # 3 requests left before 12,000 (80% of 15,000)
    reserve = SalesforceReserve(org, reserve=0.2, batch_size=2)
    accounts = [item("account") for _ in range(5)]
    assert reserve.allowed(accounts) == 5  # 3 requests of 2, 2 and 1 records
    records = [item("escalation_record") for _ in range(3)]
    # Another kind goes in requests of its own: 2 accounts (1 request) + 3 records (2).
    assert reserve.allowed(accounts[:2] + records) == 5
    # 3 accounts (2 requests) leave one: 2 records fit in it, the third would need another.
    assert reserve.allowed(accounts[:3] + records) == 5
    assert reserve.allowed([item("escalation_record", delete=True)] * 4) == 3  # one each


def test_at_the_reserve_nothing_more_is_written_and_the_summary_says_why():
    reserve = SalesforceReserve(Org(used=12_000), reserve=0.2, batch_size=200)
    assert reserve.allowed([item("account")]) == 0
    assert reserve.why() == "Salesforce API reserve reached (80% of 15,000 used)"
    assert reserve.summary() == {
        "used": 12_000, "limit": 15_000, "reserve": 0.2, "stop_writing_at": 12_000,
    }  # fmt: skip


def test_limits_is_asked_once_a_run_then_the_answers_headers_are_read():
    org = Org(used=10)
    reserve = SalesforceReserve(org, reserve=0.2, batch_size=200)
    for _ in range(3):
        reserve.allowed([item("account")])
    assert org.refreshes == 1


def test_writes_go_highest_level_first_keeping_the_planned_order_within_a_level():
    rank = {"none": 0, "advisory": 1, "action-needed": 2, "executive-review": 3}
    planned = [item("account", level) for level in
               ("advisory", "executive-review", None, "action-needed", "executive-review")]  # fmt: skip
    ordered = highest_levels_first(planned, rank)
    assert [i.target.level for i in ordered] == [
        "executive-review", "executive-review", "action-needed", "advisory", None,
    ]  # fmt: skip
    assert ordered[0] is planned[1] and ordered[1] is planned[4]
