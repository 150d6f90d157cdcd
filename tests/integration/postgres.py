"""A throwaway PostgreSQL server from Debian's package, for tests that need a database they can
stop and start: its own data folder under the test's temporary folder, loopback only, a free
port, trust authentication. As root the server runs as the `postgres` user (PostgreSQL refuses
to run as root)."""

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


def postgres_bin() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """`folder` None: a new folder under /tmp (pytest's own are private to root, which the
    postgres user cannot enter); it is removed by `remove()`."""

    def __init__(self, folder: Optional[Path] = None):
        folder = folder or Path(tempfile.mkdtemp(prefix="crm-postgres-"))
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql "
                               "(apt-get install postgresql)")
        self.bin = bin_dir
        self.folder = folder
        self.data = folder / "data"
        self.sockets = folder / "sockets"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        folder.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self.as_postgres:
            shutil.chown(folder, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        self._run(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        self.start()
        self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "crm"])

    def _run(self, argv: List[str], check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/crm"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"),
                   "-w", "-t", "60", "start"])
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
