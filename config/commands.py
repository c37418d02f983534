"""`run_sync.py validate`: check a configuration and summarise it, or list every problem."""

from __future__ import annotations

import argparse
import sys

from config.errors import ConfigError, ConfigProblem
from config.loader import load_config
from config.summary import summarise_config

EXIT_OK = 0
EXIT_CONFIG_ERROR = 2


def _report(problems: list[ConfigProblem]) -> None:
    noun = "problem" if len(problems) == 1 else "problems"
    print(f"config has {len(problems)} {noun}:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def validate(args: argparse.Namespace) -> int:
    """Print "ok" and a summary (exit 0), or all problems (exit 2). Secrets are never printed."""
    try:
        config = load_config(args.config)
    except ConfigError as error:
        _report(error.problems)
        return EXIT_CONFIG_ERROR
    check_env = not getattr(args, "skip_env_check", False)
    problems = config.check_environment() if check_env else []
    if problems:
        _report(problems)
        return EXIT_CONFIG_ERROR
    print("ok")
    print(summarise_config(config, secrets_checked=check_env))
    return EXIT_OK
