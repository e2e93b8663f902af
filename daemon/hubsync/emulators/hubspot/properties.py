"""Property definitions and groups: the emulated Properties API (``docs/hubspot-api.md`` §6).

The catalog holds, per object type, the property definitions (name, type, options, read-only flag)
and the property groups. It validates definitions on create and PATCH; the values written to
objects are checked elsewhere (``values.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from hubsync import clock
from hubsync.emulators.hubspot import errors

#: Valid ``fieldType`` per ``type`` (properties guide); ``calculation_equation`` fits them all.
FIELD_TYPES_BY_TYPE: dict[str, frozenset[str]] = {
    "bool": frozenset({"booleancheckbox"}),
    "enumeration": frozenset({"booleancheckbox", "checkbox", "radio", "select"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "string": frozenset({"text", "textarea", "html", "phonenumber", "file"}),
    "number": frozenset({"number"}),
    "phone_number": frozenset({"phonenumber"}),
}
T = TypeVar("T")

ALL_FIELD_TYPES = frozenset().union(*FIELD_TYPES_BY_TYPE.values()) | {"calculation_equation"}

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_CREATE_KEYS = frozenset(
    {
        "name", "label", "type", "fieldType", "groupName", "description", "options",
        "displayOrder", "hidden", "formField", "hasUniqueValue", "calculationFormula",
        "externalOptions", "referencedObjectType", "dataSensitivity", "numberDisplayHint",
        "textDisplayHint", "showCurrencySymbol",
    }
)  # fmt: skip
_PATCH_KEYS = frozenset(
    {"label", "type", "fieldType", "groupName", "description", "options", "displayOrder",
     "hidden", "formField"}
)  # fmt: skip


@dataclass
class Option:
    """One choice of an enumeration property; ``value`` is what objects store."""

    label: str
    value: str
    hidden: bool = False
    display_order: int = 0
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "hidden": self.hidden,
            "displayOrder": self.display_order,
            "description": self.description,
        }


@dataclass
class PropertyDef:
    """One property definition of one object type."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    created_at: datetime
    description: str = ""
    options: list[Option] = field(default_factory=list)
    display_order: int = -1
    hidden: bool = False
    form_field: bool = False
    read_only_value: bool = False
    read_only_definition: bool = False
    hubspot_defined: bool = False
    has_unique_value: bool = False
    referenced_object_type: str | None = None
    updated_at: datetime | None = None

    def option_values(self) -> set[str]:
        return {option.value for option in self.options}

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [option.to_json() for option in self.options],
            "displayOrder": self.display_order,
            "calculated": False,
            "externalOptions": self.referenced_object_type is not None,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "formField": self.form_field,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.read_only_definition,
                "readOnlyValue": self.read_only_value,
            },
            "createdAt": clock.iso_ms(self.created_at),
            "updatedAt": clock.iso_ms(self.updated_at or self.created_at),
            "archived": False,
        }
        if self.hubspot_defined:
            body["hubspotDefined"] = True
        if self.referenced_object_type is not None:
            body["referencedObjectType"] = self.referenced_object_type
        return body


@dataclass
class PropertyGroup:
    """A named group that property definitions belong to."""

    name: str
    label: str
    display_order: int = -1

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "displayOrder": self.display_order,
            "archived": False,
        }


