"""The REST channel is for development and tests: production turns it off or puts it behind a
token, and it only ever reaches `rest:` conversations."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from types import SimpleNamespace

import pytest

from channels.rest import BadRequest, GuardedRestInput, Unauthorized
from crm.runtime.configuration import write_credentials
from crm.settings import load_settings


def _request(body: dict, authorization: str = ""):
    return SimpleNamespace(
        content_type="application/json",
        body=json.dumps(body).encode(),
        headers={"authorization": authorization} if authorization else {},
    )


def test_rest_channel_off_in_credentials_when_the_setting_says_so(tmp_path):
    settings = load_settings({}, env_file=tmp_path / "none")
    assert "channels.rest.GuardedRestInput" in write_credentials(settings, tmp_path / "on").read_text()
    off = dataclasses.replace(settings, rest_channel=False)
    text = write_credentials(off, tmp_path / "off").read_text()
    assert "GuardedRestInput" not in text and "WebsiteSocketIOInput" in text and "HealthInput" in text


def test_rest_channel_behind_a_token(monkeypatch):
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "rahasia")
    channel = GuardedRestInput()
    for given in ("", "Bearer salah", "rahasia"):
        with pytest.raises(Unauthorized):
            asyncio.run(channel._extract_sender(_request({"sender": "dev", "message": "halo"}, given)))
    sender = asyncio.run(channel._extract_sender(_request({"sender": "dev", "message": "halo"}, "Bearer rahasia")))
    assert sender == "rest:dev"


def test_rest_reaches_only_rest_conversations(monkeypatch):
    monkeypatch.delenv("REST_CHANNEL_TOKEN", raising=False)
    channel = GuardedRestInput()
    assert asyncio.run(channel._extract_sender(_request({"sender": "6281210000001", "message": "x"}))) == (
        "rest:6281210000001"
    )
    for sender in ("whatsapp:6281210000001", "web:" + "a" * 32, "\ud800", "a b", ""):
        with pytest.raises(BadRequest):
            asyncio.run(channel._extract_sender(_request({"sender": sender, "message": "x"})))
