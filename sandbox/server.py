"""Serves one vendor emulation over HTTPS on loopback, applying quotas and scripted faults."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandbox.http import Request, Response
from sandbox.tls import LocalTLS
from sandbox.vendor import VendorApp

log = logging.getLogger("sandbox")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for the client's
    # delayed ACK of the headers (~40 ms on Linux) and every GET with a body took 45 ms.
    disable_nagle_algorithm = True
    server: VendorHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        log.debug("%s %s", self.server.app.name, format % args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.parse(self.command, self.path, dict(self.headers.items()), body)
        request.base_url = self.server.app.base_url
        response = self.server.dispatch(request, self)
        if response is None:  # connection reset: nothing is sent
            return
        payload, content_type = response.encoded()
        self.send_response(response.status)
        headers = {"Content-Type": content_type, **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset by peer".
        raw = self.connection
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        raw.close()


class VendorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: VendorApp, tls: LocalTLS, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.app = app
        self.socket = tls.server_context().wrap_socket(self.socket, server_side=True)
        app.base_url = f"https://127.0.0.1:{self.server_address[1]}"
        self._routes = app.routes()
        self._thread: threading.Thread | None = None

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # socketserver prints a connection that ended badly (a client's TLS EOF, the resets the
        # fault tests cause) to stderr, where it mixes into what the sync's logs and a test read.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def dispatch(self, request: Request, handler: _Handler) -> Response | None:
        if request.path.startswith("/__sandbox/"):
            return self._admin(request)
        self.app.traffic.started()
        try:
            return self._dispatch(request, handler)
        finally:
            self.app.traffic.finished()

    def _dispatch(self, request: Request, handler: _Handler) -> Response | None:
        app = self.app
        for route in self._routes:
            params = route.match(request.method, request.path)
            if params is not None:
                break
        else:
            response = app.not_found(request)
            app.traffic.record("unknown", response.status)
            return response
        request.params = params
        endpoint = route.name
        denied = app.authenticate(request, route)
        if denied is not None:
            app.traffic.record(endpoint, denied.status)
            return denied
        verdict = app.quotas.check(endpoint)
        if not verdict.allowed:
            response = app.rate_limited(verdict, route)
            app.traffic.record(endpoint, response.status)
            return response
        fault = app.faults.take_transport(endpoint)
        if fault is not None:
            if fault.kind == "reset":
                app.traffic.record(endpoint, 0)
                handler.reset_connection()
                return None
            if fault.kind == "delay":
                time.sleep(fault.delay_seconds)
            elif fault.kind == "status":
                headers = (
                    {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                )
                response = Response(fault.status, app.error_body(fault.status, route), headers)
                app.traffic.record(endpoint, response.status)
                return response
        with app.state_lock:
            try:
                response = route.handler(request)
            except Exception:  # an emulation bug must look like a vendor 500, and be loud
                log.exception("sandbox %s %s failed", app.name, endpoint)
                response = Response(500, app.error_body(500, route))
            if route.writes and response.status < 400:
                app.traffic.record_write(request, endpoint)
        response.headers = {**app.rate_limit_headers(verdict, route), **response.headers}
        app.traffic.record(endpoint, response.status)
        return response

    def _admin(self, request: Request) -> Response:
        """GET /__sandbox/traffic: request counts; POST /__sandbox/reset-traffic."""
        if request.path == "/__sandbox/traffic":
            return Response(200, self.app.traffic.snapshot())
        if request.path == "/__sandbox/reset-traffic" and request.method == "POST":
            self.app.traffic.reset()
            return Response(204)
        if request.path == "/__sandbox/writes":
            with self.app.traffic.lock:
                writes = [entry.__dict__ for entry in self.app.traffic.writes]
            return Response(200, json.loads(json.dumps(writes, default=str)))
        return Response(404, {"error": "unknown admin path"})

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.app.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)
