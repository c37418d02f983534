"""Pydantic's validation errors, rewritten as ConfigProblems an ops engineer can act on.

Each names the file and line (from the SourceMap), the key path as written in the YAML, what
was found and what is expected, with a "did you mean" for near-miss key names.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from config.errors import ConfigProblem
from config.yaml_source import SourceMap, format_key_path
from vocabulary.values import short

_QUOTED = re.compile(r"'([^']*)'")


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """ " (did you mean 'x'?)" when a choice is close to `word`, else ""."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- which keys a model at some loc accepts (for hints on unknown keys) ---------------------


def _members(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold: Annotated and unions unwrapped, None dropped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    if annotation is type(None):
        return []
    return [annotation]


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _field_annotation(model: type[BaseModel], key: Any) -> Any | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _tag_matches(model: type[BaseModel], tag: Any) -> bool:
    if tag == model.__name__:
        return True
    for info in model.model_fields.values():
        if typing.get_origin(info.annotation) is typing.Literal and tag in typing.get_args(
            info.annotation
        ):
            return True
    return False


def _descend(candidates: list[Any], part: Any) -> list[Any]:
    found: list[Any] = []
    for candidate in candidates:
        origin = typing.get_origin(candidate)
        if _is_model(candidate):
            annotation = _field_annotation(candidate, part)
            if annotation is not None:
                found.extend(_members(annotation))
        elif origin in (list, tuple, set, frozenset) and isinstance(part, int):
            args = [a for a in typing.get_args(candidate) if a is not Ellipsis]
            found.extend(m for arg in args[:1] for m in _members(arg))
        elif origin is dict:
            found.extend(_members(typing.get_args(candidate)[1]))
    return found


def _candidates_at(root: type[BaseModel], loc: Sequence[Any]) -> list[Any]:
    """The types the value at `loc` may have."""
    candidates: list[Any] = [root]
    for part in loc:
        descended = _descend(candidates, part)
        if descended:
            candidates = descended
            continue
        tagged = [c for c in candidates if _is_model(c) and _tag_matches(c, part)]
        if tagged:
            candidates = tagged
        # otherwise: a tag we do not understand (e.g. a validator function); skip it
    return candidates


def allowed_keys(root: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys the model at `loc` accepts; [] when it cannot be told."""
    candidates = _candidates_at(root, loc)
    keys: list[str] = []
    for candidate in candidates:
        if _is_model(candidate):
            keys.extend(info.alias or name for name, info in candidate.model_fields.items())
    return list(dict.fromkeys(keys))


def _is_duration(root: type[BaseModel], loc: Sequence[Any]) -> bool:
    """Whether the key at `loc` holds a Duration ("4h"): a bare number there lacks its unit."""
    # Imported here: the matrix models import did_you_mean from this module.
    from config.matrix.base import Duration

    if not loc:
        return False
    for candidate in _candidates_at(root, loc[:-1]):
        if not _is_model(candidate):
            continue
        for name, info in candidate.model_fields.items():
            if loc[-1] in (name, info.alias) and (
                # `Duration | None` keeps the Annotated type; a bare `Duration` field is unwrapped
                # by pydantic into str plus the validator in its metadata.
                Duration in typing.get_args(info.annotation)
                or typing.get_args(Duration)[1] in info.metadata
            ):
                return True
    return False


# --- messages ---------------------------------------------------------------------------

# Pydantic names a date format in its own words, once per member of `date | datetime`.
_DATE = "a date as YYYY-MM-DD"
_MOMENT = "a moment such as 2026-11-23T09:00:00+00:00"
_FORMATS = {
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _MOMENT,
    "datetime_parsing": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
    "timezone_aware": _MOMENT,
}


_PYTHON_WORDS = re.compile(
    r"a valid (tuple|list|frozenset|set)\b|a valid dictionary( or instance of \w+)?"
)


_TOO_SHORT = re.compile(r"\w+ should have at least (\d+) items? after validation, not \d+")


def _expected(msg: str) -> str:
    text = msg.removeprefix("Input should be ").removeprefix("Value error, ")
    # Say it in YAML's words: a list, a mapping of keys; not Python's types or class names.
    text = _TOO_SHORT.sub(
        lambda m: f"at least {m.group(1)} entr{'y' if m.group(1) == '1' else 'ies'}", text
    )
    text = text.replace("Input is not a valid path for <class 'pathlib.Path'>", "a file path")
    return _PYTHON_WORDS.sub(lambda m: "a list" if m.group(1) else "a mapping of keys", text)


def _message(error: ErrorDetails, root: type[BaseModel], loc: Sequence[Any]) -> str:
    kind = error["type"]
    msg = error["msg"]
    if kind == "extra_forbidden":
        key = loc[-1]
        choices = allowed_keys(root, loc[:-1])
        expected = f"; expected one of: {', '.join(choices)}" if choices else ""
        return f"unknown key '{key}'{did_you_mean(key, choices)}{expected}"
    if kind == "missing":
        return f"required key '{loc[-1]}' is missing"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        tags = _QUOTED.findall(str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag"))  # pydantic's text of the value found (did_you_mean compares text)
        hint = did_you_mean(tag, tags)
        name = str(ctx.get("discriminator", "tag")).strip("'")
        return f"found {name} '{tag}'{hint}; expected one of {', '.join(tags)}"
    if kind == "union_tag_not_found":
        return f"missing {error.get('ctx', {}).get('discriminator', 'the tag')}; it says which kind of entry this is"
    if kind in ("value_error", "assertion_error"):
        text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        found = short(error.get("input"))
        # A whole section (an object, a list of rules) as "found" only repeats the YAML.
        whole_section = isinstance(error.get("input"), dict | list | tuple)
        if whole_section or "found" in text.lower() or found in text:
            return text
        return f"{text} (found {found})"
    if kind in _FORMATS:
        return f"found {short(error.get('input'))}; expected {_FORMATS[kind]}"
    number = error.get("input")
    if kind == "string_type" and type(number) in (int, float) and _is_duration(root, loc):
        unit = f"'{number}h'" if isinstance(number, int) else "'8h'"
        return (
            f"found {number}; expected a duration with a unit, such as {unit} "
            "(d = working days, h = hours, m = minutes)"
        )
    if kind == "literal_error":
        options = _QUOTED.findall(str(error.get("ctx", {}).get("expected", "")))
        given = error.get("input")
        hint = did_you_mean(given, options) if isinstance(given, str) else ""
        return f"found {short(error.get('input'))}{hint}; expected {_expected(msg)}"
    return f"found {short(error.get('input'))}; expected {_expected(msg)}"


def _display_path(
    known: tuple[Any, ...], unknown: list[Any], detail: ErrorDetails, sources: SourceMap
) -> tuple[Any, ...]:
    # A missing key is not in the YAML, so it is the one unknown part worth showing.
    if detail["type"] == "missing" and unknown:
        return known + (unknown[-1],)
    if detail["type"] == "union_tag_invalid":
        tag_key = str(detail.get("ctx", {}).get("discriminator", "")).strip("'")
        if known + (tag_key,) in sources.locations:
            return known + (tag_key,)
    return known


def problems_from_validation(
    error: ValidationError, sources: SourceMap, root: type[BaseModel], prefix: tuple[Any, ...] = ()
) -> list[ConfigProblem]:
    """One ConfigProblem per error; errors for the members of a union at one key are merged."""
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for detail in error.errors(include_url=False):
        loc = prefix + tuple(detail["loc"])
        known, unknown = sources.resolve(loc)
        path = _display_path(known, unknown, detail, sources)
        message = _message(detail, root, loc)
        where = sources.locate(path)
        entry = merged.setdefault(path, [where, [], detail])
        if message not in entry[1]:
            entry[1].append(message)
    problems = []
    for path, (where, messages, detail) in merged.items():
        if len(messages) > 1 and all(m.startswith("found ") for m in messages):
            expectations = [m.split("; expected ", 1)[-1] for m in messages]
            text = f"found {short(detail.get('input'))}; expected {' or '.join(expectations)}"
        else:
            text = "; ".join(messages)
        problems.append(ConfigProblem(where.file, format_key_path(path), text, where.line))
    return problems
