"""A locally generated CA and a server certificate for 127.0.0.1 / localhost.

The clients keep verification on and trust this CA through `verify=<ca file>`.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


class LocalTLS:
    def __init__(self, directory: Path):
        self.ca = trustme.CA(organization_name="escalation-sync sandbox CA")
        self.server_cert = self.ca.issue_cert("127.0.0.1", "localhost", "::1")
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_path = directory / "sandbox-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(context)
        return context
