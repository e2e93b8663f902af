"""Typed HubSpot records. Raw JSON becomes one of these in exactly one place: ``from_api``.

Every HubSpot property value arrives as a string or null; these records parse what hubsync
relies on and raise ``BadRecord`` (naming the field, never dumping the record) otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubsync import errors
from hubsync.clock import parse_iso


class BadRecord(errors.Permanent):
    """HubSpot returned a record hubsync cannot read."""


def _props(raw: Any) -> dict[str, str | None]:
    if not isinstance(raw, dict):
        raise BadRecord("record has no properties object")
    props = raw.get("properties")
    if not isinstance(props, dict):
        raise BadRecord("record has no properties object")
    return {str(k): (None if v is None else str(v)) for k, v in props.items()}


def _record_id(raw: Any) -> str:
    rid = raw.get("id") if isinstance(raw, dict) else None
    if rid is None or not str(rid).isdigit():
        raise BadRecord("record id is missing or not numeric")
    return str(rid)


def _time(props: dict[str, str | None], name: str) -> datetime:
    value = props.get(name)
    if not value:
        raise BadRecord(f"property {name} is missing")
    try:
        if value.isdigit():
            from hubsync.clock import from_epoch_ms
            return from_epoch_ms(int(value))
        return parse_iso(value)
    except ValueError:
        raise BadRecord(f"property {name} is not a timestamp") from None


TICKET_PROPERTIES = (
    "subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority",
    "hubspot_owner_id", "createdate", "hs_lastmodifieddate", "source_type",
    "hs_conversations_originating_thread_id",
)


@dataclass(frozen=True)
class Ticket:
    id: str
    subject: str
    content: str
    pipeline: str | None
    stage: str | None
    priority: str | None
    owner_id: str | None
    source_type: str | None
    created_at: datetime
    modified_at: datetime
    thread_id: str | None = None

    @classmethod
    def from_api(cls, raw: Any) -> Ticket:
        ticket_id = _record_id(raw)
        props = _props(raw)
        return cls(
            id=ticket_id,
            subject=props.get("subject") or "",
            content=props.get("content") or "",
            pipeline=props.get("hs_pipeline"),
            stage=props.get("hs_pipeline_stage"),
            priority=props.get("hs_ticket_priority") or None,
            owner_id=props.get("hubspot_owner_id") or None,
            source_type=props.get("source_type") or None,
            created_at=_time(props, "createdate"),
            modified_at=_time(props, "hs_lastmodifieddate"),
            thread_id=props.get("hs_conversations_originating_thread_id") or None,
        )


@dataclass(frozen=True)
class SearchPage:
    """One page of a CRM search: parsed records, records that failed to parse, paging."""

    tickets: list[Ticket]
    bad: list[tuple[str, str]]          # (record id or "?", reason)
    total: int
    next_after: str | None

    @classmethod
    def from_api(cls, raw: Any) -> SearchPage:
        if not isinstance(raw, dict) or not isinstance(raw.get("results"), list):
            raise BadRecord("search answer has no results list")
        tickets: list[Ticket] = []
        bad: list[tuple[str, str]] = []
        for item in raw["results"]:
            try:
                tickets.append(Ticket.from_api(item))
            except BadRecord as exc:
                rid = item.get("id") if isinstance(item, dict) else None
                bad.append((str(rid) if rid is not None else "?", str(exc)))
        paging = raw.get("paging") or {}
        after = (paging.get("next") or {}).get("after") if isinstance(paging, dict) else None
        return cls(tickets, bad, int(raw.get("total") or 0),
                   str(after) if after is not None else None)


@dataclass(frozen=True)
class Owner:
    id: str
    email: str | None
    name: str
    user_id: int | None
    archived: bool

    @classmethod
    def from_api(cls, raw: Any) -> Owner:
        owner_id = _record_id(raw)
        name = " ".join(p for p in (raw.get("firstName"), raw.get("lastName")) if p)
        user = raw.get("userId")
        return cls(owner_id, raw.get("email"), name, int(user) if user is not None else None,
                   bool(raw.get("archived", False)))


@dataclass(frozen=True)
class Note:
    id: str
    body: str

    @classmethod
    def from_api(cls, raw: Any) -> Note:
        return cls(_record_id(raw), _props(raw).get("hs_note_body") or "")


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    pipeline_id: str
    closed: bool


@dataclass(frozen=True)
class Pipeline:
    id: str
    label: str
    stages: list[Stage] = field(default_factory=list)

    @classmethod
    def from_api(cls, raw: Any) -> Pipeline:
        if not isinstance(raw, dict) or "id" not in raw:
            raise BadRecord("pipeline has no id")
        pid = str(raw["id"])
        stages = [
            Stage(str(s["id"]), str(s.get("label", "")), pid,
                  (s.get("metadata") or {}).get("ticketState") == "CLOSED")
            for s in raw.get("stages") or [] if isinstance(s, dict) and "id" in s
        ]
        return cls(pid, str(raw.get("label", "")), stages)
