"""What `make run` checks before it starts anything."""

from __future__ import annotations

import os
import socket
import subprocess
import threading

import pytest

from crm.runtime.configuration import child_environment
from crm.runtime.supervisor import ensure_port_free, healthy, latest_model
from crm.settings import PROJECT_ROOT, ConfigError, Settings


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


def test_a_port_answering_garbage_is_not_healthy_and_does_not_crash_the_wait():
    """What a loopback socket connected to itself looks like: our own request line comes back.
    Seen once while the production profile's replicas were loading (BadStatusLine killed make run)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def echo():
        connection, _ = server.accept()
        with connection:
            connection.sendall(connection.recv(1024).split(b"\r\n")[0] + b"\r\n\r\n")

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    try:
        assert healthy(f"http://127.0.0.1:{port}/webhooks/health/") is False
    finally:
        thread.join(5)
        server.close()
    assert healthy(f"http://127.0.0.1:{port}/webhooks/health/") is False  # nothing listens: refused


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
        env={"PATH": "/nonexistent", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no Python 3.10 interpreter found" in result.stderr and "PYTHON310" in result.stderr


def test_python_finder_finds_this_interpreter():
    result = subprocess.run(
        ["/bin/sh", str(PROJECT_ROOT / "scripts" / "find-python310.sh")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert "3.10" in subprocess.run([result.stdout.strip(), "--version"], capture_output=True, text=True).stdout


def _child(tmp_path, name, code):
    from crm.runtime.supervisor import Child

    return Child(
        name=name, argv=["/bin/sh", "-c", code], health_url="http://127.0.0.1:1/", log_path=tmp_path / f"{name}.log"
    )


def test_a_dying_child_is_restarted_and_a_crash_loop_stops_everything(tmp_path, monkeypatch):
    import threading
    import time

    from crm.runtime import supervisor

    monkeypatch.setattr(supervisor, "MAX_RESTARTS", 3)
    said = []
    crashing = _child(tmp_path, "crasher", "echo started; exit 3")
    steady = _child(tmp_path, "steady", "sleep 60")
    runner = supervisor.Supervisor([crashing, steady], dict(os.environ), said.append)
    runner.start()
    try:
        started = time.monotonic()
        assert runner.watch() == 1  # gave up after MAX_RESTARTS restarts (0 + 1 + 2 s of backoff)
        assert time.monotonic() - started < 20
    finally:
        runner.stop()
    restarts = [line for line in said if "crasher stopped unexpectedly (code 3); restarting" in line]
    assert len(restarts) == 3 and "restarting in 0 s" in restarts[0] and "restarting in 2 s" in restarts[2]
    assert any("giving up" in line and "started" in line for line in said)  # with the log's tail
    assert steady.process.poll() is not None  # everything stopped

    # a child that dies once is back and the rest keep running; a signal ends the watch with 0
    once = _child(tmp_path, "once", f"test -e {tmp_path}/ran && exec sleep 60; touch {tmp_path}/ran; exit 1")
    runner = supervisor.Supervisor([once], dict(os.environ), said.append)
    runner.start()
    threading.Timer(3, lambda: setattr(runner, "stopping", True)).start()
    try:
        assert runner.watch() == 0
        assert once.process.poll() is None and len(once.restarts) == 1
    finally:
        runner.stop()


def test_rasa_api_token_never_appears_in_a_command_line_and_a_leading_dash_still_works(tmp_path):
    """Any local user can read argv (`ps`, /proc/<pid>/cmdline): the token travels in the child's
    environment and the launcher adds it inside the process. secrets.token_urlsafe starts with
    "-" one time in 64; the "=" form keeps argparse from taking it for an option."""
    import dataclasses

    from rasa.__main__ import create_argument_parser

    from crm.runtime.configuration import child_environment
    from crm.runtime.rasa_server import token_arguments
    from crm.runtime.supervisor import build_children
    from crm.settings import load_settings

    settings = dataclasses.replace(
        load_settings({"LOG_DIR": str(tmp_path / "log")}, env_file=tmp_path / "none"),
        rasa_api_token="-starts-with-a-dash",
        action_server_token="t",
    )
    children = build_children(settings, tmp_path / "model.tar.gz", tmp_path / "log")
    for child in children:
        assert not any("-starts-with-a-dash" in a or a.startswith("--auth-token") for a in child.argv), child.name
    rasa = next(c for c in children if c.name.startswith("Rasa server"))
    environment = child_environment(settings)
    argv = token_arguments(rasa.argv, environment)
    arguments = create_argument_parser().parse_args(argv[argv.index("run") :])
    assert arguments.auth_token == "-starts-with-a-dash"
    assert token_arguments(["rasa", "run"], environment) == ["rasa", "run"]  # no API, no token
