"""Pure: decisions -> the field values each record should hold, in each vendor's format.

- Zendesk tickets and Jira issues get their own decision's level, owner, SLA and reason.
- A Jira issue linked to escalated Zendesk tickets also carries the customer impact: the
  highest level among them, the customer's tier, renewal date and ARR.
- A Salesforce account gets rollups over its open tickets; optionally one record per
  escalated ticket is upserted by external id.
A record at the lowest level that we never wrote to gets no target: nothing to say there.
A level a person set by hand on a ticket (sync/human.py) is its level for all of these; only
the level field itself keeps comparing with the matrix's level, which is how the override is
recognised and how it expires.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any

from config.schema import Config
from config.write_mapping import WriteField, WriteMappingBase, level_tag
from escalation.decision import Decision, ReasonKind, SlaState
from mapping.records import Account, Ticket
from notify.notes import incident_note
from sync.formats import render
from sync.human import PeopleLevels, PersonLevel, as_set_by_person
from sync.shown import note_key, noted_level, shown_level, shows_our_work, timer_reason
from vocabulary.instances import qualify, split_instance

_STATE_RANK = {SlaState.OK: 0, SlaState.AT_RISK: 1, SlaState.BREACHED: 2}


@dataclass(frozen=True)
class Target:
    """What one record should hold. `values` are rendered in the field's format."""

    system: str
    kind: str  # ticket | issue | account | escalation_record
    record_id: str
    level: str | None
    values: dict[str, Any]
    writes: dict[str, WriteField]
    tag_prefix: str | None = None  # Zendesk tags / Jira labels we own start with this
    wanted_tags: frozenset[str] = frozenset()
    current_tags: frozenset[str] = frozenset()
    note_key: str | None = None  # a private note is due for this level change
    note: str | None = None
    # We remember no note on this ticket, yet it shows our work (a lost state file): look on
    # the ticket for the note before sending it.
    look_for_note: bool = False
    # The ticket shows its level and we remember no note on it: remember this key as the
    # note announcing it, so later runs compare with it.
    announced_key: str | None = None
    expected_updated_at: str | None = None
    object_name: str | None = None
    external_id_field: str | None = None
    current: dict[str, Any] | None = None  # values the system holds now (None: not read back)
    ref: str = ""  # the ticket ref behind the target, for the audit log
    reasons: tuple[str, ...] = field(default=())
    # The matrix's level while a person's level (`level`) is in force; None otherwise.
    matrix_level: str | None = None
    # Remove the record instead (the escalation record of a deleted ticket, when configured).
    delete: bool = False
    # Output -> the ticket ref its value comes from (a Jira issue's customer impact).
    sources: dict[str, str] = field(default_factory=dict)


_TARGET_DEFAULTS = {f.name: f.default for f in fields(Target) if f.default is not MISSING}
_TARGET_FACTORIES = {
    f.name: f.default_factory for f in fields(Target) if f.default_factory is not MISSING
}
_TARGET_FIELDS = frozenset(f.name for f in fields(Target))
_new = object.__new__


def target(
    system: str,
    kind: str,
    record_id: str,
    level: str | None,
    values: dict[str, Any],
    writes: dict[str, WriteField],
    **optional: Any,
) -> Target:
    """Target(...), faster: the same frozen object without the dataclass's __init__, which
    sets each of its 24 fields through object.__setattr__ (the account matrix builds 45k
    targets a run; 2.7 µs each against 0.6). `optional`: Target's other fields by name."""
    if not optional.keys() <= _TARGET_FIELDS:
        unknown = sorted(optional.keys() - _TARGET_FIELDS)
        raise TypeError(f"target() got unexpected keyword arguments {unknown}")
    record = _new(Target)
    state = record.__dict__
    state.update(_TARGET_DEFAULTS)
    for name, make in _TARGET_FACTORIES.items():  # a fresh one each, as __init__ makes it
        state[name] = make()
    state.update(optional)
    state["system"], state["kind"], state["record_id"] = system, kind, record_id
    state["level"], state["values"], state["writes"] = level, values, writes
    return record


