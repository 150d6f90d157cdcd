"""Website verification with a one-time code (issue 18): a product of its own with codes on, a
fake Graph API that approves the code template; a visitor on socket.io types contract number and
birth date, reads the code "on WhatsApp" (the fake) and is verified; the code never shows in the
logs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crm.settings import PROJECT_ROOT
from tests.fake_graph import FakeGraph
from tests.integration.conftest import START_TIMEOUT_S, Product
from tests.support.customers import WebsiteCustomer, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    graph = FakeGraph()
    running = Product(tmp_path_factory.mktemp("coded"), graph.url, {"WEBSITE_ONE_TIME_CODES": "true"})
    try:
        if not running.ready.wait(START_TIMEOUT_S):
            pytest.fail(f"the product did not start:\n{running.output}")
        done = subprocess.run(
            [sys.executable, "-m", "crm", "templates", "submit"],
            cwd=PROJECT_ROOT,
            env={**running.env, "WHATSAPP_BUSINESS_ACCOUNT_ID": "waba-uji"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and "kode_verifikasi" in done.stdout, done.stdout + done.stderr
        yield running, graph
    finally:
        running.stop()
        graph.close()


def codes_to(graph, number):
    return [
        m["template"]["components"][0]["parameters"][0]["text"]
        for m in graph.to(number)
        if m.get("type") == "template" and m["template"]["name"] == "kode_verifikasi"
    ]


def test_a_website_visitor_verifies_with_the_code_sent_to_the_contracts_whatsapp(coded):
    product, graph = coded
    visitor = WebsiteCustomer(product.rasa_url)
    try:
        visitor.say("cicilan saya berapa?")
        visitor.wait_for("nomor kontrak")
        visitor.say("K10124000001")
        visitor.wait_for("tanggal lahir")
        visitor.say("17-08-1985")
        visitor.wait_for("kode verifikasi 6 angka")
        code = wait_for(lambda: codes_to(graph, "6281210000001"), 30)
        assert code, "no code went to Budi's WhatsApp"
        visitor.say(code[-1])
        visitor.wait_for("Budi")
        answer = visitor.wait_for("Rp")
        assert "K10124000001" in answer or "0001" in answer
    finally:
        visitor.close()
    logs = "\n".join(p.read_text(errors="replace") for p in (product.tmp / "log").glob("*.log"))
    assert code[-1] not in logs


def test_a_wrong_birth_date_is_asked_for_a_code_too_and_gets_nothing(coded):
    product, graph = coded
    before = len(codes_to(graph, "6281210000002"))
    visitor = WebsiteCustomer(product.rasa_url)
    try:
        visitor.say("cicilan saya berapa?")
        visitor.wait_for("nomor kontrak")
        visitor.say("K20123000002 lahir 01-01-1970")
        visitor.wait_for("kode verifikasi 6 angka")
        visitor.say("123456")
        visitor.wait_for("tidak cocok")
    finally:
        visitor.close()
    assert len(codes_to(graph, "6281210000002")) == before
