"""hubsync's custom HubSpot properties, and the setup that makes a portal carry them.

``PROPERTIES`` is the specification (the integration guide's "Custom properties" table).
``ensure`` reads the portal before it writes: it creates what is missing, adds missing options to
enumerations (keeping the portal's own options, labels and order), and reports, without touching
it, a property whose type hubsync cannot use; an operator has to fix that one in HubSpot.
``verify`` only reads, one list call per object type.

Retries live in ``HubSpotHTTP``. Creating a property or group is sent as retryable: a retry of a
create that did land answers 409, which this module reads as "it exists".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import structlog

from hubsync import errors
from hubsync.hubspot.http import HubSpotHTTP
from hubsync.hubspot.records import BadRecord

log = structlog.get_logger(__name__)

_BASE: Final = "/crm/v3/properties"


@dataclass(frozen=True)
class GroupSpec:
    """The property group hubsync creates its properties in (one per object type)."""

    name: str
    label: str


@dataclass(frozen=True)
class PropertySpec:
    """One custom property hubsync writes; ``options`` are ``(value, label)`` pairs."""

    object_type: str
    name: str
    label: str
    type: str
    field_type: str
    description: str
    options: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """``"{object_type}.{name}"``, as reports and ``verify`` name it."""
        return f"{self.object_type}.{self.name}"

    def create_body(self, group_name: str) -> dict[str, Any]:
        """The ``PropertyCreate`` body for this property in ``group_name``."""
        body: dict[str, Any] = {
            "name": self.name, "label": self.label, "type": self.type,
            "fieldType": self.field_type, "groupName": group_name,
            "description": self.description, "formField": False,
        }
        if self.options:
            body["options"] = [_new_option(value, label, order)
                               for order, (value, label) in enumerate(self.options)]
        return body


def _titled(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple((value, value.replace("_", " ").capitalize()) for value in values)


GROUP = GroupSpec(name="simpli_ai", label="Simpli AI")

PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec("tickets", "ai_category", "AI Category", "enumeration", "select",
                 "Triage classification category",
                 _titled("billing", "technical", "account", "feature_request", "general")),
    PropertySpec("tickets", "ai_urgency", "AI Urgency", "enumeration", "select",
                 "Urgency level from Triage", _titled("low", "medium", "high", "critical")),
    PropertySpec("tickets", "ai_confidence", "AI Confidence", "number", "number",
                 "Classification confidence (0-100)"),
    PropertySpec("tickets", "qa_score", "QA Score", "number", "number",
                 "QA evaluation score (0-100)"),
    PropertySpec("contacts", "sentiment_score", "Sentiment Score", "enumeration", "select",
                 "Contact sentiment from Simpli AI", _titled("positive", "neutral", "negative")),
    PropertySpec("contacts", "escalation_risk", "Escalation Risk", "number", "number",
                 "Escalation risk (0-100)"),
)  # fmt: skip


@dataclass(frozen=True)
class RemoteOption:
    """One option of an enumeration as the portal holds it."""

    value: str
    label: str
    hidden: bool
    display_order: int
    description: str

    @classmethod
    def from_api(cls, raw: Any, index: int) -> RemoteOption:
        if not isinstance(raw, dict) or not isinstance(raw.get("value"), str):
            raise BadRecord("property option has no value")
        order = raw.get("displayOrder")
        return cls(value=raw["value"], label=str(raw.get("label") or raw["value"]),
                   hidden=raw.get("hidden") is True,
                   display_order=order if isinstance(order, int) and order >= 0 else index,
                   description=str(raw.get("description") or ""))

    def to_api(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "hidden": self.hidden,
                "displayOrder": self.display_order, "description": self.description}


@dataclass(frozen=True)
class RemoteProperty:
    """A property definition as the portal holds it (the fields setup looks at)."""

    name: str
    type: str
    field_type: str
    read_only_value: bool
    options: tuple[RemoteOption, ...]

    @classmethod
    def from_api(cls, raw: Any) -> RemoteProperty:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise BadRecord("property answer has no name")
        meta = raw.get("modificationMetadata")
        read_only = isinstance(meta, dict) and meta.get("readOnlyValue") is True
        raw_options = raw.get("options")
        if not isinstance(raw_options, list):
            raw_options = []
        return cls(name=raw["name"], type=str(raw.get("type")), field_type=str(raw.get("fieldType")),
                   read_only_value=read_only or raw.get("calculated") is True,
                   options=tuple(RemoteOption.from_api(o, i) for i, o in enumerate(raw_options)))


@dataclass(frozen=True)
class SetupReport:
    """What ``ensure`` did (or, with ``check_only``, would do); entries name ``type.name``."""

    check_only: bool = False
    created: list[str] = field(default_factory=list)
    options_added: list[str] = field(default_factory=list)  # "tickets.ai_category: general"
    existing: list[str] = field(default_factory=list)  # there and usable (options may be added)
    conflicts: list[str] = field(default_factory=list)  # "tickets.qa_score: <reason>"
    groups_created: list[str] = field(default_factory=list)  # "tickets.simpli_ai"
    planned: list[str] = field(default_factory=list)  # "create tickets.qa_score", "add option …"

    def ok(self) -> bool:
        """True when nothing needs an operator and, for a check, nothing is left to do."""
        return not self.conflicts and not self.planned

    def lines(self) -> list[str]:
        """One human-readable line per fact, writes first and conflicts last."""
        return [
            *(f"created group {key}" for key in self.groups_created),
            *(f"created {key}" for key in self.created),
            *(f"added option {entry}" for entry in self.options_added),
            *(f"would {step}" for step in self.planned),
            *(f"ok {key}" for key in self.existing),
            *(f"CONFLICT {entry}" for entry in self.conflicts),
        ]


def ensure(http: HubSpotHTTP, *, check_only: bool = False) -> SetupReport:
    """Make the portal carry ``PROPERTIES``; with ``check_only`` only read and plan.

    Idempotent: a second run on a set-up portal makes no writes. The ``GROUP`` of an object type
    is read (and created if missing) only when one of its properties has to be created.
    """
    setup = _Setup(http, SetupReport(check_only=check_only))
    for spec in PROPERTIES:
        setup.property(spec)
    return setup.report


def verify(http: HubSpotHTTP, needed: Iterable[tuple[str, str]] | None = None) -> list[str]:
    """The sorted ``"type.name"`` of the ``(object_type, name)`` pairs the portal lacks.

    ``needed`` defaults to all of ``PROPERTIES``. One GET per object type, nothing else.
    """
    wanted = [(s.object_type, s.name) for s in PROPERTIES] if needed is None else list(needed)
    missing: set[str] = set()
    for object_type in dict.fromkeys(object_type for object_type, _ in wanted):
        answer = http.get(f"{_BASE}/{object_type}")
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise BadRecord("property list answer has no results list")
        present = {RemoteProperty.from_api(raw).name for raw in results}
        missing.update(f"{t}.{name}" for t, name in wanted if t == object_type
                       and name not in present)
    return sorted(missing)


class _Setup:
    """One ``ensure`` run: the report it fills and the groups known to exist."""

    def __init__(self, http: HubSpotHTTP, report: SetupReport) -> None:
        self._http = http
        self.report = report
        self._groups_ready: set[str] = set()

    def property(self, spec: PropertySpec) -> None:
        remote = self._read(spec)
        if remote is None:
            self._group(spec.object_type)
            if self.report.check_only:
                self.report.planned.append(f"create {spec.key}")
                return
            if self._create(spec):
                return
            remote = self._read(spec)  # 409: someone else created it meanwhile
            if remote is None:
                self._conflict(spec, "HubSpot says the name is taken but cannot show it (an "
                               "archived property?); restore or purge it in HubSpot")
                return
        self._reconcile(spec, remote)

    def _read(self, spec: PropertySpec) -> RemoteProperty | None:
        try:
            raw = self._http.get(f"{_BASE}/{spec.object_type}/{spec.name}")
        except errors.HubSpotNotFound:
            return None
        return RemoteProperty.from_api(raw)

    def _create(self, spec: PropertySpec) -> bool:
        """POST the property; False when HubSpot answers 409 (it exists)."""
        body = spec.create_body(GROUP.name)
        if not _posted(self._http, f"{_BASE}/{spec.object_type}", body):
            return False
        self.report.created.append(spec.key)
        log.info("property_created", object_type=spec.object_type, name=spec.name,
                 type=spec.type, field_type=spec.field_type)
        return True

    def _group(self, object_type: str) -> None:
        """Make sure ``GROUP`` exists for ``object_type`` (or plan it), once per run."""
        if object_type in self._groups_ready:
            return
        self._groups_ready.add(object_type)
        try:
            self._http.get(f"{_BASE}/{object_type}/groups/{GROUP.name}")
            return
        except errors.HubSpotNotFound:
            pass
        key = f"{object_type}.{GROUP.name}"
        if self.report.check_only:
            self.report.planned.append(f"create group {key}")
        elif _posted(self._http, f"{_BASE}/{object_type}/groups",
                     {"name": GROUP.name, "label": GROUP.label}):
            self.report.groups_created.append(key)
            log.info("property_group_created", object_type=object_type, group=GROUP.name)

    def _reconcile(self, spec: PropertySpec, remote: RemoteProperty) -> None:
        """Check an existing property's type and add the options it lacks."""
        if remote.type != spec.type:
            self._conflict(spec, f"type is {remote.type}/{remote.field_type}, hubsync needs "
                           f"{spec.type}/{spec.field_type}; change or replace it in HubSpot")
            return
        if remote.read_only_value:
            self._conflict(spec, "its values are read-only (calculated?); replace it in HubSpot")
            return
        self.report.existing.append(spec.key)
        have = {option.value for option in remote.options}
        missing = [(value, label) for value, label in spec.options if value not in have]
        if not missing:
            return
        if self.report.check_only:
            self.report.planned.extend(f"add option {spec.key}: {value}" for value, _ in missing)
            return
        start = max((option.display_order for option in remote.options), default=-1) + 1
        options = [option.to_api() for option in remote.options]
        options += [_new_option(value, label, start + i) for i, (value, label) in
                    enumerate(missing)]
        self._http.patch(f"{_BASE}/{spec.object_type}/{spec.name}", {"options": options})
        self.report.options_added.extend(f"{spec.key}: {value}" for value, _ in missing)
        log.info("property_options_added", object_type=spec.object_type, name=spec.name,
                 values=[value for value, _ in missing])

    def _conflict(self, spec: PropertySpec, reason: str) -> None:
        self.report.conflicts.append(f"{spec.key}: {reason}")
        log.warning("property_conflict", object_type=spec.object_type, name=spec.name,
                    reason=reason)


def _posted(http: HubSpotHTTP, path: str, body: dict[str, Any]) -> bool:
    """POST a create; False when HubSpot answers 409 because the name is already taken."""
    try:
        http.post(path, body, idempotent=True)  # a repeat after a lost answer gets a 409
    except errors.HubSpotPermanent as exc:
        if exc.status == 409:
            return False
        raise
    return True


def _new_option(value: str, label: str, display_order: int) -> dict[str, Any]:
    return {"label": label, "value": value, "hidden": False, "displayOrder": display_order,
            "description": ""}
