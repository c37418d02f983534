"""`validate` and `sync` render every template against a sample decision before anything runs:
a misspelt variable or a broken tag in an ops team's template is a configuration problem with
its file and line, not a failure in the middle of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.errors import ConfigProblem
from notify.context import sample_context
from notify.templates import check_templates, templates_for

if TYPE_CHECKING:
    from config.schema import Config


def template_problems(config: Config) -> list[ConfigProblem]:
    """A problem per template that does not render (none when notifications are not set)."""
    notifications = config.notifications
    if notifications is None:
        return []
    templates = templates_for(notifications.templates_dir)
    sample = sample_context(config.matrix.levels)
    return [
        ConfigProblem(
            problem.file,
            "notifications.templates_dir",
            f"{problem.message}; expected a template that renders with the variables of "
            "notify/context.py",
            problem.line,
        )
        for problem in check_templates(templates, sample)
    ]
