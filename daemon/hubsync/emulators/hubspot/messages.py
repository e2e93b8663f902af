"""Conversation messages: the six kinds a thread's history holds, and their JSON.

Every kind carries the spec's common fields (``id``, ``type``, ``conversationsThreadId``,
``createdAt``, ``updatedAt``, ``createdBy``, ``client``, ``senders``, ``recipients``,
``archived``) plus its own: ``MESSAGE`` text, direction, status and channel; ``COMMENT`` (an
internal note, no direction) text; ``WELCOME_MESSAGE`` text and channel; ``ASSIGNMENT``
``assignedTo``/``assignedFrom``; ``THREAD_STATUS_CHANGE`` ``newStatus``;
``THREAD_INBOX_CHANGE`` ``fromInboxId``/``toInboxId``. A ``MESSAGE`` text longer than
``MAX_TEXT_CHARS`` is served cut to that length with ``truncationStatus: "TRUNCATED"``; the
whole of it is at ``…/original-content``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubsync import clock

MAX_TEXT_CHARS = 2_000
KINDS = frozenset(
    {"MESSAGE", "COMMENT", "WELCOME_MESSAGE", "ASSIGNMENT", "THREAD_STATUS_CHANGE",
     "THREAD_INBOX_CHANGE"}
)  # fmt: skip
#: The keyword arguments each kind accepts beyond text/direction/sender/created_at.
EXTRA_FIELDS: dict[str, frozenset[str]] = {
    "MESSAGE": frozenset({"subject", "status", "attachments"}),
    "COMMENT": frozenset({"attachments"}),
    "WELCOME_MESSAGE": frozenset(),
    "ASSIGNMENT": frozenset({"assignedTo", "assignedFrom"}),
    "THREAD_STATUS_CHANGE": frozenset({"newStatus"}),
    "THREAD_INBOX_CHANGE": frozenset({"fromInboxId", "toInboxId"}),
}
_TEXT_KINDS = frozenset({"MESSAGE", "COMMENT", "WELCOME_MESSAGE"})
_CHANNEL_KINDS = frozenset({"MESSAGE", "WELCOME_MESSAGE"})
_STATUSES = frozenset({"SENT", "FAILED", "RECEIVED", "READ"})


def rich_text(text: str) -> str:
    """HubSpot-style rich text: the escaped text, line breaks as ``<br>``, in a ``<div>``."""
    return "<div>" + html.escape(text).replace("\n", "<br>") + "</div>"


@dataclass
class Message:
    """One entry of a thread's history; ``seq`` orders entries created at the same instant."""

    seq: int
    id: str
    type: str
    thread_id: str
    created_at: datetime
    created_by: str
    client: dict[str, Any]
    senders: list[dict[str, Any]] = field(default_factory=list)
    recipients: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    direction: str | None = None
    channel_id: str | None = None
    channel_account_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    archived: bool = False

    def to_json(self, *, truncate: bool = True) -> dict[str, Any]:
        """The message as the API serves it (``truncate=False``: with its whole text)."""
        stamp = clock.iso_ms(self.created_at)
        body: dict[str, Any] = {
            "id": self.id, "type": self.type, "conversationsThreadId": self.thread_id,
            "createdAt": stamp, "updatedAt": stamp, "createdBy": self.created_by,
            "client": dict(self.client), "senders": [dict(s) for s in self.senders],
            "recipients": [dict(r) for r in self.recipients], "archived": self.archived,
        }  # fmt: skip
        if self.type in _TEXT_KINDS:
            body.update(self._text_fields(truncate))
        if self.type in _CHANNEL_KINDS:
            body.update(channelId=self.channel_id, channelAccountId=self.channel_account_id)
        if self.type == "MESSAGE":
            body.update(self._message_fields())
        for name in sorted(EXTRA_FIELDS[self.type] - {"subject", "status", "attachments"}):
            if self.extra.get(name) is not None:
                body[name] = self.extra[name]
        return body

    def original_content(self) -> dict[str, str]:
        """``{"text", "richText"}`` in full, whatever the truncation."""
        return {"text": self.text, "richText": rich_text(self.text)}

    def _text_fields(self, truncate: bool) -> dict[str, Any]:
        text = self.text
        cut = truncate and self.type == "MESSAGE" and len(text) > MAX_TEXT_CHARS
        if cut:
            text = text[:MAX_TEXT_CHARS]
        fields: dict[str, Any] = {"text": text, "richText": rich_text(text)}
        if self.type == "MESSAGE":
            fields["truncationStatus"] = "TRUNCATED" if cut else "NOT_TRUNCATED"
        if self.type != "WELCOME_MESSAGE":
            fields["attachments"] = list(self.extra.get("attachments") or [])
        return fields

    def _message_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"direction": self.direction}
        default = "RECEIVED" if self.direction == "INCOMING" else "SENT"
        fields["status"] = {"statusType": self.extra.get("status") or default}
        if self.channel_id == "1002":
            fields["subject"] = self.extra.get("subject") or "Support request"
        return fields


def check_kind(
    kind: str, direction: str | None, extra: Mapping[str, Any], *, thread_inbox: str
) -> dict[str, Any]:
    """The validated extra fields of a message to add; ``ValueError`` describes a bad one."""
    if kind not in KINDS:
        raise ValueError(f"unknown message type {kind!r}; expected one of {sorted(KINDS)}")
    unknown = sorted(set(extra) - EXTRA_FIELDS[kind])
    if unknown:
        raise ValueError(f"{kind} does not take {unknown}")
    if kind == "MESSAGE" and direction not in ("INCOMING", "OUTGOING"):
        raise ValueError("a MESSAGE needs direction INCOMING or OUTGOING")
    if kind != "MESSAGE" and direction is not None:
        raise ValueError(f"a {kind} has no direction")
    checked = dict(extra)
    if kind == "MESSAGE" and checked.get("status", "SENT") not in _STATUSES:
        raise ValueError(f"status must be one of {sorted(_STATUSES)}")
    if kind == "ASSIGNMENT" and not str(checked.get("assignedTo") or "").startswith("A-"):
        raise ValueError("an ASSIGNMENT needs assignedTo, an agent actor id (A-<userId>)")
    if kind == "THREAD_STATUS_CHANGE" and checked.get("newStatus") not in ("OPEN", "CLOSED"):
        raise ValueError("a THREAD_STATUS_CHANGE needs newStatus OPEN or CLOSED")
    if kind == "THREAD_INBOX_CHANGE":
        if not str(checked.get("toInboxId") or "").isdigit():
            raise ValueError("a THREAD_INBOX_CHANGE needs toInboxId, a numeric inbox id")
        checked.setdefault("fromInboxId", thread_inbox)
    return checked
