"""Strict request validation, as the real FastAPI services do it."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from hubsync.emulators.simpli.contract import ROLES, Request, validation_error

# --- Validation ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Text:
    """Rules for a string field. ``pattern`` must match the whole string."""

    min_len: int = 0
    max_len: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] | None = None


_ABSENT: Any = object()


class Fields:
    """Typed, strict reads from one JSON object, collecting every problem before failing.

    Types are checked exactly: a number is not a string, a bool is not a number, a float is not
    an integer. A required field must be present and not null. An optional field may be omitted;
    it may be null only when it has no default (like pydantic's ``X | None = None``). Unknown
    fields are ignored. Readers return a placeholder when a value is bad; call ``check()`` before
    using any of them.
    """

    def __init__(
        self,
        data: Any,
        *,
        path: tuple[str | int, ...] = ("body",),
        problems: list[dict[str, str]] | None = None,
    ) -> None:
        self.problems = problems if problems is not None else []
        self._path = path
        if not isinstance(data, dict):
            self._fail(path, "Input should be a valid dictionary")
            data = {}
        self._data: dict[str, Any] = data

    def has(self, name: str) -> bool:
        return name in self._data

    def nested(self, *names: str | int, data: Any) -> Fields:
        """A reader for an object inside this one, reporting into the same problem list."""
        return Fields(data, path=(*self._path, *names), problems=self.problems)

    def check(self) -> None:
        """Raise the 422 listing every problem found so far, if any."""
        if self.problems:
            raise validation_error(self.problems)

    def require_string(self, name: str, rules: Text = Text()) -> str:
        value = self._lookup(name, required=True, nullable=False)
        return self._string(name, value, rules) or ""

    def optional_string(self, name: str, rules: Text = Text()) -> str | None:
        """A string that may be omitted or null (→ None)."""
        value = self._lookup(name, required=False, nullable=True)
        return None if value is _ABSENT else self._string(name, value, rules)

    def defaulted_string(self, name: str, rules: Text, *, default: str) -> str:
        """A string that may be omitted (→ ``default``) but not null."""
        value = self._lookup(name, required=False, nullable=False)
        if value is _ABSENT:
            return default
        checked = self._string(name, value, rules)
        return default if checked is None else checked

    def require_boolean(self, name: str) -> bool:
        value = self._lookup(name, required=True, nullable=False)
        if not isinstance(value, bool):
            self._fail_field(name, "Input should be a valid boolean")
            return False
        return value

    def optional_number(
        self, name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        value = self._lookup(name, required=False, nullable=True)
        if value is _ABSENT:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._fail_field(name, "Input should be a valid number")
            return None
        self._check_range(name, value, minimum, maximum)
        return float(value)

    def optional_integer(
        self, name: str, *, default: int, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._lookup(name, required=False, nullable=False)
        if value is _ABSENT:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._fail_field(name, "Input should be a valid integer")
            return default
        self._check_range(name, value, minimum, maximum)
        return value

    def optional_object(self, name: str) -> dict[str, Any] | None:
        value = self._lookup(name, required=False, nullable=True)
        if value is _ABSENT:
            return None
        if not isinstance(value, dict):
            self._fail_field(name, "Input should be a valid dictionary")
            return None
        return value

    def require_list(self, name: str, *, min_items: int = 0) -> list[Any]:
        value = self._lookup(name, required=True, nullable=False)
        return self._list(name, value, min_items) if value is not _ABSENT else []

    def optional_string_list(self, name: str) -> list[str] | None:
        value = self._lookup(name, required=False, nullable=True)
        if value is _ABSENT:
            return None
        items = self._list(name, value, 0)
        strings = [item for item in items if isinstance(item, str)]
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self._fail((*self._path, name, index), "Input should be a valid string")
        return strings

    def _lookup(self, name: str, *, required: bool, nullable: bool) -> Any:
        if name not in self._data:
            if required:
                self._fail_field(name, "Field required")
            return _ABSENT
        value = self._data[name]
        return _ABSENT if value is None and nullable else value

    def _string(self, name: str, value: Any, rules: Text) -> str | None:
        if value is _ABSENT:
            return None
        problem = string_problem(value, rules)
        if problem:
            self._fail_field(name, problem)
            return None
        return str(value)

    def _list(self, name: str, value: Any, min_items: int) -> list[Any]:
        if not isinstance(value, list):
            self._fail_field(name, "Input should be a valid list")
            return []
        if len(value) < min_items:
            plural = "" if min_items == 1 else "s"
            self._fail_field(
                name,
                f"List should have at least {min_items} item{plural} "
                f"after validation, not {len(value)}",
            )
        return value

    def _check_range(
        self, name: str, value: float, minimum: float | None, maximum: float | None
    ) -> None:
        problem = range_problem(value, minimum, maximum)
        if problem:
            self._fail_field(name, problem)

    def _fail_field(self, name: str, message: str) -> None:
        self._fail((*self._path, name), message)

    def _fail(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append({"field": " -> ".join(str(part) for part in path), "message": message})


def string_problem(value: Any, rules: Text) -> str | None:
    """Why ``value`` breaks ``rules`` (pydantic's wording), or None when it is fine."""
    if not isinstance(value, str):
        return "Input should be a valid string"
    if rules.choices is not None and value not in rules.choices:
        quoted = [f"'{choice}'" for choice in rules.choices]
        return f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}"
    if len(value) < rules.min_len:
        plural = "" if rules.min_len == 1 else "s"
        return f"String should have at least {rules.min_len} character{plural}"
    if rules.max_len is not None and len(value) > rules.max_len:
        return f"String should have at most {rules.max_len} characters"
    if rules.pattern is not None and not re.fullmatch(rules.pattern, value):
        return f"String should match pattern '{rules.pattern}'"
    return None


@dataclasses.dataclass(frozen=True)
class Message:
    """One conversation message: ``role`` is customer, agent or system."""

    role: str
    content: str


MESSAGE_CONTENT = Text(min_len=1, max_len=10_000)


def read_messages(fields: Fields, name: str) -> list[Message]:
    """Read ``name`` as a non-empty list of ``{role, content (1..10000 chars)}`` objects."""
    messages = []
    for index, item in enumerate(fields.require_list(name, min_items=1)):
        message = fields.nested(name, index, data=item)
        role = message.require_string("role", Text(choices=ROLES))
        content = message.require_string("content", MESSAGE_CONTENT)
        messages.append(Message(role, content))
    return messages


def query_integer(
    request: Request, name: str, *, default: int, minimum: int, maximum: int | None = None
) -> int:
    """Read query parameter ``name`` as an integer in range, or raise the 422."""
    values = request.query.get(name)
    if not values:
        return default
    if re.fullmatch(r"-?[0-9]+", values[-1]):
        value = int(values[-1])
        problem = range_problem(value, minimum, maximum)
    else:
        value, problem = default, "Input should be a valid integer"
    if problem:
        raise validation_error([{"field": f"query -> {name}", "message": problem}])
    return value


def range_problem(value: float, minimum: float | None, maximum: float | None) -> str | None:
    """Why ``value`` is out of ``[minimum, maximum]`` (pydantic's wording), or None."""
    if minimum is not None and value < minimum:
        return f"Input should be greater than or equal to {minimum}"
    if maximum is not None and value > maximum:
        return f"Input should be less than or equal to {maximum}"
    return None
