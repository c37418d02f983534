"""Load and validate a configuration: YAML files in, a trusted `Config` or one ConfigError out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from config.base import collect_problems
from config.errors import ConfigError, ConfigProblem, sort_problems
from config.problems import problems_from_validation
from config.schema import Config
from config.yaml_source import SourceMap, load_tree


def _section_problems(
    data: dict[str, Any], failed: set[Any], sources: SourceMap, context: dict[str, Any]
) -> list[ConfigProblem]:
    """Cross-field problems of the sections that validated on their own.

    When one section has a type error the root cannot be built, but the other sections can:
    checking them too lets one run report all problems instead of the first batch.
    """
    problems = []
    for name, info in Config.model_fields.items():
        if name in failed or name not in data:
            continue
        # FieldInfo.annotation is None only for a field declared without one; Config has none.
        assert info.annotation is not None
        try:
            section = TypeAdapter(info.annotation).validate_python(data[name], context=context)
        except ValidationError:
            continue
        problems += [
            sources.problem(path, message) for path, message in collect_problems(section, (name,))
        ]
    return problems


def build_config(data: dict[str, Any], sources: SourceMap, base_dir: Path) -> Config:
    """Validate merged YAML data; raise ConfigError listing every problem found."""
    context = {"base_dir": base_dir}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as error:
        problems = problems_from_validation(error, sources, Config)
        failed = {detail["loc"][0] for detail in error.errors() if detail["loc"]}
        problems += _section_problems(data, failed, sources, context)
        raise ConfigError(sort_problems(problems)) from None
    problems = [sources.problem(path, message) for path, message in collect_problems(config)]
    if problems:
        raise ConfigError(sort_problems(problems))
    config.attach_sources(sources)
    return config


def load_config(path: str | Path) -> Config:
    """Read the main YAML file and its includes, validate, and return the Config.

    Raises ConfigError with every problem found (file, key path, line, found vs expected).
    Secrets are not checked here: call `Config.check_environment()` where they are needed.
    """
    data, sources = load_tree(path)
    return build_config(data, sources, Path(path).parent)
