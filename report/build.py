"""Build the report from the state store and write it: report.html plus a CSV and a JSON file
per table, into one folder. Each file is written whole, then renamed into place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from report.data import ReportData, load_report_data
from report.debriefs import debriefs
from report.derive import derive
from report.export import write_csv, write_json
from report.metrics import escalation_frequency, sla_metrics, weekly_trend
from report.now import bottlenecks, open_escalations, owner_accountability, unmatched_tickets
from report.page import render_page
from report.risk import arr_at_stake, heat_map, renewal_risk
from report.tables import Table
from sync.state import StateStore

HTML_NAME = "report.html"


@dataclass(frozen=True)
class Report:
    data: ReportData
    sections: list[tuple[str, str, list[Table]]]  # (id, heading, tables)
    headline: list[tuple[str, str]]
    renewal_days: int

    @property
    def tables(self) -> list[Table]:
        return [table for _, _, tables in self.sections for table in tables]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def build_report(
    store: StateStore,
    levels: tuple[str, ...],
    now: datetime,
    since_days: int,
    renewal_days: int,
    account_levels: tuple[str, ...] = (),
) -> Report:
    """Every table of the report at `now`, over the last `since_days` days; with the
    account matrix's levels (`account_levels`), the heat map shows each account's level."""
    data = load_report_data(store, levels, now, since_days, account_levels)
    derived = derive(data)
    heat = heat_map(data, derived, renewal_days)
    renewals = renewal_risk(data, derived, renewal_days)
    now_tables = [
        open_escalations(data, derived),
        owner_accountability(data, derived),
        bottlenecks(data, derived),
        unmatched_tickets(data, derived),
        debriefs(store),
    ]
    breached = sum(1 for t in derived.escalations if derived.state[t.ref].breached)
    executive = sum(1 for row in heat.rows if row[0] == "yes")
    headline = [
        ("open escalations", f"{len(derived.escalations):,}"),
        ("with a breached SLA", f"{breached:,}"),
        ("accounts needing executive attention", f"{executive:,}"),
        (f"ARR at stake (renewing in {renewal_days} days)", f"{arr_at_stake(renewals):,.0f}"),
        ("unmatched open tickets", f"{len(now_tables[3].rows):,}"),
    ]
    sections = [
        ("heat", "At-risk accounts", [heat]),
        ("now", "Now", now_tables),
        (
            "metrics",
            f"Metrics over the last {since_days} days",
            [
                sla_metrics(data),
                escalation_frequency(data),
                weekly_trend(data),
            ],
        ),
        ("renewal", "Renewal risk", [renewals]),
    ]
    return Report(data, sections, headline, renewal_days)


def write_report(report: Report, out: Path) -> Path:
    """report.html and <table>.csv / <table>.json in `out`; returns the HTML's path."""
    out.mkdir(parents=True, exist_ok=True)
    data = report.data
    meta = {"generated_at": data.now_text, "since": data.since_text}
    for table in report.tables:
        _atomically(out / f"{table.key}.csv", lambda p, t=table: write_csv(t, p))
        _atomically(out / f"{table.key}.json", lambda p, t=table: write_json(t, p, meta))
    page = render_page(
        "Escalation report",
        f"Generated {data.now_text[:16].replace('T', ' ')} UTC from the state store (last sync); "
        f"period from {data.since_text[:10]}. Tables as CSV and JSON next to this file.",
        report.headline,
        report.sections,
    )
    html_path = out / HTML_NAME
    _atomically(html_path, lambda p: p.write_text(page, encoding="utf-8"))
    return html_path


def _atomically(path: Path, write) -> None:
    partial = path.with_name(f".{path.name}.partial")
    write(partial)
    os.replace(partial, path)
