"""HTTP handlers for the Conversations Inbox & Messages API: threads, messages, actors.

Paths as HubSpot's (``/conversations/v3/conversations/...``). The threads list follows the
guide and the reports in ``docs/hubspot-api.md`` §9 and §14: ``sort`` is ``id`` (default) or
``latestMessageTimestamp``, results ascend; sorting by ``latestMessageTimestamp`` needs
``latestMessageTimestampAfter`` (exclusive), which is silently ignored under any other sort; a
descending sort (``-id``, ``-latestMessageTimestamp``) is accepted only with
``associatedContactId``, which in turn needs ``threadStatus`` and excludes ``inboxId``. Cursors
are opaque, and a full page of threads always carries ``paging.next`` (so an exact fit ends on
an empty page). Messages come newest first unless ``sort=createdAt``.
"""

from __future__ import annotations

import re
from typing import Any

from hubsync import clock as clocks
from hubsync.emulators.hubspot import cursors, errors, params
from hubsync.emulators.hubspot.conversations import ConversationStore, Thread, ThreadQuery
from hubsync.emulators.hubspot.cursors import Ordering
from hubsync.emulators.hubspot.routes import Request, Response, Router

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_ACTOR_BATCH = 100
_BASE = "/conversations/v3/conversations"
_THREAD = f"{_BASE}/threads/(?P<thread>[^/]+)"
_MESSAGE = f"{_THREAD}/messages/(?P<message>[^/]+)"
_LIST_PARAMS = frozenset(
    {"after", "archived", "associatedContactId", "associatedTicketId", "association", "inboxId",
     "latestMessageTimestampAfter", "limit", "property", "sort", "threadStatus"}
)  # fmt: skip
_LATEST = "latestMessageTimestamp"


def register(router: Router, store: ConversationStore) -> None:
    """Add the conversations routes (fixed paths before ``/{id}`` ones)."""
    api = _ConversationsApi(store)
    router.add("GET", f"{_BASE}/threads", api.list_threads)
    router.add("GET", _THREAD, api.read_thread)
    router.add("GET", f"{_THREAD}/messages", api.list_messages)
    router.add("GET", f"{_MESSAGE}/original-content", api.original_content)
    router.add("GET", _MESSAGE, api.read_message)
    router.add("POST", f"{_BASE}/actors/batch/read", api.batch_actors)
    router.add("GET", f"{_BASE}/actors/(?P<actor>[^/]+)", api.read_actor)


