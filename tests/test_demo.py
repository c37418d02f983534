"""What `make demo` prints: the table of escalated tickets read back from the sandbox."""

from __future__ import annotations

from sandbox.demo import escalated_rows_table

LONG_OWNER = "vp.customer-success@acme.example"  # a routing primary of the example matrix


def test_demo_table_shows_long_owners_whole_and_keeps_columns_aligned():
    rows = [
        (1042, "executive-review", LONG_OWNER, "2026-11-23 14:00 UTC", "Renewal at risk"),
        (7, "advisory", None, None, ""),
    ]
    lines = escalated_rows_table(rows)
    assert LONG_OWNER in lines[1]
    header, first, second = lines
    # Every column starts where its heading does, whatever the width of the values.
    for heading in ("level", "owner", "SLA next due", "reasons"):
        at = header.index(heading)
        assert first[at - 1] == " " and first[at] != " ", heading
    assert second.split() == ["7", "advisory", "-", "-"]
    assert first.index("Renewal at risk") == header.index("reasons")


def test_demo_notifications_reach_the_sandbox_channels_and_validate(tmp_path):
    """The demo's notifications.yaml loads with the sandbox config, routing owners by e-mail
    and the escalation channel on Slack, with no unknown level or channel."""
    from config.loader import load_config
    from sandbox.channels import ChannelSandbox
    from sandbox.demo import demo_notifications
    from sandbox.sandbox_config import write_sandbox_config

    urls = {
        name: f"https://{name}.127.0.0.1.nip.io:1" for name in ("zendesk", "jira", "salesforce")
    }
    with ChannelSandbox() as channels:  # its CA: the config checks the files it names
        text = demo_notifications(channels.settings())
        path = write_sandbox_config(tmp_path / "config", urls, channels.ca_path, notifications=text)
        settings = load_config(path).notifications
    assert settings is not None
    assert set(settings.channels) == {"slack", "email"}
    assert {c for rule in settings.rules for c in rule.channels} == {"slack", "email"}
    assert not settings.quiet_hours.enabled  # the demo shows what a run sends at any hour


def test_sent_lines_count_each_channel_and_show_a_few_first_lines():
    from sandbox.demo import sent_lines

    slack = [("#escalations", f"zendesk:{i} raised to action-needed\nreasons") for i in range(5)]
    mails = [("tier2@acme.example", "zendesk:9 raised to advisory")]
    lines = sent_lines(slack, mails, shown=2)
    assert lines[0] == "Slack: 5 messages; e-mail: 1 messages"
    assert lines[1] == "  Slack by channel: #escalations 5"
    assert lines[2] == "  slack #escalations: zendesk:0 raised to action-needed"
    assert len([line for line in lines if line.startswith("  slack ")]) == 2
    assert lines[-1] == "  mail to tier2@acme.example: zendesk:9 raised to advisory"
    assert sent_lines([], []) == ["Slack: 0 messages; e-mail: 0 messages"]


def test_the_audit_summary_names_a_run_that_stopped_before_its_end():
    from sandbox.demo import run_line

    stopped = {"number": 3, "exit_code": None, "summary": None}
    assert run_line(stopped) == "  run 3: stopped before its end (no summary)"
    done = {"number": 1, "exit_code": 0, "summary": {"planned_writes": {"jira": 2}, "results": {}}}
    assert run_line(done) == "  run 1: exit 0, planned {'jira': 2}, results {}"


def test_data_made_by_another_generator_is_made_again(tmp_path, monkeypatch):
    import json

    from sandbox import demo

    monkeypatch.setattr(demo, "DATA", tmp_path)
    monkeypatch.setattr(demo, "STAMP", tmp_path / "demo-sizes.json")
    (tmp_path / "zendesk.json").write_text("{}", encoding="utf-8")
    (tmp_path / "demo-sizes.json").write_text(json.dumps(demo.MADE_WITH), encoding="utf-8")
    assert demo._why_generate() is None
    older = {**demo.MADE_WITH, "generator": "0" * 16}
    (tmp_path / "demo-sizes.json").write_text(json.dumps(older), encoding="utf-8")
    assert demo._why_generate() == "the data set was made with other sizes or an older generator"
