"""Start the whole product on one machine and keep it running: what `make run` calls.

Order: check the database (migrate, seed if empty), check the trained model and the ports,
start the action server, the Rasa server, the website demo, the CRM console and (with WhatsApp
configured) the campaign sender as child processes, wait until all answer, print where to talk
to the bot, then wait. SIGINT (Ctrl-C) or SIGTERM stops every child. A child that dies on its
own is restarted (after 0, 1, 2, 4 ... seconds); one that dies more than MAX_RESTARTS times in
RESTART_WINDOW_S stops everything, so a broken setup is not restarted for ever.
"""

from __future__ import annotations

import ctypes
import dataclasses
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from crm.runtime.configuration import child_environment, kept_secret, write_credentials, write_endpoints
from crm.settings import PROJECT_ROOT, ConfigError, Settings

HEALTH_TIMEOUT_S = 240
STOP_TIMEOUT_S = 15
MAX_RESTARTS = 5
RESTART_WINDOW_S = 300
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    health_url: str
    log_path: Path
    process: Optional[subprocess.Popen] = None
    restarts: List[float] = dataclasses.field(default_factory=list)
    restart_at: Optional[float] = None
    env: Dict[str, str] = dataclasses.field(default_factory=dict)  # on top of the shared environment

    def exit_code(self) -> Optional[int]:
        """The code the process exited with; None while it runs (or before it was started)."""
        return self.process.poll() if self.process is not None else None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def latest_model(model_dir: Path) -> Path:
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise ConfigError(f"No trained model in {model_dir}; run `make train` (or `make run`, which trains) first.")
    return models[-1]


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (what `make run` checks before starting)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def ensure_port_free(host: str, port: int, setting: str) -> None:
    if not port_is_free(host, port):
        raise ConfigError(
            f"Port {port} on {host} is already in use (another `make run`?); stop that "
            f"process or set {setting} to a free port."
        )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM if the supervisor dies, even by SIGKILL."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def healthy(url: str) -> bool:
    """GET url answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):
        # HTTPException too: polling a loopback port in the ephemeral range that nothing listens
        # on yet can connect the socket to itself (TCP simultaneous open), and the "answer" is our
        # own request line (BadStatusLine). Not up yet, like a refused connection.
        return False


def build_children(settings: Settings, model: Path, log_dir: Path) -> List[Child]:
    run_dir = log_dir.parent / "run"
    credentials = write_credentials(settings, run_dir)
    endpoints = write_endpoints(settings, run_dir)
    many_actions = len(settings.action_ports) > 1
    many_rasa = len(settings.rasa_ports) > 1
    children = [
        Child(
            # rasa-sdk behind a token check (crm/runtime/action_server.py)
            name=f"action server {n}" if many_actions else "action server",
            argv=[sys.executable, "-m", "crm.runtime.action_server", "--actions", "actions", "--port", str(port)],
            health_url=f"http://{settings.host}:{port}/health",
            log_path=log_dir / (f"actions-{n}.log" if many_actions else "actions.log"),
        )
        for n, port in enumerate(settings.action_ports, start=1)
    ]
    children += [
        Child(
            # `rasa run` with an apology for failed actions, a tracker store that never falls
            # back to memory, and masked logs (crm/runtime/rasa_server.py)
            name=f"Rasa server {n}" if many_rasa else "Rasa server",
            argv=[
                sys.executable,
                "-m",
                "crm.runtime.rasa_server",
                "run",
                "--model",
                str(model),
                "--interface",
                settings.host,
                "--port",
                str(port),
                "--credentials",
                str(credentials),
                "--endpoints",
                str(endpoints),
                "--cors",
                "*",
                # the HTTP API is for the console (pause, resume, agent replies, transcripts);
                # its token travels in RASA_API_TOKEN, never in argv (`ps` shows argv to anyone)
                "--enable-api",
                "--log-file",
                str(log_dir / (f"rasa-debug-{n}.log" if many_rasa else "rasa-debug.log")),
            ],
            health_url=f"http://{settings.host}:{port}/webhooks/health/",
            log_path=log_dir / (f"rasa-{n}.log" if many_rasa else "rasa.log"),
            # the replica's own outbox file (crm/runtime/outbox.py); its worker processes (Rasa
            # allows more than one only with a shared lock store, crm/runtime/configuration.py)
            env={"RASA_PORT": str(port), "SANIC_WORKERS": str(settings.rasa_workers)},
        )
        for n, port in enumerate(settings.rasa_ports, start=1)
    ]
    if settings.behind_proxy:
        from crm.runtime import nginx

        children.append(
            Child(
                name="nginx",
                argv=[
                    nginx.find_nginx(settings.nginx_bin),
                    "-c",
                    str(nginx.write_config(settings, run_dir, log_dir)),
                    "-p",
                    str(run_dir.resolve()),
                    "-e",
                    str((log_dir / "nginx-error.log").resolve()),
                ],
                health_url=f"{settings.rasa_url}/webhooks/health/",
                log_path=log_dir / "nginx.log",
            )
        )
    children += [
        Child(
            name="website demo",
            argv=[sys.executable, "-m", "crm.runtime.demo_site"],
            health_url=f"{settings.website_url}/health",
            log_path=log_dir / "website.log",
        ),
        Child(
            name="CRM console",
            argv=[sys.executable, "-m", "crm.console"],
            health_url=f"{settings.console_url}/health",
            log_path=log_dir / "console.log",
        ),
    ]
    if settings.campaigns_enabled:
        children.append(
            Child(
                # approved WhatsApp campaigns, paced and exactly once (crm/runtime/campaign_sender.py)
                name="campaign sender",
                argv=[sys.executable, "-m", "crm.runtime.campaign_sender"],
                health_url=f"http://{settings.host}:{settings.campaign_sender_port}/health",
                log_path=log_dir / "campaign-sender.log",
            )
        )
    return children


class Supervisor:
    def __init__(self, children: List[Child], env: Dict[str, str], say: Callable[[str], None]):
        self.children = children
        self.env = env
        self.say = say
        self.stopping = False

    def _on_signal(self, signum, _frame) -> None:
        self.stopping = True

    def _spawn(self, child: Child) -> None:
        child.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(child.log_path, "ab")
        child.process = subprocess.Popen(
            child.argv,
            cwd=PROJECT_ROOT,
            env={**self.env, **child.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        log.close()
        self.say(f"started {child.name} (pid {child.process.pid}, log {child.log_path})")

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout
        pending = list(self.children)
        while pending and not self.stopping:
            for child in list(pending):
                if child.exit_code() is not None:
                    self.say(f"{child.name} exited with code {child.exit_code()}; its log ends:\n{child.tail()}")
                    return False
                if healthy(child.health_url):
                    self.say(f"{child.name} is up: {child.health_url}")
                    pending.remove(child)
            if time.monotonic() > deadline:
                for child in pending:
                    self.say(f"{child.name} did not answer within {timeout:.0f} s; its log ends:\n{child.tail()}")
                return False
            time.sleep(0.5)
        return not pending

    def watch(self) -> int:
        """Block until a signal arrives (exit 0) or a child keeps dying (exit 1); restart a
        child that died."""
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.restart_at = None
                        self._spawn(child)
                    continue
                code = child.exit_code()
                if code is None:
                    continue
                child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW_S]
                if len(child.restarts) >= MAX_RESTARTS:
                    self.say(
                        f"{child.name} stopped {len(child.restarts) + 1} times within "
                        f"{RESTART_WINDOW_S // 60} minutes (last code {code}); giving up. Its log ends:\n"
                        f"{child.tail()}"
                    )
                    return 1
                delay = 0 if not child.restarts else 2 ** (len(child.restarts) - 1)
                child.restarts.append(now)
                child.restart_at = now + delay
                self.say(
                    f"{child.name} stopped unexpectedly (code {code}); restarting in {delay} s. "
                    f"Its log ends:\n{child.tail()}"
                )
            time.sleep(0.5)
        return 0

    def stop(self) -> None:
        for child in reversed(self.children):
            child.restart_at = None
            if child.process and child.process.poll() is None:
                try:
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in self.children:
            if not child.process:
                continue
            try:
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(child.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.process.wait()
            self.say(f"stopped {child.name}")


def _staff_hint(settings: Settings) -> str:
    """How to get a console login when there is none yet."""
    from sqlalchemy import func, select

    from crm import db
    from crm.models import Staff

    if settings.console_admin_username and settings.console_admin_password:
        return ""
    engine = db.create_db_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            has_staff = connection.execute(select(func.count()).select_from(Staff)).scalar_one() > 0
    finally:
        engine.dispose()
    if has_staff:
        return ""
    return (
        "\n             no staff account yet: run `make staff` (asks for a password) or set "
        "CONSOLE_ADMIN_USERNAME/CONSOLE_ADMIN_PASSWORD in .env"
    )


def serve(settings: Settings, say: Callable[[str], None] = print) -> int:
    """Run the product until Ctrl-C. Raises ConfigError for problems found before starting."""
    from crm import db, seed

    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    if not db.is_seeded(engine):
        say(f"database is empty: seeding {settings.seed_customers} customers")
        seed.seed(engine, settings.seed_customers, today=settings.current_date(), progress=seed.print_progress)
    engine.dispose()

    model = latest_model(PROJECT_ROOT / "models")
    vendored = PROJECT_ROOT / "web" / "static" / "vendor" / "socket.io.min.js"
    if not vendored.is_file():
        raise ConfigError(
            "web/static/vendor/socket.io.min.js is missing; run `make web` (npm installs the "
            "widget's socket.io client) or start with `make run`, which does it."
        )
    ensure_port_free(settings.host, settings.action_port, "ACTION_PORT")
    ensure_port_free(settings.host, settings.rasa_port, "RASA_PORT")
    if settings.behind_proxy:
        for port in settings.rasa_ports + settings.action_ports:
            ensure_port_free(settings.host, port, "REPLICA_PORT_STEP (a replica's port)")
    ensure_port_free(settings.host, settings.console_port, "CONSOLE_PORT")
    ensure_port_free(settings.host, settings.website_port, "WEBSITE_PORT")
    if settings.campaigns_enabled:
        ensure_port_free(settings.host, settings.campaign_sender_port, "CAMPAIGN_SENDER_PORT")
    if not settings.rasa_api_token:  # only this run's processes need to know it
        settings = dataclasses.replace(settings, rasa_api_token=secrets.token_urlsafe(32))
    if not settings.action_server_token:
        settings = dataclasses.replace(settings, action_server_token=secrets.token_urlsafe(32))
    if not settings.signing_secret:  # kept, so a page reload after a restart keeps its chat
        settings = dataclasses.replace(
            settings, signing_secret=kept_secret((PROJECT_ROOT / settings.log_dir).parent / "run" / "signing.key")
        )
    staff_hint = _staff_hint(settings)
    whatsapp = (
        f"webhook {settings.rasa_url}/webhooks/whatsapp/webhook"
        if settings.whatsapp_enabled
        else "off (set the WHATSAPP_* settings to connect WhatsApp Business)"
    )

    children = build_children(settings, model, PROJECT_ROOT / settings.log_dir)
    supervisor = Supervisor(children, child_environment(settings), say)
    previous = {sig: signal.signal(sig, supervisor._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        say(f"model {model.name}; starting servers")
        supervisor.start()
        if not supervisor.wait_healthy():
            return 0 if supervisor.stopping else 1
        say(
            f"\nReady in {time.monotonic() - started:.0f} s. Talk to the bot:\n"
            f"  REST:      curl -s -XPOST {settings.rasa_url}/webhooks/rest/webhook "
            '-H \'Content-Type: application/json\' -d \'{"sender":"demo","message":"halo"}\'\n'
            f"  website:   {settings.website_url}  (demo company page with the chat widget)\n"
            f"  WhatsApp:  {whatsapp}\n"
            f"  terminal:  make chat   (in another terminal)\n"
            f"  console:   {settings.console_url}  (CRM staff){staff_hint}\n"
            "Press Ctrl-C to stop every process."
        )
        return supervisor.watch()
    finally:
        supervisor.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
