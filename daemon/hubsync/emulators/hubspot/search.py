"""CRM search, evaluated purely: request parsing, filtering, sorting and paging (§1 of the doc).

Nothing here touches state or I/O. ``parse_request`` turns a JSON body into a ``SearchRequest``
(raising ``errors.ApiError`` for what HubSpot answers 400), and ``run`` applies it to rows
``(id, properties)`` given in creation order.

Comparison rules: datetime and date properties compare as epoch milliseconds (filter values
must be epoch-ms strings), number properties numerically, enumerations exactly (case-sensitive),
and strings case-insensitively, except that ``IN``/``NOT_IN`` values for strings are compared
against the lowercased stored value as given, so uppercase values never match (the guide says
they must be lowercase). ``NEQ``, ``NOT_IN`` and ``NOT_CONTAINS_TOKEN`` match objects without a
value. Only the first sort is honoured; objects without the sort value come last; ties keep
creation order.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hubsync import clock
from hubsync.emulators.hubspot import errors

Properties = Mapping[str, str | None]
Row = tuple[str, Properties]
#: Who is associated with an object: ``(object id, to type) -> ids``.
Associated = Callable[[str, str], Collection[str]]

MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
MAX_LIMIT, DEFAULT_LIMIT, MAX_RESULTS, MAX_QUERY_CHARS = 200, 10, 10_000, 3000
_VALUE_OPS = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
)
_LIST_OPS = frozenset({"IN", "NOT_IN"})
_BARE_OPS = frozenset({"HAS_PROPERTY", "NOT_HAS_PROPERTY"})
OPERATORS = _VALUE_OPS | _LIST_OPS | _BARE_OPS | {"BETWEEN"}
_NUMERIC_TYPES = frozenset({"number", "datetime", "date"})
_ASSOCIATION_TARGETS = {"contact": "contacts", "ticket": "tickets", "note": "notes"}
_ASSOCIATION_OPS = frozenset({"EQ", "IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"})
_EPOCH_MS = re.compile(r"^-?\d{1,16}$")
_TOKEN = re.compile(r"[\w*]+")
#: Properties the free-text ``query`` looks at, per object type.
SEARCHABLE = {
    "tickets": ("subject", "content", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_id"),
    "contacts": ("firstname", "lastname", "email"),
    "notes": ("hs_note_body",),
}


@dataclass(frozen=True)
class Filter:
    """One filter: ``value`` for single-value operators and BETWEEN's low end."""

    property_name: str
    operator: str
    value: str | None = None
    values: tuple[str, ...] = ()
    high_value: str | None = None


@dataclass(frozen=True)
class SearchRequest:
    """A parsed search body."""

    groups: tuple[tuple[Filter, ...], ...]
    sort_property: str | None
    descending: bool
    properties: tuple[str, ...] | None
    limit: int
    after: int
    query: str | None


@dataclass(frozen=True)
class SearchPage:
    """The matching total, this page's rows, and the next page's offset (None on the last)."""

    total: int
    rows: list[Row]
    next_after: int | None


