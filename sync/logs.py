"""Logging to stderr, as text or JSON lines, with every configured secret masked.

Secrets are never passed to log calls; the mask is a second line of defence against a client
library that echoes a URL or a header in an error message.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

MASK = "***"


class SecretMask(logging.Filter):
    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = self.mask(message), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


# Client libraries whose debug output is every request, and for zenpy every payload: shown
# with -vv only. Below that they log errors only (our transport reports retries and waits).
LIBRARIES = ("urllib3", "zenpy", "jira", "simple_salesforce", "requests")
OURS = "escalation_sync"


def setup_logging(log_format: str, verbose: int, secrets: Iterable[str] = ()) -> SecretMask:
    """Configure the root logger for one CLI invocation; returns the mask (to add secrets).

    verbose 0: our info lines, one per step (what cron appends to its log each run);
    1: also our debug lines (one per decision that changed); 2: also the libraries' debug.
    Customer data (subjects, descriptions, payloads) is never logged by us at info or above.
    """
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    mask = SecretMask(secrets)
    handler.addFilter(mask)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.getLogger(OURS).setLevel(logging.DEBUG if verbose >= 1 else logging.INFO)
    # Set every time: the levels are process-wide and a process may set up logging twice.
    for library in LIBRARIES:
        logging.getLogger(library).setLevel(logging.NOTSET if verbose >= 2 else logging.ERROR)
    return mask
