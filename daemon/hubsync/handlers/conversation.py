"""A ticket's conversation as Simpli turns, from its threads; the ticket text as fallback."""

from __future__ import annotations

from dataclasses import dataclass

from hubsync.handlers.context import HandlerContext
from hubsync.simpli.services import Message


@dataclass(frozen=True)
class TicketConversation:
    turns: list[Message]
    agent_id: str | None         # the last agent who answered, as an actor id ("A-9102")
    thread_id: str | None


def fallback(payload: dict[str, object]) -> list[Message]:
    text = "\n\n".join(str(p) for p in (payload.get("subject"), payload.get("content")) if p)
    return [Message("customer", text or "(empty ticket)")]


def for_new_ticket(ctx: HandlerContext, ticket_id: str, payload: dict[str, object]
                   ) -> TicketConversation:
    """A new ticket: its originating thread if it came from one, else its own text.

    This costs one read only for tickets created from a conversation, keeping the cost of a
    burst of new tickets at the batch floor.
    """
    thread_id = payload.get("thread_id")
    if not thread_id:
        return TicketConversation(fallback(payload), None, None)
    return _from_threads(ctx, [str(thread_id)], payload)


def for_ticket(ctx: HandlerContext, ticket_id: str, payload: dict[str, object]
               ) -> TicketConversation:
    """Every MESSAGE of the ticket's threads, oldest first, roles from direction and actor.

    Comments (internal notes), welcome messages and system events are not turns. A ticket
    without threads, or whose threads hold no messages, is its subject and description.
    """
    threads = [t.id for t in ctx.conversations.ticket_threads(ticket_id)]
    return _from_threads(ctx, threads, payload)


def _from_threads(ctx: HandlerContext, thread_ids: list[str], payload: dict[str, object]
                  ) -> TicketConversation:
    turns: list[Message] = []
    agent: str | None = None
    first_thread = thread_ids[0] if thread_ids else None
    for thread_id in thread_ids:
        for message in ctx.conversations.messages(thread_id):
            role = message.role
            if role is None:
                continue
            text = ctx.conversations.full_text(message).strip()
            if not text:
                continue
            turns.append(Message(role, text))
            if role == "agent" and message.sender:
                agent = message.sender
    if not turns:
        return TicketConversation(fallback(payload), None, first_thread)
    if not any(t.role == "customer" for t in turns):
        turns = fallback(payload) + turns
    return TicketConversation(turns, agent, first_thread)
