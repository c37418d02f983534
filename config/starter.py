"""`escalation-sync init DIR`: write a starting configuration for a person to edit.

The files are the configurations shipped in the package: config/example (every key, fully
commented) or, with --minimal, config/minimal. They are read with importlib.resources, so an
installed copy works without a checkout of the repository. Nothing a person already has is
overwritten without --force, and nothing is written at all when something would be.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from config.errors import ConfigError
from config.loader import load_config

EXIT_OK = 0
EXIT_REFUSED = 2  # as for a configuration error: nothing was written
MAIN_FILE = "escalation-sync.yaml"


def starter_files(minimal: bool) -> dict[str, str]:
    """File name -> text of the shipped starting configuration."""
    folder = resources.files("config") / ("minimal" if minimal else "example")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def init(args: argparse.Namespace) -> int:
    """Write the starting configuration to args.dir and say what to do next."""
    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        print(f"escalation-sync init: {target} is not a folder", file=sys.stderr)
        return EXIT_REFUSED
    main = target / MAIN_FILE
    files = starter_files(args.minimal)
    there = [target / name for name in files if (target / name).exists()]
    if there and not args.force:
        print(
            f"escalation-sync init: {', '.join(map(str, there))} already there; nothing written "
            "(--force overwrites them)",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(_own_paths(text, args.minimal, main), encoding="utf-8")
    kind = "minimal" if args.minimal else "example"
    print(f"wrote the {kind} configuration to {target}: {', '.join(files)}")
    print(_next_steps(main))
    return EXIT_OK


def _own_paths(text: str, minimal: bool, main: Path) -> str:
    """The header's commands name the installed command and the file's new place (absolute:
    the header is read later, from anywhere)."""
    shipped = f"config/{'minimal' if minimal else 'example'}/{MAIN_FILE}"
    return text.replace("python run_sync.py ", "escalation-sync ").replace(
        shipped, str(main.resolve())
    )


def _next_steps(main: Path) -> str:
    try:
        names = [name for _, name in load_config(main).secret_refs()]
    except ConfigError as error:  # a shipped configuration that does not load is our bug
        names = []
        print(f"escalation-sync init: {main} does not load: {error}", file=sys.stderr)
    folder = main.parent
    lines = [
        "next:",
        f"  1. edit the files in {folder}: the systems' URLs, the custom field ids, your matrix",
    ]
    if names:
        lines.append("  2. set the environment variables holding the secrets: " + ", ".join(names))
    lines += [
        f"  3. check it: escalation-sync validate --config {main}",
        f"  4. see the plan: escalation-sync plan --config {main}",
    ]
    return "\n".join(lines)
