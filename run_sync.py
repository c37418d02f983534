#!/usr/bin/env python3
"""escalation-sync command line: the cron entry point.

Only parses arguments and hands over; the work lives in config/, sync/ and sandbox/.
Exit codes: errors.py (ExitCode), listed in the README; an error that ends a command carries
its own (errors.EscalationSyncError), and `main` is the one place that turns it into one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from errors import EscalationSyncError, ExitCode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="escalation-sync", description=__doc__.splitlines()[0])
    add_global_options(parser)
    parser.set_defaults(log_format="text", verbose=0)
    commands = parser.add_subparsers(dest="command", required=True)

    def with_config(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--config", required=True, help="the main YAML file")
        sub.add_argument(
            "--now", help="pin the clock (ISO 8601 with offset), for tests and replays"
        )
        return sub

    validate = with_config(
        commands.add_parser("validate", help="check a config and summarise the matrix")
    )
    validate.add_argument(
        "--skip-env-check",
        action="store_true",
        help="do not require the secrets' environment variables (e.g. in CI)",
    )
    validate.add_argument("--strict", action="store_true", help="warnings are errors (exit 2)")
    sync = with_config(commands.add_parser("sync", help="pull, decide and write back, once"))
    sync.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    sync.add_argument("--metrics-file", help="write Prometheus metrics here after each run")
    with_config(commands.add_parser("plan", help="alias of sync --dry-run"))
    backfill = with_config(
        commands.add_parser("backfill", help="the first sync to the end in one go, with progress")
    )
    backfill.add_argument(
        "--max-time", metavar="DURATION", help="stop reading after this long (e.g. 2h, 90m)"
    )
    for name in (
        "sync",
        "plan",
        "backfill",
    ):  # a clock before the last run's is refused (sync/clock.py)
        commands.choices[name].add_argument(
            "--allow-backwards-clock", action="store_true", help="run even if before the last run"
        )
    explain = with_config(commands.add_parser("explain", help="why a ticket has its level"))
    explain.add_argument("ticket", metavar="SYSTEM:ID")
    init = commands.add_parser("init", help="write a commented starting configuration to DIR")
    init.add_argument("dir", metavar="DIR", help="the folder to write (made when missing)")
    init.add_argument("--minimal", action="store_true", help="the smallest configuration")
    init.add_argument("--force", action="store_true", help="overwrite files already there")
    doctor = with_config(commands.add_parser("doctor", help="check the systems against the config"))
    doctor.add_argument("--format", choices=("text", "json"), default="text")
    doctor.add_argument("--join-sample", type=int, metavar="N",
                        help="open tickets per ticket system read to test the join (default 200; 0: skip)")  # fmt: skip
    provision = with_config(
        commands.add_parser("provision", help="create what doctor finds missing")
    )
    provision.add_argument("--apply", action="store_true", help="make it (default: print the plan)")
    provision.add_argument("--print", action="store_true", help="print new ids, leave the mapping")
    report = with_config(commands.add_parser("report", help="write the escalation report"))
    report.add_argument("--out", required=True, type=Path, help="folder for the HTML, CSV, JSON")
    report.add_argument("--since", default="90d", help="period of the metrics (90d, 13w)")
    report.add_argument("--renewal-days", type=int, default=90, help="renewal risk window")
    replay = with_config(commands.add_parser("replay", help="replay a draft matrix over history"))
    replay.add_argument("--matrix", required=True, help="the draft matrix file")
    replay.add_argument("--from", dest="from_", required=True, help="date or ISO moment")
    replay.add_argument("--to", required=True, help="date (whole day) or ISO moment")
    replay.add_argument("--step", default="1h", help="30m, 1h, 1d, or runs (the recorded runs)")
    replay.add_argument("--format", choices=("text", "html", "json"), default="text")
    replay.add_argument("--out", type=Path, help="write replay.txt/.html/.json here")
    drill = with_config(commands.add_parser("drill", help="run a scenario on a simulated clock"))
    drill.add_argument("scenario", metavar="SCENARIO.yaml", help="the scripted scenario")
    drill.add_argument("--format", choices=("text", "json"), default="text")

    state = commands.add_parser("state", help="manage the state store")
    state_commands = state.add_subparsers(dest="state_command", required=True)
    copy = state_commands.add_parser("copy", help="copy the SQLite state into PostgreSQL")
    copy.add_argument("--config", required=True, help="the main YAML file (its state.path)")
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/db")
    copy.add_argument("--password-env", help="the variable holding the database's password")
    copy.add_argument("--force", action="store_true", help="replace a state already there")

    sandbox = commands.add_parser("sandbox", help="the local emulation of the three APIs")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve the three APIs on 127.0.0.1")
    serve.add_argument("--data", required=True, help="folder with the generated data set")
    serve.add_argument("--port", type=int, default=0, help="first port (0: any free ports)")
    serve.add_argument("--time-factor", type=float, default=1.0, help="scale quota windows")
    generate = sandbox_commands.add_parser("generate", help="write a deterministic data set")
    generate.add_argument("--out", required=True, help="folder to write")
    generate.add_argument("--accounts", type=int, default=200)
    generate.add_argument("--tickets", type=int, default=1000)
    generate.add_argument("--jira-issues", type=int, default=200)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument(
        "--anchor", help="time the data is relative to, ISO 8601 with offset (default: now)"
    )
    generate.add_argument(
        "--bare-org", action="store_true", help="without the fields provision creates"
    )
    for sub in [
        *commands.choices.values(),
        *sandbox_commands.choices.values(),
        *state_commands.choices.values(),
    ]:
        add_global_options(sub)
    return parser


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """--log-format and -v/-vv, on the main parser and on every subcommand.

    The README's cron line puts them after the subcommand, people before it: both work.
    No default here (SUPPRESS), so a subcommand that was not given one keeps the main
    parser's value; the defaults live in build_parser's set_defaults.
    """
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=argparse.SUPPRESS,
        help="stderr log lines and the stdout summary as text (default) or JSON objects",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="-v: also a line per decision that changed; -vv: also the client libraries' debug",
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _dispatch(argv)
    except EscalationSyncError as error:
        print(f"escalation-sync: {error.report()}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # Output piped into `head` or a closed pager: not an error of ours.
        sys.stderr.close()
        return ExitCode.OK


def _dispatch(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        from sync.validate import validate

        return validate(args)
    if args.command in ("sync", "plan"):
        from sync.commands import run_sync

        if args.command == "plan":
            args.dry_run = True
        return run_sync(args)
    if args.command == "backfill":
        from sync.backfill import backfill

        return backfill(args)
    if args.command == "explain":
        from sync.commands import explain

        return explain(args)
    if args.command == "init":
        from config.starter import init

        return init(args)
    if args.command == "doctor":
        from provision.commands import doctor

        return doctor(args)
    if args.command == "provision":
        from provision.commands import provision

        return provision(args)
    if args.command == "report":
        from report.commands import report

        return report(args)
    if args.command in ("replay", "drill"):
        from rehearse import commands as rehearse

        return getattr(rehearse, args.command)(args)
    if args.command == "state":
        from sync.state_copy import state_copy

        return state_copy(args)
    if args.command == "sandbox":
        from sandbox import commands

        return getattr(commands, args.sandbox_command)(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
