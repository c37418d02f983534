"""`make demo`: the sandbox with generated data, a real sync against it, and what it wrote.

1. generate a data set into demo-data/ of an org without our fields (later runs reuse it for
   a day: its times are relative to when it was made, so an older one shows every open ticket
   as neglected),
2. start the three APIs on 127.0.0.1 over TLS (in this process, on threads),
3. `doctor` lists what is missing, `provision --apply` creates it and writes the new field ids
   into the mapping, `doctor` again: all ok,
4. run `run_sync.py sync` as a separate process, exactly as cron would,
5. read the escalated tickets back from the sandbox's Zendesk with zenpy and show them, and
   the account matrix's levels with one account escalated without an open ticket (its
   Salesforce fields and task, its Zendesk organisation's tag),
6. show the Slack messages and e-mails the first run sent (the sandbox's Slack and SMTP
   server received them; notifications.yaml in the demo config routes them),
7. run sync again: it writes nothing and sends nothing,
8. summarise the audit log,
9. write the escalation report (HTML, CSV, JSON) and print its path.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sandbox import catalogue
from sandbox.runner import Sandbox
from sandbox.sandbox_config import ENVIRONMENT, high_volume_pacing, write_sandbox_config

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo-data"
DATA = DEMO / "data"
# About one ticket per account a month (the bigger customers several): with many more, the
# example matrix's "6 tickets in 30 days" rule escalates most tickets of the bigger customers.
SIZES = {"accounts": 1000, "tickets": 3000, "jira_issues": 300, "seed": 7}


def _generator_fingerprint() -> str:
    """A hash of the code that makes the data set: data made by another version (a field the
    mapping now reads, say) is made again rather than served stale."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for source in sorted([*here.glob("generate*.py"), here / "catalogue.py", here / "bare_org.py"]):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


# The stamp: the sizes, a bare org (an older data set had our fields) and the generator's code.
MADE_WITH = {**SIZES, "bare_org": True, "generator": _generator_fingerprint()}
ESCALATED_FROM = "action-needed"  # the levels from here up ask someone to act
STAMP = DATA / "demo-sizes.json"  # the sizes the data set was made with
MAX_DATA_AGE_SECONDS = 86_400


def _why_generate() -> str | None:
    """Why the data set must be made (again), or None to reuse it."""
    zendesk = DATA / "zendesk.json"
    if not zendesk.exists():
        return "no data set yet"
    if time.time() - zendesk.stat().st_mtime > MAX_DATA_AGE_SECONDS:
        return "the data set is over a day old"
    try:
        made_with = json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        made_with = None
    if made_with != MADE_WITH:
        return "the data set was made with other sizes or an older generator"
    return None


def _generate() -> None:
    reason = _why_generate()
    if reason is None:
        return
    print(f"generating demo data ({reason})", flush=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_sync.py"),
            "sandbox",
            "generate",
            "--out",
            str(DATA),
            "--accounts",
            str(SIZES["accounts"]),
            "--tickets",
            str(SIZES["tickets"]),
            "--jira-issues",
            str(SIZES["jira_issues"]),
            "--seed",
            str(SIZES["seed"]),
            "--bare-org",
        ],
        check=True,
    )
    STAMP.write_text(json.dumps(MADE_WITH), encoding="utf-8")


def _command(config: Path, label: str, command: str, *extra: str) -> int:
    shown = " ".join((command, "--config", str(config.relative_to(ROOT)), *extra))
    print(f"\n$ run_sync.py {shown}   # {label}", flush=True)
    env = {**os.environ, **ENVIRONMENT}
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_sync.py"), command, "--config", str(config), *extra],
        env=env,
    )
    return done.returncode


def _sync(config: Path, label: str) -> int:
    return _command(config, label, "sync")


def _set_up(config: Path) -> bool:
    """doctor (problems), provision --apply, doctor (all ok): True when the org is ready."""
    _command(config, "a new org: our fields are missing", "doctor")
    applied = _command(config, "create them; the new ids go into mapping.yaml", "provision", "--apply")  # fmt: skip
    checked = _command(config, "all ok now", "doctor")
    return applied == 0 and checked == 0


