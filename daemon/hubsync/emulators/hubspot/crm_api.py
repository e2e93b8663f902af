"""HTTP handlers for CRM objects: ``/crm/v3/objects/{tickets|contacts|notes}/...``.

Create, read, list, PATCH, batch read/update/create and search. Bodies are checked as strictly
as HubSpot's JSON binding: unknown fields are rejected. Batch read and batch update return their
results in an order different from the inputs' (reversed), since HubSpot does not promise input
order there; batch create keeps input order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hubsync import clock as clocks
from hubsync.emulators.hubspot import errors, routes, search
from hubsync.emulators.hubspot.objects import KINDS
from hubsync.emulators.hubspot.routes import Request, Response, Router
from hubsync.emulators.hubspot.state import CreateInput, HubSpotState

MAX_BATCH = 100
MAX_LIST_LIMIT = 100
_OBJECTS = "/crm/v3/objects/(?P<type>[^/]+)"


def register(router: Router, state: HubSpotState) -> None:
    """Add the object routes; batch and search paths come before ``/{id}``."""
    api = _ObjectsApi(state)
    router.add("POST", f"{_OBJECTS}/search", api.search)
    router.add("POST", f"{_OBJECTS}/batch/read", api.batch_read)
    router.add("POST", f"{_OBJECTS}/batch/update", api.batch_update)
    router.add("POST", f"{_OBJECTS}/batch/create", api.batch_create)
    router.add("GET", _OBJECTS, api.list)
    router.add("POST", _OBJECTS, api.create)
    router.add("GET", f"{_OBJECTS}/(?P<id>[^/]+)", api.read)
    router.add("PATCH", f"{_OBJECTS}/(?P<id>[^/]+)", api.update)


class _ObjectsApi:
    def __init__(self, state: HubSpotState) -> None:
        self._state = state

    def create(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        body = request.json_object()
        errors.reject_unknown_fields(
            body, {"properties", "associations"}, "SimplePublicObjectInputForCreate"
        )
        item = CreateInput(_properties(body), body.get("associations"))
        return Response(201, self._state.create(object_type, item))

    def read(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        names = request.list_param("properties")
        found = self._state.read(object_type, match["id"], names, request.param("idProperty"))
        return Response(200, found)

    def list(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        limit = request.int_param("limit", 10, MAX_LIST_LIMIT)
        after = request.int_param("after", 0, None, minimum=0)
        rows, more = self._state.page(object_type, after, limit, request.list_param("properties"))
        return Response(200, routes.paged({"results": rows}, after + limit if more else None))

    def update(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        body = request.json_object()
        errors.reject_unknown_fields(
            body, {"properties", "objectWriteTraceId"}, "SimplePublicObjectInput"
        )
        updated = self._state.update(
            object_type, match["id"], _properties(body), request.param("idProperty")
        )
        return Response(200, updated)

    def batch_read(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        body = request.json_object()
        errors.reject_unknown_fields(
            body, {"inputs", "properties", "propertiesWithHistory", "idProperty"}, "BatchRead"
        )
        if body.get("propertiesWithHistory"):
            raise errors.validation("propertiesWithHistory is not supported by this emulator")
        if body.get("idProperty", "hs_object_id") != "hs_object_id":
            raise errors.validation("batch/read supports only idProperty hs_object_id here")
        ids = [_input_id(item, {"id"}) for item in _inputs(body, allow_empty=True)]
        names = _names(body.get("properties"))
        started = self._now()
        found, missing = self._state.read_many(object_type, ids, names)
        result: dict[str, Any] = {"status": "COMPLETE", "results": found[::-1]}
        if missing:
            label = KINDS[object_type].label
            result["numErrors"] = 1
            result["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {label} objects, they may be deleted or not "
                    "exist. Check that ids are valid.",
                    "context": {"ids": missing},
                    "errors": [],
                }
            ]
        result.update(startedAt=started, completedAt=self._now())
        return Response(207 if missing else 200, result)

    def batch_update(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        body = request.json_object()
        errors.reject_unknown_fields(body, {"inputs"}, "BatchInputSimplePublicObjectBatchInput")
        inputs = []
        for item in _inputs(body):
            object_id = _input_id(item, {"id", "properties", "objectWriteTraceId", "idProperty"})
            if item.get("idProperty", "hs_object_id") != "hs_object_id":
                raise errors.validation("batch/update supports only idProperty hs_object_id here")
            inputs.append((object_id, _properties(item)))
        started = self._now()
        results = self._state.update_batch(object_type, inputs)
        return Response(
            200,
            {"status": "COMPLETE", "results": results[::-1], "startedAt": started,
             "completedAt": self._now()},
        )  # fmt: skip

    def batch_create(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        body = request.json_object()
        errors.reject_unknown_fields(body, {"inputs"}, "BatchInputSimplePublicObjectInputForCreate")
        items = [_create_item(item) for item in _inputs(body)]
        started = self._now()
        results, failures = self._state.create_batch(object_type, items)
        result: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if failures:
            result["numErrors"] = len(failures)
            result["errors"] = [_failure_entry(f.trace_id, f.error) for f in failures]
        result.update(startedAt=started, completedAt=self._now())
        return Response(207 if failures else 201, result)

    def search(self, request: Request, match: re.Match[str]) -> Response:
        object_type = _object_type(match)
        if len(request.raw_body) > search.MAX_QUERY_CHARS:
            raise errors.validation(
                f"Search request bodies are limited to {search.MAX_QUERY_CHARS} characters"
            )
        parsed = search.parse_request(request.json_object())
        with self._state.lock:
            types = {d.name: d.type for d in self._state.catalog.all(object_type)}
        search.check_names(parsed, types)
        rows = self._state.indexed_rows(object_type)

        def associated(object_id: str, to_type: str) -> list[str]:
            return self._state.linked(object_type, object_id, to_type)

        page = search.run(parsed, object_type, rows, types, associated)
        results = [
            self._state.render_row(object_type, object_id, props, parsed.properties)
            for object_id, props in page.rows
        ]
        return Response(
            200, routes.paged({"total": page.total, "results": results}, page.next_after)
        )

    def _now(self) -> str:
        return clocks.iso_ms(self._state.clock.now())


def _object_type(match: re.Match[str]) -> str:
    object_type = match["type"]
    if object_type not in KINDS:
        raise errors.not_found(f"Unknown object type {object_type}")
    return object_type


def _properties(body: Mapping[str, Any]) -> dict[str, Any]:
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise errors.validation("'properties' is required and must be an object")
    return properties


def _inputs(body: Mapping[str, Any], *, allow_empty: bool = False) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(item, dict) for item in inputs):
        raise errors.validation("'inputs' is required and must be a list of objects")
    if not inputs and not allow_empty:
        raise errors.validation("'inputs' must not be empty")
    if len(inputs) > MAX_BATCH:
        raise errors.validation(
            f"Batch operations are limited to {MAX_BATCH} inputs; got {len(inputs)}"
        )
    return inputs


def _input_id(item: Mapping[str, Any], allowed: set[str]) -> str:
    errors.reject_unknown_fields(item, allowed, "batch input")
    object_id = item.get("id")
    if isinstance(object_id, bool) or not isinstance(object_id, str | int) or object_id == "":
        raise errors.validation("Each input needs an 'id'")
    return str(object_id)


def _create_item(item: Mapping[str, Any]) -> CreateInput:
    errors.reject_unknown_fields(
        item, {"properties", "associations", "objectWriteTraceId"}, "create input"
    )
    trace_id = item.get("objectWriteTraceId")
    if trace_id is not None and not isinstance(trace_id, str):
        raise errors.validation("objectWriteTraceId must be a string")
    return CreateInput(_properties(item), item.get("associations"), trace_id)


def _failure_entry(trace_id: str, error: errors.ApiError) -> dict[str, Any]:
    entry = error.body()
    entry.pop("correlationId", None)
    entry["context"] = {**(error.context or {}), "objectWriteTraceId": [trace_id]}
    return entry


def _names(raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise errors.validation("'properties' must be a list of strings")
    return raw
