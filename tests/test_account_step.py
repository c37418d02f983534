"""The account step's results join the run's: a waiting budget spent on the account writes
makes the run quota-bound (exit 10), not failed (exit 1)."""

from __future__ import annotations

import pytest

from errors import ExitCode
from sync.accounts_run import AccountStep
from sync.apply import ApplyReport
from sync.run import RunResult


def test_a_quota_bound_account_write_leaves_the_run_quota_bound_not_failed() -> None:
    result = RunResult(run_id=1, dry_run=False)
    why = "salesforce.task: the run's waiting budget is spent (salesforce); resuming next run"
    report = ApplyReport(
        retry=[("salesforce.task:001A/save-plan", why)],
        quota_bound={"salesforce.task": why},
    )
    step = object.__new__(AccountStep)  # _merge reads nothing but the run's result
    step.result = result
    step._merge(report)
    assert result.quota_bound == {"salesforce.task": why}
    assert result.exit_code is ExitCode.QUOTA_BOUND


def test_the_fast_target_constructor_makes_what_the_dataclass_makes() -> None:
    """sync.wanted.target builds Target without its __init__: every field, defaults included
    (a fresh `sources` each), equal to Target(...), still frozen; a misspelt field refused."""
    from dataclasses import FrozenInstanceError, fields

    from config.write_mapping import WriteField
    from sync.wanted import Target, target

    writes = {"account_level": WriteField(field="Level__c", format="text")}
    given = {"current": {"account_level": None}, "ref": "account:001", "reasons": ("r",)}
    fast = target("salesforce.account", "account", "001", "watch", {"a": 1}, writes, **given)
    slow = Target("salesforce.account", "account", "001", "watch", {"a": 1}, writes, **given)
    assert fast == slow
    assert {f.name: getattr(fast, f.name) for f in fields(Target)} == {
        f.name: getattr(slow, f.name) for f in fields(Target)
    }
    assert fast.sources is not target("s", "k", "2", None, {}, {}).sources
    with pytest.raises(FrozenInstanceError):
        fast.level = "healthy"  # type: ignore[misc]
    with pytest.raises(TypeError, match="refs"):
        target("s", "k", "3", None, {}, {}, refs="account:003")
