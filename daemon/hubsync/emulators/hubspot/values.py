"""Checking and normalising the property values of a write (create, PATCH, batch, seed).

All values end up as strings or None (``""`` clears a value, stored as None). Problems are
collected as HubSpot ``errors[]`` entries so one response can list every bad property.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hubsync import clock
from hubsync.emulators.hubspot import errors
from hubsync.emulators.hubspot.objects import ObjectKind, Properties
from hubsync.emulators.hubspot.pipelines import Pipeline
from hubsync.emulators.hubspot.properties import PropertyCatalog, PropertyDef

MAX_STRING_CHARS = 65_536
_EPOCH_MS = re.compile(r"^-?\d{1,16}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class WriteCheck:
    """What a write's values are checked against."""

    catalog: PropertyCatalog
    active_owner_ids: frozenset[str]
    pipelines: Mapping[str, Pipeline]

    def check(
        self,
        kind: ObjectKind,
        raw: Mapping[str, Any],
        current: Properties | None,
        *,
        allow_read_only: bool = False,
    ) -> tuple[Properties, list[errors.JsonObject]]:
        """Normalised values and the problems found; ``current`` is None on create.

        ``allow_read_only`` lets HubSpot itself (seeds, ``touch_ticket``) write read-only
        properties; the emulator-maintained ids and timestamps stay off limits even then.
        """
        values: Properties = {}
        problems: list[errors.JsonObject] = []
        for name, value in raw.items():
            problem, normalised = self._check_one(kind, name, value, current, allow_read_only)
            if problem is not None:
                problems.append(problem)
            else:
                values[name] = normalised
        if current is None:
            problems += _missing_required(kind, values)
        if kind.name == "tickets" and not problems:
            problems += self._check_stage(values, current)
        return values, problems

    def _check_one(
        self,
        kind: ObjectKind,
        name: str,
        value: Any,
        current: Properties | None,
        allow_read_only: bool,
    ) -> tuple[errors.JsonObject | None, str | None]:
        definition = self.catalog.get(kind.name, name)
        if definition is None:
            return _error(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'), None
        if name in kind.maintained_props or (definition.read_only_value and not allow_read_only):
            return _error(name, "READ_ONLY_VALUE", f'"{name}" is a read only property'), None
        text = _as_text(definition, value)
        if text is None:
            return _error(name, "INVALID_VALUE", f"{value!r} is not a valid value for {name}"), None
        if text == "":
            return None, None
        return self._check_typed(definition, text, current)

    def _check_typed(
        self, definition: PropertyDef, text: str, current: Properties | None
    ) -> tuple[errors.JsonObject | None, str | None]:
        name, kind = definition.name, definition.type
        if kind in ("string", "phone_number"):
            if len(text) > MAX_STRING_CHARS:
                message = f"{name} is {len(text)} characters long; the limit is {MAX_STRING_CHARS}"
                return _error(name, "VALUE_TOO_LONG", message), None
            return None, text
        if kind == "number":
            return _number(name, text)
        if kind in ("datetime", "date"):
            return _moment(name, text, date_only=kind == "date")
        if kind == "bool":
            if text not in ("true", "false"):
                return _error(name, "INVALID_BOOLEAN", f"{text} is not a valid boolean"), None
            return None, text
        return self._enumeration(definition, text, current)

    def _enumeration(
        self, definition: PropertyDef, text: str, current: Properties | None
    ) -> tuple[errors.JsonObject | None, str | None]:
        name = definition.name
        if name == "hubspot_owner_id":
            if text not in self.active_owner_ids:
                message = f"{text} is not a valid owner id"
                return _error(name, "INVALID_OWNER_ID", message), None
            return None, text
        if name == "hs_pipeline":
            if text not in self.pipelines:
                return _error(name, "INVALID_OPTION", f"{text} is not a valid pipeline id"), None
            return None, text
        if name == "hs_pipeline_stage":
            return None, text  # checked against the pipeline once all values are known
        if definition.field_type == "checkbox":
            return _multi_option(definition, text, current)
        if text not in definition.option_values():
            return _invalid_option(name, text), None
        return None, text

    def _check_stage(
        self, values: Properties, current: Properties | None
    ) -> list[errors.JsonObject]:
        before = current or {}
        if "hs_pipeline" in values and values["hs_pipeline"] is None:
            return [_error("hs_pipeline", "INVALID_OPTION", "hs_pipeline cannot be cleared")]
        pipeline_id = values.get("hs_pipeline") or before.get("hs_pipeline") or "0"
        pipeline = self.pipelines.get(pipeline_id)
        if "hs_pipeline_stage" in values:
            stage = values["hs_pipeline_stage"]
        elif "hs_pipeline" in values:
            stage = before.get("hs_pipeline_stage")
        else:
            return []
        if stage is None:
            message = "hs_pipeline_stage cannot be cleared"
            return [_error("hs_pipeline_stage", "INVALID_OPTION", message)]
        if pipeline is None or pipeline.stage(stage) is None:
            message = f"{stage} is not a valid stage of pipeline {pipeline_id}"
            return [_error("hs_pipeline_stage", "INVALID_OPTION", message)]
        return []


def _as_text(definition: PropertyDef, value: Any) -> str | None:
    """The value as the string HubSpot would store, or None if its JSON type is not allowed."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ("true" if value else "false") if definition.type == "bool" else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def _number(name: str, text: str) -> tuple[errors.JsonObject | None, str | None]:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        return _error(name, "INVALID_INTEGER", f"{text} was not a valid number"), None
    return None, text


def _moment(
    name: str, text: str, *, date_only: bool
) -> tuple[errors.JsonObject | None, str | None]:
    moment = parse_moment(text)
    if moment is None:
        return _error(
            name, "INVALID_DATE", f"{text} is not a valid date (ISO-8601 or epoch ms)"
        ), None
    if date_only:
        if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
            return _error(name, "INVALID_DATE", f"{text} is not midnight UTC"), None
        return None, moment.date().isoformat()
    return None, clock.iso_ms(moment)


def parse_moment(text: str) -> datetime | None:
    """An aware UTC datetime from epoch milliseconds or ISO-8601, or None."""
    if _EPOCH_MS.match(text):
        return clock.from_epoch_ms(int(text))
    if "T" not in text and not _DATE.match(text):
        return None
    try:
        return clock.parse_iso(text).astimezone(UTC)
    except ValueError:
        return None


def _multi_option(
    definition: PropertyDef, text: str, current: Properties | None
) -> tuple[errors.JsonObject | None, str | None]:
    appending = text.startswith(";")
    chosen = [part for part in text.split(";") if part]
    for part in chosen:
        if part not in definition.option_values():
            return _invalid_option(definition.name, part), None
    if appending and current and current.get(definition.name):
        existing = (current[definition.name] or "").split(";")
        chosen = existing + [part for part in chosen if part not in existing]
    return None, ";".join(chosen)


def _missing_required(kind: ObjectKind, values: Properties) -> list[errors.JsonObject]:
    return [
        _error(name, "REQUIRED_FIELD", f"{name} is required")
        for name in kind.required_on_create
        if not values.get(name)
    ]


def _invalid_option(name: str, value: str) -> errors.JsonObject:
    return _error(name, "INVALID_OPTION", f"{value} was not one of the allowed options for {name}")


def _error(name: str, code: str, message: str) -> errors.JsonObject:
    return errors.sub_error(message, code, propertyName=[name])
