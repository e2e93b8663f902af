"""Owners: the people a ticket's ``hubspot_owner_id`` may name (``docs/hubspot-api.md`` §8).

An owner's ``id`` is what ``hubspot_owner_id`` holds; ``userId`` is the HubSpot user id, which
conversation actors (``A-<userId>``) carry. Archived owners report ``userId: null`` and keep
``userIdIncludingInactive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hubsync import clock


@dataclass(frozen=True)
class Owner:
    """One owner of the portal."""

    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    archived: bool
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        stamp = clock.iso_ms(self.created_at)
        return {
            "id": self.id,
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": None if self.archived else self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": self.archived,
            "teams": [],
        }


def find(owners: list[Owner], key: str, *, id_property: str, archived: bool) -> Owner | None:
    """The owner whose ``id`` (or ``userId``) is ``key`` among the active or the archived ones."""
    for owner in owners:
        if owner.archived != archived:
            continue
        candidate = owner.id if id_property == "id" else str(owner.user_id)
        if candidate == key:
            return owner
    return None
