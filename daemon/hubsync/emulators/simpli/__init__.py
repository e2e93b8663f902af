"""Stand-ins for the five Simpli services hubsync calls, as real HTTP servers on loopback.

Each stand-in follows ``simpli-api.md``: same paths, bodies, error envelope and validation (at
least as strict as the real services), deterministic keyword logic, and knobs for the hard
parts (``latency_s``, ``inject`` for error statuses, ``override`` for malformed answers).

    with SimpliStandIns(api_key="k") as stand_ins:
        config_urls = stand_ins.urls          # {"triage": "http://127.0.0.1:PORT", ...}
        stand_ins.sentiment.inject("/analyze", 503, times=2)
        ...
        assert stand_ins.triage.count("/classify") == 1
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from hubsync.emulators.simpli.base import RecordedCall, StandIn
from hubsync.emulators.simpli.kb import KBStandIn
from hubsync.emulators.simpli.qa import QAStandIn
from hubsync.emulators.simpli.reply import ReplyStandIn
from hubsync.emulators.simpli.sentiment import SentimentStandIn
from hubsync.emulators.simpli.triage import TriageStandIn

__all__ = [
    "KBStandIn",
    "QAStandIn",
    "RecordedCall",
    "ReplyStandIn",
    "SentimentStandIn",
    "SimpliStandIns",
    "StandIn",
    "TriageStandIn",
]


class SimpliStandIns:
    """All five stand-ins, sharing one ``api_key`` and ``latency_s``, each on its own port."""

    def __init__(self, api_key: str | None = None, latency_s: float = 0.0) -> None:
        self.triage = TriageStandIn(api_key=api_key, latency_s=latency_s)
        self.reply = ReplyStandIn(api_key=api_key, latency_s=latency_s)
        self.sentiment = SentimentStandIn(api_key=api_key, latency_s=latency_s)
        self.qa = QAStandIn(api_key=api_key, latency_s=latency_s)
        self.kb = KBStandIn(api_key=api_key, latency_s=latency_s)

    @property
    def services(self) -> dict[str, StandIn]:
        """The stand-ins by service name."""
        return {
            "triage": self.triage,
            "reply": self.reply,
            "sentiment": self.sentiment,
            "qa": self.qa,
            "kb": self.kb,
        }

    @property
    def urls(self) -> dict[str, str]:
        """Each service's base URL by name (the stand-ins must have been started)."""
        return {name: stand_in.base_url for name, stand_in in self.services.items()}

    def start(self) -> Self:
        """Start all five; if one fails to start, stop the others and re-raise."""
        try:
            for stand_in in self.services.values():
                stand_in.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop all five (stopping a stand-in that is not running does nothing)."""
        for stand_in in self.services.values():
            stand_in.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
