"""The HTTP side: a ``ThreadingHTTPServer`` on a daemon thread, and the gate every request
passes through, in this order: authenticate, rate-limit, apply an injected fault, route. Every
request is recorded (rate-limited and unauthenticated ones included) with its arrival time,
just before its answer is written or its connection dropped. An unexpected exception in a
handler is printed to stderr and answered as a HubSpot-shaped 500.

Injected delays sleep in real time (``time.sleep``), not on the injected clock, because their
purpose is to trip the client's socket read timeout.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from hubsync import clock as clocks
from hubsync.emulators.hubspot import errors
from hubsync.emulators.hubspot.faults import Fault, FaultBook
from hubsync.emulators.hubspot.ratelimit import RateLimiter
from hubsync.emulators.hubspot.recording import RecordedRequest, RequestLog
from hubsync.emulators.hubspot.routes import Request, Response, Router

_SEARCH_PATH = re.compile(r"^/crm/v3/objects/[^/]+/search$")
_MISSING_AUTH = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


@dataclass(frozen=True)
class Gate:
    """Everything between the socket and the router."""

    token: str
    router: Router
    limiter: RateLimiter
    faults: FaultBook
    log: RequestLog
    clock: clocks.Clock

    def answer(self, request: Request) -> Response | None:
        """The response to send, or None to drop the connection without answering."""
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        search = _SEARCH_PATH.match(request.path) is not None
        admission = self.limiter.admit(search=search)
        if not admission.allowed:
            body = errors.rate_limit_body(admission.policy or "")
            return Response(429, body, dict(admission.headers))
        fault = self.faults.take(request.method, request.path)
        if fault is None:
            return self._route(request, admission.headers)
        return self._with_fault(request, fault, search, admission.headers)

    def _authenticate(self, request: Request) -> Response | None:
        supplied = request.headers.get("authorization")
        if supplied == f"Bearer {self.token}":
            return None
        message = _MISSING_AUTH if supplied is None else "Authentication credentials are invalid."
        return Response.error(errors.ApiError(401, "INVALID_AUTHENTICATION", message))

    def _route(self, request: Request, rate_headers: dict[str, str]) -> Response:
        response = self.router.dispatch(request)
        response.headers = {**rate_headers, **response.headers}
        return response

    def _with_fault(
        self, request: Request, fault: Fault, search: bool, rate_headers: dict[str, str]
    ) -> Response | None:
        if fault.delay_s > 0:
            time.sleep(fault.delay_s)
        if fault.status is not None and not fault.after_commit:
            return _fault_response(fault, search, rate_headers)
        real = self._route(request, rate_headers)
        if not fault.after_commit:
            return real
        if fault.status is None:
            return None
        return _fault_response(fault, search, rate_headers)


def _fault_response(fault: Fault, search: bool, rate_headers: dict[str, str]) -> Response:
    status = fault.status or 500
    body = fault.body if fault.body is not None else errors.generic_body(status, search=search)
    headers = {} if search else dict(rate_headers)
    return Response(status, body, {**headers, **fault.headers})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gate: Gate) -> None:
        super().__init__(address, _Handler)
        self.gate = gate
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        """Stay quiet; ``emu.requests`` is the record."""

    def _serve(self) -> None:
        gate = self.server.gate
        arrived = gate.clock.monotonic()
        request = self._read_request()
        try:
            response = gate.answer(request)
        except Exception:  # an emulator bug: say so loudly, answer like a HubSpot 500
            traceback.print_exc(file=sys.stderr)
            response = Response(500, errors.generic_body(500))
        status = 0 if response is None else response.status
        gate.log.append(
            RecordedRequest(
                request.method, request.path, request.query, request.body, status, arrived
            )
        )
        if response is None:
            self._drop()
            return
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (read timeout)
            self.close_connection = True

    def _read_request(self) -> Request:
        parts = urlsplit(self.path)
        raw, problem = self._read_body()
        body, bad_json = Request.parse_body(raw)
        problem = problem or bad_json
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw.strip() and content_type != "application/json":
            problem = f"Unsupported Content-Type {content_type or '(none)'}; send application/json"
        return Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            raw_body=raw,
            body=body,
            body_error=problem,
            headers={k.lower(): v for k, v in self.headers.items()},
        )

    def _read_body(self) -> tuple[bytes, str | None]:
        """The raw body (by Content-Length) and a problem with its framing, if any."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # the unread chunks would corrupt the next request
            return b"", "Chunked request bodies are not supported; send Content-Length"
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return b"", "Invalid Content-Length header"
        return (self.rfile.read(length) if length > 0 else b""), None

    def _send(self, response: Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        body_id = response.body.get("correlationId") if isinstance(response.body, dict) else None
        self.send_response(response.status)
        self.send_header("X-HubSpot-Correlation-Id", str(body_id or errors.correlation_id()))
        if response.body is not None:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the connection without a single byte of answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class HttpServer:
    """Serves a ``Gate`` on ``host:port`` (0 picks a free port) from a daemon thread."""

    def __init__(self, gate: Gate, host: str, port: int) -> None:
        self._gate = gate
        self._address = (host, port)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("the emulator is already started")
        self._httpd = _Server(self._address, self._gate)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
            name="hubspot-emulator", daemon=True,
        )  # fmt: skip
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every open connection (idle keep-alive ones included)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.shutdown()
        with httpd.connections_lock:
            open_connections = list(httpd.connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        thread.join(timeout=5)
        self._httpd = self._thread = None
