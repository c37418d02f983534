"""Config files are parsed by libyaml (PyYAML's C binding; pure Python took ~40 ms of every
command's start and of every config a test loads) and built exactly as PyYAML's own parser
builds them: the same data, the same file and line of every key, the same problems. A file
libyaml refuses is reported in PyYAML's words, as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config.errors import ConfigProblem
from config.file_text import read_utf8
from config.source_map import SourceMap
from config.yaml_file import LibyamlLocatingLoader, LocatingLoader, read_yaml_file

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted(
    p for folder in ("config", "sandbox") for p in (REPO / folder).rglob("*.yaml")
)  # fmt: skip

TRICKY = """\
defaults: &defaults {level: advisory, acknowledge: 1d, tags: [a, b]}
other: &other {level: watch, resolve: 5d}
tiers:
  - <<: [*defaults, *other]
    tier: strategic
  - <<: *defaults
    level: executive-review
  - *defaults
words: [yes, no, on, off, 0755, 1:30, 2026-02-03, "quoted", 'single', ~, 1.5e3, .inf]
block: |
  two
  lines
folded: >-
  one
  line
twice: 1
twice: 2
bad_date: 2026-02-30
"""


def built(loader_class: type, text: str) -> tuple[Any, dict, list[ConfigProblem]]:
    sources, problems = SourceMap("f.yaml"), []
    loader = loader_class(text, "f.yaml", sources, problems)
    try:
        node = loader.get_single_node()
        data = loader.build(node, ()) if node is not None else None
    finally:
        loader.dispose()
    return data, dict(sources.locations), problems


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_a_shipped_yaml_file_builds_the_same_through_libyaml(path: Path) -> None:
    text, _ = read_utf8(path)
    assert text is not None
    assert built(LibyamlLocatingLoader, text) == built(LocatingLoader, text)


def test_merges_aliases_scalars_and_problems_build_the_same_through_libyaml() -> None:
    fast = built(LibyamlLocatingLoader, TRICKY)
    assert fast == built(LocatingLoader, TRICKY)
    data, _, problems = fast
    assert data["tiers"][0]["level"] == "advisory" and data["words"][0] == "yes"
    assert [p.line for p in problems] == [17, 18]  # the key written twice, the unreal date


def test_read_yaml_file_parses_through_libyaml(tmp_path: Path, monkeypatch) -> None:
    used = []
    monkeypatch.setattr(
        LibyamlLocatingLoader, "get_single_node",
        lambda self: used.append(self) or LocatingLoader.get_single_node(self),
    )  # fmt: skip
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert read_yaml_file(path, SourceMap(str(path)), []) == {"a": 1}
    assert len(used) == 1


@pytest.mark.parametrize(
    "text",
    ["a: [1, 2\nb: 3\n", "a: 1\n  b: 2\n", "a: *nowhere\n", "a: 1\n---\nb: 2\n", "a:\tb\n\t- c\n"],
)
def test_a_file_libyaml_refuses_is_reported_in_pyyamls_words(tmp_path: Path, text: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list[ConfigProblem] = []
    assert read_yaml_file(path, SourceMap(str(path)), problems) is None
    try:
        LocatingLoader(text, str(path), SourceMap(str(path)), []).get_single_node()
    except yaml.YAMLError as error:
        expected = (getattr(error, "context", None), getattr(error, "problem", None))
    else:
        raise AssertionError("PyYAML accepts it")
    [problem] = problems
    assert problem.message.startswith("not valid YAML: ")
    assert all(part in problem.message for part in expected if part)
