"""Runs last (file name): SIGINT to `python -m crm serve` stops every process it started."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is as good as gone
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_sigint_stops_every_process(product):
    pids = product.child_pids()
    # action server, Rasa, website, console and (WhatsApp configured) the campaign sender
    assert len(pids) == 5 and all(_pid_alive(pid) for pid in pids)
    product.process.send_signal(signal.SIGINT)
    assert product.process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_pid_alive(pid) for pid in pids):
        time.sleep(0.2)
    assert not any(_pid_alive(pid) for pid in pids)
    ports = (product.rasa_port, product.action_port, product.console_port, product.website_port)
    assert not any(_port_open(p) for p in ports)
    for name in ("Rasa server", "action server", "CRM console", "website demo"):
        assert f"stopped {name}" in product.output
