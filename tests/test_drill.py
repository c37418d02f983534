"""`drill`: a scripted scenario through the example matrix on a simulated clock. The expected
timelines are worked out by hand from config/example/matrix.yaml's calendars and targets."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.loader import load_config
from rehearse.drill import run_drill
from rehearse.scenario import load_scenario
from run_sync import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "example" / "escalation-sync.yaml"
DRILLS = REPO / "config" / "drills"


def _t(text: str) -> float:
    return datetime.fromisoformat(text + "+00:00").timestamp()


def _timeline(name: str):
    matrix = load_config(EXAMPLE).matrix
    return run_drill(load_scenario(DRILLS / name, matrix), matrix)


def _decisions(timeline) -> list[tuple]:
    return [
        (
            datetime.fromtimestamp(s.at, UTC).strftime("%a %H:%M"),
            s.level,
            s.owner,
            {m: (datetime.fromtimestamp(d, UTC).strftime("%a %H:%M"), p) for m, d, p in s.dues},
            dict(s.states),
        )
        for s in timeline.steps
    ]


def _events(timeline) -> list[tuple[str, str, str | None]]:
    return [
        (datetime.fromtimestamp(e.at, UTC).strftime("%a %H:%M"), e.kind, e.to)
        for e in timeline.events
    ]


def test_sev1_outage_at_a_strategic_account_hand_worked_timeline():
    # Strategic accounts run on the always-on calendar: business time is wall time.
    # Severity-1 outage at a strategic account: trigger sev1-outage-key-account, executive-review
    # at once; owner: routing's executive-review rule for any category but contract/privacy.
    # Targets executive-review x strategic: acknowledge 15m, next_update 1h, resolve 1d (24h).
    # At risk with 25% left: acknowledge 3m45s before due, next_update 15m before due.
    # Runs every 5 minutes from Mon 09:00.
    timeline = _timeline("sev1-outage-strategic.yaml")
    vp = "vp.customer-success@acme.example"
    assert _decisions(timeline) == [
        # 09:00 + 15m = 09:15 acknowledge due; 09:00 + 24h = Tue 09:00 resolve due.
        (
            "Mon 09:00",
            "executive-review",
            vp,
            {"acknowledge": ("Mon 09:15", False), "resolve": ("Tue 09:00", False)},
            {"acknowledge": "ok", "resolve": "ok"},
        ),
        # The 09:15 run: 0 left <= 3m45s, not yet past due: at risk.
        (
            "Mon 09:15",
            "executive-review",
            vp,
            {"acknowledge": ("Mon 09:15", False), "resolve": ("Tue 09:00", False)},
            {"acknowledge": "at_risk", "resolve": "ok"},
        ),
        # The first run after 09:15: breached. (No timed escalation: above its ceiling.)
        (
            "Mon 09:20",
            "executive-review",
            vp,
            {"acknowledge": ("Mon 09:15", False), "resolve": ("Tue 09:00", False)},
            {"acknowledge": "breached", "resolve": "ok"},
        ),
        # 11:30 the agent answers (acknowledged late: stays breached, clock met) and sets
        # pending; the next_update cadence starts: 11:30 + 1h = 12:30. A pause starting now
        # has no length yet.
        (
            "Mon 11:30",
            "executive-review",
            vp,
            {"resolve": ("Tue 09:00", False), "next_update": ("Mon 12:30", False)},
            {"acknowledge": "breached", "resolve": "ok", "next_update": "ok"},
        ),
        # Paused: both clocks stand still; their due is "if the pause ended now" (12:15 + the
        # time left), so they move while paused and the states stay ok.
        (
            "Mon 12:15",
            "executive-review",
            vp,
            {"resolve": ("Tue 09:45", True), "next_update": ("Mon 13:15", True)},
            {"acknowledge": "breached", "resolve": "ok", "next_update": "ok"},
        ),
        # Tue 11:30 the customer answers: the pause lasted 24h. resolve Tue 09:00 + 24h =
        # Wed 09:00; next_update 12:30 + 24h = Tue 12:30.
        (
            "Tue 11:30",
            "executive-review",
            vp,
            {"resolve": ("Wed 09:00", False), "next_update": ("Tue 12:30", False)},
            {"acknowledge": "breached", "resolve": "ok", "next_update": "ok"},
        ),
        # 12:30 - 15m = 12:15 at risk; the first run after 12:30 breached.
        (
            "Tue 12:15",
            "executive-review",
            vp,
            {"resolve": ("Wed 09:00", False), "next_update": ("Tue 12:30", False)},
            {"acknowledge": "breached", "resolve": "ok", "next_update": "at_risk"},
        ),
        (
            "Tue 12:35",
            "executive-review",
            vp,
            {"resolve": ("Wed 09:00", False), "next_update": ("Tue 12:30", False)},
            {"acknowledge": "breached", "resolve": "ok", "next_update": "breached"},
        ),
        # Tue 13:00 solved: the escalation ends, no owner, no clock.
        ("Tue 13:00", "none", None, {}, {}),
    ]
    assert _events(timeline) == [
        ("Mon 09:00", "level_raised", vp),
        ("Mon 09:20", "breached", vp),
        ("Tue 12:35", "breached", vp),
    ]
    first = timeline.steps[0].reasons[0]
    assert first.startswith("Severity 1 outage at strategic account Northwind Freight")
    # Renewal in 20 days, severity <= 2: renewal-30-days-severe fires too (a lower level).
    assert (
        "Severity 1 problem 20 days before renewal of Northwind Freight"
        in timeline.steps[0].reasons
    )


def test_unanswered_defect_at_a_growth_account_hand_worked_timeline():
    # Growth tier in AMER: the us-business calendar, Mon-Thu 08:00-20:00, Fri 08:00-18:00
    # New York time (EST, UTC-5, until DST starts on Sunday 2026-03-08); "1d" there is 12h.
    # Created Mon 14:00 UTC = 09:00 EST. No trigger fires for a severity-3 defect: none.
    # Targets at none x growth: acknowledge 4h, resolve 5d = 60h of business time.
    #   acknowledge: 09:00 + 4h = 13:00 EST = 18:00 UTC; at risk 1h before: 17:00 UTC.
    #   resolve: Mon 11h (09-20) + Tue 12 + Wed 12 + Thu 12 + Fri 10 (08-18) = 57h; 3h more
    #   on Mon 03-09, now EDT (UTC-4): 08:00 + 3h = 11:00 EDT = 15:00 UTC.
    timeline = _timeline("unanswered-defect-growth.yaml")
    assert _decisions(timeline) == [
        (
            "Mon 14:00",
            "none",
            "support-tier1",
            {"acknowledge": ("Mon 18:00", False), "resolve": ("Mon 15:00", False)},
            {"acknowledge": "ok", "resolve": "ok"},
        ),
        # 17:00 at risk: trigger sla-at-risk -> informational (owner: the same rule).
        (
            "Mon 17:00",
            "informational",
            "support-tier1",
            {"acknowledge": ("Mon 18:00", False), "resolve": ("Mon 15:00", False)},
            {"acknowledge": "at_risk", "resolve": "ok"},
        ),
        # The first run after 18:00: breached, so sla-breached -> advisory, and the timer
        # steps one level up from there, to action-needed (its ceiling). The targets are now
        # action-needed's: acknowledge 1h (09:00 + 1h = 10:00 EST = 15:00 UTC, long missed),
        # resolve 3d = 36h: Mon 11 + Tue 12 + Wed 12 = 35h, Thu 08:00 + 1h = 09:00 EST = 14:00 UTC.
        (
            "Mon 18:05",
            "action-needed",
            "escalation-engineering",
            {"acknowledge": ("Mon 15:00", False), "resolve": ("Thu 14:00", False)},
            {"acknowledge": "breached", "resolve": "ok"},
        ),
    ]
    assert timeline.steps[-1].timed
    assert timeline.steps[-1].reasons[0] == (
        "Moved up from advisory to action-needed: not acknowledged within the 4h target"
    )
    assert _events(timeline) == [
        ("Mon 17:00", "level_raised", "support-tier1"),
        ("Mon 18:05", "level_raised", "escalation-engineering"),
        ("Mon 18:05", "owner_changed", "escalation-engineering"),
        ("Mon 18:05", "breached", "escalation-engineering"),
    ]


def test_a_broken_scenario_is_refused_with_file_key_and_line(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        "scenario:\n"
        "  name: bad\n"
        "  start: 2026-03-02T09:00:00Z\n"
        "  account: {tier: platinum}\n"
        "  ticket: {category: outage, severity: 1}\n"
        "  steps:\n"
        "    - {after: soon}\n"
        "    - {after: 1h, colour: red}\n",
        encoding="utf-8",
    )
    matrix = load_config(EXAMPLE).matrix
    with pytest.raises(ConfigError) as raised:
        load_scenario(scenario, matrix)
    text = [str(p) for p in raised.value.problems]
    assert any(p.startswith(f"{scenario}:7: scenario.steps[0].after") for p in text), text
    assert any(p.startswith(f"{scenario}:8: scenario.steps[1].colour") for p in text), text
    tier_problem = f"{scenario}:4: scenario.account.tier: unknown tier 'platinum'"
    scenario.write_text(scenario.read_text().replace("soon", "1h").replace(", colour: red", ""))
    with pytest.raises(ConfigError) as raised:
        load_scenario(scenario, matrix)
    assert any(str(p).startswith(tier_problem) for p in raised.value.problems)


def test_drill_command_prints_the_timeline_and_touches_no_state(tmp_path, capsys):
    folder = tmp_path / "config"
    shutil.copytree(EXAMPLE.parent, folder)
    main_file = folder / "escalation-sync.yaml"
    state = tmp_path / "state" / "state.sqlite"
    text = main_file.read_text(encoding="utf-8")
    main_file.write_text(
        text.replace("/var/lib/escalation-sync/state.sqlite", str(state)), encoding="utf-8"
    )
    code = main(["drill", "--config", str(main_file), str(DRILLS / "sev1-outage-strategic.yaml")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Mon 2026-03-02 09:20 UTC" in out
    assert "notify vp.customer-success@acme.example: breached (acknowledge target missed)" in out
    assert not state.exists() and not state.parent.exists()