def _escalated_table(sandbox: Sandbox, state: Path, config: Path) -> None:
    """Read back, through zenpy's show_many, every ticket the sync wrote to."""
    from zenpy import Zenpy

    from config.loader import load_config
    from connectors.transport import make_session
    from sync.state import StateStore

    # provision chose the field ids: read them from the mapping it wrote them into
    write = load_config(config).mapping.zendesk.write
    level_id, owner_id, due_id, reason_id = (
        int(write.level.field), int(write.owner.field), int(write.sla_next_due.field), int(write.reason.field)
    )  # fmt: skip
    store = StateStore(state)
    ids = sorted(int(record_id) for system, record_id in store.written() if system == "zendesk")
    levels = [
        prior["level"] for ref, prior in store.prior_states().items() if ref.startswith("zendesk:")
    ]
    store.close()
    # The connectors' session: it keeps the sandbox CA even where REQUESTS_CA_BUNDLE is set.
    session, _ = make_session("zendesk", str(sandbox.ca_path))
    subdomain, domain = sandbox.urls["zendesk"].removeprefix("https://").split(".", 1)
    zendesk = Zenpy(
        subdomain=subdomain,
        domain=domain,
        email=catalogue.ZENDESK_EMAIL,
        token=catalogue.ZENDESK_API_TOKEN,
        session=session,
    )
    rank = {level: i for i, level in enumerate(catalogue.LEVELS)}
    escalated = sum(1 for level in levels if rank.get(level, 0) >= rank[ESCALATED_FROM])
    print(
        f"\nLevels of the {len(levels)} open Zendesk tickets: "
        + ", ".join(f"{level} {levels.count(level)}" for level in catalogue.LEVELS)
    )
    print(
        f"Escalated ({ESCALATED_FROM} or higher): {escalated} ({escalated / max(1, len(levels)):.0%})"
    )
    rows = []
    for start in range(0, len(ids), 100):
        for ticket in zendesk.tickets(ids=ids[start : start + 100]):
            fields = {f["id"]: f["value"] for f in ticket.custom_fields}
            level = (fields.get(level_id) or "").removeprefix("esc_level_").replace("_", "-")
            rows.append(
                (
                    rank.get(level, 0),
                    ticket.id,
                    level,
                    fields.get(owner_id),
                    fields.get(due_id),
                    fields.get(reason_id) or "",
                )
            )
    rows.sort(key=lambda row: (-row[0], row[1]))
    print(
        f"\nTickets the sync wrote to, read back from the sandbox's Zendesk ({len(rows)}; the 20 highest):"
    )
    for line in escalated_rows_table([row[1:] for row in rows[:20]]):
        print(line)


def _accounts_shown(sandbox: Sandbox, state: Path) -> None:
    """The account matrix's first run: accounts by level, and one escalated account with no
    open Zendesk ticket, read back from the sandbox: its fields, its task, its organisation."""
    from sync.accounts_store import AccountStore
    from sync.state import StateStore

    store = StateStore(state)
    try:
        states = AccountStore(store).states()
        # The accounts of open tickets (Zendesk and Jira), as the run joined them.
        with_ticket = {
            row[0]
            for row in store.db.execute(
                "SELECT DISTINCT account_id FROM ticket_history WHERE is_open = 1"
            )
        }
        written = store.audit_entries(kind="write")
    finally:
        store.close()
    levels = Counter(s["level"] for s in states.values())
    print(
        f"\nAccount levels of the {len(states)} accounts (the account matrix): "
        + ", ".join(f"{level} {levels[level]}" for level in catalogue.ACCOUNT_LEVELS)
    )
    tasks = {t["WhatId"]: t for t in sandbox.salesforce.records("Task")}
    rank = {level: i for i, level in enumerate(catalogue.ACCOUNT_LEVELS)}
    quiet = sorted(
        (a for a, s in states.items() if a not in with_ticket and a in tasks),
        key=lambda a: (-rank.get(states[a]["level"], 0), a),
    )
    if not quiet or rank.get(states[quiet[0]]["level"], 0) < rank["at-risk"]:
        print("  (no account at-risk or higher without an open ticket this time)")
        return
    shown = quiet[0]
    account = sandbox.salesforce.get_record("Account", shown) or {}
    task = tasks[shown]
    print(f"An account escalated with no open ticket: {account.get('Name')} ({shown})")
    print(
        f"  Salesforce account: level {account.get('Account_Escalation_Level__c')}, owner "
        f"{account.get('Account_Escalation_Owner__c')}, next outreach due "
        f"{account.get('Next_Outreach_Due__c')}"
    )
    print(
        f"  task: {_shortened(task.get('Subject') or '', 100)} ({task.get('Status')}, "
        f"{task.get('Priority')}, due {task.get('ActivityDate')})"
    )
    for entry in written:
        detail = entry["detail"]
        if detail.get("ticket") == f"account:{shown}" and entry["ref"].startswith(
            "zendesk.organization:"
        ):
            org_id = int(entry["ref"].split(":", 1)[1])
            org = sandbox.zendesk.store.organizations.get(org_id) or {}
            tags = [t for t in org.get("tags") or [] if t.startswith("account_")]
            print(f"  Zendesk organisation {org_id}: tag {', '.join(tags) or '-'}")