def parse_request(body: Mapping[str, Any]) -> SearchRequest:
    """Validate a search body; every field may be missing."""
    errors.reject_unknown_fields(
        body, {"filterGroups", "sorts", "properties", "limit", "after", "query"}, "search"
    )
    groups = _parse_groups(body.get("filterGroups", []))
    sort_property, descending = _parse_sorts(body.get("sorts", []))
    limit = _parse_int(body.get("limit", DEFAULT_LIMIT), "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.validation(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    after = _parse_int(body.get("after", 0), "after")
    if after < 0:
        raise errors.validation("after must not be negative")
    if after + limit > MAX_RESULTS:
        raise errors.validation(
            f"Paging beyond {MAX_RESULTS} results is not allowed (after={after}, limit={limit})"
        )
    query = body.get("query")
    if query is not None and (not isinstance(query, str) or len(query) > MAX_QUERY_CHARS):
        raise errors.validation(f"query must be a string of at most {MAX_QUERY_CHARS} characters")
    return SearchRequest(
        groups,
        sort_property,
        descending,
        _parse_properties(body.get("properties")),
        limit,
        after,
        query,
    )


def check_names(request: SearchRequest, types: Mapping[str, str]) -> None:
    """400 if a filter or the sort names a property the object type does not define."""
    names = [f.property_name for group in request.groups for f in group]
    if request.sort_property is not None:
        names.append(request.sort_property)
    for name in names:
        if name.startswith("associations."):
            if name.removeprefix("associations.") not in _ASSOCIATION_TARGETS:
                raise errors.validation(f"Unknown association pseudo-property {name}")
        elif name not in types:
            raise errors.validation(f"Property {name!r} does not exist")
    for group in request.groups:
        for item in group:
            if item.property_name.startswith("associations."):
                if item.operator not in _ASSOCIATION_OPS:
                    raise errors.validation(
                        f"{item.operator} is not supported for {item.property_name}"
                    )
            else:
                _check_filter_values(item, types[item.property_name])


def run(
    request: SearchRequest,
    object_type: str,
    rows: Sequence[Row],
    types: Mapping[str, str],
    associated: Associated,
) -> SearchPage:
    """Filter, sort and page ``rows`` (given in creation order)."""
    matches = [row for row in rows if _matches(request, object_type, row, types, associated)]
    if request.sort_property is not None:
        matches = _sorted(matches, request.sort_property, types, request.descending)
    end = request.after + request.limit
    page = matches[request.after : end]
    return SearchPage(len(matches), page, end if end < len(matches) else None)


# --- parsing ------------------------------------------------------------------------------


def _parse_groups(raw: Any) -> tuple[tuple[Filter, ...], ...]:
    if not isinstance(raw, list):
        raise errors.validation("filterGroups must be a list")
    if len(raw) > MAX_GROUPS:
        raise errors.validation(f"Too many filterGroups: {len(raw)} (maximum {MAX_GROUPS})")
    groups = []
    for index, group in enumerate(raw):
        if not isinstance(group, dict):
            raise errors.validation(f"filterGroups[{index}] must be an object")
        errors.reject_unknown_fields(group, {"filters"}, "filterGroup")
        filters = group.get("filters")
        if not isinstance(filters, list) or not filters:
            raise errors.validation(f"filterGroups[{index}].filters must be a non-empty list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise errors.validation(
                f"Too many filters in filterGroups[{index}]: {len(filters)} "
                f"(maximum {MAX_FILTERS_PER_GROUP})"
            )
        groups.append(tuple(_parse_filter(item) for item in filters))
    total = sum(len(group) for group in groups)
    if total > MAX_FILTERS:
        raise errors.validation(f"Too many filters: {total} (maximum {MAX_FILTERS})")
    return tuple(groups)


def _parse_filter(raw: Any) -> Filter:
    if not isinstance(raw, dict):
        raise errors.validation("Each filter must be an object")
    errors.reject_unknown_fields(
        raw, {"propertyName", "operator", "value", "values", "highValue"}, "filter"
    )
    name, operator = raw.get("propertyName"), raw.get("operator")
    if not isinstance(name, str) or not name:
        raise errors.validation("filter.propertyName is required")
    if operator not in OPERATORS:
        raise errors.validation(f"Unknown filter operator {operator!r}")
    if operator in _LIST_OPS:
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            raise errors.validation(f"{operator} needs a non-empty 'values' list")
        return Filter(name, operator, values=tuple(_scalar(v, "values[]") for v in values))
    if operator in _BARE_OPS:
        return Filter(name, operator)
    value = _scalar(raw.get("value"), "value")
    if operator == "BETWEEN":
        return Filter(
            name, operator, value=value, high_value=_scalar(raw.get("highValue"), "highValue")
        )
    return Filter(name, operator, value=value)


def _scalar(raw: Any, what: str) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    raise errors.validation(f"filter {what} must be a string")


def _parse_sorts(raw: Any) -> tuple[str | None, bool]:
    if not isinstance(raw, list):
        raise errors.validation("sorts must be a list")
    parsed = []
    for item in raw:
        if not isinstance(item, dict):
            raise errors.validation('Each sort must be an object {"propertyName", "direction"}')
        errors.reject_unknown_fields(item, {"propertyName", "direction"}, "sort")
        name, direction = item.get("propertyName"), item.get("direction", "ASCENDING")
        if not isinstance(name, str) or not name:
            raise errors.validation("sort.propertyName is required")
        if direction not in ("ASCENDING", "DESCENDING"):
            raise errors.validation(
                f"sort.direction must be ASCENDING or DESCENDING, got {direction!r}"
            )
        parsed.append((name, direction == "DESCENDING"))
    return parsed[0] if parsed else (None, False)


def _parse_int(raw: Any, what: str) -> int:
    if isinstance(raw, bool):
        raise errors.validation(f"{what} must be an integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    raise errors.validation(f"{what} must be an integer, got {raw!r}")


def _parse_properties(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise errors.validation("properties must be a list of strings")
    return tuple(raw)


def _check_filter_values(item: Filter, property_type: str) -> None:
    """Datetime filters take epoch ms; number filters take numbers."""
    if property_type not in _NUMERIC_TYPES or item.operator in _BARE_OPS:
        return
    if item.operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        raise errors.validation(f"{item.operator} is not supported for {property_type} properties")
    candidates = [*item.values, item.value, item.high_value]
    for value in (v for v in candidates if v is not None):
        if _filter_number(value, property_type) is None:
            expected = "epoch milliseconds" if property_type != "number" else "a number"
            raise errors.validation(f"{item.property_name}: {value!r} is not {expected}")


# --- evaluation ---------------------------------------------------------------------------


def _matches(
    request: SearchRequest,
    object_type: str,
    row: Row,
    types: Mapping[str, str],
    associated: Associated,
) -> bool:
    if request.query and not _query_matches(request.query, object_type, row[1]):
        return False
    if not request.groups:
        return True
    return any(all(_test(f, row, types, associated) for f in group) for group in request.groups)


def _test(item: Filter, row: Row, types: Mapping[str, str], associated: Associated) -> bool:
    object_id, properties = row
    if item.property_name.startswith("associations."):
        target = _ASSOCIATION_TARGETS[item.property_name.removeprefix("associations.")]
        linked = set(associated(object_id, target))
        return _test_set(item, linked)
    stored = properties.get(item.property_name)
    stored = None if stored == "" else stored
    op = item.operator
    if op in _BARE_OPS:
        return (stored is not None) == (op == "HAS_PROPERTY")
    if stored is None:
        return op in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN")
    property_type = types[item.property_name]
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        return _contains_token(stored, item.value or "") == (op == "CONTAINS_TOKEN")
    if op in _LIST_OPS:
        hit = any(_equal(stored, v, property_type, exact_case=True) for v in item.values)
        return hit == (op == "IN")
    if op in ("EQ", "NEQ"):
        return _equal(stored, item.value or "", property_type) == (op == "EQ")
    return _in_range(stored, item, property_type)


def _test_set(item: Filter, linked: set[str]) -> bool:
    """Association pseudo-properties; ``check_names`` allowed only these operators."""
    if item.operator == "EQ":
        return item.value in linked
    if item.operator == "IN":
        return bool(linked.intersection(item.values))
    return bool(linked) == (item.operator == "HAS_PROPERTY")


def _equal(stored: str, wanted: str, property_type: str, *, exact_case: bool = False) -> bool:
    if property_type in _NUMERIC_TYPES:
        return _stored_number(stored, property_type) == _filter_number(wanted, property_type)
    if property_type == "enumeration":
        return stored == wanted
    # Strings: EQ ignores case; IN/NOT_IN values must already be lowercase to match.
    return stored.lower() == (wanted if exact_case else wanted.lower())


def _in_range(stored: str, item: Filter, property_type: str) -> bool:
    if property_type in _NUMERIC_TYPES:
        key = _stored_number(stored, property_type)
        low = _filter_number(item.value or "", property_type)
        high = _filter_number(item.high_value or "", property_type)
        if key is None or low is None:
            return False
        return _compare(item.operator, key, low, high)
    text_high = None if item.high_value is None else item.high_value.lower()
    return _compare(item.operator, stored.lower(), (item.value or "").lower(), text_high)


def _compare(op: str, key: Any, low: Any, high: Any) -> bool:
    """Range operators on two values of the same kind (both numbers or both strings)."""
    if op == "BETWEEN":
        return high is not None and bool(low <= key <= high)
    return bool({"LT": key < low, "LTE": key <= low, "GT": key > low, "GTE": key >= low}[op])


def _stored_number(stored: str, property_type: str) -> float | None:
    """Stored datetimes are ISO (or a date); numbers are decimal strings."""
    try:
        if property_type == "number":
            return float(stored)
        return float(clock.to_epoch_ms(clock.parse_iso(stored)))
    except ValueError:
        return None


def _filter_number(value: str, property_type: str) -> float | None:
    if property_type == "number":
        try:
            return float(value)
        except ValueError:
            return None
    return float(value) if _EPOCH_MS.match(value) else None


def _contains_token(stored: str, wanted: str) -> bool:
    tokens = _TOKEN.findall(stored.lower())
    patterns = _TOKEN.findall(wanted.lower())
    return bool(patterns) and all(
        any(fnmatch.fnmatchcase(token, pattern) for token in tokens) for pattern in patterns
    )


def _query_matches(query: str, object_type: str, properties: Properties) -> bool:
    text = " ".join(properties.get(name) or "" for name in SEARCHABLE.get(object_type, ()))
    tokens = _TOKEN.findall(text.lower())
    terms = _TOKEN.findall(query.lower())
    return all(any(token.startswith(term.rstrip("*")) for token in tokens) for term in terms)


def _sorted(rows: list[Row], name: str, types: Mapping[str, str], descending: bool) -> list[Row]:
    property_type = types.get(name, "string")

    def key(row: Row) -> Any:
        stored = row[1].get(name)
        if stored is None or stored == "":
            return None
        if property_type in _NUMERIC_TYPES:
            return _stored_number(stored, property_type)
        return stored.lower()

    keyed = [(key(row), row) for row in rows]
    present = [(k, row) for k, row in keyed if k is not None]
    missing = [row for k, row in keyed if k is None]
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [row for _, row in present] + missing
