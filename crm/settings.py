"""Settings of the CRM assistant, read from the environment (and an optional `.env` file).

Every setting is documented in `.env.example`. Nothing here reads the environment at import
time: call :func:`load_settings` where configuration is needed and pass the result on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import List, Mapping, Optional
from urllib.parse import urlparse

from dotenv import dotenv_values

from crm.clock import to_local, utc_now

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'crm.db'}"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Configuration shared by the CLI, the action server and the supervisor."""

    database_url: str = DEFAULT_DATABASE_URL
    brand_name: str = "Mitra Mobil Finance"
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    tracker_db: str = "var/tracker.db"
    log_dir: str = "var/log"
    seed_customers: int = 300
    log_level: str = "INFO"
    today: Optional[date] = None  # CRM_TODAY: pin "today" (tests, demos); None = the real date
    console_port: int = 5010
    rasa_api_token: Optional[str] = None  # None: `make run` makes a random one per start
    console_admin_username: Optional[str] = None  # creates the first supervisor if none exists
    console_admin_password: Optional[str] = None
    handover_wait_minutes: int = 5  # unclaimed this long: the customer is told when to expect an answer
    console_secure_cookies: bool = False  # set true behind HTTPS
    website_port: int = 5020  # the demo company page with the chat widget
    public_rasa_url_setting: Optional[str] = None  # PUBLIC_RASA_URL: where browsers reach Rasa
    whatsapp_app_secret: Optional[str] = None  # WhatsApp channel on when set (with the three below)
    whatsapp_verify_token: Optional[str] = None
    whatsapp_access_token: Optional[str] = None
    whatsapp_phone_number_id: Optional[str] = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    training_data_dir: str = "data"  # TRAINING_DATA_DIR: where the NLU inbox writes examples (data/nlu/inbox/)
    action_server_token: Optional[str] = None  # None: `make run` makes a random one per start
    action_timeout_seconds: int = 10  # Rasa gives up on a custom action after this and apologises
    rate_limit_messages: int = 20  # per sender and window on the public channels; 0 switches it off
    rate_limit_window_seconds: int = 60
    max_message_chars: int = 2000  # longer customer messages are refused politely
    conversation_retention_days: int = 365  # `python -m crm purge` deletes older conversations
    whatsapp_inbox_retention_days: int = 30  # webhook dedupe rows; Meta redelivers for up to 7 days
    # the production profile (docs/OPERATIONS.md): settings only, the code is the same
    tracker_store_url: Optional[str] = None  # TRACKER_STORE_URL: SQLAlchemy URL; None = SQLite at tracker_db
    redis_url: Optional[str] = None  # REDIS_URL: Rasa's lock store and socket.io across replicas
    rasa_replicas: int = 1  # RASA_REPLICAS: more than 1 puts nginx in front (needs REDIS_URL)
    action_servers: int = 1  # ACTION_SERVERS: more than 1 puts nginx in front
    nginx_bin: str = "nginx"  # NGINX_BIN: Debian's nginx (apt-get install nginx-light)
    replica_port_step: int = 1000  # replica i listens on RASA_PORT + i * step (ACTION_PORT likewise)
    rasa_url_setting: Optional[str] = None  # RASA_URL: where the console reaches Rasa (other machine)
    action_server_url_setting: Optional[str] = None  # ACTION_SERVER_URL: where Rasa reaches the actions
    # SIGNING_SECRET signs website session tokens and pending verification checks; None: `make run`
    # keeps a random one in var/run/signing.key
    signing_secret: Optional[str] = None
    rest_channel: bool = True  # REST_CHANNEL: the development/test channel; off in production
    rest_channel_token: Optional[str] = None  # REST_CHANNEL_TOKEN: when set, REST callers must send it
    # unverified escalations from one client address per hour before further ones are merged
    escalations_per_client_per_hour: int = 30

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_app_secret)

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

    defaults = Settings()
    settings = Settings(
        database_url=env.get("DATABASE_URL") or defaults.database_url,
        brand_name=env.get("BRAND_NAME") or defaults.brand_name,
        host=env.get("CRM_HOST") or defaults.host,
        rasa_port=_port("RASA_PORT", env.get("RASA_PORT") or str(defaults.rasa_port)),
        action_port=_port("ACTION_PORT", env.get("ACTION_PORT") or str(defaults.action_port)),
        tracker_db=env.get("TRACKER_DB") or defaults.tracker_db,
        log_dir=env.get("LOG_DIR") or defaults.log_dir,
        seed_customers=_positive_int("SEED_CUSTOMERS", env.get("SEED_CUSTOMERS") or str(defaults.seed_customers)),
        log_level=_log_level(env.get("LOG_LEVEL") or defaults.log_level),
        today=_iso_date("CRM_TODAY", env.get("CRM_TODAY")),
        console_port=_port("CONSOLE_PORT", env.get("CONSOLE_PORT") or str(defaults.console_port)),
        rasa_api_token=env.get("RASA_API_TOKEN") or None,
        console_admin_username=env.get("CONSOLE_ADMIN_USERNAME") or None,
        console_admin_password=env.get("CONSOLE_ADMIN_PASSWORD") or None,
        handover_wait_minutes=_positive_int(
            "HANDOVER_WAIT_MINUTES", env.get("HANDOVER_WAIT_MINUTES") or str(defaults.handover_wait_minutes)
        ),
        console_secure_cookies=_bool("CONSOLE_SECURE_COOKIES", env.get("CONSOLE_SECURE_COOKIES") or "false"),
        website_port=_port("WEBSITE_PORT", env.get("WEBSITE_PORT") or str(defaults.website_port)),
        public_rasa_url_setting=env.get("PUBLIC_RASA_URL") or None,
        whatsapp_app_secret=env.get("WHATSAPP_APP_SECRET") or None,
        whatsapp_verify_token=env.get("WHATSAPP_VERIFY_TOKEN") or None,
        whatsapp_access_token=env.get("WHATSAPP_ACCESS_TOKEN") or None,
        whatsapp_phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID") or None,
        whatsapp_api_url=env.get("WHATSAPP_API_URL") or defaults.whatsapp_api_url,
        training_data_dir=env.get("TRAINING_DATA_DIR") or defaults.training_data_dir,
        action_server_token=env.get("ACTION_SERVER_TOKEN") or None,
        action_timeout_seconds=_positive_int(
            "ACTION_TIMEOUT_SECONDS", env.get("ACTION_TIMEOUT_SECONDS") or str(defaults.action_timeout_seconds)
        )
        or defaults.action_timeout_seconds,
        rate_limit_messages=_positive_int(
            "RATE_LIMIT_MESSAGES", env.get("RATE_LIMIT_MESSAGES") or str(defaults.rate_limit_messages)
        ),
        rate_limit_window_seconds=_positive_int(
            "RATE_LIMIT_WINDOW_SECONDS",
            env.get("RATE_LIMIT_WINDOW_SECONDS") or str(defaults.rate_limit_window_seconds),
        )
        or defaults.rate_limit_window_seconds,
        max_message_chars=_positive_int(
            "MAX_MESSAGE_CHARS", env.get("MAX_MESSAGE_CHARS") or str(defaults.max_message_chars)
        )
        or defaults.max_message_chars,
        conversation_retention_days=_positive_int(
            "CONVERSATION_RETENTION_DAYS",
            env.get("CONVERSATION_RETENTION_DAYS") or str(defaults.conversation_retention_days),
        ),
        whatsapp_inbox_retention_days=_positive_int(
            "WHATSAPP_INBOX_RETENTION_DAYS",
            env.get("WHATSAPP_INBOX_RETENTION_DAYS") or str(defaults.whatsapp_inbox_retention_days),
        ),
        tracker_store_url=env.get("TRACKER_STORE_URL") or None,
        redis_url=_redis_url(env.get("REDIS_URL") or None),
        rasa_replicas=_count("RASA_REPLICAS", env.get("RASA_REPLICAS") or "1"),
        action_servers=_count("ACTION_SERVERS", env.get("ACTION_SERVERS") or "1"),
        nginx_bin=env.get("NGINX_BIN") or defaults.nginx_bin,
        rasa_url_setting=_http_url("RASA_URL", env.get("RASA_URL") or None),
        action_server_url_setting=_http_url("ACTION_SERVER_URL", env.get("ACTION_SERVER_URL") or None),
        signing_secret=env.get("SIGNING_SECRET") or None,
        rest_channel=_bool("REST_CHANNEL", env.get("REST_CHANNEL") or "true"),
        rest_channel_token=env.get("REST_CHANNEL_TOKEN") or None,
        escalations_per_client_per_hour=_positive_int(
            "ESCALATIONS_PER_CLIENT_PER_HOUR",
            env.get("ESCALATIONS_PER_CLIENT_PER_HOUR") or str(defaults.escalations_per_client_per_hour),
        )
        or defaults.escalations_per_client_per_hour,
        replica_port_step=_positive_int(
            "REPLICA_PORT_STEP", env.get("REPLICA_PORT_STEP") or str(defaults.replica_port_step)
        )
        or defaults.replica_port_step,
    )
    if settings.rasa_replicas > 1 and not settings.redis_url:
        raise ConfigError(
            "RASA_REPLICAS is more than 1 but REDIS_URL is not set: replicas share Rasa's lock "
            "store (messages of one conversation in order) and socket.io messages through Redis."
        )
    for port in settings.rasa_ports + settings.action_ports:
        _port("RASA_PORT/ACTION_PORT + replicas * REPLICA_PORT_STEP", str(port))
    return settings


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


def _redis_url(raw: Optional[str]) -> Optional[str]:
    return _url("REDIS_URL", raw, ("redis", "rediss"), "redis://host:6379/0")


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


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL={raw!r} is not a log level; use one of {', '.join(LOG_LEVELS)}.")
    return level
