"""Notifications at scale: 10k open tickets, 1k of them escalated in one run.

What a run's notifications cost and how fast they leave, against the sandbox's Slack (its
rate tiers on, at their real pace: chat.postMessage one message a second per channel after a
burst of 5) and its SMTP server, through the real slack_sdk and smtplib clients:

1. plan: events, routes and rendered texts of the 10k tickets (1k `level_raised` to
   action-needed; each to the owner by e-mail and to #escalations on Slack), then storing
   them in the outbox (a temporary state file): the time this adds to a run;
2. the run's sends: e-mails per minute, Slack posts per minute against the tier's 60, the
   time the sends add to the run (the run waits up to `rate_limit_wait` for Slack's short
   waits; the rest is left to later runs);
3. later runs until the outbox is empty (Slack's quotas switched off here, so the bench ends
   in seconds: the pace of step 2 holds for them), each planning the same tickets again as
   a retry would, then duplicates: keys received more than once by Slack or SMTP, which
   must be 0.

Run: .venv/bin/python bench/bench_notify.py [--tickets 10000 --escalated 1000 --wait 1m]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.notifications_rules import NotificationsConfig  # noqa: E402
from connectors.channels import open_channels  # noqa: E402
from escalation.decision import Decision, Owner, Reason, ReasonKind  # noqa: E402
from escalation.facts import PriorState  # noqa: E402
from mapping.records import Account, Ticket, TicketStatus  # noqa: E402
from notify.deliver import Deliverer  # noqa: E402
from notify.events import Before  # noqa: E402
from notify.outbox import Outbox  # noqa: E402
from notify.planner import NotificationPlanner, TicketChange  # noqa: E402
from notify.templates import templates_for  # noqa: E402
from sandbox import catalogue  # noqa: E402
from sandbox.channels import ChannelSandbox  # noqa: E402
from sync.state import StateStore  # noqa: E402

LEVELS = catalogue.LEVELS
NOW = datetime.now(UTC).replace(microsecond=0)
OWNERS = [f"owner{n:02d}@acme.example" for n in range(50)]


def changes(tickets: int, escalated: int) -> list[TicketChange]:
    """`tickets` open tickets that stay where the last run left them, but `escalated`
    raised from advisory to action-needed."""
    found = []
    for n in range(tickets):
        raised = n < escalated
        level = "action-needed" if raised else "informational"
        ticket = Ticket(
            "zendesk", str(n + 1), f"Ticket {n + 1}", TicketStatus.OPEN,
            NOW - timedelta(hours=3), NOW, url=f"https://acme.zendesk.com/agent/tickets/{n + 1}",
            severity=2, category="outage",
        )  # fmt: skip
        account = Account(f"001B{n % 2000:05d}", f"Account {n % 2000}", "enterprise")
        owner = Owner("technical", OWNERS[n % len(OWNERS)], "backup@acme.example")
        decision = Decision(
            ticket.ref, level, "advisory" if raised else level, NOW - timedelta(minutes=2),
            owner, {}, (Reason(ReasonKind.TRIGGER, "t", level, "Severity 2 outage"),),
            PriorState(level, NOW),
        )  # fmt: skip
        before = Before("advisory" if raised else level, owner.current)
        found.append(TicketChange(ticket, account, decision, before))
    return found


def settings(channels: ChannelSandbox, wait: str) -> NotificationsConfig:
    wanted = channels.settings()["channels"]
    return NotificationsConfig.model_validate(
        {
            "channels": {name: wanted[name] for name in ("slack", "email")},
            "rules": [
                {
                    "events": ["level_raised"],
                    "levels": ["action-needed"],
                    "to": ["owner"],
                    "channels": ["email"],
                },
                {
                    "events": ["level_raised"],
                    "levels": ["action-needed"],
                    "to": ["#escalations"],
                    "channels": ["slack"],
                },
            ],  # fmt: skip
            "quiet_hours": {"enabled": False},
            "rate_limit_wait": wait,
        }
    )


def plan_rows(planner: NotificationPlanner, outbox: Outbox, all_changes: list[TicketChange]):
    plan = planner.plan(all_changes)
    known = outbox.known(row.key for row in plan.rows)
    fresh = [row for row in plan.rows if row.key not in known]
    outbox.add(fresh)
    return plan, fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--escalated", type=int, default=1_000)
    parser.add_argument("--wait", default="1m", help="rate_limit_wait: one run's wait budget")
    args = parser.parse_args()
    with ChannelSandbox(quotas=True) as channels, tempfile.TemporaryDirectory() as folder:
        os.environ.update(channels.environ())
        config = settings(channels, args.wait)
        store = StateStore(Path(folder) / "state.sqlite")
        outbox = Outbox(store.db)
        planner = NotificationPlanner(
            config, LEVELS, templates_for(None), lambda _c, now: now, {},
            lambda ticket, _a: {"ticket": ticket.url or ""}, NOW,
        )  # fmt: skip
        all_changes = changes(args.tickets, args.escalated)

        started = time.perf_counter()
        plan, fresh = plan_rows(planner, outbox, all_changes)
        planned_s = time.perf_counter() - started
        print(
            f"plan: {args.tickets} tickets, {len(plan.events)} events, {len(fresh)} messages "
            f"stored in {planned_s:.2f} s ({planned_s / args.tickets * 1e6:.0f} us a ticket)"
        )

        def run(at: datetime) -> tuple[float, object]:
            opened = open_channels(config, lambda name: os.environ[name])
            began = time.perf_counter()
            try:
                report = Deliverer(outbox, opened, config, at, lambda *_: None).run()
            finally:
                for channel in opened.values():
                    channel.close()
            return time.perf_counter() - began, report

        took, report = run(NOW)
        posted = channels.slack.messages
        slack_n, mail_n = len(posted), len(channels.smtp.received)
        # Slack's pace between its first and last post (the e-mails share the run's time).
        span = posted[-1].received_at - posted[0].received_at if slack_n > 1 else 0.0
        pace = f"{(slack_n - 1) / span * 60:.0f}/min" if span > 0 else "one burst"
        print(
            f"run 1 sends: {took:.1f} s added to the run; e-mail {mail_n} "
            f"({mail_n / took * 60:.0f}/min over the run); Slack {slack_n} in {span:.0f} s "
            f"({pace} against the tier's 60/min a channel; waited {report.waited_seconds:.0f} s "
            f"for Retry-After); left for later runs: {len(report.retry)}"
        )

        channels.slack.quotas.enabled = False
        runs, at = 1, NOW
        while outbox.due(at + timedelta(days=1)) and runs < 50:
            at += timedelta(hours=1)
            replanned, again = plan_rows(planner, outbox, all_changes)  # a retry plans again
            assert not again, "a later run stored a message twice"
            run(at)
            runs += 1
        keys = [p.key for p in channels.slack.messages]
        keys += [str(m.message["X-Escalation-Key"]) for m in channels.smtp.received]
        duplicates = sum(n - 1 for n in Counter(keys).values() if n > 1)
        print(
            f"after {runs} runs: outbox {outbox.counts()}; Slack {len(channels.slack.messages)}, "
            f"e-mail {len(channels.smtp.received)}; duplicates {duplicates}"
        )
        store.close()
        return 1 if duplicates else 0


if __name__ == "__main__":
    sys.exit(main())
