"""The `matrix:` section of the config: levels, calendars, SLA targets, triggers, routing.

Pydantic models shaped like the YAML; unknown keys are errors. Cross-references are checked
where a name is written (see base.py), so an error's location is the key holding the bad value.
Use: `MatrixConfig.model_validate(raw["matrix"])`.
"""

from config.matrix.accounts import AccountMatrix, AccountRoutingRule, Playbook
from config.matrix.base import ANY, DEFAULT_LEVELS, DEFAULT_ROLES
from config.matrix.calendars import WEEKDAYS, Calendar, CalendarChoice, Holidays, parse_span
from config.matrix.conditions import Condition, RecentTickets
from config.matrix.models import (
    DeEscalation,
    MatrixConfig,
    OutOfOffice,
    RoutingRule,
    TimedEscalation,
    Trigger,
    reason_placeholders,
)
from config.matrix.sla import Metric, Milestone, MilestoneClause, Sla, SlaTarget

# MatrixConfig names AccountMatrix, which is built from its trigger and routing models.
MatrixConfig.model_rebuild(_types_namespace={"AccountMatrix": AccountMatrix})

__all__ = [
    "ANY",
    "AccountMatrix",
    "AccountRoutingRule",
    "Playbook",
    "DEFAULT_LEVELS",
    "DEFAULT_ROLES",
    "WEEKDAYS",
    "Metric",
    "Milestone",
    "MilestoneClause",
    "Calendar",
    "CalendarChoice",
    "Condition",
    "DeEscalation",
    "Holidays",
    "MatrixConfig",
    "OutOfOffice",
    "RecentTickets",
    "RoutingRule",
    "Sla",
    "SlaTarget",
    "TimedEscalation",
    "Trigger",
    "parse_span",
    "reason_placeholders",
]
