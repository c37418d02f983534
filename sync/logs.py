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
        line = {
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


def log_decision_change(decision: Decision) -> None:
    """One info line per decision whose level changed: ticket, old -> new, reasons, owner."""
    owner = decision.owner.current if decision.owner is not None else None
    fields = {
        "ticket": decision.ticket_ref,
        "old_level": decision.previous_level,
        "new_level": decision.level,
        "reasons": [reason.name for reason in decision.reasons],
        "owner": owner,
    }
    DECISIONS.info(
        "%s: level %s -> %s (%s); owner %s",
        decision.ticket_ref,
        decision.previous_level or "-",
        decision.level,
        ", ".join(fields["reasons"]) or "no trigger",
        owner or "-",
        extra={"decision": fields},
    )


def setup_logging(log_format: str, verbose: bool, secrets: Iterable[str] = ()) -> SecretMask:
    """Configure the root logger for one CLI invocation; returns the mask (to add secrets)."""
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
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # JSON logs feed log shippers: the decisions that changed are what they alert on.
    DECISIONS.setLevel(logging.INFO if log_format == "json" or verbose else logging.NOTSET)
    if not verbose:
        for noisy in ("urllib3", "zenpy", "jira", "simple_salesforce"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    return mask
