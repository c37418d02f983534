from sync.diff import FieldAction, Override, plan_record, same_value

RANKS = {"none": 0, "informational": 1, "advisory": 2, "action-needed": 3, "executive-review": 4}


def plan(wanted, written, current, overrides=None, level="advisory", expire=True):
    return plan_record(
        "zendesk", "1", wanted, written, current, overrides or {}, level, RANKS, expire
    )


def actions(record_plan):
    return {p.field: p.action for p in record_plan.fields}


def test_first_write_writes_every_differing_field():
    result = plan({"level": "esc_advisory", "owner": "ana"}, {}, {"level": None, "owner": "ana"})
    assert actions(result) == {"level": FieldAction.WRITE, "owner": FieldAction.IN_PLACE}
    assert result.to_write == {"level": "esc_advisory"}


def test_own_writes_read_back_do_not_trigger_rewrites():
    result = plan({"level": "esc_advisory"}, {"level": "esc_advisory"}, {"level": "esc_advisory"})
    assert result.to_write == {}


def test_person_changing_our_value_is_an_override_and_not_overwritten():
    result = plan({"level": "esc_advisory"}, {"level": "esc_advisory"}, {"level": "esc_none"})
    assert actions(result) == {"level": FieldAction.OVERRIDE_FOUND}
    assert result.to_write == {}


def test_wanted_change_after_our_write_is_written():
    result = plan({"level": "esc_action"}, {"level": "esc_advisory"}, {"level": "esc_advisory"})
    assert result.to_write == {"level": "esc_action"}


def test_override_is_kept_while_level_does_not_rise():
    override = {"owner": Override("bob", "advisory")}
    result = plan({"owner": "ana"}, {"owner": "ana"}, {"owner": "bob"}, override, level="advisory")
    assert actions(result) == {"owner": FieldAction.OVERRIDE_KEPT}


def test_override_expires_when_level_rises_if_configured():
    override = {"owner": Override("bob", "advisory")}
    result = plan(
        {"owner": "cto"}, {"owner": "ana"}, {"owner": "bob"}, override, level="executive-review"
    )
    assert actions(result) == {"owner": FieldAction.OVERRIDE_EXPIRED}
    assert result.to_write == {"owner": "cto"}
    kept = plan(
        {"owner": "cto"},
        {"owner": "ana"},
        {"owner": "bob"},
        override,
        level="executive-review",
        expire=False,
    )
    assert kept.to_write == {}


def test_empty_and_missing_values_compare_equal_but_numbers_by_value():
    assert same_value(None, "")
    assert same_value(100, "100") is False
    assert same_value(100, 100.0)
    assert same_value(["b", "a"], ["a", "b"])
