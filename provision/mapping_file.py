"""Write the ids provision made into the mapping file, keeping its comments and layout
(ruamel.yaml round-trip), or render them as a snippet to paste (`--print`)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

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


def _own_mapping(config: Config, system: str, ids: dict[tuple[str, ...], str]) -> dict[str, Any]:
    """The top-level mapping.<system> as plain data, with a named instance's own ids in it:
    the whole section, as an instance's `mapping` replaces the top-level one for it."""
    path = Path(config.location(("mapping", system)).file)
    document = _yaml().load(path.read_text(encoding="utf-8"))
    mapping = _plain(document["mapping"][system])
    for key_path, new_id in ids.items():
        node = mapping
        for part in key_path[2:-1]:
            node = node[part]
        key, value = key_path[-1], int(new_id) if new_id.isdigit() else new_id
        if isinstance(node[key], dict):
            node[key]["field"] = value
        else:
            node[key] = value
    return mapping


def _plain(node: Any) -> Any:
    """ruamel's round-trip nodes as dicts, lists and scalars (their comments are the top-level
    section's, placed for it: the copy is written without them)."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, bool | int | float) or node is None:
        return node
    return str(node)


def _block(data: dict[str, Any], indent: int) -> list[str]:
    out = io.StringIO()
    yaml = _yaml()
    yaml.default_flow_style = False  # a block, as a person writes a mapping
    yaml.dump(data, out)
    return [" " * indent + line if line.strip() else line for line in out.getvalue().splitlines(keepends=True)]  # fmt: skip


def own_mapping_snippet(config: Config, label: str, ids: dict[tuple[str, ...], str]) -> str:
    """`--print` for a named instance without a mapping of its own: the mapping made for it,
    under its key, to paste."""
    system, _, name = label.partition("@")
    mapping = _own_mapping(config, system, ids)
    nested = {"connections": {system: {"instances": {name: {"mapping": mapping}}}}}
    return "".join(_block(nested, 0))


def write_own_mapping(config: Config, label: str, ids: dict[tuple[str, ...], str]) -> Path:
    """Give a named instance that uses the top-level mapping one of its own: a copy of
    mapping.<system> with the ids provision got in its account, inserted at the end of its
    section in the file that holds it; every other line stays as it was written.

    Its field ids are its account's own (Zendesk's and Jira's ids differ between accounts):
    written into the top-level mapping they would point the default at fields it lacks."""
    system, _, name = label.partition("@")
    at = ("connections", system, "instances", name)
    path = Path(config.location(at).file)
    text = path.read_text(encoding="utf-8")
    document = _yaml().load(text)
    instances = document
    for part in at[:-1]:
        instances = instances[part]
    instance = instances[name]
    key_line, key_column = instances.lc.key(name)
    if not isinstance(instance, CommentedMap) or instance.fa.flow_style() or not instance:
        raise ValueError(f"{path}:{key_line + 1}: {'.'.join(at)} is not a block of keys: add its mapping by hand (provision --print shows it)")  # fmt: skip
    child_indent = instance.lc.key(next(iter(instance)))[1]
    lines = text.splitlines(keepends=True)
    end = key_line + 1  # after the last line of the instance's block
    for number in range(key_line + 1, len(lines)):
        stripped = lines[number].strip()
        if not stripped:
            continue
        if len(lines[number]) - len(lines[number].lstrip(" ")) <= key_column:
            break
        end = number + 1
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    mapping = _own_mapping(config, system, ids)
    made = [" " * child_indent + f"mapping:  # made by provision: mapping.{system} with {label}'s own field ids\n"]  # fmt: skip
    made += _block(mapping, child_indent + 2)
    lines[end:end] = made
    path.write_text("".join(lines), encoding="utf-8")
    return path
