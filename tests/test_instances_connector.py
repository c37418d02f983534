"""`Instances` (sync/instances.py): several Zendesks behind one connector, each record routed
to the instance its id names, with the vendor's own id restored."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import pytest

from connectors.base import ConnectorStats, FieldWrite, Page, WriteResult, WriteStatus
from connectors.errors import SystemUnavailable
from mapping.records import SourceRecord
from sync.instances import Instances, SalesforceOrgs, reachable_instances, read_back_by_instance
from sync.progress import StreamProgress
from sync.pull import PullReport
from sync.quota_bound import quota_bound_summary
from sync.run import RunResult


class FakeZendesk:
    system = "zendesk"
    streams = ("tickets",)
    reread_kind = "ticket"

    def __init__(self, fail: bool = False, fail_reads: bool = False):
        self.fail = fail
        self.fail_reads = fail_reads
        self.applied: list[str] = []
        self.read: list[str] = []
        self.notes_of: list[str] = []

    def read_changes(
        self, stream: str, cursor: str | None, start: datetime | None = None
    ) -> Iterator[Page]:
        yield Page([SourceRecord("zendesk", "ticket", "7", {})], "c", True)

    def read_by_id(self, kind: str, ids: Sequence[str]) -> list[SourceRecord]:
        if self.fail_reads:
            raise SystemUnavailable("zendesk: 503 after retries")
        self.read += ids
        return [SourceRecord("zendesk", kind, i, {}) for i in ids]

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        if self.fail:
            raise SystemUnavailable("zendesk: 503 after retries")
        self.applied += [w.record_id for w in writes]
        return [WriteResult(w, WriteStatus.OK) for w in writes]

    def read_note_texts(self, record_id: str) -> list[str]:
        self.notes_of.append(record_id)
        return ["note"]

    def stats(self) -> ConnectorStats:
        return ConnectorStats(requests=len(self.applied))

    def close(self) -> None:
        pass


def _write(record_id: str) -> FieldWrite:
    return FieldWrite("zendesk", "ticket", record_id, {"1": "x"})


def test_writes_reads_and_note_looks_go_to_the_instance_the_id_names_with_its_own_id():
    default, eu = FakeZendesk(), FakeZendesk()
    both = Instances({None: default, "eu": eu})
    results = both.apply([_write("12"), _write("eu/12"), _write("13")])
    assert [r.write.record_id for r in results] == ["12", "eu/12", "13"]
    assert default.applied == ["12", "13"] and eu.applied == ["12"]
    assert [r.id for r in both.read_by_id("ticket", ["eu/5", "5"])] == ["eu/5", "5"]
    assert eu.read == ["5"] and default.read == ["5"]
    assert both.read_note_texts("eu/12") == ["note"] and eu.notes_of == ["12"]
    assert both.stats().requests == 3


def test_a_named_instance_failing_to_write_leaves_the_defaults_results():
    default, eu = FakeZendesk(), FakeZendesk(fail=True)
    results = Instances({None: default, "eu": eu}).apply([_write("eu/1"), _write("2")])
    assert [(r.write.record_id, r.status) for r in results] == [
        ("eu/1", WriteStatus.RETRY),
        ("2", WriteStatus.OK),
    ]
    assert results[0].reason is not None and results[0].reason.startswith("zendesk@eu: ")


def test_a_named_instance_not_reached_gets_no_writes_this_run():
    default, eu = FakeZendesk(), FakeZendesk()
    reachable = reachable_instances(
        {"zendesk": Instances({None: default, "eu": eu})}, {"zendesk@eu"}
    )
    results = reachable["zendesk"].apply([_write("eu/1"), _write("2")])
    assert eu.applied == [] and default.applied == ["2"]
    assert results[0].status is WriteStatus.RETRY
    assert reachable_instances({"zendesk": default}, {"zendesk"}) == {}


def test_a_named_instance_failing_to_re_read_leaves_the_defaults_records():
    default, eu = FakeZendesk(), FakeZendesk(fail_reads=True)
    both = Instances({None: default, "eu": eu})
    assert [r.id for r in both.read_by_id("ticket", ["eu/5", "5"])] == ["5"]


class FakeOrg:
    """Holds escalation records by external id; `down` raises as an org not answering."""

    system = "salesforce"
    streams = ("accounts",)

    def __init__(self, held: dict[str, dict], down: bool = False):
        self.held = held
        self.down = down
        self.asked: list[str] = []

    def read_upserted(
        self, object_name: str, key_field: str, fields: Sequence[str], keys: Sequence[str]
    ) -> dict[str, dict]:
        if self.down:
            raise SystemUnavailable("salesforce: 503 after retries")
        self.asked += keys
        return {key: self.held[key] for key in keys if key in self.held}

    def close(self) -> None:
        pass


def test_a_named_org_not_answering_leaves_its_records_unknown_and_the_defaults_read_back():
    default = FakeOrg({"zendesk:1": {"Level__c": "high"}})
    orgs = SalesforceOrgs({None: default, "eu": FakeOrg({}, down=True)}, ("eu",))
    keys = ["eu/zendesk:eu/1", "zendesk:1", "zendesk:2"]
    answered = read_back_by_instance(orgs, "Escalation__c", "Ticket_Ref__c", ["Level__c"], keys)
    # zendesk:2 is not in the default org (None); eu's record is unknown, so not answered.
    assert answered == {"zendesk:1": {"Level__c": "high"}, "zendesk:2": None}
    left_out = orgs.without(["eu"])
    answered = read_back_by_instance(left_out, "Escalation__c", "Ticket_Ref__c", [], keys)
    assert "eu/zendesk:eu/1" not in answered and default.asked[-2:] == ["zendesk:1", "zendesk:2"]
    # Through the connector contract, an org left out raises rather than answer "none".
    with pytest.raises(SystemUnavailable, match="salesforce@eu"):
        left_out.read_upserted("Escalation__c", "Ticket_Ref__c", [], keys)


def test_a_quota_bound_named_zendesk_is_told_by_its_own_streams():
    pull = PullReport()
    pull.quota_bound["zendesk@eu"] = "zendesk: export quota spent"
    for name in ("zendesk.tickets", "zendesk.tickets@eu"):
        pull.streams[name] = StreamProgress(name, 1000, 6.0)
    pull.streams["zendesk.tickets"].finished = 1.0  # the default read to its end
    result = RunResult(1, False, pull=pull)
    summary = quota_bound_summary(result)
    assert [read["stream"] for read in summary["zendesk@eu"]["reads"]] == ["zendesk.tickets@eu"]
    pull.quota_bound["zendesk"] = "zendesk: export quota spent"
    pull.streams["zendesk.tickets"].finished = None
    summary = quota_bound_summary(result)
    assert [read["stream"] for read in summary["zendesk"]["reads"]] == ["zendesk.tickets"]
