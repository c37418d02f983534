"""Imports between the project's packages run one way (STYLE.md, "The shape of the house").

LAYERS is the one statement of that order, from the command line down to the shared
vocabulary. A module may import its own package and any package in a lower layer; packages
that share a layer (connectors and escalation) import nothing of each other. Every import
counts, also one inside a function or under TYPE_CHECKING: a cycle hidden in a function still
ties two packages together. The README's "How it works" states the same order; a test here
keeps the two equal.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Top first. config is the validated edge: it reads YAML into frozen models and imports only
# the vocabulary (attribute names, value kinds, durations, tiers), which imports no package.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("run_sync",),
    ("sandbox",),
    ("rehearse",),
    ("report", "provision"),
    ("sync",),
    ("notify",),
    ("connectors", "escalation"),
    ("mapping",),
    ("config",),
    ("vocabulary", "errors"),
)
LAYER_OF = {name: depth for depth, names in enumerate(LAYERS) for name in names}
NOT_LAYERED = {"tests", "bench"}  # they drive every layer from outside


def _imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every absolute import in the tree, nested ones included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def offences(source: str, package: str, where: str) -> list[str]:
    """Each import in `source` (a module of `package`) that points up or sideways."""
    found = []
    for line, module in _imported(ast.parse(source)):
        target = module.split(".")[0]
        if target == package or target not in LAYER_OF:
            continue
        if LAYER_OF[target] <= LAYER_OF[package]:
            found.append(f"{where}:{line} imports {module} ({target} is not below {package})")
    return found


def _modules() -> Iterator[tuple[str, Path]]:
    for package in LAYER_OF:
        folder = REPO / package
        if folder.is_dir():
            yield from ((package, path) for path in sorted(folder.rglob("*.py")))
        elif (REPO / f"{package}.py").is_file():
            yield package, REPO / f"{package}.py"


def _shown(name: str) -> str:
    return f"{name}/" if (REPO / name).is_dir() else f"{name}.py"


def layer_order() -> str:
    """LAYERS as the README writes them: `run_sync.py > sandbox/ > ... > vocabulary/`."""
    return " > ".join(", ".join(_shown(name) for name in names) for names in LAYERS)


def test_imports_between_packages_run_down_the_layers() -> None:
    found = []
    for package, path in _modules():
        where = str(path.relative_to(REPO))
        found += offences(path.read_text(encoding="utf-8"), package, where)
    assert found == [], "imports against the layer order:\n" + "\n".join(found)


def test_every_top_level_package_has_a_layer() -> None:
    # A new package outside LAYERS would escape the check above.
    packages = {
        path.parent.name
        for path in REPO.glob("*/__init__.py")
        if path.parent.name not in NOT_LAYERED
    }
    assert packages - set(LAYER_OF) == set()


def test_an_import_inside_a_function_counts() -> None:
    source = "def summary():\n    from escalation.summary import summarise\n"
    assert offences(source, "config", "config/summary.py") == [
        "config/summary.py:2 imports escalation.summary (escalation is not below config)"
    ]


def test_packages_of_one_layer_do_not_import_each_other() -> None:
    source = "from connectors.base import Page\n"
    assert offences(source, "escalation", "escalation/x.py") == [
        "escalation/x.py:1 imports connectors.base (connectors is not below escalation)"
    ]


def test_the_readme_states_the_layer_order() -> None:
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert layer_order() in readme
