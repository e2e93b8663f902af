"""The exceptions hubsync raises. One base class; each docstring is the default message.

``Transient`` errors are worth retrying later (rate limits, 5xx, connection trouble);
``Permanent`` errors fail the one event or write they belong to, with the reason recorded.
Foreign errors (requests, SQLAlchemy) are translated at the edge, never leaked upwards.
"""

from __future__ import annotations

from typing import Any


class HubsyncError(Exception):
    """hubsync failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)


class ConfigError(HubsyncError):
    """The configuration is not valid."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = [f"{path}: {why}" for path, why in problems]
        super().__init__("invalid configuration:\n  " + "\n  ".join(lines))


class Transient(HubsyncError):
    """A call failed in a way that may succeed later."""


class Permanent(HubsyncError):
    """A call failed in a way that retrying will not fix."""


class MissingProperties(HubsyncError):
    """HubSpot lacks custom properties hubsync writes; run `hubsync setup`."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__("HubSpot is missing the custom properties " + ", ".join(missing)
                         + "; run `hubsync setup` (or create them by hand) — nothing is "
                           "written until they exist")


class LedgerLocked(HubsyncError):
    """Another hubsync process holds the ledger lock."""


# --- HubSpot -------------------------------------------------------------------------------


class HubSpotError(HubsyncError):
    """HubSpot answered with an error."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.category = category
        self.correlation_id = correlation_id
        self.body = body or {}
        detail = message or self.__doc__ or ""
        if status is not None:
            detail = f"HTTP {status} {category or ''}: {detail}".replace("  ", " ")
        if correlation_id:
            detail = f"{detail} (correlationId={correlation_id})"
        super().__init__(detail)


class HubSpotTransient(HubSpotError, Transient):
    """HubSpot failed in a way that may succeed later (429, 5xx, 423)."""


class HubSpotRateLimited(HubSpotTransient):
    """HubSpot rate limit reached."""

    def __init__(self, *args: Any, retry_after_s: float | None = None, policy: str | None = None,
                 **kwargs: Any) -> None:
        self.retry_after_s = retry_after_s
        self.policy = policy
        super().__init__(*args, **kwargs)


class HubSpotUnavailable(HubSpotTransient):
    """HubSpot could not be reached or did not answer in time."""


class HubSpotOutcomeUnknown(HubSpotTransient):
    """The request may or may not have been applied (timeout, reset or 5xx after sending)."""


class HubSpotPermanent(HubSpotError, Permanent):
    """HubSpot rejected the request (4xx other than 408/423/429)."""


class HubSpotAuthError(HubSpotPermanent):
    """HubSpot rejected the token (401, or 530 for a malformed one)."""


class HubSpotNotFound(HubSpotPermanent):
    """HubSpot has no such object."""


class HubSpotValidationError(HubSpotPermanent):
    """HubSpot rejected the request body."""


# --- Simpli --------------------------------------------------------------------------------


class SimpliError(HubsyncError):
    """A Simpli service answered with an error."""

    def __init__(self, message: str | None = None, *, service: str = "", status: int | None = None,
                 error_code: str | None = None, request_id: str | None = None) -> None:
        self.service = service
        self.status = status
        self.error_code = error_code
        self.request_id = request_id
        detail = message or self.__doc__ or ""
        prefix = f"simpli {service}" if service else "simpli"
        if status is not None:
            prefix = f"{prefix} HTTP {status}"
        if error_code:
            prefix = f"{prefix} {error_code}"
        text = f"{prefix}: {detail}"
        if request_id:
            text = f"{text} (request_id={request_id})"
        super().__init__(text)


class SimpliTransient(SimpliError, Transient):
    """A Simpli service failed in a way that may succeed later (408, 429, 5xx, connection)."""


class SimpliPermanent(SimpliError, Permanent):
    """A Simpli service rejected the request (4xx other than 408/429)."""


class BadAIAnswer(Permanent):
    """A Simpli service answered with something hubsync will not write to HubSpot."""
