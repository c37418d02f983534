"""The configuration with a draft matrix in place of its own, validated as a whole.

The draft is a matrix file as `include:` takes it (a top-level `matrix:` key). It replaces
the config's matrix and the whole is validated again, so a draft that names a tier or a
person the rest of the config does not know is refused with its file, key and line, exactly
as `validate` would refuse it.
"""

from __future__ import annotations

from pathlib import Path

from config.errors import ConfigError, ConfigProblem
from config.loader import build_config
from config.schema import Config
from config.source_map import SourceMap
from config.yaml_file import read_yaml_file
from config.yaml_source import load_tree


def load_with_matrix(config_path: str | Path, matrix_path: str | Path) -> Config:
    """The config at `config_path` with the matrix of `matrix_path`; raise ConfigError."""
    data, sources = load_tree(config_path)
    draft = Path(matrix_path)
    problems: list[ConfigProblem] = []
    if not draft.is_file():
        raise ConfigError(
            [ConfigProblem(str(draft), "(file)", "not found; expected a matrix YAML file")]
        )
    draft_sources = SourceMap(str(draft))
    draft_data = read_yaml_file(draft, draft_sources, problems)
    if problems:
        raise ConfigError(problems)
    if not isinstance(draft_data, dict) or "matrix" not in draft_data:
        found = sorted(draft_data) if isinstance(draft_data, dict) else type(draft_data).__name__
        message = f"found {found}; expected a top-level 'matrix:' key, as in matrix.yaml"
        raise ConfigError([ConfigProblem(str(draft), "(top level)", message, 1)])
    extra = sorted(set(draft_data) - {"matrix"})
    if extra:
        where = draft_sources.locate((extra[0],))
        message = f"found {extra}; expected only 'matrix:' in a draft matrix file"
        raise ConfigError([ConfigProblem(str(draft), extra[0], message, where.line)])
    data = {**data, "matrix": draft_data["matrix"]}
    for path in [p for p in sources.locations if p and p[0] == "matrix"]:
        del sources.locations[path]
    for path, location in draft_sources.locations.items():
        if path and path[0] == "matrix":
            sources.locations[path] = location
    return build_config(data, sources, Path(config_path).parent)
