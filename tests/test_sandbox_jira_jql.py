"""The sandbox's JQL tokenizer, parser and date reading, without HTTP."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from sandbox.jira.jql import And, Clause, JqlError, Not, Or, SortKey, Value, parse, tokenize
from sandbox.jira.search import parse_date


def test_connector_shaped_query_parses_into_a_tree():
    query = parse(
        'project in (ENG, "OPS") AND updated >= "2026/11/20 10:15" ORDER BY updated ASC, key ASC'
    )
    assert query.order_by == (SortKey("updated", False), SortKey("key", False))
    assert isinstance(query.where, And)
    projects, updated = query.where.parts
    assert projects == Clause(
        "project", "in", (Value("ENG", False, 13), Value("OPS", True, 18)), True, 1
    )
    assert updated.operator == ">=" and updated.values[0].text == "2026/11/20 10:15"


def test_and_binds_tighter_than_or_and_parentheses_group():
    query = parse("project = A OR project = B AND statusCategory != Done")
    assert isinstance(query.where, Or) and isinstance(query.where.parts[1], And)
    grouped = parse("(project = A OR project = B) AND NOT statusCategory = Done")
    assert isinstance(grouped.where, And)
    assert isinstance(grouped.where.parts[0], Or) and isinstance(grouped.where.parts[1], Not)


def test_symbolic_operators_and_keywords_are_case_insensitive():
    query = parse("project = A && key not in (A-1) || statusCategory = done order by KEY desc")
    assert isinstance(query.where, Or)
    assert query.where.parts[0].parts[1].operator == "not in"
    assert query.order_by == (SortKey("KEY", True),)


def test_escapes_in_quoted_strings_are_decoded():
    (token, _) = tokenize(r'"a\"b\\c\u0041\ d\n"')
    assert token.text == 'a"b\\cA d\n'
    assert tokenize("'it\\'s'")[0].text == "it's"


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = A AND (key = A-1", "Error in the JQL Query: Expecting ')' before the end of the query."),
        ("project = A foo", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'. (line 1, character 13)"),
        ("project A", "Error in the JQL Query: Expecting operator but got 'A'. The valid operators are '=', '!=', '<', '>', "
                      "'<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)"),
        ("project = ", "Error in the JQL Query: Expecting either a value, list or function before the end of the query."),
        ("project = a/b", "Error in the JQL Query: The character '/' is a reserved JQL character. You must enclose it "
                          "in a string or use the escape '\\u002f' instead. (line 1, character 12)"),
        ('project = "open', "Error in the JQL Query: The quoted string 'open' has not been completed. (line 1, character 11)"),
        ('project = "a\\qb"', "Error in the JQL Query: '\\q' is an illegal JQL escape sequence. The valid escape "
                              "sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX. (line 1, character 13)"),
        ("updated >= now()", "Unable to find JQL function 'now()'."),
        ("project = AND", "Error in the JQL Query: Expecting either a value, list or function but got 'AND'. You must "
                          "surround 'AND' in quotation marks to use it as a value. (line 1, character 11)"),
        ("ORDER updated", "Error in the JQL Query: Expecting 'by' but got 'updated'. (line 1, character 7)"),
    ],
)  # fmt: skip
def test_syntax_errors_use_jiras_wording(jql, message):
    with pytest.raises(JqlError) as caught:
        parse(jql)
    assert caught.value.messages == [message]


def test_empty_query_and_order_only_have_no_restriction():
    assert parse("").where is None
    assert parse("order by updated").where is None


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "quoted", "epoch_ms"),
    [
        ("2026/11/20 10:15", True, 1795166100000),  # 09:15 UTC
        ("2026-11-20 10:15", True, 1795166100000),
        ("2026/11/20", True, 1795129200000),  # local midnight
        ("2026-11-20", True, 1795129200000),
        ("1795166100123", False, 1795166100123),
        ("-5m", False, 1795166100000 - 300_000),
    ],
)
def test_dates_are_local_minutes_or_epoch_milliseconds(text, quoted, epoch_ms):
    assert parse_date(Value(text, quoted, 1), "updated", BERLIN, now_ms=1795166100000) == epoch_ms


def test_repeated_local_time_at_dst_end_reads_as_the_earlier_instant():
    # 2026-10-25 02:30 happens twice in Berlin; java.time (and Jira) take the first, CEST.
    assert parse_date(Value("2026/10/25 02:30", True, 1), "updated", BERLIN, 0) == 1792888200000


def test_bad_date_names_the_formats():
    with pytest.raises(ValueError, match="Date value '20/11/2026' for field 'updated' is invalid"):
        parse_date(Value("20/11/2026", True, 1), "updated", BERLIN, 0)
