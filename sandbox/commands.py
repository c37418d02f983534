"""`run_sync.py sandbox ...` subcommands: one function per subcommand, each returning an exit code."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

EXIT_OK = 0
EXIT_BAD_ARGUMENTS = 2
# Set (to anything but empty) for `serve` to emulate a Zendesk account with the High Volume API
# add-on. An environment variable, not an option, so a test can run the README's serve line as
# written and still not wait out the 10 exports a minute that the later commands share.
HIGH_VOLUME_VARIABLE = "SANDBOX_ZENDESK_HIGH_VOLUME"


def generate(args: argparse.Namespace) -> int:
    """Write a deterministic data set to args.out and print a one-line summary."""
    from sandbox.generate import default_anchor, generate_dataset, write_dataset

    try:
        anchor = _parse_anchor(getattr(args, "anchor", None)) or default_anchor()
        started = time.perf_counter()
        dataset = generate_dataset(
            args.accounts, args.tickets, args.jira_issues, args.seed, anchor=anchor
        )
        if getattr(args, "bare_org", False):
            from sandbox.bare_org import bare_org

            bare_org(dataset)
        write_dataset(dataset, Path(args.out))
    except ValueError as problem:
        print(f"sandbox generate: {problem}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    zendesk = dataset["zendesk"]
    print(
        f"wrote {args.out}: {len(dataset['salesforce']['sobjects']['Account'])} accounts, "
        f"{len(zendesk['organizations'])} organizations, {len(zendesk['users'])} users, "
        f"{len(zendesk['tickets'])} tickets, {len(dataset['jira']['issues'])} jira issues "
        f"(seed {args.seed}, anchor {anchor.isoformat()}) in {time.perf_counter() - started:.1f} s"
    )
    return EXIT_OK


def _parse_anchor(text: str | None) -> datetime | None:
    """An ISO 8601 time with offset, as UTC; None when not given."""
    if text is None:
        return None
    anchor = datetime.fromisoformat(text)
    if anchor.tzinfo is None:
        raise ValueError(f"--anchor needs a UTC offset, got {text!r}")
    return anchor.astimezone(UTC)


def serve(args: argparse.Namespace) -> int:
    """Serve the three APIs on 127.0.0.1 until interrupted; save their state back on exit."""
    from sandbox.quotas import scale_quotas
    from sandbox.runner import Sandbox
    from sandbox.sandbox_config import ENVIRONMENT, high_volume_pacing, write_sandbox_config

    data = Path(args.data)
    if not data.is_dir():
        print(
            f"sandbox serve: {data} is not a folder; create one with `sandbox generate`",
            file=sys.stderr,
        )
        return EXIT_BAD_ARGUMENTS
    sandbox = Sandbox(data_dir=data, work_dir=data / "tls", first_port=args.port)
    high_volume = bool(os.environ.get(HIGH_VOLUME_VARIABLE))
    if high_volume:
        sandbox.zendesk.add_high_volume_api()
    if args.time_factor != 1.0:
        # Whole-second windows at the same rates (Jira's 1 s bursts cannot shrink to 0.1 s: its
        # answers count seconds); a sync against it sets sync.quota_time_factor to the same.
        for app in sandbox.apps.values():
            scale_quotas(app.quotas, args.time_factor)
    with sandbox:
        pacing = f"  quota_time_factor: {args.time_factor}\n" if args.time_factor != 1.0 else ""
        pacing += high_volume_pacing() if high_volume else ""
        pacing = f"sync:\n{pacing}" if pacing else ""
        config = write_sandbox_config(data / "config", sandbox.urls, sandbox.ca_path, extra=pacing)
        for name, url in sandbox.urls.items():
            print(f"{name:<11} {url}")
        print(f"CA file     {sandbox.ca_path}")
        print(f"config      {config}")
        print("credentials " + " ".join(f"{k}={v}" for k, v in ENVIRONMENT.items()))
        print("serving; Ctrl-C or SIGTERM stops and saves the state", flush=True)
        _wait_for_stop()
        sandbox.save(data)
        print(f"saved the sandbox's state to {data}")
    return EXIT_OK


def _wait_for_stop() -> None:
    """Return on SIGINT (Ctrl-C) or SIGTERM (kill, systemd, docker stop), so both save the state.

    Further stop signals are ignored from then on: a second Ctrl-C must not cut the save short.
    """
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):  # a timed wait: the signal handler runs between the waits
        pass
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
