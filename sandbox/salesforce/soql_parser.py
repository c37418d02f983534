"""Recursive-descent parser for the SOQL subset the sandbox serves.

    query      := SELECT select FROM name [WHERE condition] [ORDER BY order {, order}]
                  [LIMIT n] [OFFSET n]
    select     := COUNT ( ) | path {, path}
    condition  := term {AND term} | term {OR term}      (mixing needs parentheses, as in SOQL)
    term       := NOT term | ( condition ) | predicate
    predicate  := path op literal | path [NOT] IN ( literal {, literal} ) | path LIKE string
    order      := path [ASC | DESC] [NULLS FIRST | NULLS LAST]
    path       := name {. name}

Anything else is a MALFORMED_QUERY, with Salesforce's "unexpected token" wording. Names are
checked against the schema later (soql_engine), which reports INVALID_FIELD / INVALID_TYPE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.soql_lexer import SoqlError, Token, tokenize

KEYWORDS = frozenset(
    "select from where and or not in like order by asc desc nulls first last limit offset "
    "null true false count includes excludes group having".split()
)


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]
    position: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    kind: str  # string | number | datetime | date | null | boolean
    value: Any
    position: int


@dataclass(frozen=True)
class Comparison:
    path: Path
    op: str  # = != < > <= >= like
    literal: Literal


@dataclass(frozen=True)
class InList:
    path: Path
    literals: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class Junction:
    kind: str  # and | or
    operands: tuple[Condition, ...]


Condition = Comparison | InList | Not | Junction


@dataclass(frozen=True)
class OrderKey:
    path: Path
    descending: bool = False
    nulls_last: bool = False


@dataclass(frozen=True)
class Query:
    fields: tuple[Path, ...]
    object_name: str
    object_position: int
    where: Condition | None = None
    order: tuple[OrderKey, ...] = ()
    limit: int | None = None
    offset: int | None = None
    count_only: bool = False
    text: str = field(default="", repr=False)


def parse(text: str) -> Query:
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def _is_keyword(self, *words: str) -> bool:
        token = self.current
        return token.kind == "ident" and str(token.value).lower() in words

    def _accept_keyword(self, word: str) -> bool:
        if self._is_keyword(word):
            self.index += 1
            return True
        return False

    def _expect_keyword(self, word: str) -> None:
        if not self._accept_keyword(word):
            self._unexpected()

    def _expect_punct(self, char: str) -> None:
        if self.current.kind == "punct" and self.current.value == char:
            self.index += 1
            return
        self._unexpected()

    def _accept_punct(self, char: str) -> bool:
        if self.current.kind == "punct" and self.current.value == char:
            self.index += 1
            return True
        return False

    def _unexpected(self) -> None:
        token = self.current
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'", token.position)

    def _name(self) -> Token:
        token = self.current
        if token.kind != "ident" or str(token.value).lower() in KEYWORDS:
            self._unexpected()
        return self._advance()

    # -- grammar ---------------------------------------------------------------------------
    def query(self) -> Query:
        self._expect_keyword("select")
        count_only = False
        if self._is_keyword("count") and self._peek_punct("("):
            self.index += 1
            self._expect_punct("(")
            self._expect_punct(")")
            fields: tuple[Path, ...] = ()
            count_only = True
        else:
            fields = self._select_list()
        self._expect_keyword("from")
        object_token = self._name()
        where = self._condition() if self._accept_keyword("where") else None
        order: tuple[OrderKey, ...] = ()
        if self._accept_keyword("order"):
            self._expect_keyword("by")
            order = self._order_list()
        limit = self._integer() if self._accept_keyword("limit") else None
        offset = self._integer() if self._accept_keyword("offset") else None
        if self.current.kind != "eof":
            self._unexpected()
        return Query(
            fields, str(object_token.value), object_token.position, where, order, limit, offset,
            count_only, self.text,
        )  # fmt: skip

    def _peek_punct(self, char: str) -> bool:
        following = self.tokens[self.index + 1]
        return following.kind == "punct" and following.value == char

    def _select_list(self) -> tuple[Path, ...]:
        paths = [self._path()]
        while self._accept_punct(","):
            paths.append(self._path())
        return tuple(paths)

    def _path(self) -> Path:
        first = self._name()
        parts = [str(first.value)]
        while self._accept_punct("."):
            parts.append(str(self._name().value))
        return Path(tuple(parts), first.position)

    def _condition(self) -> Condition:
        operands = [self._term()]
        kind: str | None = None
        while self._is_keyword("and", "or"):
            word = str(self.current.value).lower()
            if kind is not None and word != kind:
                self._unexpected()  # SOQL needs parentheses to mix AND and OR
            kind = word
            self.index += 1
            operands.append(self._term())
        if kind is None:
            return operands[0]
        return Junction(kind, tuple(operands))

    def _term(self) -> Condition:
        if self._accept_keyword("not"):
            return Not(self._term())
        if self._accept_punct("("):
            inner = self._condition()
            self._expect_punct(")")
            return inner
        return self._predicate()

    def _predicate(self) -> Condition:
        path = self._path()
        token = self.current
        if token.kind == "op":
            self.index += 1
            return Comparison(path, str(token.value), self._literal())
        if self._accept_keyword("like"):
            literal = self._literal()
            if literal.kind != "string":
                raise SoqlError("MALFORMED_QUERY", "LIKE expects a quoted string", literal.position)
            return Comparison(path, "like", literal)
        negated = self._accept_keyword("not")
        if self._accept_keyword("in"):
            self._expect_punct("(")
            literals = [self._literal()]
            while self._accept_punct(","):
                literals.append(self._literal())
            self._expect_punct(")")
            return InList(path, tuple(literals), negated)
        self._unexpected()
        raise AssertionError("unreachable")

    def _literal(self) -> Literal:
        token = self.current
        if token.kind in ("string", "number", "datetime", "date"):
            self.index += 1
            return Literal(token.kind, token.value, token.position)
        if token.kind == "ident":
            word = str(token.value).lower()
            if word == "null":
                self.index += 1
                return Literal("null", None, token.position)
            if word in ("true", "false"):
                self.index += 1
                return Literal("boolean", word == "true", token.position)
        self._unexpected()
        raise AssertionError("unreachable")

    def _order_list(self) -> tuple[OrderKey, ...]:
        keys = [self._order_key()]
        while self._accept_punct(","):
            keys.append(self._order_key())
        return tuple(keys)

    def _order_key(self) -> OrderKey:
        path = self._path()
        descending = False
        if self._accept_keyword("desc"):
            descending = True
        else:
            self._accept_keyword("asc")
        nulls_last = False
        if self._accept_keyword("nulls"):
            if self._accept_keyword("last"):
                nulls_last = True
            else:
                self._expect_keyword("first")
        return OrderKey(path, descending, nulls_last)

    def _integer(self) -> int:
        token = self.current
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            self._unexpected()
        self.index += 1
        return int(token.value)  # type: ignore[arg-type]
