"""Throwaway PostgreSQL and Redis servers from Debian's packages, for the tests and `make bench`
(the production profile on one machine): each in its own folder, loopback only, a free port.
Never used by `make run`, which is given real servers' URLs in the settings.

PostgreSQL: trust authentication; as root it runs as the `postgres` user (PostgreSQL refuses to
run as root). Redis: no persistence (the lock store and socket.io messages are transient)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from crm.runtime.supervisor import port_is_free


def postgres_bin() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


# Ports handed out in this test run: a port is free again as soon as its probe socket closes,
# so the kernel can hand the same one out twice (seen: the website demo given the port the
# production profile's nginx had been given for the action servers).
_GIVEN: set = set()


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel's choice), never one given before."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def free_replica_port(replicas: int, step: int) -> int:
    """A free port P such that P + n * step is free too for n = 1..replicas: the production
    profile puts replica n on RASA_PORT + n * REPLICA_PORT_STEP (the same for ACTION_PORT)."""
    for _ in range(200):
        base = free_port()
        others = [base + n * step for n in range(1, replicas + 1)]
        if others[-1] < 65536 and all(p not in _GIVEN and port_is_free("127.0.0.1", p) for p in others):
            _GIVEN.update(others)
            return base
    raise RuntimeError(f"no free loopback port with {replicas} free ports {step} apart above it")


class PostgresServer:
    """`folder` None: a new folder under /tmp (pytest's own are private to root, which the
    postgres user cannot enter); it is removed by `remove()`."""

    def __init__(self, folder: Optional[Path] = None, databases=("crm",)):
        folder = folder or Path(tempfile.mkdtemp(prefix="crm-postgres-"))
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL is not installed: `make test` installs Debian's postgresql (apt-get install postgresql)"
            )
        self.bin = bin_dir
        self.folder = folder
        self.data = folder / "data"
        self.sockets = folder / "sockets"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        folder.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self.as_postgres:
            shutil.chown(folder, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        self._run(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        self.start()
        for name in databases:
            self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])

    def _run(self, argv: List[str], check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    @property
    def url(self) -> str:
        return self.url_of("crm")

    def url_of(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._run(["pg_isready", "-h", "127.0.0.1", "-p", str(self.port)], check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not start; see " + str(self.folder / "server.log"))

    def stop(self) -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def redis_bin() -> Optional[str]:
    return shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")


class RedisServer:
    def __init__(self, folder: Optional[Path] = None):
        binary = redis_bin()
        if binary is None:
            raise RuntimeError(
                "Redis is not installed: `make test` installs Debian's redis-server (apt-get install redis-server)"
            )
        self.folder = folder or Path(tempfile.mkdtemp(prefix="crm-redis-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = open(self.folder / "server.log", "ab")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--daemonize",
                "no",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("Redis did not start; see " + str(self.folder / "server.log"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("Redis did not answer; see " + str(self.folder / "server.log"))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def remove(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
