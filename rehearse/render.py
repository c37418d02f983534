"""A replay comparison as text (a terminal), HTML (the report's page) or JSON (scripts)."""

from __future__ import annotations

import json
from typing import Any

from rehearse.compare import Comparison, when
from report.export import table_json
from report.page import render_page
from report.tables import Cell, Table

TEXT_ROWS = 25  # rows per table in text; HTML shows 200, JSON every row


def _headline(comparison: Comparison) -> list[tuple[str, str]]:
    counts = next(t for t in comparison.tables if t.key == "notification_counts")
    differences = next(t for t in comparison.tables if t.key == "differences")
    raised = {row[0]: row[1:] for row in counts.rows}["level_raised"]
    return [
        ("tickets replayed", f"{comparison.tickets:,}"),
        ("differences", f"{len(differences.rows):,}"),
        ("levels raised", f"{raised[0]} -> {raised[1]}"),
        ("evaluations", f"{sum(comparison.evaluations.values()):,}"),
    ]


def _meta(comparison: Comparison) -> str:
    return (
        f"{when(comparison.start)} to {when(comparison.end)} UTC, every {comparison.step}; "
        "current matrix -> draft matrix"
    )


def as_html(comparison: Comparison) -> str:
    sections = [
        ("differences", "Differences", comparison.tables[:1]),
        ("outcomes", "Outcomes", comparison.tables[1:4]),
        ("notifications", "Notifications", comparison.tables[4:]),
    ]
    return render_page(
        "Replay: current vs draft matrix", _meta(comparison), _headline(comparison), sections
    )


def as_json(comparison: Comparison) -> str:
    body: dict[str, Any] = {
        "from": when(comparison.start),
        "to": when(comparison.end),
        "step": comparison.step,
        "tickets": comparison.tickets,
        "evaluations": comparison.evaluations,
        "tables": {table.key: table_json(table) for table in comparison.tables},
    }
    return json.dumps(body, ensure_ascii=False, indent=1) + "\n"


def _text_cell(value: Cell) -> str:
    return "-" if value is None else str(value)


def text_table(table: Table, limit: int | None = TEXT_ROWS) -> list[str]:
    """A table as aligned columns, at most `limit` rows."""
    shown = table.rows if limit is None else table.rows[:limit]
    cells = [list(table.columns)] + [[_text_cell(v) for v in row] for row in shown]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    if not table.rows:
        lines.append("(none)")
    elif len(shown) < len(table.rows):
        lines.append(f"... {len(table.rows) - len(shown)} more rows (--format html or json)")
    return lines


def as_text(comparison: Comparison) -> str:
    lines = ["Replay: current vs draft matrix", _meta(comparison)]
    lines.append(", ".join(f"{label}: {value}" for label, value in _headline(comparison)))
    for table in comparison.tables:
        lines += ["", f"== {table.title}"]
        if table.note:
            lines.append(table.note)
        lines += text_table(table)
    return "\n".join(lines) + "\n"


RENDERERS = {
    "text": (as_text, "replay.txt"),
    "html": (as_html, "replay.html"),
    "json": (as_json, "replay.json"),
}
