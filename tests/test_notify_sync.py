"""Notifications through a whole sync against the sandbox (real slack_sdk, smtplib and
requests over TLS on 127.0.0.1): what a run sends on each channel, that the next run sends
none, that `plan` lists without sending, and each failure mode of a channel, none of which
holds up the field writes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from errors import ExitCode
from sandbox.faults import Fault
from sandbox.runner import Sandbox
from sync.notifications import plan_entries
from tests.fault_helpers import FAULT_SIZES
from tests.notify_helpers import (
    RULES,
    email_keys,
    notify_world,
    reset_channels,
    slack_keys,
    webhook_keys,
)
from tests.sync_world import World, write_world_data

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory):
    data = write_world_data(tmp_path_factory.mktemp("data"), **FAULT_SIZES)
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False, channels=True) as sandbox:
        yield sandbox, data


@pytest.fixture
def sandbox(running):
    reset_channels(running[0])
    return running[0]


def world(running, tmp_path: Path, **overrides) -> World:
    reset_channels(running[0])
    return notify_world(running[0], running[1], tmp_path, **overrides)


def all_keys(sandbox: Sandbox) -> list:
    return email_keys(sandbox) + slack_keys(sandbox) + webhook_keys(sandbox)


def test_a_run_tells_the_owners_on_every_channel_and_the_next_run_sends_nothing(running, tmp_path):
    w = world(running, tmp_path)
    sandbox = w.sandbox
    first = w.run()
    assert first.exit_code == ExitCode.OK, first.summary()
    assert email_keys(sandbox) and slack_keys(sandbox) and webhook_keys(sandbox)
    assert {key.split("|")[1] for key in email_keys(sandbox)} >= {"level_raised"}
    posted = sandbox.channels.slack.messages[0]
    assert posted.blocks and posted.blocks[0]["type"] == "header" and posted.key
    mail = sandbox.channels.smtp.received[0].message
    assert mail.get_body(("html",)) is not None and mail.get_body(("plain",)) is not None
    assert sandbox.channels.webhook.refused == []  # every signature checked out
    sent = Counter(all_keys(sandbox))
    assert max(sent.values()) == 1
    w.settle()
    second = w.run()
    assert Counter(all_keys(sandbox)) == sent, "the second run sent something"
    assert second.summary()["notifications"]["sent"] == 0


def test_plan_lists_the_notifications_and_sends_none(running, tmp_path):
    w = world(running, tmp_path)
    planned = w.run(dry_run=True)
    listed = {entry["key"] for entry in plan_entries(planned.notifications)}
    assert listed and all_keys(w.sandbox) == []
    w.run()
    assert set(all_keys(w.sandbox)) == listed


def test_a_rate_limited_channel_never_holds_up_the_writes_and_is_retried_after_its_wait(
    running, tmp_path
):
    reference = world(running, tmp_path / "reference", rules=[])
    reference.run()
    expected = reference.snapshot()

    w = world(running, tmp_path / "w")
    slack = w.sandbox.channels.slack
    slack.faults.add(Fault("chat.postMessage", "status", status=429, retry_after=600, times=-1))
    first = w.run()
    assert w.snapshot() == expected, "a failing channel changed the field writes"
    assert first.exit_code == ExitCode.NOTIFICATIONS_FAILED
    assert first.summary()["notifications"]["retry"] > 0 and slack.messages == []
    assert webhook_keys(w.sandbox), "the other channels went"
    slack.faults.clear()
    w.settle()
    w.run(now=w.now + timedelta(minutes=5))
    assert slack.messages == [], "resent before its Retry-After"
    later = w.run(now=w.now + timedelta(minutes=6))
    assert slack_keys(w.sandbox) and max(Counter(slack_keys(w.sandbox)).values()) == 1
    assert later.exit_code == ExitCode.OK, later.summary()


def test_a_refused_message_is_reported_audited_and_not_sent_again(running, tmp_path):
    rules = [{**RULES[1], "to": ["#no-such-channel"], "channels": ["slack"]}]
    w = world(running, tmp_path, rules=rules)
    first = w.run()
    assert first.exit_code == ExitCode.NOTIFICATIONS_FAILED
    rejected = first.summary()["notifications"]["rejected"]
    assert rejected > 0
    audits = w.store().audit_entries(kind="notification_rejected")
    assert (
        len(audits) == rejected and "no channel #no-such-channel" in audits[0]["detail"]["detail"]
    )
    w.settle()
    second = w.run()
    assert second.summary()["notifications"]["rejected"] == 0
    assert second.exit_code == ExitCode.OK


def test_a_failing_mail_server_is_given_up_after_its_age_with_an_audit_entry(running, tmp_path):
    w = world(running, tmp_path, rules=[RULES[0]], give_up_after="30m", retry_max="5m")
    smtp = w.sandbox.channels.smtp
    smtp.fail("MAIL", 451, "4.3.0 Try again later", times=100000)
    first = w.run()
    assert first.exit_code == ExitCode.NOTIFICATIONS_FAILED
    retried = first.summary()["notifications"]["retry"]
    assert retried > 0
    w.settle()
    last = w.run(now=w.now + timedelta(minutes=40))
    assert last.summary()["notifications"]["given_up"] == retried
    assert len(w.store().audit_entries(kind="notification_given_up")) == retried
    smtp.reset()
    w.settle()
    w.run(now=w.now + timedelta(hours=1))
    assert email_keys(w.sandbox) == [], "a given-up message was sent after all"


def test_a_lost_answer_is_recorded_as_unknown_and_never_resent(running, tmp_path):
    w = world(running, tmp_path, rules=[RULES[0]])
    w.sandbox.channels.smtp.lose_answer_after_data()
    first = w.run()
    assert first.exit_code == ExitCode.NOTIFICATIONS_FAILED
    assert first.summary()["notifications"]["unknown"] == 1
    [unknown] = w.store().audit_entries(kind="notification_unknown")
    w.settle()
    w.run(now=w.now + timedelta(hours=2))
    assert email_keys(w.sandbox).count(unknown["detail"]["key"]) == 1  # landed once, not resent


@pytest.mark.parametrize("fault", ["lost_answer", "reset"])
def test_a_slack_post_whose_answer_was_lost_is_settled_from_the_channels_history(
    running, tmp_path, fault
):
    """lost_answer: the post landed, so the next run finds it and sends nothing; reset: it did
    not, so the next run finds it absent and sends it, once."""
    w = world(running, tmp_path, rules=[{**RULES[1], "channels": ["slack"]}])
    w.sandbox.channels.slack.faults.add(Fault("chat.postMessage", fault))
    first = w.run()
    assert first.exit_code == ExitCode.NOTIFICATIONS_FAILED
    assert first.summary()["notifications"]["unknown"] == 1
    [unknown] = w.store().audit_entries(kind="notification_unknown")
    key = unknown["detail"]["key"]
    w.settle()
    second = w.run(now=w.now + timedelta(hours=1))
    assert second.exit_code == ExitCode.OK, second.summary()
    assert slack_keys(w.sandbox).count(key) == 1  # there once, whichever way it went
    settled = second.summary()["notifications"]
    if fault == "lost_answer":
        assert (settled["confirmed"], settled["resent_after_check"]) == (1, 0)
        assert w.store().audit_entries(kind="notification_confirmed")
    else:
        assert (settled["confirmed"], settled["resent_after_check"]) == (0, 1)
    assert Counter(slack_keys(w.sandbox)).most_common(1)[0][1] == 1


def test_a_lost_state_file_announces_nothing_the_tickets_already_show(running, tmp_path):
    def story(folder: Path, lose: bool) -> tuple[Counter, Counter]:
        w = world(running, folder)
        w.run()
        w.settle()
        w.run(now=w.now + timedelta(days=1))
        w.settle()
        before = Counter(all_keys(w.sandbox))
        if lose:
            path = Path(w.config.state.path)
            path.unlink()
            for suffix in ("-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        w.run(now=w.now + timedelta(minutes=40))
        return before, Counter(all_keys(w.sandbox)) - before

    _, normal_last = story(tmp_path / "normal", lose=False)
    before, lost_last = story(tmp_path / "lost", lose=True)
    assert not (set(lost_last) & set(before)), "a message sent again after the state was lost"
    assert set(lost_last) <= set(normal_last)


def test_a_jira_issue_with_labels_of_its_own_is_announced_on_a_first_run(running, tmp_path):
    """The label field holds every label of an issue: `backend` is no sign of our work."""
    w = world(running, tmp_path)
    result = w.run()
    labelled = {
        t.ref
        for t in result.evaluation.tickets
        if t.system == "jira" and t.managed_fields.get("label")
    }
    raised = {
        row.ticket_ref
        for row in result.notifications.planned.rows
        if row.event == "level_raised" and row.state != "suppressed"
    } | {
        e.ticket_ref
        for e in result.notifications.planned.events
        if e.kind == "level_raised" and e.suppressed and e.level in ("advisory", "action-needed")
    }
    announced = {key.split("|")[0] for key in all_keys(w.sandbox)}
    assert labelled & raised, "the world must hold labelled issues that escalate"
    assert labelled & raised <= announced