class PropertyCatalog:
    """Definitions and groups per object type. Not locked itself: the state's lock guards it."""

    def __init__(self, object_types: Iterable[str]) -> None:
        self._props: dict[str, dict[str, PropertyDef]] = {t: {} for t in object_types}
        self._groups: dict[str, dict[str, PropertyGroup]] = {t: {} for t in self._props}

    # --- reading ---------------------------------------------------------------------------

    def object_types(self) -> list[str]:
        return list(self._props)

    def get(self, object_type: str, name: str) -> PropertyDef | None:
        return self._definitions(object_type).get(name)

    def require(self, object_type: str, name: str) -> PropertyDef:
        """The definition, or 404 as ``GET /crm/v3/properties/{type}/{name}`` answers."""
        definition = self.get(object_type, name)
        if definition is None:
            raise errors.not_found(f"Unable to find property {name} for object type {object_type}")
        return definition

    def all(self, object_type: str) -> list[PropertyDef]:
        return list(self._definitions(object_type).values())

    def groups(self, object_type: str) -> list[PropertyGroup]:
        return list(self._group_map(object_type).values())

    def group(self, object_type: str, name: str) -> PropertyGroup:
        found = self._group_map(object_type).get(name)
        if found is None:
            raise errors.not_found(f"Unable to find property group {name}")
        return found

    # --- writing ---------------------------------------------------------------------------

    def add(self, object_type: str, definition: PropertyDef) -> None:
        """Store a definition without validation (used for the built-in portal)."""
        self._definitions(object_type)[definition.name] = definition

    def add_group(self, object_type: str, group: PropertyGroup) -> None:
        self._group_map(object_type)[group.name] = group

    def create(self, object_type: str, body: Mapping[str, Any], now: datetime) -> PropertyDef:
        """Validate a ``PropertyCreate`` body and store it; 409 if the name is taken."""
        errors.reject_unknown_fields(body, _CREATE_KEYS, "PropertyCreate")
        for key in ("name", "label", "type", "fieldType", "groupName"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise errors.validation(f"'{key}' is required and must be a non-empty string")
        name = body["name"]
        if not _NAME.match(name) or name.startswith("hs_"):
            raise errors.validation(
                f"Property name {name!r} must be lowercase letters, digits and underscores, "
                "start with a letter, and not use the reserved hs_ prefix"
            )
        if name in self._definitions(object_type):
            raise errors.conflict(f"Property named '{name}' already exists.")
        definition = PropertyDef(
            name=name,
            label=body["label"],
            type=body["type"],
            field_type=body["fieldType"],
            group_name=body["groupName"],
            created_at=now,
            description=_optional(body, "description", str, ""),
            display_order=_optional(body, "displayOrder", int, -1),
            hidden=_optional(body, "hidden", bool, False),
            form_field=_optional(body, "formField", bool, False),
            has_unique_value=_optional(body, "hasUniqueValue", bool, False),
        )
        definition.options = _parse_options(body.get("options"), definition.type)
        self._check_definition(object_type, definition)
        self.add(object_type, definition)
        return definition

    def patch(
        self, object_type: str, name: str, body: Mapping[str, Any], now: datetime
    ) -> PropertyDef:
        """Apply a ``PropertyUpdate`` body; the stored definition changes only if all is valid."""
        current = self.require(object_type, name)
        errors.reject_unknown_fields(body, _PATCH_KEYS, "PropertyUpdate")
        if current.read_only_definition:
            raise errors.validation(f"Property {name} has a read-only definition")
        updated = PropertyDef(**{**current.__dict__, "options": list(current.options)})
        updated.label = _optional(body, "label", str, current.label)
        updated.type = _optional(body, "type", str, current.type)
        updated.field_type = _optional(body, "fieldType", str, current.field_type)
        updated.group_name = _optional(body, "groupName", str, current.group_name)
        updated.description = _optional(body, "description", str, current.description)
        updated.display_order = _optional(body, "displayOrder", int, current.display_order)
        updated.hidden = _optional(body, "hidden", bool, current.hidden)
        updated.form_field = _optional(body, "formField", bool, current.form_field)
        if "options" in body:
            updated.options = _parse_options(body["options"], updated.type)
        self._check_definition(object_type, updated)
        updated.updated_at = now
        self.add(object_type, updated)
        return updated

    def create_group(self, object_type: str, body: Mapping[str, Any]) -> PropertyGroup:
        """Validate a ``PropertyGroupCreate`` body and store it; 409 if the name is taken."""
        errors.reject_unknown_fields(
            body, frozenset({"name", "label", "displayOrder"}), "GroupCreate"
        )
        for key in ("name", "label"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise errors.validation(f"'{key}' is required and must be a non-empty string")
        if not _NAME.match(body["name"]):
            raise errors.validation(f"Group name {body['name']!r} is not a valid internal name")
        if body["name"] in self._group_map(object_type):
            raise errors.conflict(f"A property group named '{body['name']}' already exists.")
        group = PropertyGroup(body["name"], body["label"], _optional(body, "displayOrder", int, -1))
        self.add_group(object_type, group)
        return group

    # --- helpers ---------------------------------------------------------------------------

    def _check_definition(self, object_type: str, definition: PropertyDef) -> None:
        if definition.type not in FIELD_TYPES_BY_TYPE:
            raise errors.validation(f"Unknown property type {definition.type!r}")
        if definition.field_type not in ALL_FIELD_TYPES:
            raise errors.validation(f"Unknown fieldType {definition.field_type!r}")
        allowed = FIELD_TYPES_BY_TYPE[definition.type] | {"calculation_equation"}
        if definition.field_type not in allowed:
            raise errors.validation(
                f"fieldType {definition.field_type!r} is not valid for type {definition.type!r}"
            )
        if definition.type == "enumeration" and not definition.options:
            raise errors.validation("Enumeration properties require a non-empty 'options' list")
        if definition.group_name not in self._group_map(object_type):
            raise errors.validation(f"Property group {definition.group_name!r} does not exist")

    def _definitions(self, object_type: str) -> dict[str, PropertyDef]:
        try:
            return self._props[object_type]
        except KeyError:
            raise errors.not_found(f"Unknown object type {object_type}") from None

    def _group_map(self, object_type: str) -> dict[str, PropertyGroup]:
        try:
            return self._groups[object_type]
        except KeyError:
            raise errors.not_found(f"Unknown object type {object_type}") from None


def _optional(body: Mapping[str, Any], key: str, kind: type[T], default: T) -> T:
    if key not in body:
        return default
    value = body[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise errors.validation(f"'{key}' must be of type {kind.__name__}")
    return value


def _parse_options(raw: Any, property_type: str) -> list[Option]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise errors.validation("'options' must be a list")
    if raw and property_type not in ("enumeration", "bool"):
        raise errors.validation(f"Properties of type {property_type!r} cannot have options")
    options: list[Option] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise errors.validation(f"options[{index}] must be an object")
        errors.reject_unknown_fields(
            item, frozenset({"label", "value", "hidden", "displayOrder", "description"}), "Option"
        )
        if not isinstance(item.get("label"), str) or not isinstance(item.get("value"), str):
            raise errors.validation(f"options[{index}] needs string 'label' and 'value'")
        if not isinstance(item.get("hidden"), bool):
            raise errors.validation(f"options[{index}] needs a boolean 'hidden'")
        options.append(
            Option(
                label=item["label"],
                value=item["value"],
                hidden=item["hidden"],
                display_order=_optional(item, "displayOrder", int, index),
                description=_optional(item, "description", str, ""),
            )
        )
    values = [option.value for option in options]
    if len(set(values)) != len(values):
        raise errors.validation("Option values must be unique")
    return options
