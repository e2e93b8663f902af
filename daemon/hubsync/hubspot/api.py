"""HubSpot calls hubsync makes, each returning typed records.

``HubSpotHTTP`` (one session, the rate budget, retries, typed errors) does the transport;
this module knows paths, bodies and shapes (``../shared/docs/hubspot-api.md``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hubsync import errors
from hubsync.hubspot.http import HubSpotHTTP
from hubsync.hubspot.records import (
    TICKET_PROPERTIES,
    Note,
    Owner,
    Pipeline,
    SearchPage,
    Ticket,
)

NOTE_TO_TICKET = 228
NOTE_TO_CONTACT = 202
BATCH_MAX = 100


class HubSpotAPI:
    """The HubSpot endpoints of one portal."""

    def __init__(self, http: HubSpotHTTP) -> None:
        self.http = http

    # --- tickets ---------------------------------------------------------------------------

    def search_tickets(self, *, since_ms: int, limit: int, after: str | None,
                       until_ms: int | None = None, pipelines: Sequence[str] = ()
                       ) -> SearchPage:
        """Tickets modified in ``[since_ms, until_ms)``, oldest modification first."""
        filters: list[dict[str, Any]] = [
            {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since_ms)}]
        if until_ms is not None:
            filters.append({"propertyName": "hs_lastmodifieddate", "operator": "LT",
                            "value": str(until_ms)})
        if pipelines:
            filters.append({"propertyName": "hs_pipeline", "operator": "IN",
                            "values": list(pipelines)})
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": list(TICKET_PROPERTIES),
            "limit": limit,
        }
        if after is not None:
            body["after"] = after
        return SearchPage.from_api(self.http.search("/crm/v3/objects/tickets/search", body))

    def ticket(self, ticket_id: str) -> Ticket:
        raw = self.http.get(f"/crm/v3/objects/tickets/{ticket_id}",
                            {"properties": ",".join(TICKET_PROPERTIES)})
        return Ticket.from_api(raw)

    def ticket_priorities(self, ticket_ids: Sequence[str]) -> dict[str, str | None]:
        """Current ``hs_ticket_priority`` of up to 100 tickets (batch read, any order)."""
        assert 0 < len(ticket_ids) <= BATCH_MAX
        raw = self.http.post("/crm/v3/objects/tickets/batch/read", {
            "inputs": [{"id": tid} for tid in ticket_ids], "properties": ["hs_ticket_priority"],
        }, idempotent=True) or {}
        return {str(r["id"]): (r.get("properties") or {}).get("hs_ticket_priority") or None
                for r in raw.get("results") or [] if isinstance(r, dict) and "id" in r}

    def contact_exists(self, contact_id: str) -> bool:
        """Whether a conversations ``associatedContactId`` is a CRM contact (not a visitor)."""
        if not contact_id.isdigit():
            return False
        try:
            self.http.get(f"/crm/v3/objects/contacts/{contact_id}")
        except errors.HubSpotNotFound:
            return False
        return True

    def batch_update(self, object_type: str, updates: Mapping[str, Mapping[str, str]]) -> None:
        """Set properties on up to 100 objects in one call (atomic at HubSpot's side)."""
        assert 0 < len(updates) <= BATCH_MAX
        inputs = [{"id": oid, "properties": dict(props)} for oid, props in updates.items()]
        self.http.post(f"/crm/v3/objects/{object_type}/batch/update", {"inputs": inputs},
                       idempotent=True)

    def update(self, object_type: str, object_id: str, properties: Mapping[str, str]) -> None:
        self.http.patch(f"/crm/v3/objects/{object_type}/{object_id}",
                        {"properties": dict(properties)})

    # --- owners, properties, pipelines -----------------------------------------------------

    def owners(self) -> list[Owner]:
        """Every active owner."""
        return [Owner.from_api(raw) for raw in self._paged("/crm/v3/owners", {"limit": 100})]

    def property_options(self, object_type: str, name: str) -> set[str]:
        raw = self.http.get(f"/crm/v3/properties/{object_type}/{name}")
        return {str(o["value"]) for o in raw.get("options") or [] if isinstance(o, dict)
                and "value" in o and not o.get("hidden")}

    def pipelines(self) -> list[Pipeline]:
        raw = self.http.get("/crm/v3/pipelines/tickets")
        return [Pipeline.from_api(p) for p in raw.get("results") or []]

    # --- notes -----------------------------------------------------------------------------

    def create_notes(self, inputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Batch-create notes with inline associations. Never retried: see writeback."""
        assert 0 < len(inputs) <= BATCH_MAX
        answer = self.http.post("/crm/v3/objects/notes/batch/create",
                                {"inputs": list(inputs)}, idempotent=False)
        return answer if isinstance(answer, dict) else {}

    def note_ids_for(self, object_type: str, object_id: str) -> list[str]:
        """Ids of the notes associated with an object (v4 associations, paged)."""
        return [str(item["toObjectId"]) for item in self._paged(
            f"/crm/v4/objects/{object_type}/{object_id}/associations/notes", {"limit": 500})]

    def read_notes(self, note_ids: Sequence[str]) -> list[Note]:
        notes: list[Note] = []
        for start in range(0, len(note_ids), BATCH_MAX):
            chunk = note_ids[start:start + BATCH_MAX]
            raw = self.http.post("/crm/v3/objects/notes/batch/read", {
                "inputs": [{"id": nid} for nid in chunk], "properties": ["hs_note_body"],
            }, idempotent=True)
            notes.extend(Note.from_api(n) for n in (raw or {}).get("results") or [])
        return notes

    # --- paging ----------------------------------------------------------------------------

    def _paged(self, path: str, params: dict[str, Any]) -> Iterator[Any]:
        """Follow ``paging.next.after`` until it is absent (never stop on page size)."""
        after: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if after is not None:
                query["after"] = after
            raw = self.http.get(path, query) or {}
            yield from raw.get("results") or []
            after = ((raw.get("paging") or {}).get("next") or {}).get("after")
            if after is None or after in seen:   # a page that does not advance ends paging
                return
            seen.add(str(after))
