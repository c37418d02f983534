"""The texts people read: Jinja2 templates, sandboxed, with every variable required.

Shipped defaults live in notify/templates/ (package data); a file of the same name in the
config's `notifications.templates_dir` replaces one. The environment is Jinja's
SandboxedEnvironment (a template from an ops team's folder reaches no Python attribute it
should not) with StrictUndefined (a misspelt variable is an error, never an empty string);
`validate` renders every template against a sample decision, so such an error surfaces there
with its file and line instead of in a run.

A notification's template is `<event>.<audience>.j2` when present, else `<event>.j2` (the
shipped ones switch on `audience` inside). Its first line is the subject, the rest the body.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.sandbox import SandboxedEnvironment

from config.notifications_rules import AUDIENCES, EVENTS

SHIPPED = Path(__file__).resolve().parent / "templates"
DOCUMENTS = (
    "incident_note",
    "status_update",
    "executive_summary",
    "handoff",
    "debrief",
    "digest",
)


class TemplateProblem(Exception):
    """A template that cannot be rendered: the file, the line and Jinja's words."""

    def __init__(self, file: str, line: int | None, message: str):
        super().__init__(f"{file}{f':{line}' if line else ''}: {message}")
        self.file = file
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class Templates:
    """The shipped templates, with an ops team's folder in front of them."""

    def __init__(self, override_dir: Path | None = None):
        folders = [str(override_dir)] if override_dir is not None else []
        self.override_dir = override_dir
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader([FileSystemLoader(folders), FileSystemLoader(str(SHIPPED))]),
            undefined=StrictUndefined,
            autoescape=False,  # plain text; HTML and Block Kit escape it themselves
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """The template `name` filled with `context`; TemplateProblem with its file and line."""
        try:
            template = self.env.get_template(name)
            return template.render(**context).strip()
        except TemplateError as error:
            raise _problem(error, name) from None

    def event_template(self, event: str, audience: str) -> str:
        """The name of the template for an event and audience (the audience's own first)."""
        for name in (f"{event}.{audience}.j2", f"{event}.j2"):
            try:
                self.env.get_template(name)
            except TemplateNotFound:
                continue
            except TemplateError:
                return name  # it exists; rendering reports what is wrong with it
            return name
        raise TemplateProblem(f"{event}.j2", None, "no template for this event")

    def message(self, event: str, audience: str, context: Mapping[str, Any]) -> Rendered:
        """Subject (the first line) and body of a notification."""
        text = self.render(self.event_template(event, audience), {**context, "audience": audience})
        subject, _, body = text.partition("\n")
        return Rendered(subject.strip()[:200], body.strip() or subject.strip())

    def names(self) -> list[str]:
        """Every template that exists, shipped or overridden."""
        return sorted(set(self.env.list_templates(extensions=["j2"])))

    def path_of(self, name: str) -> str:
        """The file a template name comes from (the override when there is one)."""
        if self.override_dir is not None and (self.override_dir / name).is_file():
            return str(self.override_dir / name)
        return str(SHIPPED / name)


@lru_cache(maxsize=8)
def templates_for(override_dir: Path | None) -> Templates:
    """One environment per folder per process (compiled templates are cached in it)."""
    return Templates(override_dir)


def _problem(error: TemplateError, name: str) -> TemplateProblem:
    """Where in which template file the error is: Jinja's syntax errors say so; for errors
    while rendering, the traceback's frames are the template's lines."""
    if isinstance(error, TemplateSyntaxError):
        return TemplateProblem(error.filename or name, error.lineno, error.message or str(error))
    if isinstance(error, TemplateNotFound):
        return TemplateProblem(name, None, f"template {error.name} not found")
    file, line = name, None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2"):
            file, line = filename, lineno
    return TemplateProblem(file, line, str(error.message or error))


def check_templates(templates: Templates, sample: Mapping[str, Any]) -> list[TemplateProblem]:
    """Render every template (each event for each audience, each document) against `sample`."""
    problems: list[TemplateProblem] = []
    seen: set[str] = set()
    jobs: list[tuple[str, dict[str, Any]]] = []
    for event in EVENTS:
        for audience in AUDIENCES:
            try:
                name = templates.event_template(event, audience)
            except TemplateProblem as problem:
                problems.append(problem)
                break
            jobs.append((name, {**sample, "audience": audience, "event": event}))
    jobs += [(f"{name}.j2", dict(sample)) for name in DOCUMENTS]
    for name, context in jobs:
        try:
            templates.render(name, context)
        except TemplateProblem as problem:
            if str(problem) not in seen:
                seen.add(str(problem))
                problems.append(problem)
    return problems
