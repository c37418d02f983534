"""Which plain YAML scalars become booleans, numbers, nulls and dates: YAML 1.2, not 1.1.

PyYAML resolves scalars by YAML 1.1, where `NO` (Norway), `on`, `y` are booleans, `1:30` is the
base-60 number 90 and `010` is octal 8. People write country codes, level names and Zendesk
values in a config, and each of those turned silently into something else. This resolver follows
the YAML 1.2 core schema instead: only true/false are booleans; integers are decimal, `0o17` or
`0x1F`. Two deliberate differences from the core schema:
- a number written with a leading zero (`010`, `007`) stays text, as written: a code like that
  is an identifier, and a numeric field still reads the text as its number;
- dates (`2026-12-24`) are recognised as PyYAML does, since calendars and out-of-office entries
  are written that way.
Merge keys (`<<`) keep working, as YAML 1.2 parsers commonly allow.
"""

from __future__ import annotations

import re

from yaml.resolver import BaseResolver, Resolver

MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class Yaml12Resolver(BaseResolver):
    """Plain scalars by the YAML 1.2 core schema (see the module docstring for the exceptions)."""


def _add(tag: str, pattern: str, first: list[str]) -> None:
    Yaml12Resolver.add_implicit_resolver(tag, re.compile(pattern, re.X), first)


_add("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF"))
_add(
    "tag:yaml.org,2002:int",
    r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$",
    list("-+0123456789"),
)
_add(
    "tag:yaml.org,2002:float",
    r"""^(?:[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
       |[-+]?\.(?:inf|Inf|INF)
       |\.(?:nan|NaN|NAN))$""",  # whole numbers matched the int pattern first
    list("-+.0123456789"),
)
_add(
    "tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]
)  # "" is the empty scalar
_add(MERGE_TAG, r"^(?:<<)$", ["<"])
# PyYAML's own date pattern, unchanged.
for _first, _resolvers in Resolver.yaml_implicit_resolvers.items():
    for _tag, _pattern in _resolvers:
        if _tag == _TIMESTAMP_TAG:
            Yaml12Resolver.add_implicit_resolver(_tag, _pattern, [_first])
