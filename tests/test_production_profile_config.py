"""The production profile is settings only: what `make run` writes for Rasa and nginx from them."""

from __future__ import annotations

import os
import socket

import pytest
import yaml

from crm.runtime import nginx
from crm.runtime.configuration import TRACKER_STORE, child_environment, write_endpoints
from crm.runtime.supervisor import build_children
from crm.settings import ConfigError, load_settings
from tests.support.production import PRODUCTION


def test_default_is_one_of_each_on_sqlite_without_nginx(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 1)  # more cores: tests/test_workers.py
    settings = load_settings({}, env_file=tmp_path / "none")
    assert not settings.behind_proxy and settings.rasa_ports == [5005] and settings.action_ports == [5055]
    endpoints = yaml.safe_load(write_endpoints(settings, tmp_path).read_text())
    assert endpoints["tracker_store"] == {"type": TRACKER_STORE, "dialect": "sqlite", "db": "${TRACKER_DB}"}
    assert endpoints["lock_store"] == {"type": "crm.runtime.lock_store.QuickInMemoryLockStore"}
    assert endpoints["action_endpoint"] == {
        "url": "${ACTION_ENDPOINT_URL}",
        "token": "${ACTION_SERVER_TOKEN}",
        "enable_selective_domain": True,  # the domain only to form validations (issue 17)
    }
    assert settings.tracker_db_url.startswith("sqlite:///")


def test_production_settings_give_postgres_tracker_redis_locks_and_no_password_on_disk(tmp_path):
    settings = load_settings(PRODUCTION, env_file=tmp_path / "none")
    assert settings.rasa_ports == [6005, 7005] and settings.action_ports == [6055, 7055, 8055]
    assert settings.tracker_db_url == PRODUCTION["TRACKER_STORE_URL"]  # the NLU inbox and purge read it
    path = write_endpoints(settings, tmp_path)
    written = path.read_text()
    assert "tr4cker" not in written and "r3dis" not in written
    endpoints = yaml.safe_load(written)
    assert endpoints["tracker_store"] == {
        "type": TRACKER_STORE,
        "dialect": "postgresql+psycopg2",
        "url": "db.internal",
        "db": "rasa",
        "port": 5433,
        "username": "rasa",
        "password": "${TRACKER_STORE_PASSWORD}",
        "query": {"sslmode": "require"},
    }
    assert endpoints["lock_store"] == {
        "type": "crm.runtime.lock_store.AtomicRedisLockStore",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
        "key_prefix": "crm",
        "use_ssl": False,
        "password": "${REDIS_PASSWORD}",
    }
    env = child_environment(settings)
    assert env["TRACKER_STORE_PASSWORD"] == "tr4cker" and env["REDIS_PASSWORD"] == "r3dis"


def test_replicas_need_redis_and_counts_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="REDIS_URL is not set"):
        load_settings({"RASA_REPLICAS": "2"}, env_file=tmp_path / "none")
    for bad in ("0", "17", "two"):
        with pytest.raises(ConfigError, match="ACTION_SERVERS must be a whole number from 1 to 16"):
            load_settings({"ACTION_SERVERS": bad}, env_file=tmp_path / "none")
    with pytest.raises(ConfigError, match="REDIS_URL must look like redis://"):
        load_settings({"REDIS_URL": "localhost:6379"}, env_file=tmp_path / "none")
    with pytest.raises(ConfigError, match="outside 1-65535"):
        load_settings({**PRODUCTION, "RASA_PORT": "64000"}, env_file=tmp_path / "none")


def test_children_of_the_production_profile(tmp_path, monkeypatch):
    monkeypatch.setattr(nginx, "find_nginx", lambda setting: "/usr/sbin/nginx")
    settings = load_settings({**PRODUCTION, "LOG_DIR": str(tmp_path / "log")}, env_file=tmp_path / "none")
    children = build_children(settings, tmp_path / "model.tar.gz", tmp_path / "log")
    names = [c.name for c in children]
    assert names == [
        "action server 1",
        "action server 2",
        "action server 3",
        "Rasa server 1",
        "Rasa server 2",
        "nginx",
        "website demo",
        "CRM console",
    ]
    rasa = [c for c in children if c.name.startswith("Rasa server")]
    assert [c.env["RASA_PORT"] for c in rasa] == ["6005", "7005"]  # each replica its own outbox file
    assert all(str(tmp_path / "run" / "endpoints.yml") in c.argv for c in rasa)
    assert rasa[1].health_url == "http://127.0.0.1:7005/webhooks/health/"
    assert children[5].health_url == "http://127.0.0.1:5005/webhooks/health/"  # through nginx


def test_nginx_config_balances_both_pools_and_pins_sockets(tmp_path):
    settings = load_settings(PRODUCTION, env_file=tmp_path / "none")
    config = nginx.render(settings, tmp_path / "run", tmp_path / "log")
    for port in (6005, 7005, 6055, 7055, 8055):
        assert f"server 127.0.0.1:{port} " in config
    assert "listen 127.0.0.1:5005;" in config and "listen 127.0.0.1:5055;" in config
    assert "ip_hash;" in config and "access_log off;" in config


def test_nginx_missing_is_a_clear_error():
    with pytest.raises(ConfigError, match="apt-get install nginx-light"):
        nginx.find_nginx("/nonexistent/nginx")


def test_config_command_writes_what_make_run_writes(tmp_path, monkeypatch, capsys):
    from crm.__main__ import main

    for key, value in {**PRODUCTION, "LOG_DIR": str(tmp_path / "log")}.items():
        monkeypatch.setenv(key, value)
    assert main(["config", "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file()) == [
        "credentials.yml",
        "endpoints.yml",
        "nginx.conf",
    ]
    assert "type: crm.runtime.lock_store.AtomicRedisLockStore" in (tmp_path / "out" / "endpoints.yml").read_text()


def test_processes_on_other_machines_are_reached_by_url(tmp_path):
    settings = load_settings(
        {"RASA_URL": "http://rasa-internal:5005/", "ACTION_SERVER_URL": "http://actions:5055"},
        env_file=tmp_path / "none",
    )
    assert settings.rasa_url == "http://rasa-internal:5005"
    assert settings.action_endpoint_url == "http://actions:5055/webhook"
    assert settings.action_health_url == "http://actions:5055/health"
    with pytest.raises(ConfigError, match="RASA_URL must look like http://"):
        load_settings({"RASA_URL": "rasa:5005"}, env_file=tmp_path / "none")


def test_rasa_launcher_fills_the_placeholders_itself_when_started_alone(monkeypatch, tmp_path):
    from crm.runtime.rasa_server import fill_endpoint_placeholders

    for key, value in {**PRODUCTION, "ACTION_SERVER_URL": "http://actions:5055"}.items():
        monkeypatch.setenv(key, value)
    for name in ("ACTION_ENDPOINT_URL", "TRACKER_DB", "TRACKER_STORE_PASSWORD", "REDIS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    fill_endpoint_placeholders()
    assert os.environ["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"
    assert os.environ["TRACKER_STORE_PASSWORD"] == "tr4cker" and os.environ["REDIS_PASSWORD"] == "r3dis"


def test_a_free_replica_port_has_free_ports_above_it_for_every_replica():
    from tests.support.localservices import free_replica_port

    base = free_replica_port(2, 1000)
    for port in (base, base + 1000, base + 2000):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            s.bind(("127.0.0.1", port))  # raises if taken
