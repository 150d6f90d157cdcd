"""What `make run` checks before it starts anything."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from crm.settings import PROJECT_ROOT, ConfigError, Settings
from crm.supervisor import child_environment, ensure_port_free, latest_model


def test_port_in_use_is_named_with_the_setting_to_change():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"Port {port} on 127.0.0.1 is already in use.*set RASA_PORT"):
            ensure_port_free("127.0.0.1", port, "RASA_PORT")


def test_free_port_passes():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ensure_port_free("127.0.0.1", port, "RASA_PORT")


def test_missing_model_says_how_to_train(tmp_path):
    with pytest.raises(ConfigError, match="No trained model in .*run `make train`"):
        latest_model(tmp_path)


def test_latest_model_is_the_newest(tmp_path):
    old, new = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    os.utime(old, (1, 1))
    assert latest_model(tmp_path) == new


def test_children_get_the_endpoint_placeholders():
    env = child_environment(Settings(action_port=6123, tracker_db="/tmp/t.db", host="127.0.0.1"))
    assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:6123/webhook"
    assert env["TRACKER_DB"] == "/tmp/t.db" and env["SANIC_HOST"] == "127.0.0.1"


def test_python_finder_explains_what_to_install(tmp_path):
    result = subprocess.run(
        ["/bin/sh", str(PROJECT_ROOT / "scripts" / "find-python310.sh")],
        env={"PATH": "/nonexistent", "HOME": str(tmp_path)}, capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "no Python 3.10 interpreter found" in result.stderr and "PYTHON310" in result.stderr


def test_python_finder_finds_this_interpreter():
    result = subprocess.run(
        ["/bin/sh", str(PROJECT_ROOT / "scripts" / "find-python310.sh")], capture_output=True, text=True,
    )
    assert result.returncode == 0
    assert "3.10" in subprocess.run([result.stdout.strip(), "--version"], capture_output=True, text=True).stdout
