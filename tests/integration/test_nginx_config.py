"""Debian's nginx accepts the configuration `make run` writes for the production profile. An
integration test because it needs the nginx binary, which `make services` installs: the unit
loop needs no apt."""

from __future__ import annotations

import subprocess

import pytest

from crm.runtime import nginx
from crm.settings import load_settings
from tests.support.production import PRODUCTION

pytestmark = pytest.mark.integration


def test_nginx_accepts_the_generated_config(tmp_path):
    settings = load_settings(PRODUCTION, env_file=tmp_path / "none")
    path = nginx.write_config(settings, tmp_path / "run", tmp_path / "log")
    (tmp_path / "log").mkdir()
    check = subprocess.run(
        [
            nginx.find_nginx("nginx"),
            "-t",
            "-c",
            str(path),
            "-p",
            str(tmp_path / "run"),
            "-e",
            str(tmp_path / "log" / "nginx-error.log"),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
