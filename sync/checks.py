"""The checks after loading: what only compiling the matrix shows, secrets, and warnings.

`load_config` proves the files are well formed. These say whether the configuration runs
(the matrix compiled as a run compiles it; the secrets a run reads) and whether it is surely
what was meant (warnings). Commands choose: `validate` wants everything, with missing secrets
as warnings (a CI keeps the config in git without them); `sync` and `plan` want what stops a
run, secrets included; `explain` reads the mirror only and needs no secret. They live with
the commands, above both config/ and escalation/, whose compiler they run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from config.errors import ConfigProblem, sort_problems
from config.lint import mapping_warnings
from config.schema import Config
from escalation.matrix_check import check_matrix
from notify.checks import template_problems


def _matrix_findings(
    config: Config, now: float | None
) -> tuple[list[ConfigProblem], list[ConfigProblem]]:
    """(errors, warnings) of the compiled matrix, as ConfigProblems at their keys."""
    findings = check_matrix(config.matrix, time.time() if now is None else now)
    errors = [config.problem(("matrix", *path), text) for path, text in findings.errors]
    warnings = [config.problem(("matrix", *path), text) for path, text in findings.warnings]
    return errors, warnings


def run_problems(
    config: Config,
    now: float | None = None,
    *,
    secrets: bool = True,
    environ: Mapping[str, str] | None = None,
) -> list[ConfigProblem]:
    """Errors that stop a run: a matrix that cannot run, and (with `secrets`) unset secrets."""
    problems, _ = _matrix_findings(config, now)
    problems += template_problems(config)
    if secrets:
        problems += config.check_environment(environ)
    return sort_problems(problems)


def validate_problems(
    config: Config,
    now: float | None = None,
    *,
    check_secrets: bool = True,
    environ: Mapping[str, str] | None = None,
) -> list[ConfigProblem]:
    """Everything `validate` reports: errors, and warnings (missing secrets among them)."""
    problems, warnings = _matrix_findings(config, now)
    problems += template_problems(config)
    warnings += [config.problem(path, text) for path, text in mapping_warnings(config)]
    if check_secrets:
        warnings += config.check_environment(environ)
    return sort_problems(problems + [warning.as_warning() for warning in warnings])
