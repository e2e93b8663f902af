"""``HubSpotEmulator``: the public face of the emulator, for tests and local runs.

It serves HubSpot's REST paths over real HTTP on 127.0.0.1 and offers direct seeding and
inspection that bypass HTTP (and so are not recorded). Seeding and ``touch_ticket`` act as
HubSpot itself would: they may set read-only properties, but raise ``ValueError`` for unknown
properties, invalid values, and the emulator-maintained ids and timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from hubsync import clock as clocks
from hubsync.emulators.hubspot import (
    conversations_api,
    crm_api,
    defaults,
    errors,
    kb_api,
    portal_api,
    site_search,
)
from hubsync.emulators.hubspot.conversations import ConversationStore
from hubsync.emulators.hubspot.faults import Fault, FaultBook
from hubsync.emulators.hubspot.kb import KnowledgeStore
from hubsync.emulators.hubspot.owners import Owner
from hubsync.emulators.hubspot.ratelimit import RateLimiter
from hubsync.emulators.hubspot.recording import RecordedRequest, RequestLog
from hubsync.emulators.hubspot.routes import Router
from hubsync.emulators.hubspot.server import Gate, HttpServer
from hubsync.emulators.hubspot.state import HubSpotState

T = TypeVar("T")


class HubSpotEmulator:
    """An in-memory HubSpot portal behind a local HTTP server. See ``docs/hubspot-api.md``."""

    def __init__(
        self,
        token: str = "pat-na1-emulator",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        burst_limit: int | None = 190,
        burst_window_s: float = 10.0,
        search_rate_per_s: float | None = 5.0,
        search_lag_s: float = 0.0,
        custom_properties: bool = True,
        clock: clocks.Clock | None = None,
        kb_api: bool = True,
    ) -> None:
        self.clock: clocks.Clock = clock or clocks.SystemClock()
        self.state = HubSpotState(
            self.clock, search_lag_s=search_lag_s, custom_properties=custom_properties
        )
        self._log = RequestLog()
        self._faults = FaultBook()
        router = Router()
        crm_api.register(router, self.state)
        portal_api.register(router, self.state)
        self._conversations = ConversationStore(self.state)
        self._knowledge = KnowledgeStore(self.state.lock, [defaults.help_center(self.clock.now())])
        conversations_api.register(router, self._conversations)
        _register_kb_api(router, self._knowledge, enabled=kb_api)
        site_search.register(router, self._knowledge)
        limiter = RateLimiter(
            self.clock,
            burst_limit=burst_limit,
            burst_window_s=burst_window_s,
            search_rate_per_s=search_rate_per_s,
        )
        gate = Gate(token, router, limiter, self._faults, self._log, self.clock)
        self._server = HttpServer(gate, host, port)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> HubSpotEmulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> HubSpotEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        return self._server.base_url

    # --- the request record ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request served so far, in the order their answers were decided."""
        return self._log.snapshot()

    def count(self, method: str, path_prefix: str = "") -> int:
        """How many recorded requests had this method and a path starting with the prefix."""
        wanted = method.upper()
        return sum(
            1 for r in self._log.snapshot() if r.method == wanted and r.path.startswith(path_prefix)
        )

    def reset_requests(self) -> None:
        self._log.clear()

    # --- seeding and inspection ------------------------------------------------------------

    def seed_ticket(
        self, properties: Mapping[str, Any], *, created_at: datetime | None = None
    ) -> str:
        """Create a ticket as if made in HubSpot (pipeline "0", stage "1" unless given)."""
        return _as_value_error(lambda: self.state.seed("tickets", properties, created_at))

    def touch_ticket(self, ticket_id: str, properties: Mapping[str, Any]) -> None:
        """A change made in HubSpot's UI or by HubSpot itself; bumps ``hs_lastmodifieddate``."""
        _as_value_error(lambda: self.state.touch("tickets", ticket_id, properties))

    def ticket(self, ticket_id: str) -> dict[str, str | None]:
        """Every defined ticket property's current value; KeyError for an unknown id."""
        return self.state.properties_of("tickets", ticket_id)

    def seed_contact(self, properties: Mapping[str, Any]) -> str:
        return _as_value_error(lambda: self.state.seed("contacts", properties, None))

    def contact(self, contact_id: str) -> dict[str, str | None]:
        return self.state.properties_of("contacts", contact_id)

    def add_owner(
        self,
        owner_id: str,
        *,
        email: str,
        first_name: str,
        last_name: str,
        user_id: int,
        archived: bool = False,
    ) -> None:
        owner = Owner(owner_id, email, first_name, last_name, user_id, archived, self.clock.now())
        self.state.add_owner(owner)

    def notes_for_ticket(self, ticket_id: str) -> list[dict[str, Any]]:
        """Notes associated with the ticket: ``{"id", "properties"}`` with every property."""
        return [self._note(note_id) for note_id in self.state.linked("tickets", ticket_id, "notes")]

    def all_notes(self) -> list[dict[str, Any]]:
        return [self._note(note_id) for note_id in self.state.ids("notes")]

    def _note(self, note_id: str) -> dict[str, Any]:
        return {"id": note_id, "properties": self.state.properties_of("notes", note_id)}

    # --- conversations ---------------------------------------------------------------------

    def seed_thread(
        self,
        *,
        contact_id: str | None = None,
        visitor_id: str | None = None,
        ticket_id: str | None = None,
        channel_id: str = "1000",
        inbox_id: str = defaults.DEFAULT_INBOX,
        status: str = "OPEN",
        assigned_to: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Start a conversation thread; returns its id.

        Exactly one of ``contact_id`` (an existing contact) and ``visitor_id`` (an anonymous
        visitor's number, which must not be a contact id) becomes ``associatedContactId``. A
        ``ticket_id`` associates the thread with that ticket and, if the ticket has no
        ``hs_conversations_originating_thread_id`` yet, sets it (bumping the ticket's
        ``hs_lastmodifieddate``, as any HubSpot-internal write does).
        """
        return _as_value_error(
            lambda: self._conversations.seed_thread(
                contact_id=contact_id, visitor_id=visitor_id, ticket_id=ticket_id,
                channel_id=channel_id, inbox_id=inbox_id, status=status,
                assigned_to=assigned_to, created_at=created_at,
            )
        )  # fmt: skip

    def add_message(
        self,
        thread_id: str,
        *,
        type: str = "MESSAGE",  # noqa: A002 (HubSpot's field name)
        text: str = "",
        direction: str | None = None,
        sender: str | None = None,
        created_at: datetime | None = None,
        **extra: Any,
    ) -> str:
        """Add a message (or comment, welcome message, assignment, status or inbox change).

        A ``MESSAGE`` needs ``direction``; its sender defaults to ``V-<associatedContactId>``
        when INCOMING and ``A-9101`` when OUTGOING. ``extra`` carries the kind's own fields
        (``subject``/``status``/``attachments``; ``assignedTo``/``assignedFrom``;
        ``newStatus``; ``fromInboxId``/``toInboxId``), which also change the thread.
        """
        return self._conversations.add_message(
            thread_id, kind=type, text=text, direction=direction, sender=sender,
            created_at=created_at, extra=extra,
        )  # fmt: skip

    def archive_thread(self, thread_id: str) -> None:
        """Archive a thread (it leaves the default threads list); KeyError if unknown."""
        self._conversations.archive_thread(thread_id)

    def thread(self, thread_id: str) -> dict[str, Any]:
        """A thread's JSON, with ``threadAssociations`` if it has a ticket; KeyError if unknown."""
        return self._conversations.inspect(thread_id)

    def messages(self, thread_id: str) -> list[dict[str, Any]]:
        """A thread's messages oldest first, with their whole text; KeyError if unknown."""
        return self._conversations.history(thread_id)

    @property
    def thread_page_repeat(self) -> int:
        """How many upcoming threads-list calls will repeat the page served last."""
        return self._conversations.quirks()[0]

    @thread_page_repeat.setter
    def thread_page_repeat(self, count: int) -> None:
        self._conversations.set_quirks(page_repeat=count)

    @property
    def thread_empty_pages(self) -> int:
        """How many upcoming threads-list calls will answer an empty page that has ``paging``."""
        return self._conversations.quirks()[1]

    @thread_empty_pages.setter
    def thread_empty_pages(self, count: int) -> None:
        self._conversations.set_quirks(empty_pages=count)

    # --- knowledge base --------------------------------------------------------------------

    def seed_kb_article(
        self,
        title: str,
        body_html: str,
        *,
        state: str = "PUBLISHED",
        language: str = "en",
        tags: Iterable[str] = (),
        category: str | None = None,
    ) -> str:
        """Create an article in the Help Center knowledge base; returns its id."""
        return self._knowledge.seed(
            self.clock.now(), title=title, body_html=body_html, state=state, language=language,
            tags=tags, category=category,
        )  # fmt: skip

    def update_kb_article(self, article_id: str, **fields: Any) -> None:
        """Edit an article (``title``, ``body_html``, ``state``, ``language``, ``tags``,
        ``category``, ``archived``); moves ``updatedAt``, and ``publishedAt`` if published."""
        self._knowledge.update(self.clock.now(), article_id, fields)

    def kb_article(self, article_id: str) -> dict[str, Any]:
        """An article as the KB API shows it, body included; KeyError if unknown or archived."""
        try:
            article = self._knowledge.article(article_id)
        except errors.ApiError:
            raise KeyError(f"no article with id {article_id}") from None
        kb = self._knowledge.knowledge_base(article.knowledge_base_id)
        with self.state.lock:
            return article.to_json(kb, body=True, translations=False)

    # --- faults ----------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = None,
        times: int = 1,
        after_commit: bool = False,
        delay_s: float = 0.0,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` matching requests fail; see ``faults.Fault`` for the modes."""
        self._faults.add(
            Fault(
                method=method.upper(),
                path_pattern=re.compile(path_regex),
                status=status,
                remaining=times,
                after_commit=after_commit,
                delay_s=delay_s,
                body=body,
                headers=dict(headers or {}),
            )
        )


def _register_kb_api(router: Router, store: KnowledgeStore, *, enabled: bool) -> None:
    # The constructor's ``kb_api`` flag shadows the module name inside ``__init__``.
    kb_api.register(router, store, enabled=enabled)


def _as_value_error(action: Callable[[], T]) -> T:
    try:
        return action()
    except errors.ApiError as exc:
        detail = "; ".join(str(e.get("message")) for e in exc.errors)
        raise ValueError(f"{exc.message}{': ' + detail if detail else ''}") from None
