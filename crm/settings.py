"""Settings of the CRM assistant, read from the environment (and an optional `.env` file).

Every setting is documented in `.env.example`. Nothing here reads the environment at import
time: call :func:`load_settings` where configuration is needed and pass the result on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping, Optional

from dotenv import dotenv_values

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

    def current_date(self) -> date:
        return self.today or date.today()

    @property
    def action_endpoint_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"


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


def load_settings(
    environ: Optional[Mapping[str, str]] = None, env_file: Optional[Path] = None
) -> Settings:
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
    return Settings(
        database_url=env.get("DATABASE_URL") or defaults.database_url,
        brand_name=env.get("BRAND_NAME") or defaults.brand_name,
        host=env.get("CRM_HOST") or defaults.host,
        rasa_port=_port("RASA_PORT", env.get("RASA_PORT") or str(defaults.rasa_port)),
        action_port=_port("ACTION_PORT", env.get("ACTION_PORT") or str(defaults.action_port)),
        tracker_db=env.get("TRACKER_DB") or defaults.tracker_db,
        log_dir=env.get("LOG_DIR") or defaults.log_dir,
        seed_customers=_positive_int(
            "SEED_CUSTOMERS", env.get("SEED_CUSTOMERS") or str(defaults.seed_customers)
        ),
        log_level=_log_level(env.get("LOG_LEVEL") or defaults.log_level),
        today=_iso_date("CRM_TODAY", env.get("CRM_TODAY")),
    )


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
