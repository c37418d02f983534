"""A run's notifications: derive and store them with the engine states, send after the writes.

`SyncRun` calls three things: `plan(evaluation)` before the run's states are stored (it reads
what the last run left: stored states, the owners in the report's history), `enqueue(plan)`
inside the transaction that stores the states (the outbox and the states agree after any
crash), and `deliver()` after every field write (a failing channel never holds them up).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.notifications_rules import wall_seconds
from config.schema import Config
from connectors.channels import Channel, open_channels
from escalation.compiled import CompiledMatrix
from mapping.records import Account, Ticket
from notify.context import debrief_extras
from notify.debrief import business_day_due, debrief_metrics, debrief_rows, timeline_owners
from notify.debrief_send import IDEMPOTENT, debrief_channels
from notify.deliver import Deliverer, DeliveryReport
from notify.digest import collect_digests
from notify.events import Before, Event
from notify.outbox import Outbox
from notify.planner import NotificationPlan, NotificationPlanner, TicketChange
from notify.templates import templates_for
from sync.evaluate import Evaluation
from sync.shown import shows_our_work
from sync.state import StateStore

log = logging.getLogger("escalation_sync.notify")
TIMELINE_EVENTS = ("owner_changed", "resolved")


@dataclass
class NotifyResult:
    planned: NotificationPlan = field(default_factory=NotificationPlan)
    stored: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    channel_errors: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.delivery.failed or bool(self.channel_errors)

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for row in self.planned.rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        return {
            "events": len(self.planned.events),
            "planned": counts,
            "stored": self.stored,
            **self.delivery.summary(),
            "unaddressable": sorted(self.planned.unaddressable),
            "channel_errors": dict(sorted(self.channel_errors.items())),
        }


def opens_at(compiled: CompiledMatrix):
    """calendar name, now -> when that calendar is next open (now, when it is open)."""

    def first_open(calendar: str, now: datetime) -> datetime:
        clock = compiled.clocks[calendar]
        stamp = now.timestamp()
        if clock.is_open(stamp):
            return now
        return datetime.fromtimestamp(clock.add(stamp, 1.0) - 1.0, UTC)

    return first_open


def shown_sla_state(ticket: Ticket, config: Config) -> str | None:
    """The SLA state our field shows on a Zendesk ticket, None when not mapped or empty."""
    write = config.for_record("zendesk", ticket.id).mapping.zendesk.write.outputs().get("sla_state")
    value = ticket.managed_fields.get("sla_state")
    if write is None or not isinstance(value, str) or not value:
        return None
    by_option = {option: state for state, option in (write.options or {}).items()}
    return by_option.get(value, value)


def shows_our_work_to_notify(ticket: Ticket, config: Config) -> bool:
    """Whether an earlier run wrote to this ticket (sync/shown.py), where a Jira issue's
    label field counts only with one of our labels: the field holds every label of the issue,
    and an engineer's `backend` is no sign of ours."""
    if ticket.system != "jira":
        return shows_our_work(ticket, config)
    label = config.mapping.jira.write.label
    ours = {*((label.options or {}).values() if label else ())}
    prefix = label.prefix if label is not None else None
    labels = ticket.managed_fields.get("label") or []
    if any(str(x) in ours or (prefix and str(x).startswith(prefix)) for x in labels):
        return True
    return any(
        value not in (None, "", [])
        for name, value in ticket.managed_fields.items()
        if name != "label"
    )


