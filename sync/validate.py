"""`run_sync.py validate`: check a configuration and summarise it, or list every problem.

Errors exit 2. Warnings (it runs, but is surely not what was meant; a secret not set here)
are printed and exit 0, or exit 2 with `--strict`. No secret is needed: a CI that keeps the
config in git can validate it without them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from config.errors import ConfigError, ConfigProblem
from config.loader import load_config
from config.summary import summarise_config
from errors import ExitCode
from escalation.summary import summarise
from sync.checks import validate_problems


def _report(problems: list[ConfigProblem], noun: str) -> None:
    if not problems:
        return
    plural = noun if len(problems) == 1 else f"{noun}s"
    print(f"config has {len(problems)} {plural}:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def _now(text: str | None) -> float | None:
    """--now as epoch seconds (None: the real clock); ValueError with what is expected."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"--now {text!r} is not an ISO 8601 moment with an offset; "
            "expected e.g. 2026-11-23T09:00:00+00:00"
        )
    return moment.timestamp()


def validate(args: argparse.Namespace) -> int:
    """Print warnings, "ok" and a summary (exit 0), or every problem (exit 2). No secret is
    ever printed."""
    try:
        config = load_config(args.config)
        now = _now(getattr(args, "now", None))
    except ConfigError as error:
        _report(error.problems, "problem")
        return ExitCode.CONFIG_ERROR
    except ValueError as error:
        print(f"escalation-sync: {error}", file=sys.stderr)
        return ExitCode.CONFIG_ERROR
    # --skip-env-check is kept for scripts written before secrets became warnings.
    check_env = not getattr(args, "skip_env_check", False)
    problems = validate_problems(config, now, check_secrets=check_env)
    if getattr(args, "strict", False):
        problems = [problem.as_error() for problem in problems]
    errors = [problem for problem in problems if problem.severity == "error"]
    warnings = [problem for problem in problems if problem.severity == "warning"]
    _report(errors, "problem")
    _report(warnings, "warning")
    if errors:
        return ExitCode.CONFIG_ERROR
    print("ok")
    missing = len(config.check_environment()) if check_env else None
    print(summarise_config(config, secrets_missing=missing))
    print(summarise(config.matrix).rstrip("\n"))
    return ExitCode.OK
