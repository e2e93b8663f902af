"""Associations between objects, stored in both directions (``docs/hubspot-api.md`` §4).

Only the HUBSPOT_DEFINED default types between tickets, contacts and notes exist. Creating one
direction creates its inverse (note→ticket 228 also makes ticket→note 227). Associations never
change an object's modified time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hubsync.emulators.hubspot import errors

#: HUBSPOT_DEFINED default association type ids, by (from type, to type).
TYPE_IDS: dict[tuple[str, str], int] = {
    ("notes", "tickets"): 228,
    ("tickets", "notes"): 227,
    ("notes", "contacts"): 202,
    ("contacts", "notes"): 201,
    ("tickets", "contacts"): 16,
    ("contacts", "tickets"): 15,
}
#: The ``objectTypeId`` HubSpot reports for each object type.
OBJECT_TYPE_IDS = {"contacts": "0-1", "tickets": "0-5", "notes": "0-46"}
CATEGORY = "HUBSPOT_DEFINED"


@dataclass(frozen=True)
class Link:
    """One requested association: to which object, over which type."""

    to_type: str
    to_id: str


class AssociationStore:
    """Association sets keyed by (from type, from id, to type). Guarded by the state's lock."""

    def __init__(self) -> None:
        self._links: dict[tuple[str, str, str], set[str]] = {}

    def add(self, from_type: str, from_id: str, link: Link) -> None:
        """Associate both ways with the default type ids."""
        self._links.setdefault((from_type, from_id, link.to_type), set()).add(link.to_id)
        self._links.setdefault((link.to_type, link.to_id, from_type), set()).add(from_id)

    def targets(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Associated ids of ``to_type``, in ascending numeric order."""
        found = self._links.get((from_type, from_id, to_type), set())
        return sorted(found, key=int)


def type_id(from_type: str, to_type: str) -> int:
    """The default type id between two object types; 400 if they cannot be associated."""
    found = TYPE_IDS.get((from_type, to_type))
    if found is None:
        raise errors.validation(f"No default association type exists from {from_type} to {to_type}")
    return found


def result_row(from_type: str, to_type: str, to_id: str) -> dict[str, Any]:
    """One ``results[]`` row of the v4 associations read."""
    return {
        "toObjectId": int(to_id),
        "associationTypes": [
            {"category": CATEGORY, "typeId": TYPE_IDS[(from_type, to_type)], "label": None}
        ],
    }


def parse_inline(from_type: str, raw: Any) -> list[Link]:
    """Parse the ``associations`` of a create body; 400 for a bad shape, type id or category."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise errors.validation("'associations' must be a list")
    return [_parse_one(from_type, index, item) for index, item in enumerate(raw)]


def parse_specs(from_type: str, to_type: str, raw: Any) -> None:
    """Check the body of the labelled v4 PUT: a list of specs naming the default type."""
    if not isinstance(raw, list) or not raw:
        raise errors.validation("Body must be a non-empty list of association specs")
    for spec in raw:
        _check_spec(from_type, spec, expected_to=to_type)


def _parse_one(from_type: str, index: int, item: Any) -> Link:
    if not isinstance(item, dict) or set(item) - {"to", "types"}:
        raise errors.validation(f"associations[{index}] must be an object with 'to' and 'types'")
    target = item.get("to")
    if not isinstance(target, dict) or not isinstance(target.get("id"), str | int):
        raise errors.validation(f"associations[{index}].to.id is required")
    types = item.get("types")
    if not isinstance(types, list) or not types:
        raise errors.validation(f"associations[{index}].types must be a non-empty list")
    to_types = {_check_spec(from_type, spec) for spec in types}
    if len(to_types) != 1:
        raise errors.validation(f"associations[{index}].types point at different object types")
    return Link(to_types.pop(), str(target["id"]))


def _check_spec(from_type: str, spec: Any, expected_to: str | None = None) -> str:
    """The target object type a spec names; 400 unless it is a known default type."""
    if not isinstance(spec, dict) or set(spec) != {"associationCategory", "associationTypeId"}:
        raise errors.validation(
            "Each association type needs exactly 'associationCategory' and 'associationTypeId'"
        )
    category, wanted = spec["associationCategory"], spec["associationTypeId"]
    if category != CATEGORY:
        raise errors.validation(f"Association category {category!r} is not valid here")
    matches = _to_types_for(from_type, wanted)
    if not matches or (expected_to is not None and expected_to not in matches):
        raise errors.validation(f"{wanted!r} is not a valid association type id from {from_type}")
    return expected_to or matches[0]


def _to_types_for(from_type: str, wanted: Any) -> Sequence[str]:
    if not isinstance(wanted, int) or isinstance(wanted, bool):
        return []
    return [to for (src, to), tid in TYPE_IDS.items() if src == from_type and tid == wanted]
