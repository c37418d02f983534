"""A report table: what the HTML shows, and what the CSV and JSON files hold, the same rows.

Cells are plain values (text, numbers, None). A heat map also grades some columns: each of
their cells gets a risk grade 0-3, shown in the HTML as a colour and as a word, and written to
the files as a `<column> risk` column, so no reader depends on colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Cell = str | int | float | None

GRADE_NAMES = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class Table:
    key: str  # file name stem: open_escalations -> open_escalations.csv
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    note: str = ""  # one sentence on how to read it
    graded_columns: tuple[str, ...] = ()
    grades: list[tuple[int, ...]] = field(default_factory=list)  # per row, per graded column
    html_limit: int | None = None  # rows shown in the HTML; the files always hold every row

    def export_columns(self) -> tuple[str, ...]:
        return self.columns + tuple(f"{name} risk" for name in self.graded_columns)

    def export_rows(self) -> list[tuple[Cell, ...]]:
        if not self.graded_columns:
            return self.rows
        return [
            row + tuple(GRADE_NAMES[grade] for grade in grades)
            for row, grades in zip(self.rows, self.grades, strict=True)
        ]

    def grade_of(self, row_index: int, column: str) -> int | None:
        """The grade of one cell, None for a column that is not graded."""
        if column not in self.graded_columns:
            return None
        return self.grades[row_index][self.graded_columns.index(column)]
