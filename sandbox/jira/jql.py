"""A JQL tokenizer and recursive-descent parser for the subset the sandbox answers.

The grammar (keywords case-insensitive, `&&`/`||`/`!` as Jira accepts them):

    query    := [or_expr] [ORDER BY sort ("," sort)*]
    or_expr  := and_expr (OR and_expr)*
    and_expr := not_expr (AND not_expr)*
    not_expr := NOT not_expr | "(" or_expr ")" | clause
    clause   := field operator operand
    operator := = | != | < | > | <= | >= | ~ | !~ | IN | NOT IN | IS | IS NOT
    operand  := value | "(" value ("," value)* ")" | function "(" ... ")"
    sort     := field [ASC | DESC]

Values are unquoted words or strings in double or single quotes with JQL's escapes. What the
clauses mean (which fields exist, which values are valid) is search.py's job; this module
only turns text into a tree, with Jira's wording for syntax errors.
"""

from __future__ import annotations

from dataclasses import dataclass

# Characters Jira reserves outside quoted strings.
RESERVED = frozenset(" +.,;?|*/%^$#@[]\"'()=!<>~&")
ESCAPES = {'"': '"', "'": "'", "t": "\t", "n": "\n", "r": "\r", "\\": "\\", " ": " "}
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "is", "order", "by", "asc", "desc", "empty", "null"}
)
OPERATORS = ("=", "!=", "<", ">", "<=", ">=", "~", "!~")
VALID_OPERATORS = "'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'"