def escalated_rows_table(rows: list[tuple]) -> list[str]:
    """The heading and one line per (ticket id, level, owner, SLA due, reason).

    Columns are as wide as their widest value, so an owner (an address or a queue name) is
    shown whole; only the reasons, the last column, are shortened to keep a line readable.
    """
    cells = [
        (str(ticket_id), level, owner or "-", due or "-", _shortened(reason, 70))
        for ticket_id, level, owner, due, reason in rows
    ]
    heading = ("ticket", "level", "owner", "SLA next due", "reasons")
    widths = [max(len(row[i]) for row in [heading, *cells]) for i in range(4)]
    lines = []
    for ticket_id, level, owner, due, reason in [heading, *cells]:
        lines.append(
            f"{ticket_id:>{widths[0]}}  {level:<{widths[1]}}  {owner:<{widths[2]}}  "
            f"{due:<{widths[3]}}  {reason}".rstrip()
        )
    return lines


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Who hears of what in the demo: the owners by e-mail from advisory up, the escalation
# channel on Slack (Block Kit, links to the ticket and the account) for the top level; urgent
# matters to instant messaging, accountability to e-mail. Slack takes one message a second
# per channel: the run waits for that (notify/deliver.py).
DEMO_QUEUES = {
    "escalation-engineering": {"email": "esc-eng@acme.example"},
    "support-duty-manager": {"email": "duty@acme.example"},
    "support-tier2": {"email": "tier2@acme.example"},
    "escalations-emea": {"email": "esc-emea@acme.example"},
    "tam-strategic": {"email": "tam@acme.example"},
    "cs-team": {"email": "cs-team@acme.example"},
    "cs-managers": {"email": "cs-managers@acme.example"},
    "security-oncall": {"email": "security@acme.example"},
}
DEMO_RULES: list[dict[str, Any]] = [
    {
        "events": ["level_raised", "owner_changed", "resolved"],
        "levels": ["advisory", "action-needed", "executive-review"],
        "to": ["owner", "backup"],
        "channels": ["email"],
    },
    {
        "events": ["level_raised"],
        "levels": ["executive-review"],
        "to": ["#escalations"],
        "channels": ["slack"],
    },
]


def demo_notifications(channels: dict[str, Any]) -> str:
    """notifications.yaml for the demo: the sandbox's Slack and SMTP (`channels`: the
    ChannelSandbox's settings()), the queues' addresses and the rules above. Quiet hours are
    off so the demo shows what a run sends whatever the hour it is run at."""
    wanted = {name: c for name, c in channels["channels"].items() if name in ("slack", "email")}
    section = {
        "channels": wanted,
        "recipients": DEMO_QUEUES,
        "rules": DEMO_RULES,
        "quiet_hours": {"enabled": False},
        "max_per_ticket_per_hour": 6,
    }
    return yaml.safe_dump({"notifications": section}, sort_keys=False)


