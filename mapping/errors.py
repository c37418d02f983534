"""Problems with single records: the caller reports them and goes on with the rest."""

from __future__ import annotations

from dataclasses import dataclass


class RecordError(Exception):
    """A record that cannot become a canonical Ticket or Account; skip it and report why."""

    def __init__(self, record_ref: str, reason: str):
        super().__init__(f"{record_ref}: {reason}")
        self.record_ref = record_ref
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordIssue:
    """A value that was unusable and left empty; the record itself was kept."""

    record_ref: str
    attribute: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record_ref}: {self.attribute}: {self.reason}"
