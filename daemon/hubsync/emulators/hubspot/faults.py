"""Injected faults: answers the emulator gives instead of (or after) doing the real work."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """One ``inject`` call; ``remaining`` counts down as requests consume it.

    ``after_commit`` False: answer ``status`` without executing the request (if ``status`` is
    None the request runs normally, only after ``delay_s``). ``after_commit`` True: execute,
    then answer ``status``, or drop the connection without an answer if ``status`` is None.
    """

    method: str
    path_pattern: re.Pattern[str]
    status: int | None
    remaining: int
    after_commit: bool
    delay_s: float
    body: dict[str, object] | None
    headers: dict[str, str]


class FaultBook:
    """Faults in the order injected; the oldest matching one with uses left wins."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.path_pattern.search(path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None
