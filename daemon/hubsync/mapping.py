"""Pure mappings between Simpli's answers and HubSpot's property values. No I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

CATEGORIES = ("billing", "technical", "account", "feature_request", "general")
URGENCIES = ("low", "medium", "high", "critical")


def category(raw: str) -> str:
    """Simpli's category as a HubSpot ``ai_category`` option; unknown becomes ``general``."""
    value = raw.strip().lower()
    return value if value in CATEGORIES else "general"


def confidence_percent(confidence: float) -> str:
    """0..1 → ``"0"``..``"100"`` (HubSpot number properties are strings)."""
    if not 0.0 <= confidence <= 1.0:
        raise ValueError("confidence must be within 0..1")
    return str(round(confidence * 100))


def priority(urgency: str, priority_map: Mapping[Any, str], options: Collection[str]) -> str:
    """The ``hs_ticket_priority`` value for an urgency, one the portal actually offers.

    A mapped value the portal lacks (URGENT on older portals) falls back to HIGH; when even
    that is missing, to the highest of the default options the portal has.
    """
    wanted = priority_map.get(urgency, "MEDIUM")
    if not options or wanted in options:
        return wanted
    for fallback in ("HIGH", "MEDIUM", "LOW"):
        if fallback in options:
            return fallback
    return wanted


def owner_for(agent: str | None, owner_map: Mapping[str, str],
              active_owner_ids: Collection[str]) -> str | None:
    """The HubSpot owner id for a Simpli agent: mapped and active, else None."""
    if not agent:
        return None
    owner = owner_map.get(agent)
    if owner is None or owner not in active_owner_ids:
        return None
    return owner


def content_hash(subject: str, content: str) -> str:
    """What a customer-visible edit changes; HubSpot-internal property churn does not."""
    digest = hashlib.sha256()
    digest.update(subject.encode())
    digest.update(b"\x00")
    digest.update(content.encode())
    return digest.hexdigest()


def op_key(portal: str, target: str, event_key: str, op_kind: str, version: str = "1") -> str:
    """A deterministic key for one HubSpot write: a replay finds the same intent."""
    raw = "|".join((portal, target, event_key, op_kind, version))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


PRIORITY_ORDER = ("LOW", "MEDIUM", "HIGH", "URGENT")


def priority_rank(value: str | None) -> int:
    """LOW < MEDIUM < HIGH < URGENT; unset or unknown ranks below all."""
    return PRIORITY_ORDER.index(value) if value in PRIORITY_ORDER else -1
