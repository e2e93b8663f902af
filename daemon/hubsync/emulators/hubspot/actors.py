"""Conversation actors: who an actor id names, and how a message shows its senders and recipients.

Actor ids carry a prefix (``docs/hubspot-api.md`` §9): ``A-<userId>`` a HubSpot user (an owner's
``userId``, never its owner ``id``), ``V-<id>`` a visitor, whose number is a contact id or an
anonymous visitor id that no contact has, ``S-hubspot`` HubSpot itself, ``L-<n>`` the AI
customer agent, ``I-<appId>`` an integration and ``B-<n>`` a chatflow bot. The ``type`` values
are the spec's: ``AGENT``, ``VISITOR``, ``SYSTEM``, ``LLM``, ``INTEGRATOR`` and ``BOT``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from typing import Any

from hubsync.emulators.hubspot.state import HubSpotState

SYSTEM = "S-hubspot"
EMAIL_CHANNEL = "1002"
_NUMBERED = re.compile(r"^(?P<prefix>[AVLIB])-(?P<number>\d{1,19})$")
_NUMBERED_TYPES = {"L": "LLM", "I": "INTEGRATOR", "B": "BOT"}
_NUMBERED_NAMES = {"L": "Customer Agent", "I": "Integration {n}", "B": "Chatbot"}


def resolve(state: HubSpotState, visitors: Collection[str], actor_id: str) -> dict[str, Any] | None:
    """The ``PublicActor`` JSON for an actor id, or None if no such actor exists."""
    if actor_id == SYSTEM:
        return {"id": SYSTEM, "type": "SYSTEM"}
    match = _NUMBERED.match(actor_id)
    if match is None:
        return None
    prefix, number = match["prefix"], match["number"]
    if prefix == "A":
        return _agent(state, actor_id, int(number))
    if prefix == "V":
        return _visitor(state, visitors, actor_id, number)
    name = _NUMBERED_NAMES[prefix].format(n=number)
    return {"id": actor_id, "type": _NUMBERED_TYPES[prefix], "name": name}


def participant(
    state: HubSpotState, visitors: Collection[str], actor_id: str, channel_id: str
) -> dict[str, Any]:
    """A ``senders[]``/``recipients[]`` entry: actor id, name if known, delivery identifier.

    On the email channel an actor with an email address is reached at it
    (``HS_EMAIL_ADDRESS``); everywhere else, or without an address, by an opaque per-channel id.
    """
    actor = resolve(state, visitors, actor_id) or {"id": actor_id}
    entry: dict[str, Any] = {"actorId": actor_id}
    if actor.get("name"):
        entry["name"] = actor["name"]
    entry["deliveryIdentifier"] = delivery_identifier(actor_id, actor.get("email"), channel_id)
    return entry


def delivery_identifier(actor_id: str, email: str | None, channel_id: str) -> dict[str, str]:
    """How a channel addresses an actor."""
    if channel_id == EMAIL_CHANNEL and email:
        return {"type": "HS_EMAIL_ADDRESS", "value": email}
    opaque = hashlib.sha1(f"{channel_id}:{actor_id}".encode()).hexdigest()[:24]
    return {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": opaque}


def client_for(actor_id: str) -> dict[str, Any]:
    """The ``client`` a message by this actor was sent through."""
    if actor_id.startswith("I-"):
        return {"clientType": "INTEGRATION", "integrationAppId": int(actor_id[2:])}
    if actor_id == SYSTEM:
        return {"clientType": "SYSTEM"}
    return {"clientType": "HUBSPOT"}


def _agent(state: HubSpotState, actor_id: str, user_id: int) -> dict[str, Any] | None:
    with state.lock:
        owner = next((o for o in state.owners if o.user_id == user_id), None)
    if owner is None:
        return None
    name = f"{owner.first_name} {owner.last_name}".strip()
    return {"id": actor_id, "type": "AGENT", "name": name, "email": owner.email}


def _visitor(
    state: HubSpotState, visitors: Collection[str], actor_id: str, number: str
) -> dict[str, Any] | None:
    try:
        contact = state.properties_of("contacts", number)
    except KeyError:
        return {"id": actor_id, "type": "VISITOR"} if number in visitors else None
    actor: dict[str, Any] = {"id": actor_id, "type": "VISITOR"}
    name = " ".join(p for p in (contact.get("firstname"), contact.get("lastname")) if p)
    if name:
        actor["name"] = name
    if contact.get("email"):
        actor["email"] = contact["email"]
    return actor
