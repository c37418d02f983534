"""The state's JSON text and the payload hash are what json.dumps made before the store built
its encoders once (sync/state.py `_dumps`, sync/plan.py `payload_hash`, the account history's
`_observed_text` in sync/accounts_store.py): stored values, audit details and the hashes kept
beside rejected payloads must not change, or a state written by an earlier version would read
as different (a rejected payload sent again)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import FieldWrite, Option
from sync.accounts_store import _observed_text
from sync.plan import payload_hash
from sync.state import _dumps


class Rank(IntEnum):
    HIGH = 2


class Colour(StrEnum):
    RED = "red"


TRICKY: list[Any] = [
    "",
    "at-risk",
    '"',
    'Initech said "renew later"',
    "\\",
    "C:\\path\\with\\backslashes",
    "two\nlines\r\n",
    "tab\there",
    "\b\f",
    "".join(chr(c) for c in range(32)),  # every control character
    "\x7f delete",
    "\u2028 line separator \u2029",
    "Zürich – ünïcode ✓",
    "emoji 🚨",
    "\ud800 lone surrogate",
    "</script>",
    Option("P1 – urgent"),
    Colour.RED,
    0,
    -1,
    12,
    2**70,
    -(2**70),
    True,
    False,
    Rank.HIGH,
    None,
    0.0,
    -0.0,
    0.1,
    900000.5,
    1e100,
    1e-7,
    float("inf"),
    float("-inf"),
    float("nan"),
    Decimal("1.10"),
    datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
    date(2026, 3, 4),
    [],
    {},
    ["a", "b", 3, None, True],
    ("tuple", 1),
    {"b": 1, "a": {"d": [1, 2.5, "x\ny"], "c": None}, "é": "ü"},
    {2: "two", 1: "one"},
    {"nested": [{"z": '"', "y": "\\"}, [[["deep"]]]], "when": datetime(2026, 1, 1)},
]


def _stored(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_stored_text_is_exactly_json_dumps(value: Any) -> None:
    assert _dumps(value) == _stored(value)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_any_json_value_is_stored_as_json_dumps_writes_it(value: Any) -> None:
    assert _dumps(value) == _stored(value)


def _old_payload_hash(write: FieldWrite) -> str:
    body = json.dumps(
        [write.fields, sorted(write.tags_add), sorted(write.tags_remove), write.note is not None],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_payload_hash_is_unchanged(value: Any) -> None:
    write = FieldWrite(
        "zendesk",
        "ticket",
        "42",
        fields={"level": value, "custom_field_1": Option("Zürich")},
        tags_add=("esc_b", "esc_a"),
        tags_remove=("x",),
        note="a note",
    )
    assert payload_hash(write) == _old_payload_hash(write)


@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5), st.booleans())
def test_any_payload_hashes_as_before(fields: dict[str, Any], note: bool) -> None:
    write = FieldWrite("salesforce", "account", "001", fields=fields, note="n" if note else None)
    assert payload_hash(write) == _old_payload_hash(write)


@given(JSON_VALUES)
def test_an_observed_value_is_stored_as_json_dumps_writes_it(value: Any) -> None:
    assert _observed_text(value) == json.dumps(value)


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_an_odd_observed_value_is_stored_as_json_dumps_writes_it(value: Any) -> None:
    try:
        expected = json.dumps(value)
    except TypeError:  # not JSON (a date): refused the same way
        with pytest.raises(TypeError):
            _observed_text(value)
        return
    assert _observed_text(value) == expected