class JqlError(ValueError):
    """The query cannot be answered; `messages` are Jira's errorMessages."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Token:
    kind: str  # "word" | "string" | "op" | "(" | ")" | "," | "eof"
    text: str
    position: int  # 1-based character of the token's start

    def is_keyword(self, word: str) -> bool:
        return self.kind == "word" and self.text.lower() == word


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool
    position: int


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str  # "=", "!=", "<", ">", "<=", ">=", "~", "!~", "in", "not in", "is", "is not"
    values: tuple[Value, ...]
    is_list: bool
    position: int


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    where: Node | None
    order_by: tuple[SortKey, ...]


def _syntax(message: str, position: int | None = None) -> JqlError:
    where = f" (line 1, character {position})" if position is not None else ""
    return JqlError([f"Error in the JQL Query: {message}{where}"])


def tokenize(text: str) -> list[Token]:
    """Split JQL into tokens; reserved characters outside quotes are an error, as in Jira."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            tokens.append(Token(char, char, i + 1))
            i += 1
        elif char in "\"'":
            value, end = _quoted(text, i)
            tokens.append(Token("string", value, i + 1))
            i = end
        elif text.startswith(("&&", "||"), i):
            tokens.append(Token("word", "and" if char == "&" else "or", i + 1))
            i += 2
        elif char in "=!<>~":
            two = text[i : i + 2]
            op = two if two in OPERATORS else char
            if op == "!":  # a lone "!" is NOT
                tokens.append(Token("word", "not", i + 1))
            else:
                tokens.append(Token("op", op, i + 1))
            i += len(op)
        elif char in RESERVED:
            raise _syntax(
                f"The character '{char}' is a reserved JQL character. You must enclose it in a "
                f"string or use the escape '\\u{ord(char):04x}' instead.",
                i + 1,
            )
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in RESERVED:
                i += 1
            tokens.append(Token("word", text[start:i], start + 1))
    tokens.append(Token("eof", "", n + 1))
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The unescaped content of the string opening at `start`, and the index after it."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in ESCAPES:
                out.append(ESCAPES[nxt])
                i += 2
                continue
            hex_digits = text[i + 2 : i + 6]
            if (
                nxt == "u"
                and len(hex_digits) == 4
                and all(c in "0123456789abcdefABCDEF" for c in hex_digits)
            ):
                out.append(chr(int(hex_digits, 16)))
                i += 6
                continue
            raise _syntax(
                f"'\\{nxt}' is an illegal JQL escape sequence. The valid escape sequences are "
                "\\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX.",
                i + 1,
            )
        out.append(char)
        i += 1
    raise _syntax(f"The quoted string '{''.join(out)}' has not been completed.", start + 1)


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.at = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def unexpected(self, expecting: str) -> JqlError:
        token = self.token
        if token.kind == "eof":
            return _syntax(f"Expecting {expecting} before the end of the query.")
        return _syntax(f"Expecting {expecting} but got '{token.text}'.", token.position)

    def query(self) -> Query:
        where = None
        if not (self.token.kind == "eof" or self._at_order_by()):
            where = self.or_expr()
        order_by: tuple[SortKey, ...] = ()
        if self._at_order_by():
            order_by = self.order_by()
        if self.token.kind != "eof":
            if self.token.kind == ")":
                raise _syntax("Expecting either 'OR' or 'AND' but got ')'.", self.token.position)
            raise self.unexpected("either 'OR' or 'AND'")
        return Query(where, order_by)

    def _at_order_by(self) -> bool:
        return self.token.is_keyword("order")

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.token.is_keyword("or"):
            self.advance()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.token.is_keyword("and"):
            self.advance()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Node:
        if self.token.is_keyword("not"):
            self.advance()
            return Not(self.not_expr())
        if self.token.kind == "(":
            self.advance()
            inner = self.or_expr()
            if self.token.kind != ")":
                raise self.unexpected("')'")
            self.advance()
            return inner
        return self.clause()

    def clause(self) -> Clause:
        token = self.token
        if token.kind not in ("word", "string") or (
            token.kind == "word" and token.text.lower() in KEYWORDS
        ):
            raise self.unexpected("a field name")
        self.advance()
        operator = self.operator()
        if operator in ("in", "not in"):
            values, is_list = self.value_list(), True
        else:
            values, is_list = (self.value(),), False
        return Clause(token.text, operator, values, is_list, token.position)

    def operator(self) -> str:
        token = self.token
        if token.kind == "op":
            self.advance()
            return token.text
        if token.is_keyword("in"):
            self.advance()
            return "in"
        if token.is_keyword("is"):
            self.advance()
            if self.token.is_keyword("not"):
                self.advance()
                return "is not"
            return "is"
        if token.is_keyword("not"):
            self.advance()
            if self.token.is_keyword("in"):
                self.advance()
                return "not in"
            raise self.unexpected("'IN'")
        if token.kind == "eof":
            raise _syntax("Expecting operator before the end of the query.")
        raise _syntax(
            f"Expecting operator but got '{token.text}'. The valid operators are {VALID_OPERATORS}.",
            token.position,
        )

    def value_list(self) -> tuple[Value, ...]:
        if self.token.kind != "(":
            raise self.unexpected("'('")
        self.advance()
        values = [self.value()]
        while self.token.kind == ",":
            self.advance()
            values.append(self.value())
        if self.token.kind != ")":
            raise self.unexpected("')'")
        self.advance()
        return tuple(values)

    def value(self) -> Value:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Value(token.text, True, token.position)
        if token.kind == "word" and token.text.lower() in ("empty", "null"):
            self.advance()
            return Value(token.text.upper(), False, token.position)
        if token.kind == "word" and token.text.lower() not in KEYWORDS:
            self.advance()
            if self.token.kind == "(":
                raise JqlError([f"Unable to find JQL function '{token.text}()'."])
            return Value(token.text, False, token.position)
        if token.kind == "eof":
            raise _syntax("Expecting either a value, list or function before the end of the query.")
        raise _syntax(
            f"Expecting either a value, list or function but got '{token.text}'. You must "
            f"surround '{token.text}' in quotation marks to use it as a value.",
            token.position,
        )

    def order_by(self) -> tuple[SortKey, ...]:
        self.advance()  # ORDER
        if not self.token.is_keyword("by"):
            raise self.unexpected("'by'")
        self.advance()
        keys = [self.sort_key()]
        while self.token.kind == ",":
            self.advance()
            keys.append(self.sort_key())
        return tuple(keys)

    def sort_key(self) -> SortKey:
        token = self.token
        if token.kind not in ("word", "string") or (
            token.kind == "word" and token.text.lower() in KEYWORDS
        ):
            raise self.unexpected("a field name")
        self.advance()
        descending = False
        if self.token.is_keyword("asc") or self.token.is_keyword("desc"):
            descending = self.advance().text.lower() == "desc"
        return SortKey(token.text, descending)


def parse(text: str) -> Query:
    """Parse JQL into a `Query`; raises `JqlError` with Jira's wording on bad syntax."""
    return _Parser(tokenize(text)).query()
