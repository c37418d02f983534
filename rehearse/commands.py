"""`escalation-sync replay` and `escalation-sync drill`: rehearse a matrix, touching nothing.

replay reads the state store (as `report` does: no vendor is called, no secret is needed);
drill reads only the config and the scenario. Neither writes to a system or to the state.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from config.errors import ConfigError
from config.loader import load_config
from escalation.compiled import compile_matrix
from rehearse.compare import compare
from rehearse.draft import load_with_matrix
from rehearse.past import load_past
from rehearse.render import RENDERERS
from rehearse.replay import grid, runs_between
from rehearse.replay import replay as replay_matrix
from sync.state_open import describe_state, open_store, state_exists, store_faults
from vocabulary.durations import parse_duration

EXIT_OK, EXIT_NO_STATE, EXIT_CONFIG_ERROR = 0, 1, 2
RUNS = "runs"


def parse_moment(text: str, option: str, end_of_day: bool = False) -> datetime:
    """--from / --to: a date (UTC; --to takes the whole day) or an ISO 8601 moment with offset."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, datetime.min.time(), UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"{option} {text!r}: expected a date (2026-03-01) or a moment with offset (2026-03-01T09:00:00Z)"
        )
    return moment.astimezone(UTC)


def parse_step(text: str) -> float | None:
    """--step: a duration (30m, 1h, 1d = 24 hours), or `runs` for the recorded runs' moments."""
    if text == RUNS:
        return None
    try:
        duration = parse_duration(text)
    except ValueError:
        raise ValueError(
            f"--step {text!r}: expected a duration such as 30m, 1h or 1d, or 'runs'"
        ) from None
    seconds = duration.days * 86400 + duration.seconds
    if seconds < 60:
        raise ValueError(f"--step {text!r}: expected at least 1m")
    return float(seconds)


def _config_problems(error: ConfigError, err: TextIO) -> int:
    print(f"escalation-sync: the configuration has {len(error.problems)} problem(s):", file=err)
    for problem in error.problems:
        print(f"  {problem}", file=err)
    return EXIT_CONFIG_ERROR


def replay(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Replay the current and the draft matrix over the stored history and compare them."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        config = load_config(args.config)
        draft = load_with_matrix(args.config, args.matrix)
    except ConfigError as error:
        return _config_problems(error, err)
    try:
        start = parse_moment(args.from_, "--from").timestamp()
        end = parse_moment(args.to, "--to", end_of_day=True).timestamp()
        step = parse_step(args.step)
        if end <= start:
            raise ValueError(f"--to {args.to} is not after --from {args.from_}")
        if step is not None and (end - start) / step > 100_000:
            raise ValueError(f"--step {args.step}: more than 100,000 steps from --from to --to")
    except ValueError as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_CONFIG_ERROR
    if not state_exists(config.state):
        print(
            f"escalation-sync: no state at {describe_state(config.state)}; run sync first", file=err
        )
        return EXIT_NO_STATE
    # No run lock: replay only reads, also while a sync runs.
    with store_faults(config.state, move_damaged=False):
        store = open_store(config.state)
        try:
            milestones = config.matrix.sla.milestones or draft.matrix.sla.milestones
            past = load_past(store, config, with_changes=bool(milestones))
        finally:
            store.close()
    moments = runs_between(past.runs, start, end) if step is None else grid(start, end, step)
    if not moments:
        print("escalation-sync: no run recorded between --from and --to", file=err)
        return EXIT_NO_STATE
    priors = {
        ref: p for ref in past.tickets if (p := past.prior_before(ref, moments[0])) is not None
    }
    traces = [
        replay_matrix(
            compile_matrix(c.matrix),
            past.tickets,
            past.accounts,
            past.account_created,
            moments,
            priors,
        )
        for c in (config, draft)
    ]
    comparison = compare(traces[0], traces[1], moments[0], moments[-1], args.step)
    render, filename = RENDERERS[args.format]
    text = render(comparison)
    if args.out is None:
        out.write(text)
        return EXIT_OK
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        path = Path(args.out) / filename
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"escalation-sync: cannot write to {args.out}: {error}", file=err)
        return EXIT_NO_STATE
    print(f"replay: {path}", file=out)
    return EXIT_OK


def drill(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a scripted scenario through the config's matrix and print its timeline."""
    from rehearse.drill import run_drill
    from rehearse.drill_render import as_json, as_text
    from rehearse.scenario import load_scenario

    out, err = out or sys.stdout, err or sys.stderr
    try:
        config = load_config(args.config)
        scenario = load_scenario(args.scenario, config.matrix)
    except ConfigError as error:
        return _config_problems(error, err)
    timeline = run_drill(scenario, config.matrix)
    out.write(as_json(timeline) if args.format == "json" else as_text(timeline))
    return EXIT_OK
