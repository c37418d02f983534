"""Read the YAML files of a configuration, remembering where every key came from.

A configuration is a main file plus the files it `include:`s; each contributes top-level keys.
Each file is built by config/yaml_file.py; the SourceMap (config/source_map.py) of the whole
turns a pydantic key path back into the file and line an ops engineer has to open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.errors import ConfigError, ConfigProblem
from config.source_map import Location, SourceMap, format_key_path
from config.yaml_file import read_yaml_file

__all__ = ["INCLUDE_KEY", "Location", "SourceMap", "format_key_path", "load_tree"]

INCLUDE_KEY = "include"


def _include_list(value: Any, file: str, line: int | None) -> tuple[list[str], list[ConfigProblem]]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        found = type(value).__name__
        message = f"found {found}; expected a file name or a list of file names"
        return [], [ConfigProblem(file, INCLUDE_KEY, message, line)]
    return value, []


def load_tree(main_path: str | Path) -> tuple[dict[str, Any], SourceMap]:
    """Read the main file and its includes into one mapping; raise ConfigError on any problem."""
    main = Path(main_path)
    sources = SourceMap(str(main))
    problems: list[ConfigProblem] = []
    merged: dict[str, Any] = {}
    defined_in: dict[str, Location] = {}

    def visit(path: Path, stack: tuple[Path, ...]) -> None:
        file_sources = SourceMap(str(path))
        data = read_yaml_file(path, file_sources, problems)
        if data is None:
            return
        if not isinstance(data, dict):
            message = f"found {type(data).__name__} at the top level; expected a mapping of keys"
            problems.append(ConfigProblem(str(path), "(top level)", message, 1))
            return
        for key in data:
            if key == INCLUDE_KEY:
                continue
            here = file_sources.locations[(key,)]
            if key in defined_in:
                first = defined_in[key]
                problems.append(
                    ConfigProblem(
                        here.file,
                        format_key_path((key,)),
                        f"'{key}' is defined twice: in {first.file} (line {first.line}) and in "
                        f"{here.file} (line {here.line}); expected it in one file only",
                        here.line,
                    )
                )
                continue
            defined_in[key] = here
            merged[key] = data[key]
            for sub_path, location in file_sources.locations.items():
                if sub_path and sub_path[0] == key:
                    sources.locations[sub_path] = location
        if INCLUDE_KEY in data:
            line = file_sources.locations[(INCLUDE_KEY,)].line
            names, include_problems = _include_list(data[INCLUDE_KEY], str(path), line)
            problems.extend(include_problems)
            for name in names:
                target = path.parent / name
                if not target.is_file():
                    message = f"'{name}' not found (looked for {target}); expected a YAML file"
                    problems.append(ConfigProblem(str(path), INCLUDE_KEY, message, line))
                    continue
                if target.resolve() in {p.resolve() for p in stack + (path,)}:
                    message = f"'{name}' includes itself (through {path}); expected no cycles"
                    problems.append(ConfigProblem(str(path), INCLUDE_KEY, message, line))
                    continue
                visit(target, stack + (path,))

    visit(main, ())
    if problems:
        raise ConfigError(problems)
    return merged, sources
