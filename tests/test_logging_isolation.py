"""A command run in-process leaves no logging behind for the next test (tests/conftest.py):
its handler wrote to the stderr pytest captured for it, which is closed once the test ends;
a warning logged afterwards made logging print "--- Logging error ---" into the stderr of
whichever test ran then (once, into a JSON log test's lines). The two tests run in order."""

from __future__ import annotations

import logging

import pytest

from sync.logs import setup_logging


def test_a_command_sets_up_logging_on_this_tests_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("json", 0)
    logging.getLogger("escalation_sync.test").warning("one line")
    assert '"message": "one line"' in capsys.readouterr().err


def test_a_warning_after_it_reaches_no_closed_stream(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("escalation_sync.test").warning("after the command")
    err = capsys.readouterr().err
    assert "Logging error" not in err
