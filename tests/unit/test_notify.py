"""ops.notify: sd_notify datagrams reach a real AF_UNIX socket; without one, nothing happens."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hubsync.ops import notify


def _receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2.0)
    return sock


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A datagram socket bound to a file, as systemd's $NOTIFY_SOCKET is."""
    path = str(tmp_path / "n.sock")
    with _receiver(path) as sock:
        yield path, sock


class TestMessages:
    @pytest.mark.parametrize(("send", "expected"), [
        (notify.Notifier.ready, b"READY=1"),
        (notify.Notifier.stopping, b"STOPPING=1"),
        (notify.Notifier.watchdog, b"WATCHDOG=1"),
        (lambda n: n.status("cycle ok: 3 events"), b"STATUS=cycle ok: 3 events"),
    ])
    def test_each_call_sends_one_datagram(
            self, listener: tuple[str, socket.socket],
            send: Callable[[notify.Notifier], bool], expected: bytes) -> None:
        """Each call sends its sd_notify assignment as one datagram."""
        path, sock = listener
        assert send(notify.Notifier(path, env={})) is True
        assert sock.recv(4096) == expected

    def test_status_is_one_line_without_tokens(self, listener: tuple[str, socket.socket]) -> None:
        """A newline cannot start a second assignment, and token-like text is redacted."""
        path, sock = listener
        notify.Notifier(path, env={}).status("failed\nREADY=1 pat-na1-0123456789abcdef0123456789")
        assert sock.recv(4096) == b"STATUS=failed READY=1 [redacted]"

    def test_abstract_namespace_socket(self) -> None:
        """``@name`` addresses the abstract socket ``\\0name``."""
        name = f"hubsync-test-{uuid.uuid4().hex}"
        with _receiver("\0" + name) as sock:
            assert notify.Notifier("@" + name, env={}).ready()
            assert sock.recv(4096) == b"READY=1"

    def test_socket_path_defaults_to_notify_socket(
            self, listener: tuple[str, socket.socket]) -> None:
        """Without an explicit path, $NOTIFY_SOCKET is used."""
        path, sock = listener
        notifier = notify.Notifier(env={"NOTIFY_SOCKET": path})
        assert notifier.enabled and notifier.watchdog()
        assert sock.recv(4096) == b"WATCHDOG=1"


class TestWithoutSystemd:
    def test_no_socket_is_a_silent_no_op(self) -> None:
        """Outside systemd every call returns False and logs nothing."""
        notifier = notify.Notifier(env={})
        with capture_logs() as logs:
            sent = [notifier.ready(), notifier.status("x"), notifier.watchdog(),
                    notifier.stopping()]
        assert (notifier.enabled, sent, logs) == (False, [False] * 4, [])

    def test_failure_never_raises_and_is_logged_once(self, tmp_path: Path) -> None:
        """A socket that is gone costs one ``notify_failed`` line, not one per call."""
        notifier = notify.Notifier(str(tmp_path / "gone.sock"), env={})
        with capture_logs() as logs:
            assert not notifier.ready()
            assert not notifier.watchdog()
        assert [e["event"] for e in logs] == ["notify_failed"]

    def test_unsupported_address_is_logged_and_disabled(self) -> None:
        """An address that is neither /path nor @name disables notifications."""
        with capture_logs() as logs:
            notifier = notify.Notifier("vsock:2:1234", env={})
            assert not notifier.ready()
        assert not notifier.enabled
        assert [e["event"] for e in logs] == ["notify_failed"]


class TestWatchdogInterval:
    @pytest.mark.parametrize(("env", "expected"), [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ])
    def test_half_of_watchdog_usec_when_ours(self, env: dict[str, str],
                                             expected: float | None) -> None:
        """Half the timeout, only when WATCHDOG_PID is unset or is this process."""
        assert notify.Notifier(env=env).watchdog_interval_s() == expected
