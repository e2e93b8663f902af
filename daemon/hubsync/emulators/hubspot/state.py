"""The emulated portal's data: objects, owners, pipelines, properties, associations.

Everything lives in memory behind one ``threading.RLock``; every public method takes it, so a
method is atomic with respect to the HTTP handler threads. Timestamps come from the injected
clock. Every successful write to an object sets its modified time to now, whether or not a
value changed; associating objects changes no modified time.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hubsync import clock as clocks
from hubsync.emulators.hubspot import associations, defaults, errors
from hubsync.emulators.hubspot.associations import Link
from hubsync.emulators.hubspot.objects import KINDS, CrmObject, ObjectKind, Properties, render
from hubsync.emulators.hubspot.owners import Owner
from hubsync.emulators.hubspot.pipelines import SUPPORT_PIPELINE, Pipeline
from hubsync.emulators.hubspot.properties import PropertyCatalog
from hubsync.emulators.hubspot.values import WriteCheck

_FIRST_ID = 10_000_001


@dataclass(frozen=True)
class CreateInput:
    """One object to create: raw property values and the raw inline ``associations`` list."""

    properties: Mapping[str, Any]
    associations: Any = None
    trace_id: str | None = None


@dataclass(frozen=True)
class CreateFailure:
    """An input of a partial batch create that was rejected."""

    trace_id: str
    error: errors.ApiError


class HubSpotState:
    """All of the portal's data. Methods raise ``errors.ApiError`` for what HTTP answers 4xx."""

    def __init__(
        self, clock: clocks.Clock, *, search_lag_s: float, custom_properties: bool
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._lag = timedelta(seconds=search_lag_s)
        now = clock.now()
        self.catalog: PropertyCatalog = defaults.catalog(now, custom_properties=custom_properties)
        self.owners: list[Owner] = defaults.owners(now)
        self.pipelines: dict[str, Pipeline] = {SUPPORT_PIPELINE.id: SUPPORT_PIPELINE}
        self._objects: dict[str, dict[str, CrmObject]] = {name: {} for name in KINDS}
        self._links = associations.AssociationStore()
        self._ids = itertools.count(_FIRST_ID)

    # --- reads -----------------------------------------------------------------------------

    def read(
        self,
        object_type: str,
        key: str,
        names: Iterable[str] | None,
        id_property: str | None = None,
    ) -> dict[str, Any]:
        """One object rendered with ``names`` (None: the defaults); 404 if it does not exist."""
        with self.lock:
            found = self._find(object_type, key, id_property)
            if found is None:
                raise _missing(object_type, key)
            return self._render(found, names)

    def read_many(
        self, object_type: str, ids: Sequence[str], names: Iterable[str] | None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Rendered objects that exist (no duplicates) and the ids that do not."""
        with self.lock:
            store = self._store(object_type)
            unique = list(dict.fromkeys(ids))
            found = [self._render(store[i], names) for i in unique if i in store]
            return found, [i for i in unique if i not in store]

    def page(
        self, object_type: str, offset: int, limit: int, names: Iterable[str] | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of objects in creation order, and whether more follow."""
        with self.lock:
            every = list(self._store(object_type).values())
            chosen = every[offset : offset + limit]
            return [self._render(o, names) for o in chosen], offset + limit < len(every)

    def indexed_rows(self, object_type: str) -> list[tuple[str, Properties]]:
        """What the (lagging) search index holds, in creation order."""
        with self.lock:
            now = self.clock.now()
            rows = []
            for obj in self._store(object_type).values():
                seen = obj.indexed(now, self._lag)
                if seen is not None:
                    rows.append((obj.id, seen))
            return rows

    def render_row(
        self,
        object_type: str,
        object_id: str,
        properties: Mapping[str, str | None],
        names: Iterable[str] | None,
    ) -> dict[str, Any]:
        """Render an indexed row the way reads render objects."""
        with self.lock:
            return render(
                KINDS[object_type], object_id, properties, names, self._known(object_type)
            )

    def properties_of(self, object_type: str, object_id: str) -> Properties:
        """Every current property value of an object (inspection helper); KeyError if missing."""
        with self.lock:
            obj = self._store(object_type).get(object_id)
            if obj is None:
                raise KeyError(f"no {object_type} with id {object_id}")
            known = self._known(object_type)
            return {name: obj.properties.get(name) for name in known}

    def ids(self, object_type: str) -> list[str]:
        with self.lock:
            return list(self._store(object_type))

    def linked(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Ids associated with an object, without checking that it exists (for search)."""
        with self.lock:
            return self._links.targets(from_type, from_id, to_type)

    def require(self, object_type: str, object_id: str) -> None:
        """404 unless the object exists."""
        with self.lock:
            if object_id not in self._store(object_type):
                raise _missing(object_type, object_id)

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Ids associated with an object; 404 if the object does not exist."""
        with self.lock:
            self.require(from_type, from_id)
            self._store(to_type)
            return self._links.targets(from_type, from_id, to_type)

    # --- writes ----------------------------------------------------------------------------

    def create(self, object_type: str, item: CreateInput) -> dict[str, Any]:
        """Create one object (with its inline associations) and render what was written."""
        with self.lock:
            kind = KINDS[object_type]
            values, links = self._prepare_create(kind, item)
            return self._insert(kind, values, links, self.clock.now())

    def create_batch(
        self, object_type: str, items: Sequence[CreateInput]
    ) -> tuple[list[dict[str, Any]], list[CreateFailure]]:
        """Create many objects in input order.

        When every input carries a distinct ``trace_id`` the invalid inputs fail one by one (the
        207 case); otherwise the first invalid input rejects the batch and nothing is created.
        """
        with self.lock:
            kind = KINDS[object_type]
            trace_ids = [item.trace_id for item in items]
            partial = None not in trace_ids and len(set(trace_ids)) == len(trace_ids)
            prepared: list[tuple[Properties, list[Link]] | errors.ApiError] = []
            for item in items:
                try:
                    prepared.append(self._prepare_create(kind, item))
                except errors.ApiError as exc:
                    if not partial:
                        raise
                    prepared.append(exc)
            now = self.clock.now()
            results, failures = [], []
            for item, outcome in zip(items, prepared, strict=True):
                if isinstance(outcome, errors.ApiError):
                    failures.append(CreateFailure(item.trace_id or "", outcome))
                else:
                    results.append(self._insert(kind, *outcome, now))
            return results, failures

    def update(
        self, object_type: str, key: str, raw: Mapping[str, Any], id_property: str | None = None
    ) -> dict[str, Any]:
        """PATCH one object; renders the written properties."""
        with self.lock:
            obj = self._find(object_type, key, id_property)
            if obj is None:
                raise _missing(object_type, key)
            values = self._checked(obj.kind, raw, obj)
            self._apply(obj, values, self.clock.now())
            return self._render(obj, list(values))

    def update_batch(
        self, object_type: str, inputs: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Update many objects atomically: any bad input rejects the batch before any write."""
        with self.lock:
            ids = [object_id for object_id, _ in inputs]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise errors.validation(f"Duplicate IDs found in batch input: {duplicates}")
            store = self._store(object_type)
            unknown = [i for i in ids if i not in store]
            if unknown:
                raise errors.ApiError(
                    404, "OBJECT_NOT_FOUND",
                    f"Could not update some {KINDS[object_type].label} objects, they may be "
                    "deleted or not exist. Check that ids are valid.",
                    context={"ids": unknown},
                )  # fmt: skip
            checked = [(store[i], self._checked(store[i].kind, raw, store[i])) for i, raw in inputs]
            now = self.clock.now()
            for obj, values in checked:
                self._apply(obj, values, now)
            return [self._render(obj, list(values)) for obj, values in checked]

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Associate two existing objects both ways; 404 for a missing source, 400 target."""
        with self.lock:
            self.require(from_type, from_id)
            associations.type_id(from_type, to_type)
            self._check_links(from_type, [Link(to_type, to_id)])
            self._links.add(from_type, from_id, Link(to_type, to_id))

    # --- seeding and HubSpot-side changes --------------------------------------------------

    def seed(self, object_type: str, raw: Mapping[str, Any], created_at: datetime | None) -> str:
        """Create an object as HubSpot's UI would (read-only values allowed); returns its id."""
        with self.lock:
            kind = KINDS[object_type]
            raw = dict(raw)
            if kind is KINDS["tickets"]:
                raw.setdefault("hs_pipeline", "0")
                raw.setdefault("hs_pipeline_stage", "1")
            values = self._checked(kind, raw, None, allow_read_only=True)
            rendered = self._insert(kind, values, (), created_at or self.clock.now())
            return str(rendered["id"])

    def touch(self, object_type: str, object_id: str, raw: Mapping[str, Any]) -> None:
        """A change made inside HubSpot: read-only values allowed, modified time moves."""
        with self.lock:
            obj = self._store(object_type).get(object_id)
            if obj is None:
                raise _missing(object_type, object_id)
            values = self._checked(obj.kind, raw, obj, allow_read_only=True)
            self._apply(obj, values, self.clock.now())

    def add_owner(self, owner: Owner) -> None:
        with self.lock:
            if any(existing.id == owner.id for existing in self.owners):
                raise ValueError(f"owner {owner.id} already exists")
            self.owners.append(owner)

    # --- internals -------------------------------------------------------------------------

    def _store(self, object_type: str) -> dict[str, CrmObject]:
        try:
            return self._objects[object_type]
        except KeyError:
            raise errors.not_found(f"Unknown object type {object_type}") from None

    def _known(self, object_type: str) -> set[str]:
        return {definition.name for definition in self.catalog.all(object_type)}

    def _render(self, obj: CrmObject, names: Iterable[str] | None) -> dict[str, Any]:
        return render(obj.kind, obj.id, obj.properties, names, self._known(obj.kind.name))

    def _find(self, object_type: str, key: str, id_property: str | None) -> CrmObject | None:
        store = self._store(object_type)
        if id_property in (None, "hs_object_id"):
            return store.get(key)
        if (object_type, id_property) != ("contacts", "email"):
            raise errors.validation(f"{id_property} is not a unique identifier property")
        wanted = key.lower()
        return next(
            (o for o in store.values() if (o.properties.get("email") or "").lower() == wanted),
            None,
        )

    def _checked(
        self,
        kind: ObjectKind,
        raw: Mapping[str, Any],
        obj: CrmObject | None,
        *,
        allow_read_only: bool = False,
    ) -> Properties:
        check = WriteCheck(
            self.catalog,
            frozenset(o.id for o in self.owners if not o.archived),
            self.pipelines,
        )
        current = obj.properties if obj is not None else None
        values, problems = check.check(kind, raw, current, allow_read_only=allow_read_only)
        if problems:
            raise errors.property_errors(problems)
        if kind.name == "contacts" and values.get("email"):
            self._check_email_free(values["email"] or "", obj)
        return values

    def _check_email_free(self, email: str, obj: CrmObject | None) -> None:
        holder = self._find("contacts", email, "email")
        if holder is not None and holder is not obj:
            raise errors.conflict(f"Contact already exists. Existing ID: {holder.id}")

    def _prepare_create(self, kind: ObjectKind, item: CreateInput) -> tuple[Properties, list[Link]]:
        """Checked values and associations of one create; ApiError if anything is invalid."""
        raw = dict(item.properties)
        if kind.name == "tickets":
            raw.setdefault("hs_pipeline", "0")
        values = self._checked(kind, raw, None)
        links = associations.parse_inline(kind.name, item.associations)
        self._check_links(kind.name, links)
        return values, links

    def _check_links(self, from_type: str, links: Iterable[Link]) -> None:
        for link in links:
            if link.to_id not in self._store(link.to_type):
                raise errors.validation(
                    f"Association target {link.to_type} {link.to_id} does not exist",
                    [errors.sub_error("Invalid association target", "INVALID_ASSOCIATION",
                                      toObjectId=[link.to_id])],
                )  # fmt: skip

    def _insert(
        self, kind: ObjectKind, values: Properties, links: Iterable[Link], now: datetime
    ) -> dict[str, Any]:
        object_id = str(next(self._ids))
        stamp = clocks.iso_ms(now)
        base: Properties = {kind.created_prop: stamp, "hs_object_id": object_id}
        base.update({name: object_id for name in kind.extra_id_props})
        obj = CrmObject(kind, object_id, base)
        self._store(kind.name)[object_id] = obj
        self._apply(obj, values, now)
        for link in links:
            self._links.add(kind.name, object_id, link)
        return self._render(obj, list(values))

    def _apply(self, obj: CrmObject, values: Properties, now: datetime) -> None:
        """Write values, keep HubSpot-maintained ones in step, and record a version."""
        stamp = clocks.iso_ms(now)
        if obj.kind.name == "tickets":
            obj.properties.update(self._stage_stamps(obj, values, stamp))
        obj.properties.update(values)
        obj.properties[obj.kind.modified_prop] = stamp
        obj.record_version(now, self._lag)

    def _stage_stamps(self, obj: CrmObject, values: Properties, stamp: str) -> Properties:
        """What a stage move stamps: entering a CLOSED stage sets ``closed_date`` and
        ``hs_last_closed_date``; leaving one for an OPEN stage sets ``hs_ticket_reopened_at``
        (``closed_date`` stays). Values written explicitly in the same write win."""
        if "hs_pipeline_stage" not in values:
            return {}
        before = self._ticket_state(
            obj.properties.get("hs_pipeline"), obj.properties.get("hs_pipeline_stage")
        )
        after = self._ticket_state(
            values.get("hs_pipeline") or obj.properties.get("hs_pipeline"),
            values["hs_pipeline_stage"],
        )
        if after == "CLOSED" and before != "CLOSED":
            return {"closed_date": stamp, "hs_last_closed_date": stamp}
        if after == "OPEN" and before == "CLOSED":
            return {"hs_ticket_reopened_at": stamp}
        return {}

    def _ticket_state(self, pipeline_id: str | None, stage_id: str | None) -> str | None:
        """The ``ticketState`` of a pipeline stage, or None if there is no such stage."""
        pipeline = self.pipelines.get(pipeline_id or "0")
        stage = None if pipeline is None else pipeline.stage(stage_id or "")
        return None if stage is None else stage.ticket_state


def _missing(object_type: str, key: str) -> errors.ApiError:
    label = KINDS[object_type].label if object_type in KINDS else object_type
    return errors.not_found(f"Object not found: {label} {key} does not exist")
