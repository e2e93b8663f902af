"""CRM object records (tickets, contacts, notes) and how they are rendered in responses.

Each record keeps its current properties plus a short history of versions, so that search can
serve the object as it was ``search_lag_s`` ago (the search index lags behind writes).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Properties = dict[str, str | None]


@dataclass(frozen=True)
class ObjectKind:
    """What differs between object types: timestamps' property names, defaults, requirements."""

    name: str
    label: str
    created_prop: str
    modified_prop: str
    default_props: tuple[str, ...]
    required_on_create: tuple[str, ...]
    extra_id_props: tuple[str, ...] = ()

    @property
    def always_props(self) -> tuple[str, ...]:
        """Returned on every read, even when ``properties`` names others."""
        return (self.created_prop, self.modified_prop, "hs_object_id")

    @property
    def maintained_props(self) -> frozenset[str]:
        """Set only by the emulator itself: never by a write, a seed or a touch."""
        return frozenset((*self.always_props, *self.extra_id_props))


TICKETS = ObjectKind(
    name="tickets",
    label="TICKET",
    created_prop="createdate",
    modified_prop="hs_lastmodifieddate",
    default_props=(
        "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
        "hs_ticket_priority", "subject", "createdate", "hs_lastmodifieddate", "hs_object_id",
    ),
    required_on_create=("subject", "hs_pipeline_stage"),
    extra_id_props=("hs_ticket_id",),
)  # fmt: skip
CONTACTS = ObjectKind(
    name="contacts",
    label="CONTACT",
    created_prop="createdate",
    modified_prop="lastmodifieddate",
    default_props=(
        "firstname", "lastname", "email", "lastmodifieddate", "hs_object_id", "createdate",
    ),
    required_on_create=(),
)  # fmt: skip
NOTES = ObjectKind(
    name="notes",
    label="NOTE",
    created_prop="hs_createdate",
    modified_prop="hs_lastmodifieddate",
    default_props=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    required_on_create=("hs_timestamp",),
)
KINDS: dict[str, ObjectKind] = {kind.name: kind for kind in (TICKETS, CONTACTS, NOTES)}


@dataclass(frozen=True)
class Version:
    """The properties an object had from ``written_at`` until its next write."""

    written_at: datetime
    properties: Properties


@dataclass
class CrmObject:
    """One stored object. ``properties`` is current; ``versions`` feeds the lagging index."""

    kind: ObjectKind
    id: str
    properties: Properties
    versions: list[Version] = field(default_factory=list)

    def record_version(self, written_at: datetime, lag: timedelta) -> None:
        """Remember the current properties as written at ``written_at``; forget unneeded ones.

        A version is kept while it, or a later one, may still be the newest visible to the
        index; everything older than the newest version already past the lag is dropped.
        """
        self.versions.append(Version(written_at, dict(self.properties)))
        horizon = written_at - lag
        settled = [i for i, v in enumerate(self.versions) if v.written_at <= horizon]
        if settled:
            del self.versions[: settled[-1]]

    def indexed(self, now: datetime, lag: timedelta) -> Properties | None:
        """The properties the search index holds at ``now``, or None if not indexed yet."""
        horizon = now - lag
        visible = [v for v in self.versions if v.written_at <= horizon]
        return dict(visible[-1].properties) if visible else None


def render(
    kind: ObjectKind,
    object_id: str,
    properties: Mapping[str, str | None],
    names: Iterable[str] | None,
    known: Collection[str],
) -> dict[str, Any]:
    """The ``SimplePublicObject`` JSON for an object.

    ``names`` None means the kind's default properties. Requested names that are not defined
    properties are left out, as HubSpot does; defined ones without a value come back as null.
    """
    wanted = list(kind.default_props if names is None else names)
    wanted += [name for name in kind.always_props if name not in wanted]
    shown = {name: properties.get(name) for name in wanted if name in known}
    return {
        "id": object_id,
        "properties": shown,
        "createdAt": properties.get(kind.created_prop),
        "updatedAt": properties.get(kind.modified_prop),
        "archived": False,
    }
