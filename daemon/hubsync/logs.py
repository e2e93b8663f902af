"""structlog set-up: JSON lines under systemd, readable console output on a terminal.

The last processor before rendering scrubs secrets: values of keys that look like
credentials, HubSpot private-app tokens and Bearer headers anywhere in a string.
Tracebacks are rendered without local variables (they could hold the token).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"token|authorization|secret|password|api_key|apikey|cookie", re.I)
_SECRET_TEXT = re.compile(r"pat-[a-z]{2}\d-[0-9a-f-]{20,}|Bearer\s+\S+", re.I)
REDACTED = "[redacted]"


def scrub_text(text: str) -> str:
    return _SECRET_TEXT.sub(REDACTED, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else _scrub(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]
           ) -> dict[str, Any]:
    """structlog processor: no secret leaves through a log line."""
    return {k: (REDACTED if _SECRET_KEYS.search(k) and k != "event" else _scrub(v))
            for k, v in event_dict.items()}


def configure(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    stream = stream or sys.stdout
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        exc = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False))
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        exc = structlog.processors.format_exc_info
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            exc,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
