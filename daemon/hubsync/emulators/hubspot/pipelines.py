"""Ticket pipelines and their stages (``docs/hubspot-api.md`` §7).

A stage's ``metadata.ticketState`` (``"OPEN"``/``"CLOSED"``) is how a client tells a closed ticket
from an open one. Default pipelines report ``createdAt`` as epoch 0, as HubSpot's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hubsync import clock

_EPOCH = clock.iso_ms(datetime(1970, 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class Stage:
    """One stage of a ticket pipeline."""

    id: str
    label: str
    display_order: int
    ticket_state: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": self.display_order,
            "metadata": {"ticketState": self.ticket_state},
            "archived": False,
            "createdAt": _EPOCH,
            "updatedAt": _EPOCH,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }


@dataclass(frozen=True)
class Pipeline:
    """A ticket pipeline."""

    id: str
    label: str
    display_order: int
    stages: tuple[Stage, ...]

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": self.display_order,
            "stages": [stage.to_json() for stage in self.stages],
            "archived": False,
            "createdAt": _EPOCH,
            "updatedAt": _EPOCH,
        }


SUPPORT_PIPELINE = Pipeline(
    id="0",
    label="Support Pipeline",
    display_order=0,
    stages=(
        Stage("1", "New", 0, "OPEN"),
        Stage("2", "Waiting on contact", 1, "OPEN"),
        Stage("3", "Waiting on us", 2, "OPEN"),
        Stage("4", "Closed", 3, "CLOSED"),
    ),
)
