"""Conversation threads: their store, seeding, and the queries the Conversations API serves.

A thread belongs to one inbox and one channel, is associated with a contact (or with an
anonymous visitor whose id is no contact's) and optionally with one ticket, and keeps its
history of ``messages.Message``. Adding a message moves the thread's ``latestMessageTimestamp``
(and the sent/received one, by direction); assignments, status and inbox changes also change the
thread itself. Everything is guarded by the portal state's lock.

Two knobs reproduce reported quirks of the threads list (``docs/hubspot-api.md`` §14):
``page_repeat`` answers the next n list calls with the page served last (same ``paging``), and
``empty_pages`` answers the next n list calls with no results but a ``paging.next`` that
points where the request started.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubsync import clock as clocks
from hubsync.emulators.hubspot import actors, cursors, defaults, errors
from hubsync.emulators.hubspot.cursors import Ordering, Page
from hubsync.emulators.hubspot.messages import Message, check_kind
from hubsync.emulators.hubspot.state import HubSpotState

_FIRST_THREAD_ID = 8_100_000_001
#: Who a message is from when ``add_message`` is not told.
_DEFAULT_SENDER = {"COMMENT": "A-9101", "WELCOME_MESSAGE": actors.SYSTEM}


@dataclass
class Thread:
    """One conversation thread. ``contact_id`` is its ``associatedContactId``."""

    id: str
    created_at: datetime
    status: str
    channel_id: str
    inbox_id: str
    contact_id: str
    ticket_id: str | None
    assigned_to: str | None
    closed_at: datetime | None = None
    latest: datetime | None = None
    latest_sent: datetime | None = None
    latest_received: datetime | None = None
    archived: bool = False
    messages: list[Message] = field(default_factory=list)

    @property
    def channel_account_id(self) -> str:
        return defaults.CHANNEL_ACCOUNTS[self.channel_id]

    def to_json(self, *, associations: bool) -> dict[str, Any]:
        """``PublicThread``; ``threadAssociations`` only when asked for and a ticket exists."""
        body: dict[str, Any] = {
            "id": self.id, "createdAt": clocks.iso_ms(self.created_at), "status": self.status,
            "originalChannelId": self.channel_id,
            "originalChannelAccountId": self.channel_account_id, "inboxId": self.inbox_id,
            "associatedContactId": self.contact_id, "spam": False, "archived": self.archived,
        }  # fmt: skip
        optional = {
            "closedAt": self.closed_at, "latestMessageTimestamp": self.latest,
            "latestMessageSentTimestamp": self.latest_sent,
            "latestMessageReceivedTimestamp": self.latest_received,
        }  # fmt: skip
        body.update({k: clocks.iso_ms(v) for k, v in optional.items() if v is not None})
        if self.assigned_to is not None:
            body["assignedTo"] = self.assigned_to
        if associations and self.ticket_id is not None:
            body["threadAssociations"] = {"associatedTicketId": self.ticket_id}
        return body

    def record(self, message: Message) -> None:
        """Append a message and apply what it changes on the thread."""
        self.messages.append(message)
        moment = message.created_at
        self.latest = _later(self.latest, moment)
        if message.direction == "INCOMING":
            self.latest_received = _later(self.latest_received, moment)
        elif message.direction == "OUTGOING":
            self.latest_sent = _later(self.latest_sent, moment)
        if message.type == "ASSIGNMENT":
            self.assigned_to = message.extra["assignedTo"]
        elif message.type == "THREAD_STATUS_CHANGE":
            self.status = message.extra["newStatus"]
            self.closed_at = moment if self.status == "CLOSED" else None
        elif message.type == "THREAD_INBOX_CHANGE":
            self.inbox_id = str(message.extra["toInboxId"])


@dataclass(frozen=True)
class ThreadQuery:
    """A validated threads-list request."""

    ordering: Ordering
    limit: int
    after: str | None = None
    archived: bool = False
    contact_id: str | None = None
    ticket_id: str | None = None
    inbox_ids: frozenset[str] | None = None
    status: str | None = None
    latest_after: datetime | None = None
    associations: bool = False

    def matches(self, thread: Thread) -> bool:
        """Whether a thread passes every filter of this request."""
        return (
            thread.archived == self.archived
            and self.contact_id in (None, thread.contact_id)
            and self.ticket_id in (None, thread.ticket_id)
            and (self.inbox_ids is None or thread.inbox_id in self.inbox_ids)
            and self.status in (None, thread.status)
            and (self.latest_after is None or _strictly_after(thread.latest, self.latest_after))
        )

    def key(self, thread: Thread) -> cursors.Key:
        """The thread's sort key under this request's ordering (ties broken by id)."""
        number = int(thread.id)
        if self.ordering.fields[0][0] == "latestMessageTimestamp":
            return (clocks.iso_ms(thread.latest) if thread.latest else "", number)
        return (number, number)


class ConversationStore:
    """Every thread of the portal, keyed by id, plus the threads-list quirk knobs."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state
        self.lock = state.lock
        self._threads: dict[str, Thread] = {}
        self._visitors: set[str] = set()
        self._thread_ids = itertools.count(_FIRST_THREAD_ID)
        self._seq = itertools.count(1)
        self._repeat_left = 0
        self._empty_left = 0
        self._last_page: dict[str, Any] | None = None

    # --- knobs -----------------------------------------------------------------------------

    def set_quirks(self, *, page_repeat: int | None = None, empty_pages: int | None = None) -> None:
        """Arm the repeated-page and empty-page quirks for the next n list calls."""
        with self.lock:
            if page_repeat is not None:
                self._repeat_left = _count(page_repeat)
            if empty_pages is not None:
                self._empty_left = _count(empty_pages)

    def quirks(self) -> tuple[int, int]:
        """How many repeated and empty pages are still armed."""
        with self.lock:
            return self._repeat_left, self._empty_left

    # --- seeding ---------------------------------------------------------------------------

    def seed_thread(
        self,
        *,
        contact_id: str | None,
        visitor_id: str | None,
        ticket_id: str | None,
        channel_id: str,
        inbox_id: str,
        status: str,
        assigned_to: str | None,
        created_at: datetime | None,
    ) -> str:
        """Create a thread as a customer starting a conversation would; returns its id."""
        with self.lock:
            party = self._party(contact_id, visitor_id)
            if channel_id not in defaults.CHANNEL_ACCOUNTS:
                raise ValueError(f"channel_id must be one of {sorted(defaults.CHANNEL_ACCOUNTS)}")
            if status not in ("OPEN", "CLOSED") or not inbox_id.isdigit():
                raise ValueError("status must be OPEN or CLOSED and inbox_id numeric")
            if assigned_to is not None and (
                not assigned_to.startswith("A-") or self.actor(assigned_to) is None
            ):
                raise ValueError(f"assigned_to {assigned_to!r} is not a known agent (A-<userId>)")
            if ticket_id is not None:
                self._require_ticket(ticket_id)
            created = _aware(created_at) or self.state.clock.now()
            thread = Thread(
                str(next(self._thread_ids)), created, status, channel_id, inbox_id, party,
                ticket_id, assigned_to,
            )  # fmt: skip
            if status == "CLOSED":
                thread.closed_at = max(created, self.state.clock.now())
            self._threads[thread.id] = thread
            if visitor_id is not None:
                self._visitors.add(visitor_id)
            if ticket_id is not None:
                self._link_ticket(ticket_id, thread.id)
            return thread.id

    def add_message(
        self,
        thread_id: str,
        *,
        kind: str,
        text: str,
        direction: str | None,
        sender: str | None,
        created_at: datetime | None,
        extra: Mapping[str, Any],
    ) -> str:
        """Add one history entry to a thread; returns the message id."""
        with self.lock:
            thread = self._threads.get(thread_id)
            if thread is None:
                raise ValueError(f"no thread with id {thread_id}")
            checked = check_kind(kind, direction, extra, thread_inbox=thread.inbox_id)
            if kind == "ASSIGNMENT":
                checked.setdefault("assignedFrom", thread.assigned_to)
            author = sender or self._default_sender(thread, kind, direction)
            if self.actor(author) is None:
                raise ValueError(f"sender {author!r} is not a known actor")
            seq = next(self._seq)
            message = Message(
                seq=seq, id=hashlib.sha1(f"message-{seq}".encode()).hexdigest()[:32],
                type=kind, thread_id=thread.id,
                created_at=_aware(created_at) or self.state.clock.now(), created_by=author,
                client=actors.client_for(author), text=text, direction=direction, extra=checked,
            )  # fmt: skip
            if kind in ("MESSAGE", "WELCOME_MESSAGE"):
                message.channel_id = thread.channel_id
                message.channel_account_id = thread.channel_account_id
            if kind in ("MESSAGE", "COMMENT", "WELCOME_MESSAGE"):
                self._address(message, thread)
            thread.record(message)
            return message.id

    def archive_thread(self, thread_id: str) -> None:
        """Archive a thread, as ``DELETE …/threads/{id}`` does."""
        with self.lock:
            self._inspect(thread_id).archived = True

    # --- reads -----------------------------------------------------------------------------

    def actor(self, actor_id: str) -> dict[str, Any] | None:
        """The ``PublicActor`` JSON of an actor id, or None."""
        with self.lock:
            return actors.resolve(self.state, self._visitors, actor_id)

    def thread(self, thread_id: str, *, archived: bool | None) -> Thread:
        """A thread in the requested archived state (None: either); 404 otherwise."""
        with self.lock:
            thread = self._threads.get(thread_id)
            if thread is None or archived not in (None, thread.archived):
                raise errors.not_found(f"Thread {thread_id} not found")
            return thread

    def inspect(self, thread_id: str) -> dict[str, Any]:
        """A thread's JSON with its associations, archived or not; KeyError if unknown."""
        with self.lock:
            return self._inspect(thread_id).to_json(associations=True)

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        """Every message of a thread, oldest first, untruncated; KeyError if unknown."""
        with self.lock:
            thread = self._inspect(thread_id)
            ordered = sorted(thread.messages, key=lambda m: (m.created_at, m.seq))
            return [m.to_json(truncate=False) for m in ordered]

    def list_threads(self, query: ThreadQuery, path: str) -> dict[str, Any]:
        """The threads-list response body, quirks included."""
        with self.lock:
            if self._repeat_left > 0 and self._last_page is not None:
                self._repeat_left -= 1
                return copy.deepcopy(self._last_page)
            if self._empty_left > 0:
                self._empty_left -= 1
                here = query.after or cursors.encode(query.ordering, None)
                return cursors.paged_body(path, [], here)
            rows = [t for t in self._threads.values() if query.matches(t)]
            page = cursors.keyset_page(
                rows, query.key, query.ordering, query.after, query.limit, next_when_full=True
            )
            results = [t.to_json(associations=query.associations) for t in page.rows]
            body = cursors.paged_body(path, results, page.next_after)
            self._last_page = copy.deepcopy(body)
            return body

    def message_page(
        self, thread: Thread, ordering: Ordering, after: str | None, limit: int, archived: bool
    ) -> Page[Message]:
        """A page of a thread's messages (archived ones only if asked)."""
        with self.lock:
            rows = [m for m in thread.messages if m.archived == archived]
            return cursors.keyset_page(
                rows, lambda m: (clocks.iso_ms(m.created_at), m.seq), ordering, after, limit
            )

    def message(self, thread: Thread, message_id: str) -> Message:
        """One message of a thread; 404 if the thread has no such message."""
        with self.lock:
            found = next((m for m in thread.messages if m.id == message_id), None)
            if found is None:
                raise errors.not_found(f"Message {message_id} not found in thread {thread.id}")
            return found

    # --- internals -------------------------------------------------------------------------

    def _inspect(self, thread_id: str) -> Thread:
        thread = self._threads.get(thread_id)
        if thread is None:
            raise KeyError(f"no thread with id {thread_id}")
        return thread

    def _party(self, contact_id: str | None, visitor_id: str | None) -> str:
        if (contact_id is None) == (visitor_id is None):
            raise ValueError("give exactly one of contact_id and visitor_id")
        if contact_id is not None:
            if contact_id not in self.state.ids("contacts"):
                raise ValueError(f"no contact with id {contact_id}")
            return contact_id
        assert visitor_id is not None
        if not visitor_id.isdigit() or visitor_id in self.state.ids("contacts"):
            raise ValueError(f"visitor_id {visitor_id!r} must be numeric and not a contact id")
        return visitor_id

    def _require_ticket(self, ticket_id: str) -> None:
        if ticket_id not in self.state.ids("tickets"):
            raise ValueError(f"no ticket with id {ticket_id}")

    def _link_ticket(self, ticket_id: str, thread_id: str) -> None:
        """Record the thread on the ticket if it has none yet (a HubSpot-internal write)."""
        ticket = self.state.properties_of("tickets", ticket_id)
        if not ticket.get("hs_conversations_originating_thread_id"):
            change = {"hs_conversations_originating_thread_id": thread_id}
            self.state.touch("tickets", ticket_id, change)

    def _default_sender(self, thread: Thread, kind: str, direction: str | None) -> str:
        if kind == "MESSAGE":
            return f"V-{thread.contact_id}" if direction == "INCOMING" else "A-9101"
        return _DEFAULT_SENDER.get(kind, actors.SYSTEM)

    def _address(self, message: Message, thread: Thread) -> None:
        """Fill senders and recipients of a message, comment or welcome message."""
        channel, email = thread.channel_id, thread.channel_id == actors.EMAIL_CHANNEL
        sender = actors.participant(self.state, self._visitors, message.created_by, channel)
        if email:
            sender["senderField"] = "FROM"
        message.senders = [sender]
        if message.type != "MESSAGE":
            return
        if message.direction == "OUTGOING":
            visitor = f"V-{thread.contact_id}"
            recipient = actors.participant(self.state, self._visitors, visitor, channel)
        elif email:
            address = defaults.SUPPORT_MAILBOX
            recipient = {"deliveryIdentifier": {"type": "HS_EMAIL_ADDRESS", "value": address}}
        else:
            return
        if email:
            recipient["recipientField"] = "TO"
        message.recipients = [recipient]


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _strictly_after(moment: datetime | None, bound: datetime) -> bool:
    return moment is not None and moment > bound


def _aware(moment: datetime | None) -> datetime | None:
    """An aware datetime cut to milliseconds (HubSpot's precision); naive ones are refused."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return None if moment is None else clocks.parse_iso(clocks.iso_ms(moment))


def _count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a quirk count must be a non-negative integer")
    return value
