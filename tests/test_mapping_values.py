"""Source paths and value coercion: the small pieces normalisation is built from."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.paths import resolve
from vocabulary.paths import parse_source_path
from vocabulary.values import (
    MAX_TEXT_LENGTH,
    ValueProblem,
    clean_text,
    to_date,
    to_datetime,
    to_domain,
    to_int,
    to_list,
    to_status,
    to_time_zone,
    translation_key,
)

ISSUE = {
    "key": "SUP-1",
    "fields": {
        "customfield_10020": {"value": "Sev-1"},
        "issuelinks": [
            {"outwardIssue": {"key": "ENG-2"}},
            {"inwardIssue": {"key": "SUP-3"}},
            {"outwardIssue": {"key": "ENG-4"}},
        ],
        "components": [{"name": "api"}, {"name": "web"}],
    },
    "custom_fields": [{"id": 360001, "value": "gold"}, {"id": 360002, "value": None}],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("key", "SUP-1"),
        ("fields.customfield_10020.value", "Sev-1"),
        ("custom_fields[360001]", "gold"),
        ("custom_fields[360002]", None),
        ("custom_fields[999]", None),
        ("fields.issuelinks[*].outwardIssue.key", ["ENG-2", "ENG-4"]),
        ("fields.components[*].name", ["api", "web"]),
        ("fields.missing.deeper", None),
        ("key.deeper", None),  # a string has no keys
        ("fields.customfield_10020[1]", None),  # not a list
    ],
)
def test_resolve_follows_keys_ids_and_lists(path: str, expected: object) -> None:
    assert resolve(ISSUE, parse_source_path(path)) == expected


def test_resolve_looks_up_related_records_through_their_id() -> None:
    ticket = {"organization_id": 7, "requester_id": 9}
    related = {
        "organization": {"7": {"external_id": "001A"}},
        "requester": {"9": {"email": "a@b.c"}},
    }
    assert resolve(ticket, parse_source_path("organization.external_id"), related) == "001A"
    assert resolve(ticket, parse_source_path("requester.email"), related) == "a@b.c"
    assert resolve(ticket, parse_source_path("assignee.email"), related) is None


@pytest.mark.parametrize("bad", ["", "a..b", "a[", "a]b", "fields.[1]", "a[1]b"])
def test_bad_path_syntax_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_source_path(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-29T01:30:00Z", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("2026-03-29T03:30:00.000+0200", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # Jira style
        ("2026-03-29 01:30:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # naive -> UTC
        (1774747800, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # epoch seconds
        (1774747800000, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # epoch milliseconds
        (date(2026, 3, 29), datetime(2026, 3, 29, tzinfo=UTC)),
    ],
)
def test_datetimes_become_utc(raw: object, expected: datetime) -> None:
    assert to_datetime(raw) == expected


@pytest.mark.parametrize(
    "raw", ["yesterday", "2026-02-30T10:00:00Z", "", True, float("nan"), {"a": 1}, 10**30]
)
def test_unparsable_datetimes_raise_value_problem(raw: object) -> None:
    with pytest.raises(ValueProblem, match="expected a date and time"):
        to_datetime(raw)


def test_dates_read_as_their_utc_day_and_integers_only_from_whole_numbers() -> None:
    assert to_date("2026-09-30") == date(2026, 9, 30)
    assert to_date("2026-09-30T23:30:00-05:00") == date(2026, 10, 1)  # the UTC day
    with pytest.raises(ValueProblem):
        to_date("30/09/2026")
    assert to_int(" 2 ") == 2 and to_int(3.0) == 3
    for bad in ("Sev-1", 2.5, True):
        with pytest.raises(ValueProblem):
            to_int(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.com/en/", "acme.com"),
        ("ops@Support.Acme.com", "support.acme.com"),
        ("acme.co.uk.", "acme.co.uk"),
        ("http://acme.com:8080/x?y", "acme.com"),
    ],
)
def test_domains_are_bare_lower_case_host_names(raw: str, expected: str) -> None:
    assert to_domain(raw) == expected


@pytest.mark.parametrize("bad", ["localhost", "not a site", "@", "a..b"])
def test_non_domains_raise_value_problem(bad: str) -> None:
    with pytest.raises(ValueProblem):
        to_domain(bad)


def test_lists_statuses_zones_and_translation_keys() -> None:
    assert to_list("SUP-1, ENG-7;OPS-2\nX") == ["SUP-1", "ENG-7", "OPS-2", "X"]
    assert to_list(["a b", None, "", 3]) == ["a b", "3"]
    assert to_status(" On_Hold ").value == "on_hold"
    with pytest.raises(ValueProblem, match="expected one of new, open"):
        to_status("hold")
    with pytest.raises(ValueProblem):
        to_time_zone("CEST")
    assert (
        translation_key(" Sev-1 ") == "sev-1"
        and translation_key(1.0) == "1"
        and translation_key(True) == "true"
    )


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_clean_text_is_bounded_and_free_of_control_characters(raw: str) -> None:
    text = clean_text(raw)
    assert len(text) <= MAX_TEXT_LENGTH
    assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.booleans()))
def test_datetime_parsing_fails_only_with_value_problem(raw: object) -> None:
    try:
        parsed = to_datetime(raw)
    except ValueProblem:
        return
    assert parsed.tzinfo is UTC
