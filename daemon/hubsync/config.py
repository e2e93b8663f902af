"""Configuration: one YAML file parsed into typed, validated models.

Defaults live here, in code. ``parse(text, env)`` is pure and testable without files;
``load(path)`` reads the file. ``${VAR}`` (and ``${VAR:-default}``) in any string value is
replaced from the environment, so secrets stay out of the file. Every problem is reported
as ``field.path: reason`` — never with the offending value, which may be a secret.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hubsync import errors

DEFAULT_PATH = "/etc/hubsync/config.yaml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

Urgency = Literal["low", "medium", "high", "critical"]
Priority = Literal["LOW", "MEDIUM", "HIGH", "URGENT"]
DEFAULT_PRIORITY: dict[Urgency, Priority] = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH",
                                             "critical": "URGENT"}


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(value: str) -> str:
    """An absolute http(s) URL with a host; plain http only for loopback addresses."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL such as https://api.hubapi.com")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("must use https (plain http is allowed only for loopback addresses)")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; use the token or api_key fields")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_check_url)]
PositiveSeconds = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateConfig(_Model):
    """The per-portal HubSpot request budget."""

    search_per_s: float = Field(4.0, gt=0, le=5)
    burst_max: int = Field(152, gt=0, description="80 % of Professional's 190 per 10 s")
    burst_window_s: PositiveSeconds = 10.0


class PortalConfig(_Model):
    """One HubSpot portal (account) and how to write to it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    base_url: HttpUrl = "https://api.hubapi.com"
    token: SecretStr | None = None
    token_file: Path | None = None
    rate: RateConfig = RateConfig()
    # Simpli Triage agent id -> HubSpot owner id (the owner `id`, not a userId).
    owners: dict[str, str] = Field(default_factory=dict)
    # Simpli urgency -> hs_ticket_priority. "critical" falls back to HIGH when the portal's
    # priority property has no URGENT option.
    priority_map: dict[Urgency, Priority] = Field(default_factory=lambda: dict(DEFAULT_PRIORITY))
    pipelines: list[str] = Field(default_factory=list, description="empty = every pipeline")

    @field_validator("owners")
    @classmethod
    def _owner_ids_numeric(cls, value: dict[str, str]) -> dict[str, str]:
        for agent, owner in value.items():
            if not str(owner).isdigit():
                raise ValueError(f"owner for agent {agent!r} must be a numeric HubSpot owner id")
        return value

    @model_validator(mode="after")
    def _one_token_source(self) -> PortalConfig:
        has_token = self.token is not None and self.token.get_secret_value() != ""
        if has_token == (self.token_file is not None):
            raise ValueError("token: give exactly one of token or token_file")
        return self

    def read_token(self) -> str:
        """The private-app token, from the config value or the credentials file."""
        if self.token is not None:
            return self.token.get_secret_value()
        assert self.token_file is not None
        path = self.token_file
        if not path.is_absolute() and os.environ.get("CREDENTIALS_DIRECTORY"):
            path = Path(os.environ["CREDENTIALS_DIRECTORY"]) / path
        return path.read_text(encoding="utf-8").strip()


class ServiceConfig(_Model):
    """One Simpli service endpoint."""

    base_url: HttpUrl
    api_key: SecretStr | None = None
    timeout_s: PositiveSeconds = 30.0


class ReplyConfig(ServiceConfig):
    style: Literal["friendly", "formal"] = "friendly"
    language: str = Field("en", pattern=r"^[a-z]{2}$")


class SentimentConfig(ServiceConfig):
    escalation_threshold: float = Field(0.5, ge=0, le=1,
                                        description="risk at which the ticket goes to HIGH")


class QAConfig(ServiceConfig):
    evaluate_path: str = Field("/evaluate", pattern=r"^/[A-Za-z0-9/_-]*$")


class SimpliConfig(_Model):
    triage: ServiceConfig = ServiceConfig(base_url="http://127.0.0.1:8001")
    reply: ReplyConfig = ReplyConfig(base_url="http://127.0.0.1:8002")
    qa: QAConfig = QAConfig(base_url="http://127.0.0.1:8003")
    sentiment: SentimentConfig = SentimentConfig(base_url="http://127.0.0.1:8004")
    kb: ServiceConfig = ServiceConfig(base_url="http://127.0.0.1:8006")
    concurrency: int = Field(8, ge=1, le=64, description="Simpli calls in flight at once")


Action = Literal["triage", "reply", "sentiment", "qa"]


def _actions(*names: Action) -> Callable[[], list[Action]]:
    return lambda: list(names)


class RulesConfig(_Model):
    """Which actions run for which event. Defaults follow the guide's stage table."""

    created: list[Action] = Field(default_factory=_actions("triage", "reply"))
    stage_changed: list[Action] = Field(default_factory=list)
    closed: list[Action] = Field(default_factory=_actions("qa"))
    reopened: list[Action] = Field(default_factory=list)
    content_edited: list[Action] = Field(default_factory=list)
    message: list[Action] = Field(default_factory=_actions("sentiment"))
    # Entering a stage (matched by stage id or, case-insensitively, by label) adds actions.
    stages: dict[str, list[Action]] = Field(
        default_factory=lambda: {"Waiting on us": _actions("reply")()})


