"""Start and stop the three emulations together; load and save their state."""

from __future__ import annotations

import importlib
import json
import tempfile
from pathlib import Path
from typing import Any

from sandbox.server import VendorHTTPServer
from sandbox.tls import LocalTLS
from sandbox.vendor import VendorApp

DATA_FILES = {"zendesk": "zendesk.json", "jira": "jira.json", "salesforce": "salesforce.json"}


VENDOR_APPS = {
    "zendesk": ("sandbox.zendesk.app", "ZendeskApp"),
    "jira": ("sandbox.jira.app", "JiraApp"),
    "salesforce": ("sandbox.salesforce.app", "SalesforceApp"),
}


def _make_apps(time_factor: float, quotas: bool) -> dict[str, VendorApp]:
    apps: dict[str, VendorApp] = {}
    for name, (module_name, class_name) in VENDOR_APPS.items():
        module = importlib.import_module(module_name)
        apps[name] = getattr(module, class_name)(time_factor=time_factor)
        apps[name].quotas.enabled = quotas
    return apps


class Sandbox:
    """The three APIs on 127.0.0.1 over TLS, each on its own port.

    Use as a context manager. `urls[name]` is the base URL, `ca_path` the CA file the clients
    must trust. `quotas=False` switches rate limits off (most functional tests); `time_factor`
    scales quota windows. `channels=True` also serves the notification channels (Slack, SMTP,
    a webhook receiver; sandbox/channels.py) with the same CA, as `self.channels`.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        work_dir: Path | None = None,
        time_factor: float = 1.0,
        quotas: bool = True,
        first_port: int = 0,
        channels: bool = False,
    ):
        self._tmp = None
        if work_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="escalation-sandbox-")
            work_dir = Path(self._tmp.name)
        self.work_dir = Path(work_dir)
        self.tls = LocalTLS(self.work_dir)
        self.apps = _make_apps(time_factor, quotas)
        if data_dir is not None:
            self.load(Path(data_dir))
        self._servers: dict[str, VendorHTTPServer] = {}
        self._first_port = first_port
        self.channels: Any = None
        if channels:
            from sandbox.channels import ChannelSandbox

            self.channels = ChannelSandbox(self.tls, time_factor, quotas)

    @property
    def zendesk(self) -> Any:
        return self.apps["zendesk"]

    @property
    def jira(self) -> Any:
        return self.apps["jira"]

    @property
    def salesforce(self) -> Any:
        return self.apps["salesforce"]

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def urls(self) -> dict[str, str]:
        return {name: app.base_url for name, app in self.apps.items()}

    def start(self) -> Sandbox:
        for offset, (name, app) in enumerate(self.apps.items()):
            port = self._first_port + offset if self._first_port else 0
            server = VendorHTTPServer(app, self.tls, port)
            server.start()
            self._servers[name] = server
        if self.channels is not None:
            self.channels.start()
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        if self.channels is not None:
            self.channels.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def load(self, data_dir: Path) -> None:
        for name, filename in DATA_FILES.items():
            path = data_dir / filename
            if path.exists():
                self.apps[name].load_state(json.loads(path.read_text(encoding="utf-8")))

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        for name, filename in DATA_FILES.items():
            with self.apps[name].state_lock:
                state = self.apps[name].dump_state()
            # Replaced whole: a save cut short leaves the previous file, never half of one.
            partial = data_dir / (filename + ".partial")
            partial.write_text(json.dumps(state), encoding="utf-8")
            partial.replace(data_dir / filename)

    def reset_traffic(self) -> None:
        for app in self.apps.values():
            app.traffic.reset()

    def clear_faults(self) -> None:
        for app in self.apps.values():
            app.faults.clear()
