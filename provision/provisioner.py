"""`escalation-sync provision`: plan what is missing in each system, then (with --apply) make
it. A second apply finds everything in place and does nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from config.schema import Config
from connectors.errors import ConnectorError
from provision.actions import Plan
from provision.expected import wanted_fields
from provision.jira_plan import plan_jira
from provision.salesforce_plan import plan_salesforce
from provision.systems import Systems
from provision.zendesk_plan import plan_zendesk


def make_plan(config: Config, systems: Systems) -> Plan:
    """Read each enabled system and list the steps that would set it up (read-only)."""
    wanted = wanted_fields(config)
    plan = Plan()
    if systems.zendesk is not None:
        plan_zendesk(config, systems.zendesk, [w for w in wanted if w.system == "zendesk"], plan)
    if systems.jira is not None:
        plan_jira(config, systems.jira, [w for w in wanted if w.system == "jira"], plan)
    if systems.salesforce is not None:
        plan_salesforce(config, systems.salesforce, [w for w in wanted if w.system == "salesforce"], plan)  # fmt: skip
    return plan


@dataclass
class Applied:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "step: the vendor's words"
    new_ids: dict[tuple[str, ...], str] = field(default_factory=dict)  # key path -> field id


def apply_plan(plan: Plan) -> Applied:
    """Run every step; one that fails is reported and the others still run."""
    applied = Applied()
    for step in plan.steps:
        try:
            new_id = step.run()
        except ConnectorError as error:
            applied.failed.append(f"{step.system}: {step.description}: {error}")
            continue
        applied.done.append(f"{step.system}: {step.description}")
        if new_id is not None and step.key_path is not None:
            applied.new_ids[step.key_path] = new_id
    return applied
