"""CSV and JSON of every report table, safe to open in a spreadsheet.

A text cell starting with =, +, -, @ (or a tab or carriage return) would be read as a formula
by Excel, LibreOffice and Google Sheets (CSV injection): it is written with a leading
apostrophe, which those programs show as text. JSON keeps values as they are (it is not
evaluated by anything).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from report.tables import Cell, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Cell) -> Cell:
    """A cell as a spreadsheet may safely read it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(table: Table, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise(column) for column in table.export_columns()])
        for row in table.export_rows():
            writer.writerow([neutralise(value) for value in row])


def table_json(table: Table) -> dict[str, Any]:
    columns = table.export_columns()
    return {
        "key": table.key,
        "title": table.title,
        "note": table.note,
        "columns": list(columns),
        "rows": [dict(zip(columns, row, strict=True)) for row in table.export_rows()],
    }


def write_json(table: Table, path: Path, meta: dict[str, Any]) -> None:
    path.write_text(
        json.dumps({**meta, **table_json(table)}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
