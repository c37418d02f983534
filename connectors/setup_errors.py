"""The error of a setup call (doctor's reads, provision's creations) the vendor refused."""

from __future__ import annotations

from connectors.errors import ConnectorError


class SetupRefused(ConnectorError):
    """The system answered a setup call with a client error: not allowed, not found, invalid.

    `status` is the HTTP status (403: the integration user may not; 404: no such thing),
    `words` the vendor's own message, so doctor and provision can say what to change.
    """

    def __init__(self, system: str, what: str, status: int, words: str):
        super().__init__(f"{system}: {what} answered HTTP {status}: {words}")
        self.status = status
        self.words = words
