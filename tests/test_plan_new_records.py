"""A record we never wrote and no person overrode (every record of a first run) is planned by
a shorter path (sync/diff.py `_plan_new`, sync/plan.py): its plan is the one the general rules
make, field by field; its payload's hash is made when first asked, and is the same hash."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from config.write_mapping import WriteField
from connectors.base import FieldWrite
from sync.diff import FieldAction, RecordPlan, plan_field, plan_record
from sync.plan import PlannedWrite, payload_hash, plan_target
from sync.wanted import Target

RANKS = {"none": 0, "advisory": 1, "executive-review": 2}
VALUES = st.none() | st.sampled_from(["", [], "x", "esc_advisory", 0, 1, 1.0, "1", ["b", "a"]])
NAMES = st.sampled_from(["level", "owner", "due", "reason", "impact"])
WRITES = {
    "level": WriteField(field="360000000201", format="dropdown", options={"advisory": "esc_adv"}),
    "owner": WriteField(field="owner", format="text", max_length=5),
    "due": WriteField(field="due", format="datetime"),
    "reason": WriteField(field="reason", format="text"),
    "impact": WriteField(field="impact", format="number"),
}


@given(st.dictionaries(NAMES, VALUES), st.dictionaries(NAMES, VALUES), st.sampled_from(list(RANKS)))
def test_a_new_records_plan_is_what_each_fields_rules_decide(
    wanted: dict[str, Any], current: dict[str, Any], level: str
) -> None:
    found = plan_record("zendesk", "7", wanted, {}, current, {}, level, RANKS, True)
    expected = [
        plan_field(name, value, None, current.get(name), None, RANKS[level], RANKS, True, False)
        for name, value in wanted.items()
    ]
    assert found == RecordPlan("zendesk", "7", expected)


def test_a_new_record_writes_the_differing_fields_and_leaves_the_held_ones() -> None:
    found = plan_record(
        "zendesk",
        "7",
        {"a": "x", "b": "", "c": 1},
        {},
        {"b": None, "c": 1.0},
        {},
        None,
        RANKS,
        True,
    )
    assert [(p.field, p.action, p.current, p.written) for p in found.fields] == [
        ("a", FieldAction.WRITE, None, None),
        ("b", FieldAction.IN_PLACE, None, None),
        ("c", FieldAction.IN_PLACE, 1.0, None),
    ]


def _target(values: dict[str, Any], current: dict[str, Any] | None) -> Target:
    writes = {name: WRITES[name] for name in values}
    return Target(
        "zendesk",
        "ticket",
        "7",
        "advisory",
        values,
        writes,
        wanted_tags=frozenset({"esc_advisory"}),
        current=current,
        note_key="advisory@1",
        note="Escalated",
    )


RENDERED = st.none() | st.sampled_from(["esc_adv", "ana", "2026-03-02T09:00:00.000+0000", 3])


@given(st.dictionaries(NAMES, RENDERED, min_size=1), st.booleans())
def test_a_record_holding_nothing_is_planned_as_one_holding_empty_fields(
    values: dict[str, Any], read_back: bool
) -> None:
    """Nothing read back (or an empty read) takes the short path; the same record read back
    with every field empty takes the general one: the plans are equal."""
    nothing = plan_target(_target(values, {} if read_back else None), {}, {}, RANKS, True, False)
    empty = plan_target(_target(values, dict.fromkeys(values)), {}, {}, RANKS, True, False)
    assert nothing.record_plan == empty.record_plan
    assert nothing.write == empty.write
    assert nothing.written_values == empty.written_values
    assert nothing.payload_hash == empty.payload_hash


def test_the_payload_hash_is_made_when_asked_and_is_the_payloads() -> None:
    planned = plan_target(_target({"level": "esc_adv"}, None), {}, {}, RANKS, True, False)
    assert planned.write is not None and planned.known_hash is None
    assert planned.payload_hash == payload_hash(planned.write)
    nothing = plan_target(
        _target({"level": "esc_adv"}, {"level": "esc_adv"}), {}, {}, RANKS, True, True
    )
    # The tags and the note still to go: a write; with those in place, none and no hash.
    assert nothing.write is not None and nothing.write.fields == {}
    none = PlannedWrite(nothing.target, nothing.record_plan, None, {}, None)
    assert none.payload_hash is None
    write = FieldWrite("zendesk", "ticket", "7", fields={"a": 1})
    given_hash = PlannedWrite(nothing.target, nothing.record_plan, write, {}, "0123456789abcdef")
    assert given_hash.payload_hash == "0123456789abcdef"
