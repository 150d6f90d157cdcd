"""Settings of the CRM assistant, read from the environment (and an optional `.env` file).

Every setting is documented in `.env.example`. Nothing here reads the environment at import
time: call :func:`load_settings` where configuration is needed and pass the result on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import urlparse

from dotenv import dotenv_values

from crm.clock import to_local, utc_now

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'crm.db'}"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _port(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number; set it to an integer such as 5005.")
    if not 1 <= value <= 65535:
        raise ConfigError(f"{name}={value} is outside 1-65535; choose a free port in that range.")
    return value


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to e.g. 300.")
    if value < 0:
        raise ConfigError(f"{name}={value} is negative; set it to 0 or more.")
    return value


def _count(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 16:
        raise ConfigError(f"{name} must be a whole number from 1 to 16, not {raw!r}")
    return value


def _url(name: str, raw: Optional[str], schemes: tuple, example: str) -> Optional[str]:
    """An optional URL setting: None when unset, else it must have one of `schemes` and a host."""
    if raw is None:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not parsed.hostname:
        raise ConfigError(f"{name} must look like {example}, not {raw!r}")
    return raw


def _http_url(name: str, raw: Optional[str]) -> Optional[str]:
    return _url(name, raw, ("http", "https"), "http://rasa:5005 (http or https)")


def _redis_url(name: str, raw: Optional[str]) -> Optional[str]:
    return _url(name, raw, ("redis", "rediss"), "redis://host:6379/0")


def _rate(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to e.g. 20 (messages per second).")
    if not 0 <= value <= 80:
        raise ConfigError(
            f"{name}={value} is outside 0-80 (WhatsApp's default ceiling is 80 messages/s; 0: no pacing)."
        )
    return value


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not true or false.")


def _iso_date(name: str, raw: Optional[str]) -> Optional[date]:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-22.")


def _log_level(name: str, raw: str) -> str:
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{name}={raw!r} is not a log level; use one of {', '.join(LOG_LEVELS)}.")
    return level


def _text(name: str, raw: str) -> str:
    return raw


def _optional(name: str, raw: str) -> Optional[str]:
    return raw or None


def _workers(name: str, raw: str) -> int:
    """A worker count, or "auto" (also 0): as many as the machine has cores."""
    return 0 if raw.lower() in ("auto", "0") else _count(name, raw)


def setting(env: str, default: Any, parse: Callable[[str, str], Any] = _text, zero: str = "allowed") -> Any:
    """One setting, declared once: its environment variable, its default and how to read it.
    `zero="default"`: a 0 means the default (a timeout or a window cannot be 0)."""
    return field(default=default, metadata={"env": env, "parse": parse, "zero": zero})


@dataclass(frozen=True)
class Settings:
    """Configuration shared by the CLI, the action server and the supervisor; each field names
    its environment variable (documented in .env.example)."""

    database_url: str = setting("DATABASE_URL", DEFAULT_DATABASE_URL)
    brand_name: str = setting("BRAND_NAME", "Mitra Mobil Finance")
    host: str = setting("CRM_HOST", "127.0.0.1")
    rasa_port: int = setting("RASA_PORT", 5005, _port)
    action_port: int = setting("ACTION_PORT", 5055, _port)
    tracker_db: str = setting("TRACKER_DB", "var/tracker.db")
    log_dir: str = setting("LOG_DIR", "var/log")
    seed_customers: int = setting("SEED_CUSTOMERS", 300, _positive_int)
    log_level: str = setting("LOG_LEVEL", "INFO", _log_level)
    today: Optional[date] = setting("CRM_TODAY", None, _iso_date)  # pin "today" (tests, demos)
    console_port: int = setting("CONSOLE_PORT", 5010, _port)
    rasa_api_token: Optional[str] = setting("RASA_API_TOKEN", None, _optional)  # None: random per start
    console_admin_username: Optional[str] = setting("CONSOLE_ADMIN_USERNAME", None, _optional)
    console_admin_password: Optional[str] = setting("CONSOLE_ADMIN_PASSWORD", None, _optional)
    handover_wait_minutes: int = setting("HANDOVER_WAIT_MINUTES", 5, _positive_int)
    console_secure_cookies: bool = setting("CONSOLE_SECURE_COOKIES", False, _bool)  # true behind HTTPS
    website_port: int = setting("WEBSITE_PORT", 5020, _port)  # the demo company page with the widget
    public_rasa_url_setting: Optional[str] = setting("PUBLIC_RASA_URL", None, _optional)
    whatsapp_app_secret: Optional[str] = setting("WHATSAPP_APP_SECRET", None, _optional)  # channel on when set
    whatsapp_verify_token: Optional[str] = setting("WHATSAPP_VERIFY_TOKEN", None, _optional)
    whatsapp_access_token: Optional[str] = setting("WHATSAPP_ACCESS_TOKEN", None, _optional)
    whatsapp_phone_number_id: Optional[str] = setting("WHATSAPP_PHONE_NUMBER_ID", None, _optional)
    whatsapp_api_url: str = setting("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
    # outbound campaigns (docs/OUTBOUND.md): templates live in the business account
    whatsapp_business_account_id: Optional[str] = setting("WHATSAPP_BUSINESS_ACCOUNT_ID", None, _optional)
    campaign_send_rate: float = setting("CAMPAIGN_SEND_RATE", 20.0, _rate)  # messages/s per sender
    whatsapp_daily_recipient_limit: int = setting("WHATSAPP_DAILY_RECIPIENT_LIMIT", 1000, _positive_int, zero="default")
    notices_to_opted_out: bool = setting("NOTICES_TO_OPTED_OUT", False, _bool)  # account notices after STOP
    template_sync_minutes: int = setting("TEMPLATE_SYNC_MINUTES", 60, _positive_int, zero="default")
    campaign_sender_port: int = setting("CAMPAIGN_SENDER_PORT", 5030, _port)  # its health check
    # website verification also asks a code sent to the contract's WhatsApp (when one can be sent)
    website_one_time_codes: bool = setting("WEBSITE_ONE_TIME_CODES", True, _bool)
    training_data_dir: str = setting("TRAINING_DATA_DIR", "data")  # the NLU inbox writes data/nlu/inbox/
    # the conversation review saves test stories here, for trainers to commit
    review_stories: str = setting("REVIEW_STORIES_DIR", "tests/stories/reviewed")
    outcome_refresh_minutes: int = setting("OUTCOME_REFRESH_MINUTES", 60, _positive_int)
    # ask "did this help?" after a self-served answer, and after an agent resolves an item
    csat_after_answers: bool = setting("CSAT_AFTER_ANSWERS", True, _bool)
    csat_after_agents: bool = setting("CSAT_AFTER_AGENTS", True, _bool)
    action_server_token: Optional[str] = setting("ACTION_SERVER_TOKEN", None, _optional)
    action_timeout_seconds: int = setting("ACTION_TIMEOUT_SECONDS", 10, _positive_int, zero="default")
    rate_limit_messages: int = setting("RATE_LIMIT_MESSAGES", 20, _positive_int)  # 0 switches it off
    rate_limit_window_seconds: int = setting("RATE_LIMIT_WINDOW_SECONDS", 60, _positive_int, zero="default")
    max_message_chars: int = setting("MAX_MESSAGE_CHARS", 2000, _positive_int, zero="default")
    conversation_retention_days: int = setting("CONVERSATION_RETENTION_DAYS", 365, _positive_int)
    whatsapp_inbox_retention_days: int = setting("WHATSAPP_INBOX_RETENTION_DAYS", 30, _positive_int)
    # the production profile (docs/OPERATIONS.md): settings only, the code is the same
    tracker_store_url: Optional[str] = setting("TRACKER_STORE_URL", None, _optional)  # None: SQLite
    redis_url: Optional[str] = setting("REDIS_URL", None, _redis_url)
    rasa_replicas: int = setting("RASA_REPLICAS", 1, _count)  # more than 1: nginx in front, needs Redis
    action_servers: int = setting("ACTION_SERVERS", 1, _count)
    # Rasa worker processes on one port (one per core by default on a single server; each loads
    # the model, about 1.1 GB): they share the tracker store and a lock store on var/run
    rasa_workers_setting: int = setting("RASA_WORKERS", 0, _workers)
    nginx_bin: str = setting("NGINX_BIN", "nginx")
    replica_port_step: int = setting("REPLICA_PORT_STEP", 1000, _positive_int, zero="default")
    rasa_url_setting: Optional[str] = setting("RASA_URL", None, _http_url)  # Rasa on another machine
    action_server_url_setting: Optional[str] = setting("ACTION_SERVER_URL", None, _http_url)
    # signs website session tokens and pending verification checks; None: var/run/signing.key
    signing_secret: Optional[str] = setting("SIGNING_SECRET", None, _optional)
    rest_channel: bool = setting("REST_CHANNEL", True, _bool)  # the development/test channel
    rest_channel_token: Optional[str] = setting("REST_CHANNEL_TOKEN", None, _optional)
    # unverified escalations from one client address per hour before further ones are merged
    escalations_per_client_per_hour: int = setting("ESCALATIONS_PER_CLIENT_PER_HOUR", 30, _positive_int, zero="default")

    def as_environment(self) -> Dict[str, str]:
        """Every setting as the environment variable that sets it ("" for unset)."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                value = "true" if value else "false"
            env[f.metadata["env"]] = "" if value is None else str(value)
        return env

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_app_secret)

    @property
    def campaigns_enabled(self) -> bool:
        """The campaign sender runs when it can reach the Graph API."""
        return bool(self.whatsapp_access_token and self.whatsapp_phone_number_id)

    def current_date(self) -> date:
        return self.today or self.current_time().date()

    def current_time(self) -> datetime:
        """Local (WIB) wall-clock time; its date is CRM_TODAY when that is pinned."""
        now = to_local(utc_now())
        return datetime.combine(self.today, now.time()) if self.today else now

    @property
    def training_data_path(self) -> Path:
        path = Path(self.training_data_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def review_stories_dir(self) -> Path:
        path = Path(self.review_stories)
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def tracker_db_url(self) -> str:
        """SQLAlchemy URL of Rasa's SQL tracker store (read by the console's NLU inbox)."""
        if self.tracker_store_url:
            return self.tracker_store_url
        path = Path(self.tracker_db)
        return f"sqlite:///{path if path.is_absolute() else PROJECT_ROOT / path}"

    @property
    def website_url(self) -> str:
        return f"http://{self.host}:{self.website_port}"

    @property
    def public_rasa_url(self) -> str:
        """The Rasa URL the widget connects to (differs from rasa_url behind a proxy)."""
        return (self.public_rasa_url_setting or self.rasa_url).rstrip("/")

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.console_port}"

    @property
    def action_server_url(self) -> str:
        return (self.action_server_url_setting or f"http://{self.host}:{self.action_port}").rstrip("/")

    @property
    def action_health_url(self) -> str:
        return f"{self.action_server_url}/health"

    @property
    def action_endpoint_url(self) -> str:
        return f"{self.action_server_url}/webhook"

    @property
    def rasa_url(self) -> str:
        return (self.rasa_url_setting or f"http://{self.host}:{self.rasa_port}").rstrip("/")

    @property
    def rasa_workers(self) -> int:
        """Workers per Rasa server: RASA_WORKERS, else one per core (at most 4) when one server
        serves alone; behind nginx each replica is one worker (the replicas are the workers)."""
        if self.rasa_workers_setting:
            return self.rasa_workers_setting
        return 1 if self.behind_proxy else max(1, min(os.cpu_count() or 1, 4))

    @property
    def run_dir(self) -> Path:
        """var/run: what running servers share on this machine (secrets, outboxes, locks, sockets)."""
        log_dir = Path(self.log_dir)
        return (log_dir if log_dir.is_absolute() else PROJECT_ROOT / log_dir).parent / "run"

    @property
    def behind_proxy(self) -> bool:
        """Several Rasa servers or action servers: nginx listens on RASA_PORT and ACTION_PORT."""
        return self.rasa_replicas > 1 or self.action_servers > 1

    def replica_ports(self, base: int, count: int) -> List[int]:
        """The ports of the servers behind nginx (just `base` without it)."""
        if not self.behind_proxy:
            return [base]
        return [base + i * self.replica_port_step for i in range(1, count + 1)]

    @property
    def rasa_ports(self) -> List[int]:
        return self.replica_ports(self.rasa_port, self.rasa_replicas)

    @property
    def action_ports(self) -> List[int]:
        return self.replica_ports(self.action_port, self.action_servers)


def load_settings(environ: Optional[Mapping[str, str]] = None, env_file: Optional[Path] = None) -> Settings:
    """Build :class:`Settings` from `environ` (default: the process environment).

    Values in `env_file` (default: `<project>/.env`, if present) fill what the environment
    leaves unset; the real environment always wins.
    """
    env: dict = {}
    path = env_file if env_file is not None else PROJECT_ROOT / ".env"
    if path.is_file():
        env.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    values = {}
    for f in fields(Settings):
        name, raw = f.metadata["env"], (env.get(f.metadata["env"]) or "").strip()
        if not raw:
            continue
        value = f.metadata["parse"](name, raw)
        if not (value == 0 and f.metadata["zero"] == "default" and not isinstance(value, bool)):
            values[f.name] = value
    settings = Settings(**values)
    if settings.rasa_replicas > 1 and not settings.redis_url:
        raise ConfigError(
            "RASA_REPLICAS is more than 1 but REDIS_URL is not set: replicas share Rasa's lock "
            "store (messages of one conversation in order) and socket.io messages through Redis."
        )
    for port in settings.rasa_ports + settings.action_ports:
        _port("RASA_PORT/ACTION_PORT + replicas * REPLICA_PORT_STEP", str(port))
    return settings
