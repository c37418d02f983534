"""notifications.yaml is checked like the rest of the config: every problem with its file, key
and line; secrets by the names of their variables; every template rendered against a sample
decision, an unknown variable reported with the template's file and line."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.loader import load_config
from sync.checks import run_problems
from sync.validate import validate

MINIMAL = Path(__file__).resolve().parent.parent / "config" / "minimal"
GOOD = """notifications:
  channels:
    email: {type: email, host: smtp.acme.example, sender: esc@acme.example,
            username_env: SMTP_USER, password_env: SMTP_PASSWORD}
    slack: {type: slack, token_env: SLACK_BOT_TOKEN}
  recipients:
    support-tier2: {email: tier2@acme.example, slack: "#support", calendar: office}
  rules:
    - {events: [level_raised, resolved], levels: [action-needed], to: [owner, "#escalations"],
       channels: [slack, email]}
  quiet_hours: {default_calendar: office, except_levels: [executive-review]}
"""


def config_dir(tmp_path: Path, notifications: str) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(MINIMAL, folder)
    main = folder / "escalation-sync.yaml"
    main.write_text(
        main.read_text(encoding="utf-8").replace(
            "include: [matrix.yaml]", "include: [matrix.yaml, notifications.yaml]"
        ),
        encoding="utf-8",
    )
    (folder / "notifications.yaml").write_text(notifications, encoding="utf-8")
    return main


def run_validate(main: Path, capsys) -> tuple[int, str]:
    code = validate(argparse.Namespace(config=str(main), strict=False, now=None))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_good_notifications_file_validates_and_its_secrets_are_named(tmp_path, capsys):
    main = config_dir(tmp_path, GOOD)
    config = load_config(main)
    assert config.notifications is not None
    names = {name for _, name in config.secret_refs()}
    assert {"SMTP_USER", "SMTP_PASSWORD", "SLACK_BOT_TOKEN"} <= names
    problems = run_problems(config, environ={})
    assert any(
        "notifications.channels.slack.token_env" in str(p) and "SLACK_BOT_TOKEN" in str(p)
        for p in problems
    )
    code, _ = run_validate(main, capsys)
    assert code == 0


def test_unknown_levels_channels_and_calendars_are_reported_with_file_and_line(tmp_path):
    bad = (
        GOOD.replace("levels: [action-needed]", "levels: [action_needed]")
        .replace("channels: [slack, email]}", "channels: [slack, teams]}")
        .replace("calendar: office}", "calendar: berlin}")
    )
    with pytest.raises(ConfigError) as raised:
        load_config(config_dir(tmp_path, bad))
    text = str(raised.value)
    assert (
        "notifications.yaml:9: notifications.rules[0].levels[0]: unknown level 'action_needed'"
        in text
    )
    assert (
        "notifications.yaml:10: notifications.rules[0].channels[1]: unknown channel 'teams'" in text
    )
    assert (
        "notifications.yaml:7: notifications.recipients.support-tier2.calendar: unknown calendar 'berlin'"
        in text
    )


def test_a_bad_duration_or_event_is_a_clear_problem(tmp_path):
    bad = GOOD + "give_up_after: soon\n".replace("give", "  give")
    bad = bad.replace("events: [level_raised, resolved]", "events: [level_rised]")
    with pytest.raises(ConfigError) as raised:
        load_config(config_dir(tmp_path, bad))
    text = str(raised.value)
    assert "notifications.give_up_after" in text and "wall-clock duration" in text
    assert "level_rised" in text and "did you mean 'level_raised'" in text


def test_a_template_with_an_unknown_variable_is_reported_with_its_file_and_line(tmp_path, capsys):
    main = config_dir(tmp_path, GOOD + "  templates_dir: templates\n")
    templates = main.parent / "templates"
    templates.mkdir()
    (templates / "level_raised.j2").write_text(
        "{{ ticket.ref }} raised\nOwner: {{ owner.current }}\nAccount: {{ acount.name }}\n",
        encoding="utf-8",
    )
    code, output = run_validate(main, capsys)
    assert code == 2
    assert f"{templates / 'level_raised.j2'}:3:" in output
    assert "'acount' is undefined" in output
    # A run refuses it before reading anything, with the same words.
    assert any(
        "'acount' is undefined" in str(p) for p in run_problems(load_config(main), environ={})
    )


def test_an_override_replaces_the_shipped_template_and_the_note_keeps_its_marker(tmp_path):
    from notify.context import sample_context
    from notify.templates import Templates

    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "incident_note.j2").write_text(
        "Our own words about {{ ticket.ref }}\n", encoding="utf-8"
    )
    templates = Templates(folder)
    levels = ("none", "informational", "advisory", "action-needed", "executive-review")
    assert (
        templates.render("incident_note.j2", sample_context(levels))
        == "Our own words about zendesk:101"
    )
    assert "Draft customer update" in Templates().render("incident_note.j2", sample_context(levels))


def test_a_template_cannot_reach_python_internals(tmp_path):
    from notify.context import sample_context
    from notify.templates import TemplateProblem, Templates

    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "digest.j2").write_text("{{ items.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(TemplateProblem) as raised:
        Templates(folder).render("digest.j2", sample_context(("none", "high")))
    assert "digest.j2" in str(raised.value)