class _ConversationsApi:
    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    # --- threads ---------------------------------------------------------------------------

    def list_threads(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, self._store.list_threads(_thread_query(request), request.path))

    def read_thread(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, {"archived", "association", "property"})
        associations = bool(params.choices(request, "association", {"TICKET"}))
        thread = self._thread(match, archived=request.bool_param("archived", False))
        with self._store.lock:
            return Response(200, thread.to_json(associations=associations))

    # --- messages --------------------------------------------------------------------------

    def list_messages(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, {"after", "archived", "limit", "property", "sort"})
        thread = self._thread(match, archived=None)
        sort = params.choice(request, "sort", {"createdAt", "-createdAt"}) or "-createdAt"
        ordering = Ordering((Ordering.parse(sort),))
        limit = request.int_param("limit", DEFAULT_LIMIT, MAX_LIMIT)
        archived = request.bool_param("archived", False)
        page = self._store.message_page(
            thread, ordering, params.single(request, "after"), limit, archived
        )
        with self._store.lock:
            results = [message.to_json() for message in page.rows]
        return Response(200, cursors.paged_body(request.path, results, page.next_after))

    def read_message(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, {"property"})
        thread = self._thread(match, archived=None)
        message = self._store.message(thread, match["message"])
        with self._store.lock:
            return Response(200, message.to_json())

    def original_content(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, set())
        thread = self._thread(match, archived=None)
        message = self._store.message(thread, match["message"])
        if message.type not in ("MESSAGE", "COMMENT", "WELCOME_MESSAGE"):
            raise errors.not_found(f"Message {message.id} has no content")
        return Response(200, message.original_content())

    # --- actors ----------------------------------------------------------------------------

    def read_actor(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, {"property"})
        actor = self._store.actor(match["actor"])
        if actor is None:
            raise errors.not_found(f"Actor {match['actor']} not found")
        return Response(200, actor)

    def batch_actors(self, request: Request, match: re.Match[str]) -> Response:
        params.reject_unknown(request, {"property"})
        body = request.json_object()
        errors.reject_unknown_fields(body, {"inputs"}, "BatchInputString")
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, str) and i for i in inputs):
            raise errors.validation("'inputs' is required and must be a list of actor id strings")
        if not inputs or len(inputs) > MAX_ACTOR_BATCH:
            raise errors.validation(f"'inputs' must hold 1 to {MAX_ACTOR_BATCH} actor ids")
        started = clocks.iso_ms(self._store.state.clock.now())
        unique = list(dict.fromkeys(inputs))
        found = {actor_id: self._store.actor(actor_id) for actor_id in unique}
        missing = [actor_id for actor_id, actor in found.items() if actor is None]
        result: dict[str, Any] = {
            "status": "COMPLETE",
            "results": [actor for actor in found.values() if actor is not None],
        }
        if missing:
            result["numErrors"] = len(missing)
            result["errors"] = [_missing_actor(actor_id) for actor_id in missing]
        completed = clocks.iso_ms(self._store.state.clock.now())
        result.update(startedAt=started, completedAt=completed)
        return Response(207 if missing else 200, result)

    # --- helpers ---------------------------------------------------------------------------

    def _thread(self, match: re.Match[str], *, archived: bool | None) -> Thread:
        """The thread named in the path (a numeric id); None for ``archived`` means either."""
        thread_id = params.int64("threadId", match["thread"]) or ""
        return self._store.thread(thread_id, archived=archived)


def _thread_query(request: Request) -> ThreadQuery:
    """Validate a threads-list request against the rules in the module docstring."""
    params.reject_unknown(request, _LIST_PARAMS)
    sort = params.single(request, "sort") or "id"
    field, descending = Ordering.parse(sort)
    if field not in ("id", _LATEST):
        raise errors.validation(f"sort must be id or {_LATEST}, got {sort!r}")
    contact_id = _id_param(request, "associatedContactId")
    inbox_ids = [params.int64("inboxId", v) or "" for v in params.repeated(request, "inboxId")]
    status = params.choice(request, "threadStatus", {"OPEN", "CLOSED"})
    if contact_id is not None and inbox_ids:
        raise errors.validation("associatedContactId cannot be combined with inboxId")
    if contact_id is not None and status is None:
        raise errors.validation("threadStatus is required with associatedContactId")
    if descending and contact_id is None:
        raise errors.validation(f"Descending sort {sort!r} needs associatedContactId")
    latest_after = params.date_time(request, "latestMessageTimestampAfter")
    if field == _LATEST and latest_after is None:
        raise errors.validation(f"latestMessageTimestampAfter is required to sort by {_LATEST}")
    return ThreadQuery(
        ordering=Ordering(((field, descending),)),
        limit=request.int_param("limit", DEFAULT_LIMIT, MAX_LIMIT),
        after=params.single(request, "after"),
        archived=request.bool_param("archived", False),
        contact_id=contact_id,
        ticket_id=_id_param(request, "associatedTicketId"),
        inbox_ids=frozenset(inbox_ids) if inbox_ids else None,
        status=status,
        latest_after=latest_after if field == _LATEST else None,
        associations=bool(params.choices(request, "association", {"TICKET"})),
    )


def _id_param(request: Request, name: str) -> str | None:
    return params.int64(name, params.single(request, name))


def _missing_actor(actor_id: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Actor {actor_id} not found",
        "context": {"ids": [actor_id]},
        "errors": [],
        "links": {},
    }
