"""What `make demo` prints: the table of escalated tickets read back from the sandbox."""

from __future__ import annotations

from sandbox.demo import escalated_rows_table

LONG_OWNER = "vp.customer-success@acme.example"  # a routing primary of the example matrix


def test_demo_table_shows_long_owners_whole_and_keeps_columns_aligned():
    rows = [
        (1042, "executive-review", LONG_OWNER, "2026-11-23 14:00 UTC", "Renewal at risk"),
        (7, "advisory", None, None, ""),
    ]
    lines = escalated_rows_table(rows)
    assert LONG_OWNER in lines[1]
    header, first, second = lines
    # Every column starts where its heading does, whatever the width of the values.
    for heading in ("level", "owner", "SLA next due", "reasons"):
        at = header.index(heading)
        assert first[at - 1] == " " and first[at] != " ", heading
    assert second.split() == ["7", "advisory", "-", "-"]
    assert first.index("Renewal at risk") == header.index("reasons")
