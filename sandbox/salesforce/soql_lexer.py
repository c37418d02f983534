"""SOQL tokenizer: turns a query string into typed tokens with their positions.

Follows the SOQL reference for the literal forms the connector sends: quoted strings with the
documented escapes (\\n \\r \\t \\b \\f \\" \\' \\\\ \\uXXXX, anything else after a backslash is an
error), unquoted date and dateTime literals (`2026-11-20`, `2026-11-20T10:15:30Z`,
`...+01:00`, `...+0100`, optional fractional seconds), numbers, identifiers and operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime


class SoqlError(Exception):
    """A query Salesforce would refuse. `code` is the REST errorCode, `position` an offset."""

    def __init__(self, code: str, message: str, position: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | number | datetime | date | op | punct | eof
    value: object
    position: int
    text: str


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})(?![\w:.])"
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![\w:.T-])")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![\w.])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_PUNCT = "(),."
_ESCAPES = {"n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b", "B": "\b",
            "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\"}  # fmt: skip
# Kept escaped: they only mean something in a LIKE pattern, which the evaluator interprets.
_LIKE_ESCAPES = {"_": "\\_", "%": "\\%"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        token = _next_token(text, position)
        tokens.append(token)
        position += len(token.text)
    tokens.append(Token("eof", None, length, "<EOF>"))
    return tokens


def _next_token(text: str, position: int) -> Token:
    char = text[position]
    if char == "'":
        return _string(text, position)
    if char.isdigit():
        found = _DATETIME.match(text, position)
        if found:
            return Token("datetime", _to_datetime(found, position), position, found.group(0))
        found = _DATE.match(text, position)
        if found:
            return Token("date", _to_date(found, position), position, found.group(0))
    if char.isdigit() or (
        char in "+-." and position + 1 < len(text) and text[position + 1].isdigit()
    ):
        found = _NUMBER.match(text, position)
        if found:
            raw = found.group(0)
            value = float(raw) if "." in raw else int(raw)
            return Token("number", value, position, raw)
    found = _IDENT.match(text, position)
    if found:
        return Token("ident", found.group(0), position, found.group(0))
    for operator in _OPERATORS:
        if text.startswith(operator, position):
            return Token("op", "!=" if operator == "<>" else operator, position, operator)
    if char in _PUNCT:
        return Token("punct", char, position, char)
    end = position + 1
    while end < len(text) and not text[end].isspace():
        end += 1
    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[position:end]}'", position)


def _string(text: str, start: int) -> Token:
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "'":
            return Token("string", "".join(chars), start, text[start : position + 1])
        if char == "\\":
            if position + 1 >= len(text):
                break
            follower = text[position + 1]
            if follower in _ESCAPES:
                chars.append(_ESCAPES[follower])
                position += 2
                continue
            if follower in _LIKE_ESCAPES:
                chars.append(_LIKE_ESCAPES[follower])
                position += 2
                continue
            if follower == "u" and re.fullmatch(
                r"[0-9a-fA-F]{4}", text[position + 2 : position + 6]
            ):
                chars.append(chr(int(text[position + 2 : position + 6], 16)))
                position += 6
                continue
            raise SoqlError(
                "MALFORMED_QUERY",
                "Invalid string literal '"
                + text[start:]
                + "'. Illegal character sequence '\\"
                + follower
                + "' in string literal.",
                position,
            )
        chars.append(char)
        position += 1
    raise SoqlError("MALFORMED_QUERY", f"unterminated string literal: {text[start:]}", start)


def _to_datetime(found: re.Match[str], position: int) -> datetime:
    zone = found.group(8)
    if zone != "Z" and ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    fraction = (found.group(7) or "")[:7]  # fromisoformat takes up to microseconds
    literal = "{}-{}-{}T{}:{}:{}".format(*found.groups()[:6]) + fraction + zone
    try:
        return datetime.fromisoformat(literal)
    except ValueError:
        raise SoqlError("INVALID_FIELD", f"invalid date/time: {found.group(0)}", position) from None


def _to_date(found: re.Match[str], position: int) -> date:
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise SoqlError("INVALID_FIELD", f"invalid date: {found.group(0)}", position) from None