@dataclass(frozen=True)
class NotePlan:
    """The private note a ticket is due, if any (see Target's fields of the same names)."""

    key: str | None = None
    text: str | None = None
    look_first: bool = False
    announced_key: str | None = None


NO_NOTE = NotePlan()


def next_due(decision: Decision) -> datetime | None:
    """The earliest due time among the SLA metrics not met yet and running.

    A paused clock has no due time: the engine reports one "as if the pause ended now",
    which moves with every run and would be rewritten every run.
    """
    due = [m.due_at for m in decision.sla.values() if m.met_at is None and not m.paused]
    return min(due) if due else None


def worst_state(decision: Decision) -> str | None:
    states = [m.state for m in decision.sla.values() if m.met_at is None] or [
        m.state for m in decision.sla.values()
    ]
    return max(states, key=_STATE_RANK.__getitem__).value if states else None


def ticket_outputs(decision: Decision) -> dict[str, Any]:
    """Our canonical output values for a ticket's own decision."""
    owner = decision.owner
    return {
        "level": decision.level,
        "owner": owner.current if owner else None,
        "owner_backup": owner.backup if owner else None,
        "owner_role": owner.role if owner else None,
        "sla_next_due": next_due(decision),
        "sla_state": worst_state(decision),
        "reason": field_reason(decision),
    }


def field_reason(decision: Decision) -> str | None:
    """The reasons as written into a field: stable while nothing changes, so it is not rewritten.

    The engine's notes on holding or stepping a level narrate one evaluation ("moved up
    now", "kept because ..."); in the field they become one stable sentence.
    """
    texts = [r.text for r in decision.reasons if r.kind in (ReasonKind.PERSON, ReasonKind.TRIGGER)]
    kinds = {r.kind for r in decision.reasons}
    if kinds & {ReasonKind.TIMED, ReasonKind.HELD}:
        steps = decision.state.timed_steps
        if steps:
            texts.append(timer_reason(steps))
        elif ReasonKind.HELD in kinds:
            texts.append(f"Kept at {decision.level}: levels do not fall while the ticket is open")
    texts += [r.text for r in decision.reasons if r.kind is ReasonKind.ENDED]
    return "; ".join(texts) or None


