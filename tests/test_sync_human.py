"""A person's level, found with the diff's own rule and expiry (pure; no sandbox)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from config.write_mapping import WriteField
from sync.diff import FieldAction, Override
from sync.human import PeopleLevels
from sync.plan import plan_target
from sync.wanted import Target

LEVELS = ("none", "informational", "advisory", "action-needed", "executive-review")
RANKS = {level: i for i, level in enumerate(LEVELS)}
LEVEL = WriteField(
    field="360000000201",
    format="dropdown",
    options={level: f"esc_{level.replace('-', '_')}" for level in LEVELS},
)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEEN = datetime(2026, 2, 27, 16, 30, tzinfo=UTC)


def people(written=None, override=None, expire=True) -> PeopleLevels:
    overrides = {("zendesk", "7"): {"level": override}} if override else {}
    return PeopleLevels(LEVELS, {("zendesk", "7"): written or {}}, overrides, expire, NOW)


def test_a_level_differing_from_what_we_wrote_is_the_persons_from_this_run():
    found = people({"level": "esc_advisory"}).level_of(
        "zendesk", "7", LEVEL, "esc_executive_review", "advisory"
    )
    assert found is not None and (found.level, found.set_on) == ("executive-review", NOW)
    assert found.reason == "Level executive-review set by a person on 2026-03-02"


def test_a_kept_override_is_dated_by_the_run_that_first_saw_it():
    override = Override("esc_executive_review", "advisory", SEEN)
    found = people({"level": "esc_advisory"}, override).level_of(
        "zendesk", "7", LEVEL, "esc_executive_review", "advisory"
    )
    assert found is not None and found.set_on == SEEN and "on 2026-02-27" in found.reason


def test_the_persons_level_ends_when_the_matrixs_level_rises_past_the_one_it_was_seen_at():
    override = Override("esc_none", "advisory", SEEN)
    holder = people({"level": "esc_advisory"}, override)
    assert holder.level_of("zendesk", "7", LEVEL, "esc_none", "advisory") is not None
    assert holder.level_of("zendesk", "7", LEVEL, "esc_none", "action-needed") is None
    never = people({"level": "esc_advisory"}, override, expire=False)
    assert never.level_of("zendesk", "7", LEVEL, "esc_none", "executive-review") is not None


def test_our_own_value_read_back_or_a_field_we_never_wrote_is_not_a_persons_level():
    assert (
        people({"level": "esc_advisory"}).level_of(
            "zendesk", "7", LEVEL, "esc_advisory", "advisory"
        )
        is None
    )
    assert people({}).level_of("zendesk", "7", LEVEL, "esc_none", "advisory") is None


def test_an_emptied_level_field_is_the_lowest_level_and_an_unknown_option_is_no_level():
    holder = people({"level": "esc_advisory"})
    emptied = holder.level_of("zendesk", "7", LEVEL, None, "advisory")
    assert emptied is not None and emptied.level == "none"
    assert holder.level_of("zendesk", "7", LEVEL, "esc_someone_elses", "advisory") is None


def ticket_target(level: str, matrix_level: str | None, tags: frozenset[str]) -> Target:
    return Target(
        "zendesk",
        "ticket",
        "7",
        level,
        {"level": f"esc_{(matrix_level or level).replace('-', '_')}"},
        {"level": LEVEL},
        tag_prefix="escalation_",
        wanted_tags=frozenset({f"escalation_{level}"}) if level != "none" else frozenset(),
        current_tags=tags,
        current={"level": "esc_executive_review"},
        ref="zendesk:7",
        matrix_level=matrix_level,
    )


def test_a_persons_level_moves_our_tag_and_its_override_expires_by_the_matrixs_level():
    """The person raised advisory to executive review: the tag follows, the field is not
    written, and the override (seen at advisory) holds while the matrix says advisory."""
    target = ticket_target("executive-review", "advisory", frozenset({"escalation_advisory"}))
    override = {"level": Override("esc_executive_review", "advisory", SEEN)}
    item = plan_target(target, {"level": "esc_advisory"}, override, RANKS, True, False)
    assert [p.action for p in item.record_plan.fields] == [FieldAction.OVERRIDE_KEPT]
    assert item.write is not None and item.write.fields == {}
    assert item.write.tags_add == ("escalation_executive-review",)
    assert item.write.tags_remove == ("escalation_advisory",)


def test_a_persons_value_that_names_no_level_leaves_our_tags_alone():
    target = ticket_target("advisory", None, frozenset({"escalation_advisory"}))
    target = replace(target, current={"level": "esc_someone_elses"})
    item = plan_target(target, {"level": "esc_advisory"}, {}, RANKS, True, False)
    assert [p.action for p in item.record_plan.fields] == [FieldAction.OVERRIDE_FOUND]
    assert item.write is None