class KBConfig(_Model):
    """Knowledge-base sync: HubSpot articles → Simpli KB, then the gap report."""

    enabled: bool = True
    schedule: str = Field("0 3 * * *", description="cron expression (UTC)")
    fallback_queries: list[str] = Field(
        default_factory=lambda: ["how", "what", "account", "billing", "help"],
        description="site-search terms used when the Knowledge Base API is unavailable")

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a valid cron expression ({exc})") from None
        return value


class PollingConfig(_Model):
    """How often and how far back the streams read."""

    tickets_interval_s: PositiveSeconds = 30.0
    messages: bool = Field(True, description="poll conversation threads for customer messages")
    settled_delay_s: float = Field(3600.0, ge=0, description="settled lane runs this far behind")
    settled_window_s: PositiveSeconds = 3600.0
    settled_interval_s: float = Field(300.0, ge=0)
    pipelines_ttl_s: PositiveSeconds = 600.0
    overlap_s: float = Field(300.0, ge=0, description="re-read window for search index lag")
    initial_lookback_s: float = Field(3600.0, ge=0,
                                      description="how far back a brand-new ledger starts")
    page_size: int = Field(200, ge=1, le=200)
    max_window_results: int = Field(9000, ge=200, le=9800)


class ProcessingConfig(_Model):
    """Per-event retry policy and batch sizes."""

    max_attempts: int = Field(5, ge=1, le=50)
    retry_base_s: PositiveSeconds = 30.0
    retry_cap_s: PositiveSeconds = 3600.0
    batch_size: int = Field(100, ge=1, le=1000, description="events handled per cycle step")


class WritebackConfig(_Model):
    """How the outbox is drained and reconciled."""

    batch_size: int = Field(100, ge=1, le=100)
    reconcile_after_s: float = Field(90.0, ge=0,
                                     description="wait before checking an unknown note outcome")
    max_attempts: int = Field(8, ge=1, le=50)


class LedgerConfig(_Model):
    url: str = "sqlite:////var/lib/hubsync/ledger.db"
    lock_path: Path | None = Field(
        None, description="single-instance lock; default: <sqlite file>.lock")

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be sqlite:///PATH or postgresql[+psycopg]://...")
        return value


class MetricsConfig(_Model):
    """The HTTP endpoint for /metrics, /livez, /readyz and /healthz (no authentication)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535, description="0 picks a free port")
    allow_remote: bool = Field(False, description="allow a non-loopback host")

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> MetricsConfig:
        if not self.allow_remote and not _is_loopback(self.host):
            raise ValueError("host must be a loopback address unless allow_remote is true")
        return self


class LoggingConfig(_Model):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class Config(_Model):
    """The whole file."""

    portals: list[PortalConfig] = Field(min_length=1)
    ledger: LedgerConfig = LedgerConfig()
    simpli: SimpliConfig = SimpliConfig()
    polling: PollingConfig = PollingConfig()
    processing: ProcessingConfig = ProcessingConfig()
    writeback: WritebackConfig = WritebackConfig()
    rules: RulesConfig = RulesConfig()
    kb: KBConfig = KBConfig()
    metrics: MetricsConfig = MetricsConfig()
    logging: LoggingConfig = LoggingConfig()

    @field_validator("portals")
    @classmethod
    def _unique_portal_ids(cls, value: list[PortalConfig]) -> list[PortalConfig]:
        ids = [p.id for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError("portal ids must be unique")
        return value


# --- parsing -------------------------------------------------------------------------------


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in str(part):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _expand(node: Any, env: Mapping[str, str], path: str, problems: list[tuple[str, str]]) -> Any:
    if isinstance(node, str):
        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append((path or "(top level)",
                             f"environment variable {name} is not set"))
            return ""
        return _ENV_REF.sub(sub, node)
    if isinstance(node, dict):
        return {k: _expand(v, env, f"{path}.{k}" if path else str(k), problems)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(v, env, f"{path}[{i}]", problems) for i, v in enumerate(node)]
    return node


def parse(text: str, env: Mapping[str, str] | None = None, *, expand_env: bool = True) -> Config:
    """Parse and validate YAML text. Raises ``errors.ConfigError`` naming every bad field."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise errors.ConfigError([(where, "not valid YAML")]) from None
    if not isinstance(raw, dict):
        raise errors.ConfigError([("(top level)", "must be a mapping")])
    problems: list[tuple[str, str]] = []
    if expand_env:
        raw = _expand(raw, os.environ if env is None else env, "", problems)
    if problems:
        raise errors.ConfigError(problems)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = [(_field_path(e["loc"]), e["msg"].removeprefix("Value error, "))
                    for e in exc.errors(include_input=False, include_url=False)]
        raise errors.ConfigError(problems) from None


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file: ``path``, else ``$HUBSYNC_CONFIG``, else the default path."""
    env = os.environ if env is None else env
    target = Path(path or env.get("HUBSYNC_CONFIG") or DEFAULT_PATH)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise errors.ConfigError([(str(target), f"cannot read file ({exc.strerror})")]) from None
    return parse(text, env)
