"""Helpers for the fault, kill and lock tests: fast retry policies, runs until nothing is left to
write, field-by-field comparison of the systems' state, and counting the writes that reached the
sandbox per record and field."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.loader import load_config
from config.policy import StateConfig
from connectors.transport import RetryPolicy
from sandbox.runner import Sandbox
from sync.run import RunResult
from tests.sync_world import World

# A smaller world than the integration tests': each run takes a fraction of a second.
FAULT_SIZES = {"accounts": 15, "tickets": 120, "jira_issues": 20, "seed": 23}


def fault_free_outcome(sandbox: Sandbox, data: Path, folder: Path) -> tuple[dict, Counter]:
    """What the fault-free sync leaves in the three systems at the worlds' `now`, and the
    values it sent to get there."""
    world = World(sandbox, data, folder)
    first = world.run()
    assert first.exit_code == 0, first.summary()
    converge(world)
    return world.snapshot(), field_writes(world)


def escalated_ticket_ids(reference: dict, count: int) -> list[int]:
    """Zendesk tickets the fault-free sync writes a level to, in a stable order."""
    return sorted(i for i, (fields, _, _) in reference["zendesk"].items() if any(fields.values()))[
        :count
    ]


@dataclass
class FakeSleep:
    """Records every wait the policy asks for and sleeps at most `cap` seconds of it, so a
    Retry-After of minutes is honoured logically (asked for) without slowing the test."""

    cap: float = 0.02
    requested: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)
        time.sleep(min(seconds, self.cap))


def fast_policy(sleep: FakeSleep, max_attempts: int = 4) -> RetryPolicy:
    """Tiny backoff, every wait recorded by `sleep`; the per-run waiting budget stays generous."""
    return RetryPolicy(
        max_attempts=max_attempts,
        backoff_initial_seconds=0.001,
        backoff_max_seconds=0.01,
        max_total_wait_seconds=600,
        sleep=sleep,
    )


def set_client_timeout(world: World, seconds: float) -> None:
    """Lower every connection's client timeout (connections.yaml) and reload the config."""
    connections = world.config_path.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    assert "timeout_seconds: 10" in text
    connections.write_text(
        text.replace("timeout_seconds: 10", f"timeout_seconds: {seconds}"), encoding="utf-8"
    )
    world.config = load_config(world.config_path)


def converge(world: World, max_runs: int = 4, settle_first: bool = True) -> list[RunResult]:
    """Clean runs at the world's `now` until one writes nothing; fails when `max_runs` are not
    enough. Zendesk's export catches up between runs (`settle_first=False`: not before the first,
    a run that follows at once)."""
    results = []
    for run in range(max_runs):
        if run or settle_first:
            world.settle()
        result = world.run()
        results.append(result)
        if not result.writes:
            return results
    summaries = [r.summary()["results"] for r in results]
    raise AssertionError(f"still writing after {max_runs} clean runs: {summaries}")


def snapshot_differences(
    expected: dict[str, Any], actual: dict[str, Any], limit: int = 8
) -> list[str]:
    """Readable field-by-field differences between two World.snapshot()s."""
    found: list[str] = []
    for part in sorted(set(expected) | set(actual)):
        want, got = expected.get(part), actual.get(part)
        if not isinstance(want, dict) or not isinstance(got, dict):
            if want != got:
                found.append(f"{part}: expected {want!r}, found {got!r}")
            continue
        for key in sorted(set(want) | set(got), key=str):
            a, b = want.get(key), got.get(key)
            if a == b:
                continue
            if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
                a, b = _only_differing(a, b), _only_differing(b, a)
            found.append(f"{part}[{key}]: expected {a!r}, found {b!r}")
    return found[:limit] + ([f"... {len(found) - limit} more"] if len(found) > limit else [])


def duplicate_notes(world: World) -> dict[int, list[str]]:
    """Tickets carrying the same escalation-sync note marker more than once."""
    duplicates = {}
    for ticket_id in world.sandbox.zendesk.store.tickets:
        markers = Counter(
            body[body.index("[escalation-sync:") :].split("]", 1)[0]
            for body in world.zendesk_notes(ticket_id)
        )
        repeated = [marker for marker, n in markers.items() if n > 1]
        if repeated:
            duplicates[ticket_id] = repeated
    return duplicates


def duplicate_escalation_records(world: World) -> list[str]:
    refs = Counter(
        r.get("Ticket_Ref__c") for r in world.sandbox.salesforce.records("Escalation__c")
    )
    return sorted(ref for ref, n in refs.items() if n > 1)


def assert_fault_free_state(reference: dict[str, Any], world: World) -> None:
    """Every managed value equals the fault-free run's; no note or record exists twice."""
    differences = snapshot_differences(reference, world.snapshot())
    assert not differences, "\n".join(differences)
    assert duplicate_notes(world) == {}
    assert duplicate_escalation_records(world) == []


def field_writes(world: World) -> Counter:
    """(system, record, field, value) -> how often the vendor applied it.

    Zendesk: the ticket updates of bulk jobs that succeeded for that ticket (custom field ids,
    `tag-add`/`tag-remove`, `note`); Jira: issue edits the sandbox handled (field ids,
    `label-add`/`label-remove`); Salesforce: the records of collection requests it handled. A
    request refused before the vendor handled it (a scripted status or reset) is not counted.
    """
    counts: Counter = Counter()
    with world.sandbox.zendesk.state_lock:
        jobs = list(world.sandbox.zendesk.jobs.jobs.values())
    for job in jobs:
        landed = {r["index"] for r in job.results or [] if r.get("success")}
        counts.update(
            _zendesk_fields({"tickets": [t for i, t in enumerate(job.tickets) if i in landed]}, "")
        )
    for name, app in world.sandbox.apps.items():
        with app.traffic.lock:
            entries = list(app.traffic.writes)
        for entry in entries:
            if entry.endpoint != "update_many":  # counted from its job, ticket by ticket
                counts.update(_fields_of(name, entry.endpoint, entry.path, entry.body))
    return counts


