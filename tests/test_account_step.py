"""The account step's results join the run's: a waiting budget spent on the account writes
makes the run quota-bound (exit 10), not failed (exit 1)."""

from __future__ import annotations

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
