"""systemd's sd_notify protocol, spoken directly, so hubsync needs no libsystemd binding.

With ``Type=notify`` systemd hands the service a datagram socket in ``$NOTIFY_SOCKET``: a
file path, or an abstract-namespace name written with a leading ``@``. Each message is one
datagram of ``KEY=value`` lines (sd_notify(3)). Outside systemd there is no socket and every
call does nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

from hubsync import logs

log = structlog.get_logger(__name__)


def _address(path: str) -> str | None:
    """The socket address for ``$NOTIFY_SOCKET``; ``@name`` is the abstract ``\\0name``."""
    if path.startswith("@"):
        return "\0" + path[1:]
    if path.startswith("/"):
        return path
    return None  # e.g. systemd's vsock: addresses, which hubsync does not speak


class Notifier:
    """Tells systemd how the service is doing. Never raises.

    ``socket_path`` defaults to ``$NOTIFY_SOCKET``, and the watchdog settings come from
    ``$WATCHDOG_USEC``/``$WATCHDOG_PID``; all are read from ``env`` (default ``os.environ``)
    when the notifier is built. Each call returns True if its datagram was sent. The first
    failure is logged as ``notify_failed``; later failures are silent, because a service
    that cannot reach systemd would otherwise log it on every cycle.
    """

    def __init__(self, socket_path: str | None = None, *,
                 env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.socket_path = socket_path if socket_path is not None else env.get("NOTIFY_SOCKET")
        self._address = _address(self.socket_path) if self.socket_path else None
        self._watchdog_usec = env.get("WATCHDOG_USEC")
        self._watchdog_pid = env.get("WATCHDOG_PID")
        self._failure_logged = False
        if self.socket_path and self._address is None:
            self._failed("unsupported NOTIFY_SOCKET address (want /path or @name)")

    @property
    def enabled(self) -> bool:
        """True when there is a socket to notify."""
        return self._address is not None

    def ready(self) -> bool:
        """Start-up is complete (``READY=1``): systemd considers the service started."""
        return self._send("READY=1")

    def status(self, text: str) -> bool:
        """A one-line status shown by ``systemctl status`` (``STATUS=…``).

        Newlines become spaces (a newline would start a new assignment) and token-like
        text is redacted.
        """
        line = " ".join(logs.scrub_text(text).splitlines())
        return self._send(f"STATUS={line}")

    def stopping(self) -> bool:
        """Shutdown has begun (``STOPPING=1``)."""
        return self._send("STOPPING=1")

    def watchdog(self) -> bool:
        """Keep-alive (``WATCHDOG=1``); send only when the work loop has made progress."""
        return self._send("WATCHDOG=1")

    def watchdog_interval_s(self) -> float | None:
        """How often to ping: half of ``WATCHDOG_USEC``, or None when no watchdog is ours.

        The watchdog is ours when ``WATCHDOG_USEC`` is a positive integer and
        ``WATCHDOG_PID`` is unset or names this process.
        """
        try:
            usec = int(self._watchdog_usec or "0")
            pid = int(self._watchdog_pid) if self._watchdog_pid else os.getpid()
        except ValueError:
            return None
        if usec <= 0 or pid != os.getpid():
            return None
        return usec / 2_000_000

    def _send(self, message: str) -> bool:
        if self._address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self._address)
                sock.sendall(message.encode("utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: a NUL in a path, bad UTF-8
            self._failed(f"{type(exc).__name__}: {exc}")
            return False
        return True

    def _failed(self, error: str) -> None:
        if not self._failure_logged:
            self._failure_logged = True
            log.warning("notify_failed", socket=self.socket_path, error=error)
