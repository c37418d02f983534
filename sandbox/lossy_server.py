"""The core server, plus answers lost on purpose: the other side of an unknown outcome.

The core's `reset` fault cuts the connection before the handler runs, so nothing is kept. A
handler that marks its answer with `DROP_HEADER` has done its work (a Slack message posted, a
webhook delivery recorded) and the connection is cut instead of answering: the client cannot
know whether its request arrived. The Slack emulation and the webhook receiver use it.
"""

from __future__ import annotations

from typing import Any

from sandbox.http import Request, Response
from sandbox.server import VendorHTTPServer

DROP_HEADER = "X-Sandbox-Drop-Connection"


class LossyHTTPServer(VendorHTTPServer):
    def dispatch(self, request: Request, handler: Any) -> Response | None:
        response = super().dispatch(request, handler)
        if response is not None and response.headers.pop(DROP_HEADER, None):
            handler.reset_connection()
            return None
        return response
