"""The account matrix (`matrix.accounts`): levels, triggers, owners and playbooks for accounts.

Tickets escalate one at a time; an account with no ticket open can still be at risk (renewal
near, health falling, usage dropping). This section escalates accounts in the ticket matrix's
own language: triggers are conditions over the account and facts derived from it and its
tickets (config/matrix/conditions.py), owners are routing rules by level x tier x region with
the matrix's out-of-office list, de-escalation is the tickets' quiet period. What is its own:
the levels, and a playbook per level (recommended actions, required data, and an outreach
due in business days of the owner's calendar).

Inside this section `levels` names the account levels; ticket levels are read by
`highest_ticket_level` (see base.declaring_accounts).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictStr, field_validator, model_validator

from config.matrix.base import (
    Duration,
    Model,
    NonEmpty,
    check_known,
    declared,
    declaring_accounts,
    unique,
)
from config.matrix.models import (
    DeEscalation,
    RoutingRule,
    Trigger,
    owner_for_every_level,
    reason_placeholders,
)
from vocabulary.conditions import account_attribute

# The marker that finds our task again is built from the playbook name: keep it short and safe.
_PLAYBOOK_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class AccountRoutingRule(RoutingRule):
    """Who owns accounts at these levels / tiers / regions; the first match wins."""

    @field_validator("category")
    @classmethod
    def _no_category(cls, value: Any) -> Any:
        if value != "*":
            raise ValueError("accounts have no ticket category; leave category out here")
        return value


class Playbook(Model):
    """What the owner of an account at this level does, and by when."""

    name: str = Field(pattern=_PLAYBOOK_NAME)
    subject: str = Field(min_length=1, max_length=200)  # the task's subject (a template)
    actions: tuple[StrictStr, ...] = ()  # recommended actions, in order
    required_data: tuple[StrictStr, ...] = ()  # what the owner should have at hand
    # Business time in the owner's calendar from the account reaching the level, e.g. "3d".
    outreach_within: Duration
    priority: str = Field("Normal", min_length=1)  # the Task's Priority picklist value

    @field_validator("subject")
    @classmethod
    def _known_placeholders(cls, subject: str) -> str:
        for name in reason_placeholders(subject):
            if account_attribute(name) is None:
                raise ValueError(
                    f"unknown placeholder {{{name}}} in subject; expected an account attribute "
                    "such as {account.name}, {account.tier} or {days_to_renewal}"
                )
        return subject


class AccountMatrix(Model):
    """The account-level matrix: see the module docstring and config/example/matrix.yaml."""

    levels: tuple[str, ...] = Field(min_length=2)  # lowest ("healthy") first
    triggers: tuple[Trigger, ...] = ()
    de_escalation: DeEscalation = DeEscalation()
    routing: NonEmpty[tuple[AccountRoutingRule, ...]]
    # Account level -> its playbook; a level without one gets an owner and fields, no task.
    playbooks: dict[str, Playbook] = {}
    # Person -> the calendar their outreach due dates count in; others: the account's calendar.
    owner_calendars: dict[str, str] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _with_account_names(cls, data: Any, handler: Any) -> AccountMatrix:
        with declaring_accounts(data):
            return handler(data)

    @field_validator("levels")
    @classmethod
    def _unique_levels(cls, levels: tuple[str, ...]) -> tuple[str, ...]:
        return unique(levels, "account level")

    @field_validator("routing")
    @classmethod
    def _owner_for_every_level(
        cls, rules: tuple[AccountRoutingRule, ...]
    ) -> tuple[AccountRoutingRule, ...]:
        owner_for_every_level(rules)
        return rules

    @field_validator("playbooks")
    @classmethod
    def _playbooks_of_levels(cls, playbooks: dict[str, Playbook]) -> dict[str, Playbook]:
        names: set[str] = set()
        for level, playbook in playbooks.items():
            check_known(level, "levels")
            if playbook.name in names:
                raise ValueError(f"playbook name {playbook.name!r} is used twice; names are unique")
            names.add(playbook.name)
        return playbooks

    @field_validator("owner_calendars")
    @classmethod
    def _known_calendars(cls, calendars: dict[str, str]) -> dict[str, str]:
        known = declared().calendars
        for person, name in calendars.items():
            if known is not None and name not in known:
                raise ValueError(
                    f"unknown calendar {name!r} for {person}; expected one of "
                    f"{', '.join(known)} (declared under matrix.calendars)"
                )
        return calendars
