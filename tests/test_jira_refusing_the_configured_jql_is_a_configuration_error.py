"""Jira answers 400 to a search it cannot parse. When the query is ours to build from the
configuration (`connections.jira.jql`, the projects), that is a configuration problem a person
must fix: exit 2 with the config key and Jira's words, not "a system could not be reached"."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

import run_sync
from tests.sync_world import World

WORLD_SIZES = {"accounts": 5, "tickets": 20, "jira_issues": 5}


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures the root logger; put it back for the tests that follow."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def with_jql(world: World, jql: str) -> str:
    """The world's config with `connections.jira.jql` set; returns the main file's path."""
    folder = world.config_path.parent
    for path in folder.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^  jira:\n", text, re.M):
            text = re.sub(
                r"^(    projects: .*)$", rf"\1\n    jql: '{jql}'", text, count=1, flags=re.M
            )
            path.write_text(text, encoding="utf-8")
    return str(world.config_path)


def test_a_jql_jira_cannot_parse_exits_2_naming_the_config_key_and_jiras_words(
    world: World, capsys: pytest.CaptureFixture[str]
):
    config = with_jql(world, "priority = = High")
    code = run_sync.main(["sync", "--config", config, "--now", world.now.isoformat()])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "connections.jira.jql" in err
    assert "Error in the JQL Query" in err  # Jira's own words
    assert "Traceback" not in err


def test_a_jql_jira_accepts_still_syncs(world: World, capsys: pytest.CaptureFixture[str]):
    config = with_jql(world, "statusCategory != Done")
    code = run_sync.main(["sync", "--config", config, "--now", world.now.isoformat()])
    assert code in (0, 1), capsys.readouterr().err
