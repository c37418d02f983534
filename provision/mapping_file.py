"""Write the ids provision made into the mapping file, keeping its comments and layout
(ruamel.yaml round-trip), or render them as a snippet to paste (`--print`)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from config.schema import Config


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, key order, flow style and quotes are kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    return yaml


_SCALAR = re.compile(r"""(['"]?)[A-Za-z0-9_]+\1""")


def _value_position(document: CommentedMap, key_path: tuple[str, ...]) -> tuple[int, int]:
    """(line, column) where the field id of `key_path` is written: `key: ID` or `field: ID`."""
    node = document
    for part in key_path[:-1]:
        node = node[part]
    key = key_path[-1]
    if isinstance(node[key], dict):
        node, key = node[key], "field"
    line, column = node.lc.value(key)
    return line, column


def write_ids(config: Config, new_ids: dict[tuple[str, ...], str]) -> list[Path]:
    """Set each key path's field id in the file that holds it; returns the files changed.

    ruamel.yaml's round-trip parse says where each id is written; only that token is
    replaced, so every comment, line break and flow mapping stays as the person wrote it.
    """
    by_file: dict[Path, dict[tuple[str, ...], str]] = {}
    for key_path, new_id in new_ids.items():
        by_file.setdefault(Path(config.location(key_path).file), {})[key_path] = new_id
    for path, ids in by_file.items():
        text = path.read_text(encoding="utf-8")
        document = _yaml().load(text)
        lines = text.splitlines(keepends=True)
        for key_path, new_id in ids.items():
            line, column = _value_position(document, key_path)
            found = _SCALAR.match(lines[line], column)
            if found is None:
                raise ValueError(f"{path}:{line + 1}: no field id where {'.'.join(key_path)} is written")  # fmt: skip
            quote = found.group(1)
            lines[line] = lines[line][:column] + f"{quote}{new_id}{quote}" + lines[line][found.end():]  # fmt: skip
        path.write_text("".join(lines), encoding="utf-8")
    return sorted(by_file)


def snippet(new_ids: dict[tuple[str, ...], str]) -> str:
    """The new ids as YAML under their key paths, for a person to copy into the mapping."""
    root: CommentedMap = CommentedMap()
    for key_path, new_id in sorted(new_ids.items()):
        node = root
        for part in key_path[:-1]:
            node = node.setdefault(part, CommentedMap())
        node[key_path[-1]] = {"field": int(new_id) if new_id.isdigit() else new_id}
    out = io.StringIO()
    _yaml().dump(root, out)
    return out.getvalue()
