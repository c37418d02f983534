"""The sandbox's SOQL parser and evaluator, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.salesforce.soql_engine import compile_query, format_error, project, run
from sandbox.salesforce.soql_lexer import SoqlError
from sandbox.salesforce.soql_parser import Comparison, InList, Junction, Not, parse

USER = {"Id": "005Sb0000000001AAA", "Name": "Ann", "Email": "ann@example.com"}


def account(record_id: str, name: str | None, stamp: str, **extra: object) -> dict:
    return {"Id": record_id, "Name": name, "SystemModstamp": stamp, "OwnerId": None, **extra}


ACCOUNTS = [
    account(
        "001Sb0000000001AAA",
        "alpha",
        "2026-11-20T10:15:30.100+0000",
        OwnerId=USER["Id"],
        Tier__c="growth",
    ),
    account("001Sb0000000002AAA", "Beta", "2026-11-20T10:15:30.900+0000", Tier__c="strategic"),
    account("001Sb0000000003AAA", None, "2026-11-20T10:15:31.000+0000", Tier__c=None),
    account(
        "001Sb0000000004AAA", "O'Brien \\ Co", "2026-11-20T10:14:00.000+0000", Tier__c="growth"
    ),
]


def resolve(object_name: str, record_id: str) -> dict | None:
    if object_name == "User" and record_id == USER["Id"]:
        return USER
    return next((a for a in ACCOUNTS if a["Id"] == record_id), None)


def ids_of(text: str) -> list[str]:
    compiled = compile_query(parse(text))
    return [record["Id"][-6:-3] for record in run(compiled, ACCOUNTS, resolve)]


def error_of(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        compile_query(parse(text))
    return caught.value


def test_parses_fields_relationships_where_order_and_limit():
    query = parse(
        "SELECT Id, Owner.Email FROM Account WHERE (Name = 'a' OR Name != null) AND NOT Tier__c IN ('x') "
        "AND Id NOT IN ('001Sb0000000001AAA') ORDER BY SystemModstamp DESC NULLS LAST, Id LIMIT 5 OFFSET 1"
    )
    assert [path.parts for path in query.fields] == [("Id",), ("Owner", "Email")]
    assert isinstance(query.where, Junction) and query.where.kind == "and"
    inner_or, negated, not_in = query.where.operands
    assert isinstance(inner_or, Junction) and inner_or.kind == "or"
    assert isinstance(negated, Not) and isinstance(negated.operand, InList)
    assert isinstance(not_in, InList) and not_in.negated
    assert [(key.path.parts, key.descending, key.nulls_last) for key in query.order] == [
        (("SystemModstamp",), True, True),
        (("Id",), False, False),
    ]
    assert (query.limit, query.offset) == (5, 1)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        (r"'O\'Brien'", "O'Brien"),
        (r"'back\\slash'", "back\\slash"),
        (r"'line\nbreak\ttab'", "line\nbreak\ttab"),
        (r"'say \"hi\"'", 'say "hi"'),
        (r"'caf\u00e9'", "café"),
        ("'plain ) OR Name != ('", "plain ) OR Name != ("),
    ],
)
def test_string_literals_decode_soql_escapes(literal, expected):
    where = parse(f"SELECT Id FROM Account WHERE Name = {literal}").where
    assert isinstance(where, Comparison) and where.literal.value == expected


def test_unknown_escape_is_a_malformed_query():
    assert error_of(r"SELECT Id FROM Account WHERE Name = 'a\qb'").code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    "literal",
    [
        "2026-11-20T10:15:30Z",
        "2026-11-20T11:15:30+01:00",
        "2026-11-20T11:15:30+0100",
        "2026-11-20T05:15:30.000-05:00",
    ],
)
def test_datetime_literal_forms_mean_the_same_instant(literal):
    where = parse(f"SELECT Id FROM Account WHERE SystemModstamp > {literal}").where
    assert where.literal.value == datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)


def test_date_literal_is_a_date():
    where = parse("SELECT Id FROM Account WHERE Renewal_Date__c >= 2027-01-31").where
    assert where.literal.kind == "date" and where.literal.value.isoformat() == "2027-01-31"


def test_mixing_and_with_or_needs_parentheses():
    error = error_of("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'")
    assert error.code == "MALFORMED_QUERY" and "unexpected token: 'OR'" in error.message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SELECT Foo__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Acount", "INVALID_TYPE"),
        ("SELECT Boss.Email FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE SystemModstamp > '2026-11-20T10:15:30Z'", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE SystemModstamp > 2026-11-20", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Id = 'nonsense'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Account GROUP BY Name", "MALFORMED_QUERY"),
        ("SELECT Id, Id FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = :bind", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account LIMIT", "MALFORMED_QUERY"),
        ("DELETE FROM Account", "MALFORMED_QUERY"),
    ],
)
def test_refused_queries_carry_salesforce_error_codes(text, code):
    assert error_of(text).code == code


def test_error_message_points_at_row_and_column_like_salesforce():
    text = "SELECT Id,\n Foo__c FROM Account"
    message = format_error(text, error_of(text))
    assert message.startswith(
        "\n Foo__c FROM Account\n ^\nERROR at Row:2:Column:2\nNo such column 'Foo__c'"
    )


def test_string_equality_is_case_insensitive():
    assert ids_of("SELECT Id FROM Account WHERE Name = 'ALPHA'") == ["001"]


def test_not_equal_and_not_in_match_null_values():
    assert ids_of("SELECT Id FROM Account WHERE Tier__c != 'growth' ORDER BY Id") == ["002", "003"]
    assert ids_of("SELECT Id FROM Account WHERE Tier__c NOT IN ('growth') ORDER BY Id") == [
        "002",
        "003",
    ]
    assert ids_of("SELECT Id FROM Account WHERE Tier__c = null") == ["003"]


def test_datetime_filters_ignore_milliseconds_like_salesforce():
    # 10:15:30.100 and 10:15:30.900 are "equal" to 10:15:30.500 when filtering
    assert ids_of("SELECT Id FROM Account WHERE SystemModstamp > 2026-11-20T10:15:30.500Z") == [
        "003"
    ]
    assert ids_of(
        "SELECT Id FROM Account WHERE SystemModstamp >= 2026-11-20T10:15:30Z ORDER BY Id"
    ) == [
        "001",
        "002",
        "003",
    ]


def test_order_by_full_precision_nulls_first_by_default_and_descending():
    assert ids_of("SELECT Id FROM Account ORDER BY SystemModstamp") == ["004", "001", "002", "003"]
    assert ids_of("SELECT Id FROM Account ORDER BY Name") == ["003", "001", "002", "004"]
    assert ids_of("SELECT Id FROM Account ORDER BY Name DESC NULLS LAST") == [
        "004",
        "002",
        "001",
        "003",
    ]
    assert ids_of("SELECT Id FROM Account ORDER BY Tier__c NULLS LAST, Id DESC LIMIT 2") == [
        "004",
        "001",
    ]


def test_fifteen_character_id_literal_matches_the_eighteen_character_id():
    assert ids_of("SELECT Id FROM Account WHERE Id IN ('001Sb0000000002')") == ["002"]


def test_like_with_escaped_wildcards():
    assert ids_of("SELECT Id FROM Account WHERE Name LIKE 'o\\'brien%'") == ["004"]
    assert ids_of("SELECT Id FROM Account WHERE Name LIKE 'al_ha'") == ["001"]


def test_relationship_fields_project_as_nested_records():
    compiled = compile_query(
        parse("SELECT Name, Owner.Email, Owner.Name FROM Account WHERE Owner.Email != null")
    )
    [row] = [
        project(compiled, record, resolve, "62.0") for record in run(compiled, ACCOUNTS, resolve)
    ]
    assert row["attributes"]["type"] == "Account"
    assert row["Owner"]["Email"] == "ann@example.com" and row["Owner"]["Name"] == "Ann"
    assert row["Owner"]["attributes"]["url"].endswith("/User/005Sb0000000001AAA")
    compiled = compile_query(
        parse("SELECT Owner.Email FROM Account WHERE Id = '001Sb0000000002AAA'")
    )
    [row] = [
        project(compiled, record, resolve, "62.0") for record in run(compiled, ACCOUNTS, resolve)
    ]
    assert row["Owner"] is None