def _rendered(outputs: Mapping[str, Any], mapping: WriteMappingBase) -> tuple[dict, dict]:
    writes = {name: write for name, write in mapping.outputs().items() if write.format != "label"}
    values = {name: render(write, outputs.get(name)) for name, write in writes.items()}
    return values, writes


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class TargetBuilder:
    """Builds targets for one run from decisions; holds the lookups every system needs."""

    def __init__(
        self,
        config: Config,
        tickets: Iterable[Ticket],
        accounts: Iterable[Account],
        decisions: Iterable[Decision],
        written_refs: set[tuple[str, str]],
        last_notes: Mapping[str, str],
        people: PeopleLevels | None = None,
        now: datetime | None = None,
    ):
        self.config = config
        self.now = now  # what the notes' templates call now (None: the level's start)
        self.levels = tuple(config.matrix.levels)
        self.rank = {level: i for i, level in enumerate(self.levels)}
        self.lowest = self.levels[0]
        self.tickets = {t.ref: t for t in tickets}
        # A deleted or merged ticket's escalation ends (its record is closed), but nothing is
        # written to it (Zendesk refuses updates to both) and it lends nothing to its links.
        self.deleted = {t.ref for t in tickets if t.withdrawn}
        self.accounts = {a.id: a for a in accounts}
        self.written_refs = written_refs
        self.last_notes = last_notes
        self.renamed = config.matrix.renamed
        self.people = people
        # The matrix's decisions, and the ones every target is built from: a Zendesk ticket's
        # level set by a person replaces the matrix's (its linked issues and account follow).
        self.computed = {d.ticket_ref: d for d in decisions}
        self.set_by_person = self._zendesk_people_levels()
        self.decisions = {
            ref: as_set_by_person(d, self.set_by_person[ref]) if ref in self.set_by_person else d
            for ref, d in self.computed.items()
        }

    def _zendesk_people_levels(self) -> dict[str, PersonLevel]:
        if self.people is None or not self.config.connections.zendesk:
            return {}
        found = {}
        for ref, decision in self.computed.items():
            ticket = self.tickets[ref]
            if ticket.system != "zendesk":
                continue
            mapping = self.config.for_record("zendesk", ticket.id).mapping.zendesk
            write = mapping.write.outputs().get("level")
            if write is None:
                continue
            person = self.people.level_of(
                "zendesk", ticket.id, write, ticket.managed_fields.get("level"), decision.level
            )
            if person is not None:
                found[ref] = person
        return found

    def issue_person_level(self, issue: Ticket, matrix_level: str) -> PersonLevel | None:
        """The level a person set in the issue's own level field (its impact comes from tickets)."""
        write = self.config.mapping.jira.write.outputs().get("level")
        if self.people is None or write is None:
            return None
        return self.people.level_of(
            "jira", issue.id, write, issue.managed_fields.get("level"), matrix_level
        )

    def _escalated_or_known(self, system: str, record_id: str, level: str | None) -> bool:
        return (level is not None and level != self.lowest) or (
            system,
            record_id,
        ) in self.written_refs

    # -- Zendesk ------------------------------------------------------------------------------
    def zendesk_targets(self) -> list[Target]:
        targets = []
        for ref, decision in self.decisions.items():
            ticket = self.tickets[ref]
            if ref in self.deleted:
                continue
            if ticket.system != "zendesk" or not self._escalated_or_known(
                "zendesk", ticket.id, decision.level
            ):
                continue
            zendesk = split_instance(ticket.id, self.config.connections.zendesk_names())[0]
            if self.config.connections.turned_off("zendesk", zendesk):
                continue  # its Zendesk is turned off: its writes wait, never go to another
            # The fields of the ticket's own Zendesk (a named instance may have its own).
            mapping = self.config.for_record("zendesk", ticket.id).mapping.zendesk
            person = self.set_by_person.get(ref)
            matrix_level = self.computed[ref].level
            # The level field compares with the matrix's level: that is how a person's value
            # is told from ours, and how it expires. Everything else follows `decision`.
            outputs = {**ticket_outputs(decision), "level": matrix_level}
            values, writes = _rendered(outputs, mapping.write)
            prefix = mapping.tags_prefix
            wanted_tags = frozenset(
                {level_tag(prefix, decision.level)}
                if prefix and decision.level != self.lowest
                else ()
            )
            # A person's level is not announced: the note tells of the matrix's escalations.
            note = (
                self._note(ticket, decision)
                if mapping.private_note_on_level_change and person is None
                else NO_NOTE
            )
            targets.append(
                Target(
                    "zendesk",
                    "ticket",
                    ticket.id,
                    decision.level,
                    values,
                    writes,
                    tag_prefix=prefix,
                    wanted_tags=wanted_tags,
                    current_tags=frozenset(
                        t for t in ticket.tags if prefix and t.startswith(prefix)
                    ),
                    note_key=note.key,
                    note=note.text,
                    look_for_note=note.look_first,
                    announced_key=note.announced_key,
                    expected_updated_at=_stamp(ticket.updated_at),
                    current=ticket.managed_fields,
                    ref=ref,
                    reasons=tuple(r.name for r in decision.reasons),
                    matrix_level=matrix_level if person is not None else None,
                )
            )
        return targets

    def _note(self, ticket: Ticket, decision: Decision) -> NotePlan:
        """A private note when the level differs from the one we last announced on the ticket.

        Of a ticket we remember nothing about (a first run, a lost state file), the level it
        shows counts as announced: never a note for a level the ticket already shows.
        """
        last = self.last_notes.get(ticket.ref)
        announced = noted_level(ticket.ref, last, self.renamed) if last else None
        remembered = last is not None or ("zendesk", ticket.id) in self.written_refs
        look = False
        if not remembered:
            announced = shown_level(ticket, self.config)
            look = shows_our_work(ticket, self.config)
        level = decision.level
        if announced == level:
            return NotePlan(announced_key=None if remembered else note_key(ticket.ref, level))
        if announced is None and level == self.lowest:
            return NO_NOTE
        key = note_key(ticket.ref, level)
        account = self.accounts.get(ticket.account_id or "")
        before = announced or self.lowest
        now = self.now or decision.level_since
        text = incident_note(self.config, ticket, account, decision, before, now)
        # The marker lets a later run (even one without a state file) find the note.
        return NotePlan(key, f"{text}\n[escalation-sync:{key}]", look)

    # -- Jira ---------------------------------------------------------------------------------
    def jira_targets(self) -> list[Target]:
        linked_by_issue = self._links_by_issue()
        targets = []
        for ref, own in self.decisions.items():
            issue = self.tickets[ref]
            if issue.system != "jira" or ref in self.deleted:
                continue  # a deleted issue (or one out of the projects) is never written to
            site = split_instance(issue.id, self.config.connections.site_names())[0]
            if self.config.connections.turned_off("jira", site):
                continue  # its site is turned off: its writes wait, never go to another site
            mapping = self.config.for_site(site).mapping.jira  # its site's own fields
            linked = linked_by_issue.get(issue.key or "", []) + [
                self.decisions[link]
                for link in issue.linked
                if link in self.decisions
                and link.startswith("zendesk:")
                and link not in self.deleted
            ]
            # Customers' tickets first: on a tie the level (and the account) is theirs.
            by_rank = sorted([*linked, own], key=lambda d: -self.rank.get(d.level, 0))
            top = by_rank[0]
            # By id: a move to another project changes the key, never the id.
            if not self._escalated_or_known("jira", issue.id, top.level):
                continue
            # A person may set the issue's own level field too: the label and reason follow it.
            person = self.issue_person_level(issue, top.level)
            shown = as_set_by_person(top, person) if person is not None else top
            outputs = {**ticket_outputs(shown), "level": top.level}
            sources = dict.fromkeys(
                ("level", "owner", "owner_backup", "owner_role"), top.ticket_ref
            )
            sources["reason"] = sources["sla_state"] = top.ticket_ref
            dues = [(due, x.ticket_ref) for x in [own, *linked] if (due := next_due(x))]
            outputs["sla_next_due"] = min(dues)[0] if dues else None
            if dues:
                sources["sla_next_due"] = min(dues)[1]
            # The customer behind the highest-level ticket that has one; the issue's own last.
            account, account_from = next(
                (
                    (self.accounts[account_id], d.ticket_ref)
                    for d in by_rank
                    if (account_id := self.tickets[d.ticket_ref].account_id) in self.accounts
                ),
                (None, None),
            )
            outputs["customer_tier"] = account.tier if account else None
            outputs["renewal_date"] = account.renewal_date if account else None
            outputs["arr"] = account.arr if account else None
            if account_from is not None:
                sources.update(
                    dict.fromkeys(("customer_tier", "renewal_date", "arr"), account_from)
                )
            values, writes = _rendered(outputs, mapping.write)
            label = mapping.write.label
            prefix = label.prefix if label is not None else None
            wanted: frozenset[str] = frozenset()
            if label is not None and shown.level != self.lowest:
                option = (label.options or {}).get(shown.level)
                wanted = frozenset({option or level_tag(prefix or "", shown.level)})
            current_labels = frozenset(
                t
                for t in issue.tags
                if label is not None
                and ((prefix and t.startswith(prefix)) or t in (label.options or {}).values())
            )
            targets.append(
                Target(
                    "jira",
                    "issue",
                    issue.id,
                    shown.level,
                    values,
                    writes,
                    tag_prefix=prefix,
                    wanted_tags=wanted,
                    current_tags=current_labels,
                    current=issue.managed_fields,
                    ref=ref,
                    reasons=tuple(r.name for r in shown.reasons),
                    matrix_level=top.level if person is not None else None,
                    sources={name: sources[name] for name in values if name in sources},
                )
            )
        return targets

    def _links_by_issue(self) -> dict[str, list[Decision]]:
        by_issue: dict[str, list[Decision]] = {}
        for ref, decision in self.decisions.items():
            ticket = self.tickets[ref]
            if ticket.system != "zendesk" or ref in self.deleted:
                continue
            for link in ticket.linked:
                if link.startswith("jira:"):
                    by_issue.setdefault(link[5:], []).append(decision)
        return by_issue

    # -- Salesforce ---------------------------------------------------------------------------
    def salesforce_account_targets(self) -> list[Target]:
        orgs = self.config.connections.org_names()
        on = self.config.connections.instance_names("salesforce")
        by_account: dict[str, list[Decision]] = {}
        for ref, decision in self.decisions.items():
            account_id = self.tickets[ref].account_id
            if account_id is not None and account_id in self.accounts:
                by_account.setdefault(account_id, []).append(decision)
        targets = []
        for account_id in sorted(
            set(by_account) | {r for s, r in self.written_refs if s == "salesforce"}
        ):
            if account_id not in self.accounts:
                continue
            decisions = [d for d in by_account.get(account_id, []) if d.level != self.lowest]
            if not decisions and ("salesforce", account_id) not in self.written_refs:
                continue
            top = max((d.level for d in decisions), key=self.rank.__getitem__, default=self.lowest)
            breaches = [
                m.due_at
                for d in decisions
                for m in d.sla.values()
                if m.met_at is None and not m.paused and m.state is not SlaState.BREACHED
            ]
            outputs = {
                "open_escalations": len(decisions),
                "highest_level": top,
                "next_breach_at": min(breaches) if breaches else None,
            }
            org = split_instance(account_id, orgs)[0]  # its own org's fields
            if org is not None and org not in on:
                continue  # an org turned off: its accounts wait, never go to another org
            values, writes = _rendered(outputs, self.config.for_org(org).mapping.salesforce.write)
            targets.append(
                Target(
                    "salesforce",
                    "account",
                    account_id,
                    top,
                    values,
                    writes,
                    current=self.accounts[account_id].managed_fields,
                    ref=f"salesforce:{account_id}",
                )
            )
        return targets

    def salesforce_record_targets(self) -> list[Target]:
        targets = []
        for ref, decision in self.decisions.items():
            ticket = self.tickets[ref]
            # Written to the org the ticket's Zendesk joins to, by that org's mapping: a named
            # org's record id carries its name (eu/zendesk:eu/12), its external id the ref.
            org = self.config.org_of_ticket(ticket.system, ticket.id)
            if self.config.connections.turned_off("salesforce", org):
                continue  # its org is turned off: the record waits, never goes to another
            record = self.config.for_org(org).mapping.salesforce.ticket_record
            if record is None:
                continue
            floor = self.rank.get(record.min_level or "", 1)
            record_id = qualify(org, ref)
            known = ("salesforce", record_id) in self.written_refs
            if self.rank.get(decision.level, 0) < floor and not known:
                continue
            if ref in self.deleted and record.when_ticket_deleted == "delete":
                if known:
                    targets.append(
                        Target(
                            "salesforce",
                            "escalation_record",
                            record_id,
                            decision.level,
                            {},
                            {},
                            object_name=record.object,
                            external_id_field=record.external_id_field,
                            ref=ref,
                            delete=True,
                        )
                    )
                continue
            outputs = {
                **ticket_outputs(decision),
                "ticket_ref": ref,
                "system": ticket.system,
                "subject": ticket.subject,
                "status": ticket.status.value,
                "url": ticket.url,
                "account_id": _bare(ticket.account_id),
                "severity": ticket.severity,
                "category": ticket.category,
            }
            values, writes = _rendered(outputs, record.fields)
            targets.append(
                Target(
                    "salesforce",
                    "escalation_record",
                    record_id,
                    decision.level,
                    values,
                    writes,
                    object_name=record.object,
                    external_id_field=record.external_id_field,
                    ref=ref,
                )
            )
        return targets

    def all_targets(self) -> list[Target]:
        targets = self.zendesk_targets() if self.config.connections.zendesk else []
        if self.config.connections.jira:
            targets += self.jira_targets()
        if self.config.connections.salesforce:
            targets += self.salesforce_account_targets() + self.salesforce_record_targets()
        return targets


def _bare(account_id: str | None) -> str | None:
    """The id an account's own org knows it by (eu/001... -> 001...): what a lookup field holds."""
    return None if account_id is None else account_id.rpartition("/")[2]
