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

from escalation.decision import Decision

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
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        decision = getattr(record, "decision", None)
        if isinstance(decision, dict):
            line["decision"] = decision  # fields a log shipper can alert on
        return json.dumps(line, ensure_ascii=False)


DECISIONS = logging.getLogger("escalation_sync.decisions")


def log_decision_change(decision: Decision, old_level: str | None) -> None:
    """One info line per decision whose level changed (the audit log's rule): ticket, old ->
    new level, the triggers, the owner; in JSON also as fields. Never customer text."""
    owner = decision.owner
    reasons = [reason.name for reason in decision.reasons]
    fields = {
        "ticket": decision.ticket_ref,
        "old_level": old_level,
        "new_level": decision.level,
        "reasons": reasons,
        "owner": owner.current if owner is not None else None,
    }
    who = f"{owner.current} ({owner.role})" if owner else "none (closed)"
    DECISIONS.info(
        "%s level %s -> %s; owner %s; why: %s",
        decision.ticket_ref,
        old_level or "new",
        decision.level,
        who,
        ", ".join(reasons) or "no trigger fired",
        extra={"decision": fields},
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
    # Decisions that changed: one info line each, what JSON log shippers alert on; in text
    # logs with -v only (a first run changes every decision).
    DECISIONS.setLevel(logging.INFO if log_format == "json" or verbose >= 1 else logging.WARNING)
    return mask