class RunNotifications:
    """One run's notifications (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        store: StateStore,
        compiled: CompiledMatrix,
        now: datetime,
        run_id: int,
    ):
        assert config.notifications is not None
        self.config = config
        self.settings = config.notifications
        self.store = store
        self.now = now
        self.run_id = run_id
        self.compiled = compiled
        self.outbox = Outbox(store.db, store.transaction)
        self.templates = templates_for(self.settings.templates_dir)
        self.time_zones = {name: c.time_zone for name, c in config.matrix.calendars.items()}
        self.planner = NotificationPlanner(
            self.settings,
            config.matrix.levels,
            self.templates,
            opens_at(compiled),
            self.time_zones,
            self._links,
            now,
        )
        self.result = NotifyResult()

    # -- planning ---------------------------------------------------------------------------
    def plan(self, evaluation: Evaluation) -> NotificationPlan:
        history = {
            ref: (owner, max_level)
            for ref, owner, max_level in self.store.db.execute(
                "SELECT ref, owner, max_level FROM ticket_history"
            )
        }
        changes = []
        debriefs: list[tuple[TicketChange, Event]] = []
        for ticket, decision in zip(evaluation.tickets, evaluation.decisions, strict=True):
            stored = evaluation.priors.get(ticket.ref)
            prior = stored or evaluation.shown_priors.get(ticket.ref)
            owner, max_level = history.get(ticket.ref, (None, None))
            before = Before(
                level=prior.level if prior is not None else None,
                owner=owner,
                remembered=stored is not None,
                shown_sla_state=shown_sla_state(ticket, self.config),
                shows_our_work=stored is None and shows_our_work_to_notify(ticket, self.config),
                max_level=max_level or (prior.level if prior is not None else None),
            )
            account = evaluation.accounts.get(ticket.account_id or "")
            change = TicketChange(ticket, account, decision, before)
            events = self.planner.events(change)
            if any(e.kind in TIMELINE_EVENTS for e in events):
                change = replace(change, timeline=self._timeline(ticket.ref))
            changes.append(change)
            debriefs += [(change, e) for e in events if e.kind == "resolved" and e.debrief]
        plan = self.planner.plan(changes)
        for change, event in debriefs:
            plan.rows += self._debrief(change, event)
        known = self.outbox.known(row.key for row in plan.rows)
        plan.rows = [row for row in plan.rows if row.key not in known]
        for name in sorted(plan.unaddressable):
            log.warning("notifications: no address for %s; add it under recipients", name)
        self.result.planned = plan
        return plan

    def _timeline(self, ref: str) -> tuple[dict[str, str], ...]:
        rows = self.store.db.execute(
            "SELECT at, kind, old_level, new_level, owner FROM ticket_events WHERE ref = ? "
            "ORDER BY at, id",
            (ref,),
        )
        return tuple(timeline_step(*row) for row in rows)

    def _debrief(self, change: TicketChange, event: Event) -> list:
        """The Task and the note of a solved ticket that reached the debrief level."""
        ticket, account = change.ticket, change.account
        owner = event.previous_owner or (
            change.decision.owner.current if change.decision.owner else None
        )
        outcomes = self.store.db.execute(
            "SELECT metric, taken_seconds, target_seconds, breached FROM sla_outcomes "
            "WHERE ref = ? ORDER BY start_at",
            (ticket.ref,),
        ).fetchall()
        metrics, breaches = debrief_metrics(outcomes)
        first_owner = self.store.db.execute(
            "SELECT owner FROM ticket_events WHERE ref = ? AND owner IS NOT NULL "
            "ORDER BY at, id LIMIT 1",
            (ticket.ref,),
        ).fetchone()
        owners = timeline_owners(change.timeline, first_owner[0] if first_owner else owner)
        context = self.planner.context(change, event, self._recipient_time_zone(owner or ""))
        context.update(debrief_extras(owners, metrics, breaches))
        context["recipient"] = owner or ""
        text = self.templates.render("debrief.j2", context)
        resolved_at = min(ticket.updated_at, self.now)
        calendar = self._calendar(owner, account)
        due = business_day_due(
            resolved_at,
            self.settings.debrief.due_days if self.settings.debrief else 5,
            self.time_zones.get(calendar, "UTC"),
            self._business_day(calendar),
        )
        return debrief_rows(
            ticket_ref=ticket.ref,
            event_key=event.key,
            level=event.level,
            system=ticket.system,
            ticket_id=ticket.id,
            subject=ticket.subject,
            account_id=account.id if account is not None else ticket.account_id,
            owner=owner,
            text=text,
            due=due,
            now=self.now,
        )

    def _calendar(self, owner: str | None, account: Account | None) -> str:
        """The owner's calendar: theirs under recipients, else the account's business hours."""
        known = self.settings.recipients.get(owner or "")
        if known is not None and known.calendar:
            return known.calendar
        tier = account.tier if account is not None else "unknown"
        region = account.region if account is not None else None
        return self.compiled.clock_for(tier, region).name

    def _business_day(self, calendar: str):
        """date -> whether the calendar is open at some time that day (its time zone)."""
        clock = self.compiled.clocks[calendar]
        zone = ZoneInfo(self.time_zones.get(calendar, "UTC"))

        def is_open_that_day(day: date) -> bool:
            start = datetime.combine(day, time(0), zone).timestamp()
            opens = clock.add(start, 1.0) - 1.0
            return datetime.fromtimestamp(opens, zone).date() == day

        return is_open_that_day

    def _links(self, ticket: Ticket, account: Account | None) -> dict[str, str]:
        links = {"ticket": ticket.url} if ticket.url else {}
        jira = self.config.base_url("jira")
        for link in ticket.linked:
            if link.startswith("jira:") and jira:
                links[link[5:]] = f"{jira}/browse/{link[5:]}"
        salesforce = self.config.base_url("salesforce")
        if account is not None and salesforce:
            links[account.name or "account"] = f"{salesforce}/lightning/r/Account/{account.id}/view"
        return links

    # -- storing (inside the run's state transaction) ----------------------------------------
    def enqueue(self, plan: NotificationPlan) -> None:
        self.result.stored = self.outbox.add(plan.rows)
        self.outbox.prune(self.now, self.config.state.history_days)

    # -- sending (after the writes) ---------------------------------------------------------
    def deliver(self, connectors: Mapping[str, Any] | None = None) -> DeliveryReport:
        zone_of = self._recipient_time_zone
        collect_digests(self.outbox, self.settings, self.templates, zone_of, self.now)
        look_back = self.now - timedelta(seconds=wall_seconds(self.settings.give_up_after))
        if (
            not self.outbox.due(self.now)
            and not self.outbox.in_state("sending")
            and not self.outbox.has_unknown_since(look_back)
        ):
            return self.result.delivery
        channels: dict[str, Channel] = {}
        try:
            channels = open_channels(self.settings, self.config.secret)
            channels.update(debrief_channels(connectors or {}))  # the Task and note of debriefs
            deliverer = Deliverer(
                self.outbox, channels, self.settings, self.now, self._audit, IDEMPOTENT
            )
            self.result.delivery = deliverer.run()
        finally:
            for channel in channels.values():
                channel.close()
        return self.result.delivery

    def _recipient_time_zone(self, recipient: str) -> str:
        known = self.settings.recipients.get(recipient)
        calendar = (known.calendar if known else None) or self.settings.quiet_hours.default_calendar
        return self.time_zones.get(calendar or "", "UTC")

    def _audit(self, kind: str, ref: str, detail: dict[str, Any]) -> None:
        self.store.audit(self.run_id, self.now, kind, ref, detail)


def timeline_step(
    at: str, kind: str, old: str | None, new: str | None, owner: str | None
) -> dict[str, str]:
    """One line of a ticket's story, from the report's history (sync/history.py)."""
    when = datetime.fromisoformat(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if kind == "owner_changed":
        text = f"owner changed to {owner}"
    elif kind in ("escalated", "de_escalated", "ended"):
        words = {"escalated": "escalated", "de_escalated": "de-escalated", "ended": "ended"}[kind]
        text = f"{words} {old or '-'} -> {new}" + (f" (owner {owner})" if owner else "")
    else:
        text = kind
    return {"at": when, "text": text}


def plan_entries(result: NotifyResult) -> list[dict[str, Any]]:
    """The notifications a run would send (suppressed ones left out), for `plan`."""
    return [
        {
            "key": row.key,
            "event": row.event,
            "ticket": row.ticket_ref,
            "level": row.level,
            "channel": row.channel,
            "to": row.message.get("to") or "(webhook)",
            "not_before": row.not_before,
            "digest": row.state == "digest",
            "subject": row.message.get("subject"),
        }
        for row in result.planned.rows
        if row.state != "suppressed"
    ]


def plan_lines(result: NotifyResult) -> list[str]:
    entries = plan_entries(result)
    lines = [f"notifications: {len(entries)} to send"] if entries else []
    for entry in entries:
        when = " (in the daily digest)" if entry["digest"] else ""
        lines.append(
            f"  {entry['channel']} -> {entry['to']}: {entry['subject']}{when} [{entry['key']}]"
        )
    return lines
