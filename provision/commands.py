"""The CLI of `doctor` and `provision`: load the config, open the systems, print, exit.

Exit codes (errors.py): doctor 0 every check ok (warnings allowed), 10 some check found a
problem (each printed with its fix), 2 configuration error, 3 a system could not be reached or
refused our credentials; provision 0 done (or nothing to do), 10 something could not be created,
2, 3, and 5 when a system refused our credentials.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from connectors.errors import AuthError, ConnectorError, RateLimited, SystemUnavailable
from errors import ExitCode
from provision.doctor import run_doctor
from provision.findings import as_json, as_text
from provision.join_check import DEFAULT_SAMPLE
from provision.mapping_file import own_mapping_snippet, snippet, write_ids, write_own_mapping
from provision.provisioner import apply_plan, make_plan
from provision.systems import open_systems
from sync.commands import load_for_run

# doctor: problems found; provision: something could not be created.
EXIT_OK, EXIT_CONFIG_ERROR = ExitCode.OK, ExitCode.CONFIG_ERROR
EXIT_UNREACHABLE, EXIT_SETUP_PROBLEMS = ExitCode.UNREACHABLE, ExitCode.SETUP_PROBLEMS


def doctor(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print the checklist; the exit code says whether all is well (see the module docstring)."""
    out, err = out or sys.stdout, err or sys.stderr
    # A config that cannot run raises ConfigError: run_sync.main prints its problems, exit 2.
    config = load_for_run(args)
    with open_systems(config) as systems:
        sample = getattr(args, "join_sample", None)
        findings, unreachable = run_doctor(config, systems, DEFAULT_SAMPLE if sample is None else sample)  # fmt: skip
    findings = [
        replace(f, fix=f.fix.replace("--config F", f"--config {args.config}")) for f in findings
    ]
    print(as_json(findings) if args.format == "json" else as_text(findings), file=out)
    if unreachable:
        return EXIT_UNREACHABLE
    return EXIT_SETUP_PROBLEMS if any(f.status == "problem" for f in findings) else EXIT_OK


def provision(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Print the plan; with --apply make it, then write the new ids (or --print them)."""
    out, err = out or sys.stdout, err or sys.stderr
    # A config that cannot run raises ConfigError: run_sync.main prints its problems, exit 2.
    config = load_for_run(args)
    try:
        with open_systems(config) as systems:
            unreachable: list[str] = []  # named instances that could not be read, with why
            plan = make_plan(config, systems, unreachable)
            print("plan:", file=out)
            print("\n".join(plan.lines()), file=out)
            for line in unreachable:
                print(f"FAILED: {line}", file=out)
            if not args.apply:
                if plan.steps:
                    print("nothing was changed; run again with --apply to make it", file=out)
                return EXIT_SETUP_PROBLEMS if unreachable else EXIT_OK
            applied = apply_plan(plan)
    except AuthError as error:
        print(f"escalation-sync: {error}", file=err)
        return ExitCode.CREDENTIALS_REFUSED
    except (SystemUnavailable, RateLimited) as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_UNREACHABLE
    except ConnectorError as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_SETUP_PROBLEMS
    for line in applied.done:
        print(f"done: {line}", file=out)
    for line in applied.failed:
        print(f"FAILED: {line}", file=out)
    if applied.new_ids and args.print:
        print("new field ids (copy into the mapping):", file=out)
        print(snippet(applied.new_ids), file=out)
    elif applied.new_ids:
        for path in write_ids(config, applied.new_ids):
            count = sum(Path(config.location(k).file) == path for k in applied.new_ids)
            print(f"wrote {count} new field id(s) into {path}", file=out)
    for label, ids in applied.own_mapping_ids.items():
        # An instance on the top-level mapping: its ids are its own account's, so it gets a
        # mapping of its own (mapping_file.write_own_mapping says why).
        if args.print:
            print(f"{label}'s own mapping, with its new field ids (copy into the config):", file=out)  # fmt: skip
            print(own_mapping_snippet(config, label, ids), file=out)
            continue
        try:
            path = write_own_mapping(config, label, ids)
        except ValueError as error:
            print(f"FAILED: {label}: {error}", file=out)
            print(own_mapping_snippet(config, label, ids), file=out)
            return EXIT_SETUP_PROBLEMS
        print(f"wrote {label}'s own mapping, with {len(ids)} new field id(s), into {path}", file=out)  # fmt: skip
    return EXIT_SETUP_PROBLEMS if applied.failed or unreachable else EXIT_OK