def writes_repeated(world: World, fault_free: Counter) -> dict[tuple[str, str, str, str], int]:
    """Values sent to the same record and field more often than the fault-free runs sent them."""
    return {key: n for key, n in field_writes(world).items() if n > max(1, fault_free.get(key, 0))}


Write = tuple[str, str, str, str]


def _fields_of(system: str, endpoint: str, path: str, body: Any) -> Iterable[Write]:
    if not isinstance(body, dict):
        return []
    if system == "zendesk":
        return _zendesk_fields(body, path)
    if system == "jira" and endpoint == "issue_edit":
        record = path.rstrip("/").rsplit("/", 1)[-1]
        found = [(system, record, name, _text(v)) for name, v in (body.get("fields") or {}).items()]
        for change in (body.get("update") or {}).get("labels") or []:
            found += [(system, record, f"label-{op}", v) for op, v in change.items()]
        return found
    if system == "salesforce" and isinstance(body.get("records"), list):
        key_field = path.rstrip("/").rsplit("/", 1)[-1] if endpoint == "composite_upsert" else "id"
        return [
            (system, str(record.get(key_field)), name, _text(value))
            for record in body["records"]
            for name, value in record.items()
            if name not in ("attributes", key_field)
        ]
    return []


def _zendesk_fields(body: dict[str, Any], path: str) -> list[Write]:
    items = body.get("tickets") or (
        [body["ticket"]] if isinstance(body.get("ticket"), dict) else []
    )
    found: list[Write] = []
    for item in items:
        record = str(item.get("id") or path.rsplit("/", 1)[-1].removesuffix(".json"))
        found += [
            ("zendesk", record, str(f["id"]), _text(f["value"]))
            for f in item.get("custom_fields") or []
        ]
        found += [("zendesk", record, "tag-add", t) for t in item.get("additional_tags") or []]
        found += [("zendesk", record, "tag-remove", t) for t in item.get("remove_tags") or []]
        if item.get("comment"):
            found.append(("zendesk", record, "note", _text(item["comment"].get("body"))))
    return found


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def state_file_is_sound(path: Path) -> bool:
    """SQLite's own integrity check on the state file (after a kill, say)."""
    import sqlite3

    db = sqlite3.connect(str(path))
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def state_is_sound(state: StateConfig) -> bool:
    """After a kill: SQLite's integrity check on the file; for PostgreSQL (whose server keeps
    its own files whole), that the killed run's session is gone and its lock with it, and
    the store opens."""
    if state.url is None:
        return state_file_is_sound(state.path)
    from sync.lock import LockHeld
    from sync.state_open import open_store, run_lock

    deadline = time.monotonic() + 10  # the server ends the dead client's session at once
    while True:
        try:
            run_lock(state).acquire().release()
            break
        except LockHeld:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
    open_store(state).close()
    return True


def _only_differing(mine: tuple, theirs: tuple) -> dict:
    """`mine` at the positions (and, for dicts, the keys) where it differs from `theirs`."""
    shown: dict = {}
    for i, (x, y) in enumerate(zip(theirs, mine, strict=True)):
        if x != y:
            if isinstance(x, dict) and isinstance(y, dict):
                shown[i] = {k: y.get(k) for k in set(x) | set(y) if x.get(k) != y.get(k)}
            else:
                shown[i] = y
    return shown


# -- the CLI as cron runs it, in a process of its own --------------------------------------------
REPO = Path(__file__).resolve().parent.parent


def sync_command(world: World) -> list[str]:
    return [sys.executable, str(REPO / "run_sync.py"), "sync", "--config", str(world.config_path),
            "--now", world.now.isoformat()]  # fmt: skip


def start_sync(world: World) -> subprocess.Popen:
    """`run_sync.py sync` in its own process (the sandbox keeps serving from this one)."""
    return subprocess.Popen(
        sync_command(world), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


class KillSwitch:
    """Counts the requests the sandbox handles and SIGKILLs a process right after handling the
    N-th one, before its answer goes out: the vendor acted, the client never learns of it."""

    def __init__(self, apps: dict[str, Any]):
        self._lock = threading.Lock()
        self._apps = apps
        self.count = 0
        self.endpoints: list[str] = []  # every request handled since the last arm(), in order
        self._pid: int | None = None
        self._at = 0
        self.killed_after: str | None = None  # the endpoint of the N-th request
        for app in apps.values():
            app.traffic.record = self._counting(app.name, app.traffic.record)

    def _counting(self, system: str, record: Any) -> Any:
        def counted(endpoint: str, status: int) -> None:
            record(endpoint, status)
            with self._lock:
                self.count += 1
                self.endpoints.append(f"{system}.{endpoint}")
                if self._pid is not None and self.count == self._at:
                    os.kill(self._pid, signal.SIGKILL)
                    self.killed_after, self._pid = self.endpoints[-1], None

        return counted

    def arm(self, pid: int | None, at: int = 0) -> None:
        """Kill `pid` after the `at`-th request from now (None: only count)."""
        with self._lock:
            self.count, self.endpoints, self._pid, self._at, self.killed_after = (
                0,
                [],
                pid,
                at,
                None,
            )

    def remove(self) -> None:
        for app in self._apps.values():
            del app.traffic.record  # back to the class's method
