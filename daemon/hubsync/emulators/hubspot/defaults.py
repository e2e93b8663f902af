"""The portal every emulator starts with: owners, built-in properties, hubsync's custom ones,
conversation channels and the knowledge base.

The ticket pipeline lives in ``pipelines.SUPPORT_PIPELINE``. Built-in property definitions are a
small but faithful subset of a real portal's (``docs/hubspot-api.md`` §2-§4).
"""

from __future__ import annotations

from datetime import datetime

from hubsync.emulators.hubspot.kb import KnowledgeBase
from hubsync.emulators.hubspot.owners import Owner
from hubsync.emulators.hubspot.pipelines import SUPPORT_PIPELINE
from hubsync.emulators.hubspot.properties import Option, PropertyCatalog, PropertyDef, PropertyGroup

CUSTOM_GROUP = "simpli_ai"
_INFO_GROUPS = {
    "tickets": "ticketinformation",
    "contacts": "contactinformation",
    "notes": "engagement",
}
#: Properties whose values HubSpot maintains; API writes get READ_ONLY_VALUE.
READ_ONLY = frozenset(
    {
        "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_ticket_id", "hs_createdate",
        "lastmodifieddate", "closed_date", "hs_num_associated_conversations",
        "hs_last_closed_date", "hs_ticket_reopened_at",
    }
)  # fmt: skip
#: Conversations: the channel account behind each channel (1000 chat, 1001 Messenger, 1002 email).
CHANNEL_ACCOUNTS = {"1000": "563000101", "1001": "563000102", "1002": "563000103"}
DEFAULT_INBOX = "147959634"
SUPPORT_MAILBOX = "support@example.com"
#: Built-in enumerations whose options a portal admin may edit (so their PATCH is allowed).
_EDITABLE = frozenset({"hs_ticket_priority", "hs_ticket_category"})


def owners(now: datetime) -> list[Owner]:
    """Four active owners and one archived one."""
    return [
        Owner("101", "ava.billing@example.com", "Ava", "Billing", 9101, False, now),
        Owner("102", "ben.tech@example.com", "Ben", "Tech", 9102, False, now),
        Owner("103", "cleo.accounts@example.com", "Cleo", "Accounts", 9103, False, now),
        Owner("104", "dan.product@example.com", "Dan", "Product", 9104, False, now),
        Owner("105", "old.owner@example.com", "Old", "Owner", 9105, True, now),
    ]


def help_center(now: datetime) -> KnowledgeBase:
    """The portal's one knowledge base."""
    return KnowledgeBase("4213091", "Help Center", "support.example.com", "knowledge", "en", now)


def catalog(now: datetime, *, custom_properties: bool) -> PropertyCatalog:
    """Built-in groups and definitions, plus hubsync's ``simpli_ai`` ones when asked."""
    result = PropertyCatalog(_INFO_GROUPS)
    for object_type, group in _INFO_GROUPS.items():
        result.add_group(
            object_type, PropertyGroup(group, group.replace("information", " information").title())
        )
    for object_type, specs in _builtin_specs().items():
        for spec in specs:
            result.add(object_type, _builtin(now, _INFO_GROUPS[object_type], spec))
    if custom_properties:
        _add_custom(result, now)
    return result


Spec = tuple[str, str, str, str, list[Option]]


def _options(*values: str, labels: dict[str, str] | None = None) -> list[Option]:
    names = labels or {}
    return [
        Option(names.get(v, v.replace("_", " ").capitalize()), v, display_order=i)
        for i, v in enumerate(values)
    ]


