"""HTTP handlers for the portal's metadata and links: properties, pipelines, owners, associations.

Paths as HubSpot's: ``/crm/v3/properties/...``, ``/crm/v3/pipelines/tickets/...``,
``/crm/v3/owners/...`` and ``/crm/v4/objects/{from}/{id}/associations/...``.
"""

from __future__ import annotations

import re
from typing import Any

from hubsync import clock as clocks
from hubsync.emulators.hubspot import associations, errors, owners, routes
from hubsync.emulators.hubspot.pipelines import Pipeline
from hubsync.emulators.hubspot.routes import Request, Response, Router
from hubsync.emulators.hubspot.state import HubSpotState

MAX_OWNERS_LIMIT = 500
MAX_ASSOCIATIONS_LIMIT = 500
_PROPS = "/crm/v3/properties/(?P<type>[^/]+)"
_PIPELINE = "/crm/v3/pipelines/(?P<type>[^/]+)/(?P<pipeline>[^/]+)"
_V4 = "/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations"


def register(router: Router, state: HubSpotState) -> None:
    """Add the metadata and association routes (groups before ``/{name}``)."""
    api = _PortalApi(state)
    router.add("GET", f"{_PROPS}/groups", api.list_groups)
    router.add("POST", f"{_PROPS}/groups", api.create_group)
    router.add("GET", f"{_PROPS}/groups/(?P<name>[^/]+)", api.read_group)
    router.add("GET", _PROPS, api.list_properties)
    router.add("POST", _PROPS, api.create_property)
    router.add("GET", f"{_PROPS}/(?P<name>[^/]+)", api.read_property)
    router.add("PATCH", f"{_PROPS}/(?P<name>[^/]+)", api.patch_property)
    router.add("GET", "/crm/v3/pipelines/(?P<type>[^/]+)", api.list_pipelines)
    router.add("GET", _PIPELINE, api.read_pipeline)
    router.add("GET", f"{_PIPELINE}/stages", api.list_stages)
    router.add("GET", f"{_PIPELINE}/stages/(?P<stage>[^/]+)", api.read_stage)
    router.add("GET", "/crm/v3/owners", api.list_owners)
    router.add("GET", "/crm/v3/owners/(?P<id>[^/]+)", api.read_owner)
    router.add("GET", f"{_V4}/(?P<to_type>[^/]+)", api.read_associations)
    router.add("PUT", f"{_V4}/default/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)", api.associate_default)
    router.add("PUT", f"{_V4}/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)", api.associate_labelled)