def sent_lines(
    slack: Sequence[tuple[str, str]], mails: Sequence[tuple[str, str]], shown: int = 3
) -> list[str]:
    """What the channels received: counts, then the first lines of a few of each.

    `slack`: (channel, text) per message; `mails`: (recipient, subject) per e-mail."""
    lines = [f"Slack: {len(slack)} messages; e-mail: {len(mails)} messages"]
    where = Counter(channel for channel, _ in slack)
    if where:
        lines.append("  Slack by channel: " + ", ".join(f"{c} {n}" for c, n in where.most_common()))
    for channel, text in slack[:shown]:
        lines.append(f"  slack {channel}: {_shortened(text.splitlines()[0] if text else '', 90)}")
    for to, subject in mails[:shown]:
        lines.append(f"  mail to {to}: {_shortened(subject, 90)}")
    return lines


def _received(sandbox: Sandbox) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    channels = sandbox.channels
    names = {
        c.id: f"#{c.name}" if c.name else "DM"
        for c in channels.slack.workspace.conversations.values()
    }
    slack = [(names.get(p.channel, p.channel), p.text) for p in channels.slack.messages]
    mails = [(", ".join(m.rcpt_tos), str(m.message["Subject"])) for m in channels.smtp.received]
    return slack, mails


def _audit_summary(state: Path) -> None:
    from sync.state import StateStore

    store = StateStore(state)
    try:
        print(
            "\nAudit log:",
            ", ".join(f"{kind} {n}" for kind, n in sorted(store.audit_summary().items())),
        )
        for run in store.runs():
            print(run_line(run))
    finally:
        store.close()


def run_line(run: dict) -> str:
    """One run of the audit summary; a run that stopped before its end has no summary."""
    name = f"run {run['number']}" if run["number"] else "dry run"
    summary = run["summary"]
    if summary is None:
        return f"  {name}: stopped before its end (no summary)"
    return (
        f"  {name}: exit {run['exit_code']}, planned {summary['planned_writes']}, "
        f"results {summary['results']}"
    )


def main() -> int:
    _generate()
    with Sandbox(data_dir=DATA, work_dir=DEMO / "tls", channels=True) as sandbox:
        os.environ.update(sandbox.channels.environ())  # the channels' secrets, for the syncs
        # The demo's Zendesk has the High Volume API add-on (30 exports a minute, its config
        # paced to the same): doctor and two syncs within a minute need some 13 exports, and at
        # the default 10 the first sync would sit out a 429 for most of a minute.
        sandbox.zendesk.add_high_volume_api()
        config = write_sandbox_config(
            DEMO / "config",
            sandbox.urls,
            sandbox.ca_path,
            extra="sync:\n" + high_volume_pacing(),
            notifications=demo_notifications(sandbox.channels.settings()),
            account_writes=True,  # the account matrix writes accounts, tasks, organisations
        )
        state = DEMO / "config" / "state" / "escalation-sync.sqlite"
        for leftover in state.parent.glob("escalation-sync.sqlite*"):
            leftover.unlink()  # each demo starts from a first run against fresh data
        print("sandbox:", ", ".join(f"{name} {url}" for name, url in sandbox.urls.items()))
        print("  (Zendesk with the High Volume API add-on: 2500 requests, 30 exports a minute)")
        ready = _set_up(config)
        first = _sync(config, "first run: backfill and write")
        _escalated_table(sandbox, state, config)
        _accounts_shown(sandbox, state)
        slack, mails = _received(sandbox)
        print(
            "\nNotifications the first run sent, as the sandbox's Slack and SMTP server got them:"
        )
        for line in sent_lines(slack, mails):
            print(line)
        second = _sync(config, "second run: nothing changed, so nothing is written or sent")
        again_slack, again_mails = _received(sandbox)
        print(
            f"\nNotifications the second run sent: Slack {len(again_slack) - len(slack)}, "
            f"e-mail {len(again_mails) - len(mails)}"
        )
        _audit_summary(state)
    report = _report(config)
    ok = ready and first in (0, 1) and second in (0, 1) and report == 0
    return 0 if ok else 1


def _report(config: Path) -> int:
    """The escalation report of the demo's state, from the state file alone (the sandbox is
    stopped by now: the report calls no system). It prints the page's path."""
    out = DEMO / "report"
    print(
        f"\n$ run_sync.py report --config {config.relative_to(ROOT)} --out {out.relative_to(ROOT)}"
    )
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_sync.py"),
            "report",
            "--config",
            str(config),
            "--out",
            str(out),
        ]
    )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
