"""sync.formats.renderer(write) is render(write, value) as one function of the value (the
account matrix renders 20k accounts' fields with it): the same result for every format."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from config.write_mapping import WriteField
from sync.formats import render, renderer

VALUES: list[Any] = [
    None,
    "",
    "at-risk",
    'Zürich – ünïcode ✓ and a "quote"',
    "x" * 300,
    12,
    900000.5,
    True,
    date(2026, 5, 18),
    datetime(2026, 5, 18, 9, 30, 15, tzinfo=UTC),
    "2026-05-18T09:30:15Z",
]
WRITES = [
    WriteField(field="f", format="text"),
    WriteField(field="f", format="text", max_length=10),
    WriteField(field="f", format="date"),
    WriteField(field="f", format="datetime"),
    WriteField(field="f", format="datetime_text"),
    WriteField(field="f", format="number"),
    WriteField(field="f", format="dropdown", options={"at-risk": "At risk", "12": "twelve"}),
]


@pytest.mark.parametrize("write", WRITES, ids=lambda w: f"{w.format}-{w.max_length}")
def test_a_renderer_renders_as_render_does(write: WriteField) -> None:
    render_value = renderer(write)
    for value in VALUES:
        try:
            expected = render(write, value)
        except (TypeError, ValueError) as error:
            with pytest.raises(type(error)):
                render_value(value)
            continue
        found = render_value(value)
        assert found == expected and type(found) is type(expected), (write.format, value)
