"""The account matrix (matrix.accounts) is validated like the rest: every mistake at the key
that holds it, with file and line, what was found and what is expected, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.errors import ConfigError
from config.loader import load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example"


def load_edited(folder: Path, file: str, old: str, new: str):
    """The example config with one edit in `file`; the loaded Config."""
    for source in EXAMPLE.glob("*.yaml"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    target = folder / file
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, "the edit must match exactly once"
    target.write_text(text.replace(old, new), encoding="utf-8")
    return load_config(folder / "escalation-sync.yaml")


def refused(folder: Path, file: str, old: str, new: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_edited(folder, file, old, new)
    return [str(problem) for problem in error.value.problems]


def line_of(folder: Path, file: str, needle: str) -> int:
    text = (folder / file).read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def test_the_example_account_matrix_loads_with_its_levels_playbooks_and_signals(
    tmp_path: Path,
) -> None:
    config = load_edited(tmp_path, "matrix.yaml", "  accounts:\n", "  accounts:\n")
    accounts = config.matrix.accounts
    assert accounts is not None
    assert accounts.levels == ("healthy", "watch", "at-risk", "executive-attention")
    assert accounts.playbooks["at-risk"].name == "save-plan"
    assert set(config.mapping.salesforce.account.signals) == {"usage", "nps", "adoption"}


def test_an_account_trigger_naming_an_unknown_account_level_is_reported_at_its_key(
    tmp_path: Path,
) -> None:
    old = "      - name: detractor\n        level: watch\n"
    new = "      - name: detractor\n        level: urgent\n"
    problems = refused(tmp_path, "matrix.yaml", old, new)
    line = line_of(tmp_path, "matrix.yaml", "level: urgent")
    assert problems == [
        f"{tmp_path / 'matrix.yaml'}:{line}: matrix.accounts.triggers[6].level: unknown account "
        "level 'urgent'; expected one of healthy, watch, at-risk, executive-attention "
        "(declared under matrix.accounts.levels)"
    ]


def test_a_ticket_attribute_is_refused_in_an_account_trigger(tmp_path: Path) -> None:
    old = "when: {field: account.nps, lt: 0}"
    problems = refused(tmp_path, "matrix.yaml", old, "when: {field: ticket.severity, lt: 2}")
    assert len(problems) == 1
    assert (
        "matrix.accounts.triggers[6].when.field: unknown attribute 'ticket.severity'"
        in (problems[0])
    )
    assert "account.<signal>" in problems[0]


def test_highest_ticket_level_takes_ticket_levels(tmp_path: Path) -> None:
    old = "in: [action-needed, executive-review]}"
    problems = refused(tmp_path, "matrix.yaml", old, "in: [action-needed, at-risk]}")
    assert len(problems) == 1
    assert "unknown ticket level 'at-risk'" in problems[0]
    assert "(declared under matrix.levels)" in problems[0]


def test_breaches_and_changed_are_refused_in_ticket_triggers(tmp_path: Path) -> None:
    old = "      when: {recent_tickets: {days: 14, ge: 3}}"
    problems = refused(tmp_path, "matrix.yaml", old, "      when: {breaches: {days: 14, ge: 3}}")
    assert len(problems) == 1
    assert "matrix.triggers[12].when: breaches applies to account triggers only" in problems[0]


def test_a_signal_the_mapping_does_not_read_is_reported_at_the_condition(tmp_path: Path) -> None:
    old = "when: {field: account.nps, lt: 0}"
    problems = refused(tmp_path, "matrix.yaml", old, "when: {field: account.csat, lt: 3}")
    line = line_of(tmp_path, "matrix.yaml", "account.csat")
    assert problems == [
        f"{tmp_path / 'matrix.yaml'}:{line}: matrix.accounts.triggers[6].when.field: found "
        "'account.csat', which the mapping does not read; map it under "
        "mapping.salesforce.account.signals.csat (signals: account.usage, account.nps, "
        "account.adoption)"
    ]


def test_a_text_compared_with_a_number_signal_is_reported(tmp_path: Path) -> None:
    old = "when: {field: account.nps, lt: 0}"
    problems = refused(tmp_path, "matrix.yaml", old, "when: {field: account.nps, eq: low}")
    assert len(problems) == 1
    assert "account.nps holds a number (its mapping's type); found 'low'" in problems[0]


def test_a_change_by_percent_of_a_text_signal_is_reported(tmp_path: Path) -> None:
    old = "when: {changed: {field: account.usage,"
    problems = refused(tmp_path, "matrix.yaml", old, "when: {changed: {field: account.adoption,")
    assert len(problems) == 1
    assert "matrix.accounts.triggers[2].when.changed.field" in problems[0]
    assert "account.adoption holds text" in problems[0]


def test_a_playbook_for_an_unknown_level_and_a_bad_outreach_are_both_reported(
    tmp_path: Path,
) -> None:
    old = "      watch:\n        name: health-check\n"
    new = "      wach:\n        name: health-check\n"
    text = (EXAMPLE / "matrix.yaml").read_text(encoding="utf-8")
    assert text.count("        outreach_within: 5d\n") == 1
    for source in EXAMPLE.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    edited = text.replace(old, new).replace(
        "        outreach_within: 5d\n", "        outreach_within: soon\n"
    )
    (tmp_path / "matrix.yaml").write_text(edited, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "escalation-sync.yaml")
    problems = [str(problem) for problem in error.value.problems]
    assert any(
        "matrix.accounts.playbooks.wach.outreach_within" in p and "'soon'" in p for p in problems
    )


def test_an_account_level_without_an_owner_is_reported(tmp_path: Path) -> None:
    old = (
        '      - {level: [healthy, watch], role: commercial, primary: "{account.csm}", '
        'backup: "{account.owner}"}\n'
    )
    problems = refused(tmp_path, "matrix.yaml", old, "")
    assert len(problems) == 1
    assert "matrix.accounts.routing: no owner for level healthy, watch" in problems[0]


def test_account_level_options_must_name_every_account_level(tmp_path: Path) -> None:
    old = "          options: {healthy: Healthy, watch: Watch, at-risk: At risk,\n"
    new = "          options: {healthy: Healthy, watched: Watch, at-risk: At risk,\n"
    problems = refused(tmp_path, "mapping.yaml", old, new)
    assert len(problems) == 2
    assert any(
        "account_level.options.watched: unknown account level 'watched'" in p for p in problems
    )
    assert any("account_level.options: no option for account level watch;" in p for p in problems)


def test_an_owner_calendar_must_be_declared(tmp_path: Path) -> None:
    old = "      cs-team-lead@acme.example: emea-business\n"
    problems = refused(tmp_path, "matrix.yaml", old, "      cs-team-lead@acme.example: paris\n")
    assert len(problems) == 1
    assert "matrix.accounts.owner_calendars" in problems[0]
    assert "unknown calendar 'paris'" in problems[0]
