"""What every Simpli stand-in shares: a loopback HTTP server and the services' common contract.

A ``StandIn`` is a real ``http.server.ThreadingHTTPServer`` on ``host:port`` (port 0 picks a free
one), served from a daemon thread, speaking HTTP/1.1 with keep-alive. Subclasses only declare
their routes; this module does the rest, in this order for each request:

1. ``X-Request-ID`` is taken from the request, or a UUID4 is made; it is echoed in the
   ``X-Request-ID`` response header and in every error envelope.
2. ``/health`` is answered at once (``GET`` only), without a key and without latency.
3. Every other request sleeps ``latency_s`` first, then needs ``X-API-Key: <api_key>`` when a key
   is configured (a ``Bearer`` token does not count), else 401 ``AUTHENTICATION_ERROR``.
4. The path must be known (else 404 ``NOT_FOUND``) and allow the method (else 405).
5. A fault queued by ``inject(path, ...)`` answers now, without parsing or handling the request.
6. A body is parsed: it must be a UTF-8 JSON object (``NaN``/``Infinity`` rejected), sent as
   ``application/json`` or without a ``Content-Type``; anything else is 422 ``VALIDATION_ERROR``.
7. The handler validates the fields strictly (``Fields``) and answers.
8. A body queued by ``override(path, ...)`` replaces a successful answer. The request was still
   validated and handled, so state changes (a stored article, a timeline entry) did happen.

Every request, whatever its outcome, is appended to ``calls`` before the response is written.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import hmac
import json
import logging
import re
import selectors
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self, TypedDict
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)
from hubsync.emulators.simpli.contract import (  # noqa: F401 (re-exported for the services)
    CHANNELS,
    ROLES,
    Answer,
    ApiError,
    Handler,
    RecordedCall,
    Request,
    error_code_for,
    validation_error,
)
from hubsync.emulators.simpli.keywords import (  # noqa: F401
    count_keywords,
    find_keywords,
    normalise,
)
from hubsync.emulators.simpli.validation import (  # noqa: F401
    MESSAGE_CONTENT,
    Fields,
    Message,
    Text,
    query_integer,
    range_problem,
    read_messages,
    string_problem,
)

# --- Routing -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    """``method`` + ``pattern`` (``{name}`` matches one path segment) → ``handler``."""

    method: str
    pattern: str
    handler: Handler

    @property
    def takes_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH")

    def match(self, path: str) -> dict[str, str] | None:
        found = _compile_pattern(self.pattern).fullmatch(path)
        return found.groupdict() if found else None


@functools.lru_cache(maxsize=128)
def _compile_pattern(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)  # literal, name, literal, name, ...
    return re.compile(
        "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
            for index, part in enumerate(parts)
        )
    )


@dataclasses.dataclass
class _Queued:
    """An ``inject`` fault or an ``override`` body waiting for ``remaining`` more calls."""

    remaining: int
    status: int
    body: Any = None
    delay_s: float = 0.0


# --- The stand-in --------------------------------------------------------------------------


class StandInOptions(TypedDict, total=False):
    """The constructor options every stand-in takes (for subclasses' ``**options``)."""

    api_key: str | None
    latency_s: float
    host: str
    port: int


class StandIn:
    """One Simpli service on loopback. Subclasses set ``service`` and implement ``routes()``."""

    service: ClassVar[str] = "simpli"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        latency_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.latency_s = latency_s
        self.host = host
        self._port = port
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._faults: dict[str, collections.deque[_Queued]] = collections.defaultdict(
            collections.deque
        )
        self._overrides: dict[str, collections.deque[_Queued]] = collections.defaultdict(
            collections.deque
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes = [Route("GET", "/health", lambda _request: {"status": "ok"}), *self.routes()]

    def routes(self) -> list[Route]:
        """The service's endpoints (``/health`` is added by the base class)."""
        raise NotImplementedError

    # lifecycle

    def start(self) -> Self:
        """Bind and serve in a daemon thread. After ``stop()`` it rebinds the same port."""
        if self._server is not None:
            return self
        self._server = _Server((self.host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve, daemon=True, name=f"simpli-{self.service}-{self._port}"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections; state and ``calls`` are kept."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.stop_serving()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._port == 0:
            msg = f"{type(self).__name__} has not been started"
            raise RuntimeError(msg)
        return f"http://{self.host}:{self._port}"

    # test knobs

    @property
    def calls(self) -> list[RecordedCall]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def count(self, path: str) -> int:
        """How many requests (any method, any outcome) were made to ``path``."""
        with self._lock:
            return sum(1 for call in self._calls if call.path == path)

    def inject(self, path: str, status: int, *, times: int = 1, delay_s: float = 0.0) -> None:
        """Answer the next ``times`` authenticated calls to ``path`` with a ``status`` error.

        The request is not parsed or handled; ``delay_s`` is slept first. Faults queue in order.
        """
        if status < 400 or times < 1:
            msg = "inject needs an error status (>= 400) and times >= 1"
            raise ValueError(msg)
        with self._lock:
            self._faults[path].append(_Queued(times, status, delay_s=delay_s))

    def override(self, path: str, body: Any, *, times: int = 1, status: int = 200) -> None:
        """Answer the next ``times`` successful calls to ``path`` with ``body`` (any JSON value).

        The request is still validated and handled first; a rejected request answers its own
        error and does not use up the override.
        """
        if times < 1:
            msg = "override needs times >= 1"
            raise ValueError(msg)
        json.dumps(body)  # fail here, not in the server thread, if it is not JSON
        with self._lock:
            self._overrides[path].append(_Queued(times, status, body=body))

    # request handling

    def handle(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        """Answer one HTTP request and record it. Never raises.

        ``headers`` maps lower-cased header names to their first value.
        """
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        url = urlsplit(target)
        path = unquote(url.path)
        try:
            answer = self._answer(
                method,
                path,
                query=parse_qs(url.query),
                headers=headers,
                raw=raw,
                request_id=request_id,
            )
        except ApiError as exc:
            answer = exc.answer(request_id)
        except Exception:  # a bug in a stand-in: answer like the real service would, and log it
            log.exception("simpli stand-in %s failed on %s %s", self.service, method, path)
            answer = ApiError(500, "Internal server error").answer(request_id)
        with self._lock:
            self._calls.append(
                RecordedCall(method, path, _loads_or_none(raw), answer.status, request_id)
            )
        return Answer(answer.status, answer.body, {**answer.headers, "X-Request-ID": request_id})

    def _answer(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        raw: bytes,
        request_id: str,
    ) -> Answer:
        if path != "/health":
            if self.latency_s > 0:
                time.sleep(self.latency_s)
            self._authenticate(headers)
        route, params = self._route(method, path)
        fault = self._take(self._faults, path)
        if fault is not None:
            if fault.delay_s > 0:
                time.sleep(fault.delay_s)
            raise _injected_error(fault.status)
        body = parse_json_body(headers.get("content-type"), raw) if route.takes_body else None
        request = Request(method, path, params, query, body, request_id)
        result = route.handler(request)
        answer = result if isinstance(result, Answer) else Answer(200, result)
        override = self._take(self._overrides, path)
        return Answer(override.status, override.body) if override is not None else answer

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        if self.api_key is None:
            return
        given = headers.get("x-api-key") or ""
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            raise ApiError(401, "Invalid or missing API key")

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = []
        for route in self._routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.append(route.method)
        if allowed:
            raise ApiError(405, "Method Not Allowed", headers={"Allow": ", ".join(allowed)})
        raise ApiError(404, "Not Found")

    def _take(self, queues: dict[str, collections.deque[_Queued]], path: str) -> _Queued | None:
        with self._lock:
            queue = queues.get(path)
            if not queue:
                return None
            head = queue[0]
            head.remaining -= 1
            if head.remaining == 0:
                queue.popleft()
            return head


def _injected_error(status: int) -> ApiError:
    detail = f"Injected failure (HTTP {status})"
    if status == 422:
        return validation_error([{"field": "body", "message": detail}])
    return ApiError(status, detail)


def parse_json_body(content_type: str | None, raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or the 422 a FastAPI service would answer."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise validation_error([{"field": "body", "message": "Input should be a valid dictionary"}])
    if not raw.strip():
        raise validation_error([{"field": "body", "message": "Field required"}])
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise validation_error([{"field": "body", "message": f"JSON decode error: {exc}"}]) from exc
    if not isinstance(body, dict):
        raise validation_error([{"field": "body", "message": "Input should be a valid dictionary"}])
    return body


def _reject_constant(name: str) -> Any:
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


def _loads_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None


# --- HTTP plumbing -------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that stops at once and can drop its open connections.

    ``serve()`` waits on the listening socket and a wake-up socket pair instead of polling
    (``serve_forever`` would take up to half a second to notice a shutdown).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], stand_in: StandIn) -> None:
        self.stand_in = stand_in
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        super().__init__(address, _RequestHandler)
        self._wake_reader, self._wake_writer = socket.socketpair()

    def serve(self) -> None:
        """Accept and dispatch connections until ``stop_serving()``."""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    ready = {key.fileobj for key, _ in selector.select()}
                    if self in ready and not self._stopping.is_set():
                        self.handle_request()  # the socket is readable: accepts without blocking
        finally:
            self._stopped.set()

    def stop_serving(self) -> None:
        """Stop accepting, drop open connections and close every socket of the server."""
        self._stopping.set()
        self._wake_writer.send(b"\0")
        self._stopped.wait(timeout=5)
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)  # keep-alive clients see the service go
        self.server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections dropped mid-request (by the client or by ``stop()``) are not errors."""


class _RequestHandler(BaseHTTPRequestHandler):
    """Reads one request, hands it to the stand-in, writes the JSON answer."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; don't wait for ACKs
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's signature)
        """Stay quiet; ``calls`` is the record."""

    def _dispatch(self) -> None:
        raw = self._read_body()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        answer = self.server.stand_in.handle(self.command, self.path, headers, raw)
        payload = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass  # trailer headers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
