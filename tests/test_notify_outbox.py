"""The outbox and its sends, against a channel that answers as told: each key stored once,
sent once; RETRY waits (Retry-After, backoff) and is given up after its age with an audit
entry; a send a killed run left is unknown and not resent (a webhook's is); the hourly cap per
ticket; the daily digest; quiet hours' `not_before`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.notifications_rules import NotificationsConfig
from connectors.channels import Found, Message, SendResult, SendStatus, SentCheck
from notify.deliver import Deliverer
from notify.digest import collect_digests
from notify.outbox import Outbox, OutboxRow
from notify.templates import Templates
from sync.state import StateStore

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SETTINGS = NotificationsConfig.model_validate(
    {
        "channels": {
            "slack": {"type": "slack", "token_env": "T"},
            "hook": {"type": "webhook", "url": "https://b.acme.example/x", "secret_env": "S"},
        },
        "give_up_after": "2h",
        "retry_initial": "1m",
        "retry_max": "10m",
        "max_per_ticket_per_hour": 2,
        "digest": {"at": "09:00", "channel": "slack"},
    }
)


class Scripted:
    """A channel that answers from a list (SENT once the list is used up); records sends."""

    def __init__(self, name: str, answers: list[SendResult] | None = None):
        self.name = name
        self.answers = list(answers or [])
        self.sent: list[Message] = []

    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        if self.answers:
            answer = self.answers.pop(0)
            return SendResult(message.key, answer.status, answer.detail, None, answer.retry_after)
        return SendResult(message.key, SendStatus.SENT, "ok", "C1:1.0")

    def close(self) -> None:
        pass


def row(
    key: str, ticket: str = "zendesk:1", channel: str = "slack", state: str = "pending", **kw
) -> OutboxRow:
    message = {"key": key, "channel": channel, "to": "#esc", "subject": f"s {key}", "text": "t",
               "html": None, "blocks": [], "payload": None}  # fmt: skip
    return OutboxRow(key, kw.pop("event_key", key), ticket, "level_raised", "high", channel,
                     kw.pop("recipient", "#esc"), message, state, created_at=NOW.isoformat(),
                     not_before=kw.pop("not_before", NOW).isoformat(), **kw)  # fmt: skip


def deliver(store: StateStore, channels: dict, at: datetime):
    audits: list[tuple[str, str, dict]] = []
    report = Deliverer(
        Outbox(store.db), channels, SETTINGS, at, lambda k, r, d: audits.append((k, r, d))
    ).run()
    return report, audits


def test_a_key_is_stored_once_and_sent_once(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    outbox = Outbox(store.db)
    assert outbox.add([row("a")]) == 1
    assert outbox.add([row("a")]) == 0  # derived again by a later run: the same row
    slack = Scripted("slack")
    deliver(store, {"slack": slack}, NOW)
    deliver(store, {"slack": slack}, NOW + timedelta(hours=1))
    assert [m.key for m in slack.sent] == ["a"]


def test_retry_waits_for_retry_after_and_then_the_backoff_and_is_given_up_with_an_audit(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    Outbox(store.db).add([row("a")])
    busy = SendResult("a", SendStatus.RETRY, "ratelimited", retry_after=300)
    slack = Scripted("slack", [busy] * 10)
    report, _ = deliver(store, {"slack": slack}, NOW)
    assert report.retry and report.failed
    deliver(store, {"slack": slack}, NOW + timedelta(seconds=299))
    assert len(slack.sent) == 1, "sent again before Retry-After"
    deliver(store, {"slack": slack}, NOW + timedelta(seconds=300))
    assert len(slack.sent) == 2
    # Past give_up_after (2h since the first failure): given up, audited, never sent again.
    report, audits = deliver(store, {"slack": slack}, NOW + timedelta(hours=2))
    assert [key for key, _ in report.given_up] == ["a"]
    assert [kind for kind, _, _ in audits] == ["notification_given_up"]
    deliver(store, {"slack": slack}, NOW + timedelta(hours=3))
    assert len(slack.sent) == 3


def test_a_rejection_is_final_and_audited(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    Outbox(store.db).add([row("a")])
    slack = Scripted("slack", [SendResult("a", SendStatus.REJECTED, "channel_not_found")])
    report, audits = deliver(store, {"slack": slack}, NOW)
    assert report.rejected == [("a", "channel_not_found")]
    assert audits[0][0] == "notification_rejected" and audits[0][2]["detail"] == "channel_not_found"
    deliver(store, {"slack": slack}, NOW + timedelta(days=1))
    assert len(slack.sent) == 1


def test_a_send_a_killed_run_left_is_unknown_and_not_resent_but_a_webhooks_is(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    Outbox(store.db).add([row("a", state="sending"), row("b", channel="hook", state="sending")])
    slack, hook = Scripted("slack"), Scripted("hook")
    report, audits = deliver(store, {"slack": slack, "hook": hook}, NOW)
    assert [key for key, _ in report.unknown] == ["a"]
    assert audits[0][0] == "notification_unknown"
    assert slack.sent == [] and [m.key for m in hook.sent] == ["b"]


class ReadsBack(Scripted):
    """A channel that can tell what it has (Slack's history): `found` maps key -> answer."""

    def __init__(self, name: str, found: dict[str, Found]):
        super().__init__(name)
        self.found = found
        self.asked: list[tuple[str, datetime]] = []

    def find_sent(self, message: Message, since: datetime) -> SentCheck:
        self.asked.append((message.key, since))
        found = self.found.get(message.key, Found.CANNOT_TELL)
        return SentCheck(found, f"{found}", "C1:9.0" if found is Found.THERE else None)


def test_an_unknown_send_is_settled_by_reading_back_found_sent_absent_resent(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    outbox = Outbox(store.db)
    outbox.add([row("there", state="sending"), row("absent", state="unknown"), row("unsure", ticket="zendesk:2", state="unknown")])  # fmt: skip
    slack = ReadsBack("slack", {"there": Found.THERE, "absent": Found.ABSENT})

    report, audits = deliver(store, {"slack": slack}, NOW + timedelta(minutes=10))

    assert report.confirmed == 1 and report.resent_after_check == 1
    # Unknown from an earlier run and still unknown: not reported again as this run's failure.
    assert report.unknown == [] and not report.failed
    assert [m.key for m in slack.sent] == ["absent"]  # only the one surely not there
    assert sorted(kind for kind, _, _ in audits if kind != "notification_unknown") == [
        "notification_confirmed",
        "notification_resent_after_check",
    ]
    # Looked for among posts since the row was stored (less a margin for clocks).
    assert {since for _, since in slack.asked} == {NOW - timedelta(minutes=5)}
    assert outbox.counts() == {"sent": 2, "unknown": 1}
    # The one it could not tell about is asked again next run, and sent once found absent.
    slack.found["unsure"] = Found.ABSENT
    deliver(store, {"slack": slack}, NOW + timedelta(minutes=40))
    assert [m.key for m in slack.sent] == ["absent", "unsure"]
    assert outbox.counts() == {"sent": 3}


def test_an_unknown_send_older_than_give_up_after_is_not_looked_for_again(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    Outbox(store.db).add([row("old", state="unknown")])
    slack = ReadsBack("slack", {"old": Found.ABSENT})
    deliver(store, {"slack": slack}, NOW + timedelta(hours=3))
    assert slack.asked == [] and slack.sent == []


def test_the_hourly_cap_counts_events_of_a_ticket_and_defers_the_rest(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    # Two messages of one event count once; the third event is over the cap of 2.
    Outbox(store.db).add(
        [
            row("e1-a", event_key="e1"),
            row("e1-b", event_key="e1"),
            row("e2", event_key="e2"),
            row("e3", event_key="e3"),
            row("other", ticket="zendesk:2"),
        ]  # fmt: skip
    )
    slack = Scripted("slack")
    report, _ = deliver(store, {"slack": slack}, NOW)
    assert [m.key for m in slack.sent] == ["e1-a", "e1-b", "e2", "e3"][:3] + ["other"]
    assert report.deferred_by_cap == 1 and not report.failed
    deliver(store, {"slack": slack}, NOW + timedelta(minutes=59))
    assert len(slack.sent) == 4
    deliver(store, {"slack": slack}, NOW + timedelta(hours=1, minutes=1))
    assert slack.sent[-1].key == "e3"


def test_a_message_held_for_quiet_hours_waits_for_its_time(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    Outbox(store.db).add([row("night", not_before=NOW + timedelta(hours=5))])
    slack = Scripted("slack")
    deliver(store, {"slack": slack}, NOW + timedelta(hours=4))
    assert slack.sent == []
    deliver(store, {"slack": slack}, NOW + timedelta(hours=5))
    assert [m.key for m in slack.sent] == ["night"]


def test_the_digest_collects_a_recipients_items_once_a_day_at_its_time(tmp_path):
    store = StateStore(tmp_path / "s.sqlite")
    outbox = Outbox(store.db)
    outbox.add(
        [row("a", state="digest", recipient="ana"), row("b", state="digest", recipient="ana")]
    )
    templates = Templates()
    assert (
        collect_digests(outbox, SETTINGS, templates, lambda r: "UTC", NOW - timedelta(minutes=1))
        == 0
    )
    assert collect_digests(outbox, SETTINGS, templates, lambda r: "UTC", NOW) == 1
    [digest] = outbox.due(NOW)
    assert digest.key == "digest|slack|#esc|2026-11-23"
    assert "s a" in digest.message["text"] and "s b" in digest.message["text"]
    # A later item the same day waits for tomorrow's digest.
    outbox.add([row("c", state="digest", recipient="ana")])
    assert (
        collect_digests(outbox, SETTINGS, templates, lambda r: "UTC", NOW + timedelta(hours=3)) == 0
    )
    assert (
        collect_digests(outbox, SETTINGS, templates, lambda r: "UTC", NOW + timedelta(days=1)) == 1
    )


def test_a_short_rate_limit_wait_is_waited_for_in_the_run_within_its_budget(tmp_path):
    """Slack's "one a second" 429s: the run waits the second and sends again, so a burst of
    messages to one channel goes out in this run; past the budget, the rest of that target's
    rows wait for a later run without a request each."""
    store = StateStore(tmp_path / "s.sqlite")
    Outbox(store.db).add([row(k, ticket=f"zendesk:{k}") for k in "abcd"])
    limited = SendResult("", SendStatus.RETRY, "ratelimited", retry_after=1.0)
    slack = Scripted("slack", [limited, limited])  # a: two waits, then sent
    slept: list[float] = []
    settings = SETTINGS.model_copy(update={"rate_limit_wait": "0m"})
    with_budget = SETTINGS.model_copy(update={"rate_limit_wait": "1m"})
    outbox = Outbox(store.db)
    report = Deliverer(outbox, {"slack": slack}, with_budget, NOW, print, sleep=slept.append).run()
    assert slept == [1.0, 1.0] and report.sent == 4 and report.waited_seconds == 2.0
    assert outbox.counts() == {"sent": 4}
    # No budget: the first 429 stops the target for the run; b..d make no request.
    store2 = StateStore(tmp_path / "t.sqlite")
    Outbox(store2.db).add([row(k, ticket=f"zendesk:{k}") for k in "abcd"])
    slack2 = Scripted("slack", [limited])
    report2 = Deliverer(Outbox(store2.db), {"slack": slack2}, settings, NOW, print).run()
    assert [m.key for m in slack2.sent] == ["a"] and report2.sent == 0
    assert Outbox(store2.db).counts() == {"pending": 4}
