"""`escalation-sync provision`: plan what is missing in each system, then (with --apply) make
it. A second apply finds everything in place and does nothing.

Every named instance (connections.<system>.instances) is planned and made as the default is,
through its own connector, by the config it sees (`Config.as_named`: its own mapping where it
has one); its steps are labelled `zendesk@eu`, and the ids it gets go where its mapping is
written (`written_at`). A named instance that cannot be read is reported under its name and the
others are still provisioned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from config.schema import Config
from connectors.errors import ConnectorError
from provision.actions import Plan, Step
from provision.expected import wanted_fields
from provision.jira_plan import plan_jira
from provision.salesforce_plan import plan_salesforce
from provision.systems import Systems
from provision.zendesk_plan import plan_zendesk

PLANNERS: dict[str, Callable[..., None]] = {
    "zendesk": plan_zendesk,
    "jira": plan_jira,
    "salesforce": plan_salesforce,
}


def make_plan(config: Config, systems: Systems, unreachable: list[str] | None = None) -> Plan:
    """Read each enabled system, the default and every named instance, and list the steps that
    would set it up (read-only). A named instance that cannot be read (out of reach, refusing
    its secret, another vendor error) goes into `unreachable` as "label: why" and adds no
    steps; the default's errors are raised, as they stop the whole run."""
    plan = Plan()
    for system, planner in PLANNERS.items():
        setup = getattr(systems, system)
        if setup is not None:
            _plan_one(config, system, setup, planner, plan)
        for name, named_setup in systems.named.get(system, {}).items():
            label = f"{system}@{name}"
            view = config.as_named(system, name)  # the config as the instance sees it
            own = Plan()
            try:
                _plan_one(view, system, named_setup, planner, own)
            except ConnectorError as error:
                if unreachable is None:
                    raise
                unreachable.append(f"{label}: {error}")
                continue
            plan.steps += [_relabelled(step, label, view) for step in own.steps]
            plan.obsolete += [f"{label}{text.removeprefix(system)}" for text in own.obsolete]
    return plan


def _plan_one(
    config: Config, system: str, setup: Any, planner: Callable[..., None], plan: Plan
) -> None:
    wanted = [w for w in wanted_fields(config) if w.system == system]
    planner(config, setup, wanted, plan)


def _relabelled(step: Step, label: str, view: Config) -> Step:
    """A named instance's step: under its name, its id going where its mapping is written (its
    own section, or the top-level mapping when it has none: commands.py sorts those out)."""
    key_path = None if step.key_path is None else tuple(view.written_at(step.key_path))
    return replace(step, system=label, key_path=key_path)


@dataclass
class Applied:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "step: the vendor's words"
    # key path -> field id; a named instance's, keyed under the instance's label
    new_ids: dict[tuple[str, ...], str] = field(default_factory=dict)
    # label ("zendesk@eu") -> ids for an instance that has no mapping of its own, by the
    # top-level mapping's key path: they go into a mapping made for it
    own_mapping_ids: dict[str, dict[tuple[str, ...], str]] = field(default_factory=dict)


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
        if new_id is None or step.key_path is None:
            continue
        if "@" in step.system and step.key_path[0] == "mapping":
            # A named instance using the top-level mapping: its ids are its account's own, and
            # written there they would point the default at fields it does not have.
            applied.own_mapping_ids.setdefault(step.system, {})[step.key_path] = new_id
        else:
            applied.new_ids[step.key_path] = new_id
    return applied