class _PortalApi:
    def __init__(self, state: HubSpotState) -> None:
        self._state = state

    # --- properties ------------------------------------------------------------------------

    def list_properties(self, request: Request, match: re.Match[str]) -> Response:
        with self._state.lock:
            found = self._state.catalog.all(match["type"])
            return Response(200, {"results": [d.to_json() for d in found]})

    def read_property(self, request: Request, match: re.Match[str]) -> Response:
        with self._state.lock:
            return Response(
                200, self._state.catalog.require(match["type"], match["name"]).to_json()
            )

    def create_property(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json_object()
        with self._state.lock:
            created = self._state.catalog.create(match["type"], body, self._state.clock.now())
            return Response(201, created.to_json())

    def patch_property(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json_object()
        with self._state.lock:
            catalog = self._state.catalog
            updated = catalog.patch(match["type"], match["name"], body, self._state.clock.now())
            return Response(200, updated.to_json())

    def list_groups(self, request: Request, match: re.Match[str]) -> Response:
        with self._state.lock:
            found = self._state.catalog.groups(match["type"])
            return Response(200, {"results": [group.to_json() for group in found]})

    def read_group(self, request: Request, match: re.Match[str]) -> Response:
        with self._state.lock:
            return Response(200, self._state.catalog.group(match["type"], match["name"]).to_json())

    def create_group(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json_object()
        with self._state.lock:
            return Response(201, self._state.catalog.create_group(match["type"], body).to_json())

    # --- pipelines -------------------------------------------------------------------------

    def list_pipelines(self, request: Request, match: re.Match[str]) -> Response:
        _tickets_only(match)
        with self._state.lock:
            found = list(self._state.pipelines.values())
        return Response(200, {"results": [pipeline.to_json() for pipeline in found]})

    def read_pipeline(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, self._pipeline(match).to_json())

    def list_stages(self, request: Request, match: re.Match[str]) -> Response:
        stages = self._pipeline(match).stages
        return Response(200, {"results": [stage.to_json() for stage in stages]})

    def read_stage(self, request: Request, match: re.Match[str]) -> Response:
        stage = self._pipeline(match).stage(match["stage"])
        if stage is None:
            raise errors.not_found(f"Unable to find stage {match['stage']}")
        return Response(200, stage.to_json())

    def _pipeline(self, match: re.Match[str]) -> Pipeline:
        _tickets_only(match)
        with self._state.lock:
            found = self._state.pipelines.get(match["pipeline"])
        if found is None:
            raise errors.not_found(f"Unable to find pipeline {match['pipeline']}")
        return found

    # --- owners ----------------------------------------------------------------------------

    def list_owners(self, request: Request, match: re.Match[str]) -> Response:
        limit = request.int_param("limit", 100, MAX_OWNERS_LIMIT)
        after = request.int_param("after", 0, None, minimum=0)
        archived = request.bool_param("archived", False)
        email = request.param("email")
        with self._state.lock:
            chosen = [
                o for o in self._state.owners
                if o.archived == archived and (email is None or o.email.lower() == email.lower())
            ]  # fmt: skip
        page = [owner.to_json() for owner in chosen[after : after + limit]]
        more = after + limit < len(chosen)
        return Response(200, routes.paged({"results": page}, after + limit if more else None))

    def read_owner(self, request: Request, match: re.Match[str]) -> Response:
        id_property = request.param("idProperty") or "id"
        if id_property not in ("id", "userId"):
            raise errors.validation(f"idProperty must be id or userId, got {id_property!r}")
        archived = request.bool_param("archived", False)
        with self._state.lock:
            found = owners.find(
                self._state.owners, match["id"], id_property=id_property, archived=archived
            )
        if found is None:
            raise errors.not_found(f"Unable to find owner {match['id']} by {id_property}")
        return Response(200, found.to_json())

    # --- associations (v4) -----------------------------------------------------------------

    def read_associations(self, request: Request, match: re.Match[str]) -> Response:
        from_type, to_type = match["from_type"], match["to_type"]
        limit = request.int_param("limit", MAX_ASSOCIATIONS_LIMIT, MAX_ASSOCIATIONS_LIMIT)
        after = request.int_param("after", 0, None, minimum=0)
        targets = self._state.associated(from_type, match["from_id"], to_type)
        page = [
            associations.result_row(from_type, to_type, t) for t in targets[after : after + limit]
        ]
        more = after + limit < len(targets)
        return Response(200, routes.paged({"results": page}, after + limit if more else None))

    def associate_default(self, request: Request, match: re.Match[str]) -> Response:
        from_type, to_type = match["from_type"], match["to_type"]
        self._state.associate(from_type, match["from_id"], to_type, match["to_id"])
        now = clocks.iso_ms(self._state.clock.now())
        spec = {
            "associationCategory": associations.CATEGORY,
            "associationTypeId": associations.type_id(from_type, to_type),
        }
        row = {
            "from": {"id": match["from_id"]},
            "to": {"id": match["to_id"]},
            "associationSpec": spec,
        }
        return Response(
            200, {"status": "COMPLETE", "results": [row], "startedAt": now, "completedAt": now}
        )

    def associate_labelled(self, request: Request, match: re.Match[str]) -> Response:
        from_type, to_type = match["from_type"], match["to_type"]
        self._state.require(from_type, match["from_id"])
        associations.parse_specs(from_type, to_type, request.body)
        self._state.associate(from_type, match["from_id"], to_type, match["to_id"])
        body: dict[str, Any] = {
            "fromObjectTypeId": associations.OBJECT_TYPE_IDS[from_type],
            "fromObjectId": int(match["from_id"]),
            "toObjectTypeId": associations.OBJECT_TYPE_IDS[to_type],
            "toObjectId": int(match["to_id"]),
            "labels": [],
        }
        return Response(201, body)


def _tickets_only(match: re.Match[str]) -> None:
    if match["type"] != "tickets":
        raise errors.not_found(f"This emulator has no pipelines for object type {match['type']}")
