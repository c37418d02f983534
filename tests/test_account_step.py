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


class _Writer:
    """A writer that records what it was sent, or refuses our credentials."""

    def __init__(self, refuses: bool = False):
        from connectors.base import ConnectorStats

        self.refuses, self.sent, self._stats = refuses, [], ConnectorStats()

    def stats(self):
        return self._stats

    def apply(self, writes):
        from connectors.base import WriteResult, WriteStatus
        from connectors.errors import AuthError

        if self.refuses:
            raise AuthError("salesforce: invalid_client")
        self.sent += [w.record_id for w in writes]
        return [WriteResult(w, WriteStatus.OK) for w in writes]


def test_each_orgs_account_writes_go_to_its_own_writer_in_its_own_ids() -> None:
    """ByInstance: a write of `eu/001A` reaches org eu's writer as `001A`, the default's its own
    bare ids; an org refusing us answers RETRY for its writes only; results name the writes as
    the run knows them, in order."""
    from connectors.base import FieldWrite, WriteStatus
    from sync.accounts_writers import ByInstance

    default, eu, us = _Writer(), _Writer(), _Writer(refuses=True)
    writer = ByInstance("salesforce", {None: default, "eu": eu, "us": us}, ("eu", "us"))
    ids = ["eu/001A", "001A", "us/001B", "eu/001C/save-plan", "001D/save-plan"]
    results = writer.apply([FieldWrite("salesforce", "account", i, {"L__c": "x"}) for i in ids])
    assert [r.write.record_id for r in results] == ids
    assert default.sent == ["001A", "001D/save-plan"]
    assert eu.sent == ["001A", "001C/save-plan"]
    assert [r.status for r in results] == [
        WriteStatus.OK, WriteStatus.OK, WriteStatus.RETRY, WriteStatus.OK, WriteStatus.OK,
    ]  # fmt: skip
    assert results[2].reason is not None and results[2].reason.startswith("salesforce@us:")


def test_an_org_refusing_one_labels_writes_is_not_asked_for_the_next_labels() -> None:
    """Two labels' ByInstance writers of one system (account fields, tasks) share what refused
    them: org us, refusing the fields, is not sent the tasks (they answer RETRY at once), and
    it is named for apply_writes to report (`salesforce@us`)."""
    from connectors.base import FieldWrite, WriteStatus
    from sync.accounts_writers import ByInstance

    refused: dict = {}
    us_fields, us_tasks, default = _Writer(refuses=True), _Writer(), _Writer()
    fields = ByInstance("salesforce", {None: default, "us": us_fields}, ("us",), refused)
    tasks = ByInstance("salesforce", {None: default, "us": us_tasks}, ("us",), refused)
    fields.apply([FieldWrite("salesforce", "account", "us/001A", {"L__c": "x"})])
    assert set(fields.unreached) == {"salesforce@us"}
    results = tasks.apply(
        [FieldWrite("salesforce", "task", i, {"S": "y"}) for i in ("us/001A/p", "001B/p")]
    )
    assert [r.status for r in results] == [WriteStatus.RETRY, WriteStatus.OK]
    assert us_tasks.sent == [] and default.sent == ["001B/p"]
