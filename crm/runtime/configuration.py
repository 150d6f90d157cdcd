"""What `make run` hands the servers it starts: their environment (settings and the
placeholders of Rasa's YAML files) and the credentials.yml / endpoints.yml written from the
settings. Secrets stay `${...}` placeholders filled from the environment, never on disk or in argv."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import urlparse

from sqlalchemy.engine import make_url

from crm.settings import PROJECT_ROOT, ConfigError, Settings


def child_environment(settings: Settings) -> Dict[str, str]:
    """What the Rasa and action servers and the console read: endpoints.yml placeholders and
    our settings. `settings.rasa_api_token` and `settings.action_server_token` must be set
    (serve() makes them when they are not)."""
    env = dict(os.environ)
    env.update(settings.as_environment())  # .env values reach credentials.yml's ${...} only this way
    env.update(
        ACTION_ENDPOINT_URL=settings.action_endpoint_url,
        # endpoints.yml written by write_endpoints() names these instead of holding the passwords
        TRACKER_STORE_PASSWORD=_password(settings.tracker_store_url) or "",
        REDIS_PASSWORD=_password(settings.redis_url) or "",
        SANIC_HOST=settings.host,  # the action server binds here (rasa-sdk reads SANIC_HOST)
        RASA_TELEMETRY_ENABLED="false",
        PYTHONUNBUFFERED="1",
        # Rasa imports the project's custom channels (credentials.yml) from here
        PYTHONPATH=os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )
    return env


WHATSAPP_CREDENTIALS = """
# added by `make run` because WHATSAPP_APP_SECRET is set (channels/whatsapp/)
channels.whatsapp.WhatsAppInput:
  verify_token: ${WHATSAPP_VERIFY_TOKEN}
  app_secret: ${WHATSAPP_APP_SECRET}
  access_token: ${WHATSAPP_ACCESS_TOKEN}
  phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}
  api_url: ${WHATSAPP_API_URL}
"""


def kept_secret(path: Path) -> str:
    """A random secret stored at `path` (mode 0600), made on first use."""
    path = path.resolve()
    if path.is_file():
        kept = path.read_text().strip()
        if kept:
            return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    descriptor = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return value


def write_credentials(settings: Settings, folder: Path) -> Path:
    """credentials.yml plus the WhatsApp channel when it is configured. The secrets stay ${...}
    placeholders that Rasa fills from its environment, so none is written to disk."""
    text = (PROJECT_ROOT / "credentials.yml").read_text()
    if not settings.rest_channel:  # REST_CHANNEL=false: development channel off (production)
        text = re.sub(r"(?ms)^# the REST channel.*?^channels\.rest\.GuardedRestInput:\n", "", text)
    if settings.whatsapp_enabled:
        missing = [
            name
            for name, value in (
                ("WHATSAPP_VERIFY_TOKEN", settings.whatsapp_verify_token),
                ("WHATSAPP_ACCESS_TOKEN", settings.whatsapp_access_token),
                ("WHATSAPP_PHONE_NUMBER_ID", settings.whatsapp_phone_number_id),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"WHATSAPP_APP_SECRET is set but {', '.join(missing)} is not; set all four WhatsApp settings or none."
            )
        text += WHATSAPP_CREDENTIALS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "credentials.yml"
    path.write_text(text)
    return path


def _password(url: Optional[str]) -> Optional[str]:
    return make_url(url).password if url else None


TRACKER_STORE = "crm.runtime.tracker_store.LiveSQLTrackerStore"


def tracker_store_config(settings: Settings) -> Dict[str, object]:
    """Rasa's SQL tracker store with live trackers (crm/runtime/tracker_store.py) on
    TRACKER_STORE_URL (or the SQLite file at TRACKER_DB)."""
    if not settings.tracker_store_url:
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": "${TRACKER_DB}"}
    try:
        url = make_url(settings.tracker_store_url)
    except Exception:  # sqlalchemy.exc.ArgumentError and friends
        raise ConfigError(
            f"TRACKER_STORE_URL is not a database URL (postgresql://user:password@host:5432/rasa): "
            f"{settings.tracker_store_url!r}"
        )
    if url.get_backend_name() == "sqlite":
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": url.database}
    config: Dict[str, object] = {
        "type": TRACKER_STORE,
        "dialect": url.drivername,
        "url": url.host or "localhost",
        "db": url.database or "rasa",
    }
    if url.port:
        config["port"] = url.port
    if url.username:
        config["username"] = url.username
    if url.password:
        config["password"] = "${TRACKER_STORE_PASSWORD}"
    if url.query:
        config["query"] = dict(url.query)
    return config


LOCKS_FILE = "conversation-locks.sqlite"


def lock_store_config(settings: Settings, run_dir: Path) -> Dict[str, object]:
    """The conversation lock (crm/runtime/lock_store.py): in Redis when REDIS_URL is set (shared by
    the replicas); else in a SQLite file under var/run when one server has several workers; else
    in the Rasa process."""
    if not settings.redis_url:
        if settings.rasa_workers > 1:
            return {"type": "crm.runtime.lock_store.SQLiteLockStore", "path": str((run_dir / LOCKS_FILE).resolve())}
        return {"type": "crm.runtime.lock_store.QuickInMemoryLockStore"}
    url = urlparse(settings.redis_url)
    config: Dict[str, object] = {
        "type": "crm.runtime.lock_store.AtomicRedisLockStore",
        "url": url.hostname,
        "port": url.port or 6379,
        "db": int(url.path.strip("/") or 0),
        "key_prefix": "crm",
        "use_ssl": url.scheme == "rediss",
    }
    if url.password:
        config["password"] = "${REDIS_PASSWORD}"
    return config


def write_endpoints(settings: Settings, folder: Path) -> Path:
    """endpoints.yml for this start: the committed file's action endpoint, the tracker store and
    lock store the settings name. Passwords stay ${...} placeholders filled from the environment."""
    import yaml

    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    endpoints["tracker_store"] = tracker_store_config(settings)
    endpoints["lock_store"] = lock_store_config(settings, folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "endpoints.yml"
    path.write_text(
        "# written by `make run` from the settings (crm/runtime/supervisor.py); edit .env, not this file\n"
        + yaml.safe_dump(endpoints, sort_keys=False)
    )
    return path