def _builtin_specs() -> dict[str, list[Spec]]:
    stages = [
        Option(stage.label, stage.id, display_order=stage.display_order)
        for stage in SUPPORT_PIPELINE.stages
    ]
    pipelines = [Option(SUPPORT_PIPELINE.label, SUPPORT_PIPELINE.id, display_order=0)]
    owner: Spec = ("hubspot_owner_id", "Owner", "enumeration", "select", [])
    return {
        "tickets": [
            ("subject", "Ticket name", "string", "text", []),
            ("content", "Ticket description", "string", "textarea", []),
            ("hs_pipeline", "Pipeline", "enumeration", "select", pipelines),
            ("hs_pipeline_stage", "Ticket status", "enumeration", "select", stages),
            ("hs_ticket_priority", "Priority", "enumeration", "select",
             _options("LOW", "MEDIUM", "HIGH", "URGENT")),
            ("hs_ticket_category", "Category", "enumeration", "select",
             _options("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY")),
            ("source_type", "Source", "enumeration", "select",
             _options("CHAT", "EMAIL", "FORM", "PHONE")),
            owner,
            ("createdate", "Create date", "datetime", "date", []),
            ("hs_lastmodifieddate", "Last modified date", "datetime", "date", []),
            ("closed_date", "Close date", "datetime", "date", []),
            ("hs_last_closed_date", "Last close date", "datetime", "date", []),
            ("hs_ticket_reopened_at", "Ticket reopened at", "datetime", "date", []),
            ("hs_object_id", "Record ID", "number", "number", []),
            ("hs_ticket_id", "Ticket ID", "number", "number", []),
            ("hs_conversations_originating_thread_id", "Originating conversation thread ID",
             "string", "text", []),
            ("hs_num_associated_conversations", "Number of associated conversations",
             "number", "number", []),
        ],
        "contacts": [
            ("firstname", "First name", "string", "text", []),
            ("lastname", "Last name", "string", "text", []),
            ("email", "Email", "string", "text", []),
            ("lastmodifieddate", "Last modified date", "datetime", "date", []),
            ("createdate", "Create date", "datetime", "date", []),
            ("hs_object_id", "Record ID", "number", "number", []),
        ],
        "notes": [
            ("hs_note_body", "Note body", "string", "html", []),
            ("hs_timestamp", "Activity date", "datetime", "date", []),
            owner,
            ("hs_createdate", "Create date", "datetime", "date", []),
            ("hs_lastmodifieddate", "Last modified date", "datetime", "date", []),
            ("hs_object_id", "Record ID", "number", "number", []),
            ("hs_attachment_ids", "Attachment IDs", "string", "text", []),
        ],
    }  # fmt: skip


def _builtin(now: datetime, group: str, spec: Spec) -> PropertyDef:
    name, label, type_, field_type, options = spec
    return PropertyDef(
        name=name,
        label=label,
        type=type_,
        field_type=field_type,
        group_name=group,
        created_at=now,
        options=options,
        read_only_value=name in READ_ONLY,
        read_only_definition=name not in _EDITABLE,
        hubspot_defined=True,
        referenced_object_type="OWNER" if name == "hubspot_owner_id" else None,
    )


def _add_custom(result: PropertyCatalog, now: datetime) -> None:
    def custom(
        name: str, label: str, type_: str, field_type: str, options: list[Option]
    ) -> PropertyDef:
        return PropertyDef(name, label, type_, field_type, CUSTOM_GROUP, now, options=options)

    for object_type in ("tickets", "contacts"):
        result.add_group(object_type, PropertyGroup(CUSTOM_GROUP, "Simpli AI"))
    for definition in (
        custom("ai_category", "AI category", "enumeration", "select",
               _options("billing", "technical", "account", "feature_request", "general")),
        custom("ai_urgency", "AI urgency", "enumeration", "select",
               _options("low", "medium", "high", "critical")),
        custom("ai_confidence", "AI confidence", "number", "number", []),
        custom("qa_score", "QA score", "number", "number", []),
    ):  # fmt: skip
        result.add("tickets", definition)
    for definition in (
        custom("sentiment_score", "Sentiment", "enumeration", "select",
               _options("positive", "neutral", "negative")),
        custom("escalation_risk", "Escalation risk", "number", "number", []),
    ):  # fmt: skip
        result.add("contacts", definition)
