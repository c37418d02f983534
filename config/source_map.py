"""Where each key of a configuration was written: file and line by key path.

Pydantic reports problems by key path; `SourceMap` turns such a path back into the file and
line an ops engineer has to open, which is the whole point of careful error messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from config.errors import ConfigProblem

Path_ = tuple[Any, ...]  # a key path: mapping keys and sequence indexes

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None


def format_key_path(path: Sequence[Any]) -> str:
    """("matrix", "triggers", 3, "level") -> "matrix.triggers[3].level"."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{str(part)!r}]"
    return text or "(top level)"


@dataclass
class SourceMap:
    """Where each key path of the merged configuration was written."""

    main_file: str
    locations: dict[Path_, Location] = field(default_factory=dict)

    def add(self, path: Path_, location: Location) -> None:
        self.locations[path] = location
        # Pydantic reports dict keys as it received them, but YAML may have built ints or
        # dates out of them; index the text form too so either spelling finds the line.
        text_path = tuple(p if isinstance(p, str | int) else str(p) for p in path)
        self.locations.setdefault(text_path, location)

    def resolve(self, loc: Sequence[Any]) -> tuple[Path_, list[Any]]:
        """Split a pydantic loc into the part the YAML had and the parts it did not.

        Elements not found (union member tags, missing keys) are returned separately, in order.
        """
        known: Path_ = ()
        unknown: list[Any] = []
        for part in loc:
            candidate = known + (part,)
            if candidate in self.locations:
                known = candidate
            elif (
                isinstance(part, str) and part.isdigit() and known + (int(part),) in self.locations
            ):
                known = known + (int(part),)
            else:
                unknown.append(part)
        return known, unknown

    def locate(self, path: Sequence[Any]) -> Location:
        """The file and line of the deepest known prefix of `path`."""
        known, _ = self.resolve(path)
        while known:
            if known in self.locations:
                return self.locations[known]
            known = known[:-1]
        if path and (path[0],) in self.locations:
            return self.locations[(path[0],)]
        return Location(self.main_file, None)

    def problem(self, path: Sequence[Any], message: str) -> ConfigProblem:
        """A problem at `path`, with the file and line where that key was written."""
        where = self.locate(path)
        return ConfigProblem(where.file, format_key_path(path), message, where.line)
