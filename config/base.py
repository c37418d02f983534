"""Building blocks shared by the configuration models."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StrictModel(BaseModel):
    """Every config model: unknown keys are errors (a typo must not pass silently), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(
            f"'{value}' is not an environment variable name; expected the NAME of the variable "
            "that holds the secret (letters, digits, underscores), never the secret itself"
        )
    return value


EnvVarName = Annotated[str, AfterValidator(_check_env_name)]


def _check_https_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme != "https":
        found = f"'{parts.scheme}://'" if parts.scheme else "no scheme"
        raise ValueError(f"found {found}; expected an https:// URL (TLS is always on)")
    if not parts.hostname:
        raise ValueError("found no host name; expected https://host[:port][/path]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            "found a query, fragment or credentials in the URL; expected https://host[:port][/path]"
        )
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError as error:
        raise ValueError(f"bad port: {error}") from None
    return value.strip().rstrip("/")


HttpsUrl = Annotated[str, AfterValidator(_check_https_url)]


def resolve_path(value: object, info: ValidationInfo) -> Path | None:
    """A path from the config, relative to the main config file's folder."""
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value).strip():
        # YAML turns `false` or `123` into other types; Path() would raise a TypeError.
        raise ValueError(f"found {value!r}; expected a file path")
    path = Path(value).expanduser()
    base_dir = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def _check_existing_file(value: Path | None) -> Path | None:
    if value is not None and not value.is_file():
        raise ValueError(f"found no file at {value}; expected an existing file")
    return value


def existing_file(value: Any, info: ValidationInfo) -> Path | None:
    return _check_existing_file(resolve_path(value, info))


# A problem found after a model was built: the key path relative to that model, and a message
# saying what was found and what is expected. The loader adds the file and line.
RelativeProblem = tuple[tuple[str | int, ...], str]


def collect_problems(value: Any, prefix: tuple[str | int, ...] = ()) -> list[RelativeProblem]:
    """Walk a validated config and gather every model's `config_problems()`, with full paths.

    Cross-field rules (e.g. "auth: api_token needs token_env") live in `config_problems` rather
    than in validators so that each problem points at the exact key, not at its parent.
    """
    found: list[RelativeProblem] = []
    if isinstance(value, BaseModel):
        checker = getattr(value, "config_problems", None)
        if callable(checker):
            found.extend((prefix + tuple(path), message) for path, message in checker())
        for name, info in type(value).model_fields.items():
            found.extend(collect_problems(getattr(value, name), prefix + (info.alias or name,)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(collect_problems(item, prefix + (index,)))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(collect_problems(item, prefix + (key,)))
    return found
