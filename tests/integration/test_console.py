"""The CRM console over real HTTP, next to the real Rasa and action servers: login and its
rate limit, CSRF, escaping of customer text, the claim race, and the "still waiting" notice."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.conftest import item_for, login, rest_id

pytestmark = pytest.mark.integration


def test_pages_and_api_need_a_login(product):
    answer = requests.get(product.console_url + "/", allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert requests.get(product.console_url + "/api/queue", timeout=10).status_code == 401
    assert requests.post(product.console_url + "/api/items/1/claim", json={}, timeout=10).status_code == 401


def test_login_cookie_is_httponly_and_samesite_and_pages_carry_a_csp(product):
    web = requests.Session()
    page = web.get(product.console_url + "/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = web.post(
        product.console_url + "/login",
        allow_redirects=False,
        timeout=30,
        data={"username": "kepala", "password": product.admin_password, "csrf_token": csrf},
    )
    cookie = answer.headers["set-cookie"]
    assert "crm_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_login_form_needs_its_csrf_token(product):
    answer = requests.post(
        product.console_url + "/login",
        timeout=10,
        allow_redirects=False,
        data={"username": "kepala", "password": product.admin_password},
    )
    assert answer.status_code == 403


def test_wrong_passwords_are_rate_limited_per_username(product):
    product.add_staff("tamu", "agent")
    web = requests.Session()
    statuses = []
    for _ in range(7):
        page = web.get(product.console_url + "/login", timeout=10)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        statuses.append(
            web.post(
                product.console_url + "/login",
                timeout=30,
                allow_redirects=False,
                data={"username": "tamu", "password": "salah-terus", "csrf_token": csrf},
            ).status_code
        )
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    login(product, "kepala", product.admin_password)  # others from the same address still get in


def test_state_changes_need_the_session_csrf_token(product):
    web = login(product, "kepala", product.admin_password)
    conversation = f"csrf-{uuid.uuid4().hex[:8]}"
    product.say(conversation, "sambungkan ke cs dong")
    item = item_for(product, web, conversation)
    for token in (None, "forged"):
        headers = {"X-CSRF-Token": token} if token else {}
        bare = requests.Session()
        bare.cookies.update(web.cookies)
        answer = bare.post(f"{product.console_url}/api/items/{item['id']}/claim", json={}, headers=headers, timeout=10)
        assert answer.status_code == 403
    assert item_for(product, web, conversation)["status"] == "open"


def test_bad_input_gets_a_clear_4xx(product):
    web = login(product, "kepala", product.admin_password)
    assert web.get(product.console_url + "/api/queue", params={"status": "weird"}, timeout=10).status_code == 400
    assert web.post(product.console_url + "/api/items/999999/claim", json={}, timeout=10).status_code == 409
    bad = web.post(
        product.console_url + "/api/items/1/reply",
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    # issue 14: ids past the database's range, ages that are not finite, odd pages
    for path in ("/api/items/99999999999999999999", "/items/99999999999999999999"):
        assert web.get(product.console_url + path, timeout=10).status_code == 404
    assert (
        web.post(product.console_url + "/api/items/99999999999999999999/claim", json={}, timeout=10).status_code == 404
    )
    for age in ("nan", "inf", "1e300", "-1"):
        assert web.get(product.console_url + "/api/queue", params={"max_age_hours": age}, timeout=10).status_code == 400
    for params in ({"page": "0"}, {"per_page": "100000"}, {"sort": "x"}):
        assert web.get(product.console_url + "/api/queue", params=params, timeout=10).status_code == 400
    assert (
        web.post(product.console_url + "/api/verification-locks/bukan-kontrak/release", json={}, timeout=10).status_code
        == 400
    )


def test_a_staff_member_with_a_blank_name_can_claim(product):
    password = product.add_staff("tanpanama", "agent", " ")
    web = login(product, "tanpanama", password)
    conversation = f"blank-{uuid.uuid4().hex[:8]}"
    product.say(conversation, "saya mau bicara dengan petugas")
    item = item_for(product, web, conversation)
    answer = web.post(f"{product.console_url}/api/items/{item['id']}/claim", json={}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert (
        web.post(f"{product.console_url}/api/items/{item['id']}/resolve", json={"note": "ok"}, timeout=30).status_code
        == 200
    )


def test_customer_text_is_escaped_in_the_console(product):
    web = login(product, "kepala", product.admin_password)
    conversation = f"xss-{uuid.uuid4().hex[:8]}"
    attack = "<script>alert('x')</script> saya mau komplain, dc kalian kasar"
    product.say(conversation, attack)
    item = item_for(product, web, conversation)
    page = web.get(f"{product.console_url}/items/{item['id']}", timeout=10).text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    lines = web.get(f"{product.console_url}/api/items/{item['id']}", timeout=10).json()["transcript"]
    assert any(line["who"] == "customer" and line["text"] == attack for line in lines)  # raw text, as JSON


def test_two_agents_claiming_at_once_one_wins_and_the_other_is_told(product):
    agents = []
    for name in ("ayu", "bima"):
        password = product.add_staff(name, "agent", name.title())
        agents.append(login(product, name, password))
    conversation = f"race-{uuid.uuid4().hex[:8]}"
    product.say(conversation, "saya mau bicara dengan petugas")
    item = item_for(product, agents[0], conversation)
    url = f"{product.console_url}/api/items/{item['id']}/claim"
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda web: web.post(url, json={}, timeout=30), agents))
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = [a for a in answers if a.status_code == 409][0]
    assert "sudah diambil" in loser.json()["error"]
    winner = agents[[a.status_code for a in answers].index(200)]
    other = agents[1 - agents.index(winner)]
    reply = other.post(f"{product.console_url}/api/items/{item['id']}/reply", json={"text": "halo"}, timeout=10)
    assert reply.status_code == 409 and "dipegang" in reply.json()["error"]
    assert (
        winner.post(
            f"{product.console_url}/api/items/{item['id']}/resolve", json={"note": "ok"}, timeout=30
        ).status_code
        == 200
    )


def test_unclaimed_customer_is_told_when_to_expect_an_answer(product):
    conversation = f"wait-{uuid.uuid4().hex[:8]}"
    product.say(conversation, "tolong hubungkan ke petugas crm")
    deadline = time.monotonic() + 30
    notice = None
    while time.monotonic() < deadline and notice is None:
        with sqlite3.connect(product.tmp / "tracker.db") as tracker:
            rows = tracker.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot'", (rest_id(conversation),)
            ).fetchall()
        notice = next((r[0] for r in rows if "semua petugas kami sedang melayani" in r[0]), None)
        time.sleep(0.5)
    assert notice is not None and "WIB" in notice
    with sqlite3.connect(product.tmp / "crm.db") as db:
        notified = db.execute(
            "SELECT customer_notified_at FROM escalations WHERE conversation_id = ?", (rest_id(conversation),)
        ).fetchone()[0]
    assert notified is not None
