"""The report as one self-contained HTML page: inline CSS, no script, nothing fetched.

Every value from the systems is escaped (html.escape, quotes too) and a Content-Security-Policy
forbids scripts and any network access, so a ticket named `<script>...` shows as text and a
page opened from a mail attachment stays offline.

Heat map colours: ColorBrewer's YlOrBr, a sequential palette that stays distinguishable with
the common colour-vision deficiencies and in greyscale; each cell also says its grade in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from report.tables import GRADE_NAMES, Cell, Table

# none, low, medium, high: background, text
PALETTE = (
    ("#ffffd4", "#000000"),
    ("#fed98e", "#000000"),
    ("#fe9929", "#000000"),
    ("#993404", "#ffffff"),
)

_CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px;
  color: #1a1a1a; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 6px;
  border-bottom: 2px solid #ddd; } h3 { font-size: 15px; margin: 18px 0 4px; }
.meta, .note { color: #555; font-size: 13px; margin: 2px 0 8px; }
.headline { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.figure b { display: block; font-size: 20px; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.graded .grade { display: block; font-size: 11px; text-transform: uppercase;
  letter-spacing: .04em; opacity: .85; }
.legend span { display: inline-block; padding: 2px 10px; margin-right: 6px;
  border: 1px solid #aaa; }
tr.executive td { font-weight: 600; } tr.executive td:first-child { border-left: 4px solid #1a1a1a; }
.more { color: #555; font-style: italic; }
nav a { margin-right: 12px; }
"""


def grade_css() -> str:
    return "".join(
        f"td.g{i} {{ background: {bg}; color: {fg}; }}\n" for i, (bg, fg) in enumerate(PALETTE)
    )


def _cell_text(value: Cell) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return str(value)


def render_table(table: Table) -> str:
    shown = table.rows if table.html_limit is None else table.rows[: table.html_limit]
    parts = [f'<table id="{escape(table.key)}" data-rows="{len(table.rows)}">', "<thead><tr>"]
    parts += [f"<th>{escape(column)}</th>" for column in table.columns]
    parts.append("</tr></thead><tbody>")
    for index, row in enumerate(shown):
        # The heat map's executive-attention rows stand out in bold as well as by their "yes".
        executive = bool(table.graded_columns) and row[0] == "yes"
        parts.append('<tr class="executive">' if executive else "<tr>")
        for column, value in zip(table.columns, row, strict=True):
            parts.append(_td(table, index, column, value))
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if len(shown) < len(table.rows):
        parts.append(
            f'<p class="more">{len(shown)} of {len(table.rows)} rows shown; '
            f"{escape(table.key)}.csv and .json hold them all.</p>"
        )
    if not table.rows:
        parts.append('<p class="more">None.</p>')
    return "".join(parts)


def _td(table: Table, index: int, column: str, value: Cell) -> str:
    text = escape(_cell_text(value), quote=True)
    numeric = isinstance(value, int | float)
    grade = table.grade_of(index, column)
    if grade is None:
        return f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>"
    name = GRADE_NAMES[grade]
    return (
        f'<td class="graded g{grade}{" num" if numeric else ""}" data-grade="{name}" '
        f'title="{escape(column)}: {name} risk">{text}<span class="grade">{name}</span></td>'
    )


def legend() -> str:
    cells = "".join(
        f'<span style="background:{bg};color:{fg}">{name}</span>'
        for name, (bg, fg) in zip(GRADE_NAMES, PALETTE, strict=True)
    )
    return f'<p class="legend">Risk grade: {cells}</p>'


def render_page(
    title: str,
    meta: str,
    headline: Sequence[tuple[str, str]],
    sections: Sequence[tuple[str, str, Sequence[Table]]],
) -> str:
    """title, a line of metadata, headline figures (label, value), then (id, heading, tables)."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}{grade_css()}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(meta)}</p>',
        '<div class="headline">',
    ]
    out += [
        f'<div class="figure">{escape(label)}<b>{escape(value)}</b></div>'
        for label, value in headline
    ]
    out.append("</div><nav>")
    out += [
        f'<a href="#{escape(key)}-section">{escape(heading)}</a>' for key, heading, _ in sections
    ]
    out.append("</nav>")
    for key, heading, tables in sections:
        out.append(f'<section id="{escape(key)}-section"><h2>{escape(heading)}</h2>')
        for table in tables:
            out.append(f"<h3>{escape(table.title)}</h3>")
            if table.note:
                out.append(f'<p class="note">{escape(table.note)}</p>')
            if table.graded_columns:
                out.append(legend())
            out.append(render_table(table))
        out.append("</section>")
    out.append("</body></html>\n")
    return "\n".join(out)
