"""The WhatsApp Cloud API webhook on the running Rasa server, with a fake Graph API on loopback:
handshake, signatures, redelivery, a burst of 100 messages from 20 numbers, media, verification
by the sender's number, and an agent reply from the console reaching WhatsApp."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.conftest import WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, item_for, login
from tests.support.customers import body_for, number, post, text_message, wait_for, webhook

pytestmark = pytest.mark.integration


def test_verification_handshake(product):
    good = {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    answer = requests.get(webhook(product), params=good, timeout=10)
    assert answer.status_code == 200 and answer.text == "1158201444"
    for wrong in ({**good, "hub.verify_token": "salah"}, {**good, "hub.mode": "unsubscribe"}):
        assert requests.get(webhook(product), params=wrong, timeout=10).status_code == 403


def test_unsigned_and_wrongly_signed_posts_are_refused(product, graph):
    sender = number()
    body = body_for(sender, [text_message(sender, "halo")])
    assert post(product, body, secret=None).status_code == 403
    assert post(product, body, secret="bukan-rahasianya").status_code == 403
    assert post(product, body, signature="sha256=" + "0" * 64).status_code == 403
    time.sleep(2)
    assert graph.to(sender) == []


def test_a_signed_text_gets_an_answer_from_the_bot(product, graph):
    sender = number()
    answer = post(product, body_for(sender, [text_message(sender, "halo min")]))
    assert answer.status_code == 200
    texts = wait_for(lambda: graph.texts_to(sender))
    assert "selamat datang di layanan chat Uji Finance" in texts[0]
    assert "\n\n" in texts[0]  # one WhatsApp message, not split into paragraphs


def test_the_same_message_delivered_twice_is_processed_once(product, graph):
    sender = number()
    message = text_message(sender, "makasih ya", message_id=f"wamid.dup-{uuid.uuid4().hex}")
    assert post(product, body_for(sender, [message])).status_code == 200
    wait_for(lambda: graph.to(sender))
    time.sleep(1)
    assert post(product, body_for(sender, [message])).status_code == 200  # Meta's redelivery
    time.sleep(3)
    assert len(graph.to(sender)) == 1
    with sqlite3.connect(product.tmp / "tracker.db") as tracker:
        users = tracker.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ? AND type_name = 'user'", (f"whatsapp:{sender}",)
        ).fetchone()[0]
    assert users == 1


def test_a_burst_of_100_messages_from_20_numbers_loses_and_doubles_nothing(product, graph):
    """20 customers at once, each typing five lines, each line's webhook sent after the last one
    was answered. (Two webhooks of one customer in flight at the same moment have no order the
    product can know within Meta's one-second timestamp: on two workers the second can be
    recorded first, see channels/whatsapp/channel.py.)"""
    senders = [number() for _ in range(20)]

    def customer(s):
        return [post(product, body_for(s, [text_message(s, f"makasih {i}")])).status_code for i in range(5)]

    with ThreadPoolExecutor(20) as pool:
        statuses = [code for codes in pool.map(customer, senders) for code in codes]
    assert statuses == [200] * 100

    def lines(s):  # lines that arrived while the bot was answering are merged into one message
        with sqlite3.connect(product.tmp / "tracker.db") as tracker:
            return [
                line
                for (d,) in tracker.execute(
                    "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (f"whatsapp:{s}",)
                )
                for line in json.loads(d)["text"].split("\n")
            ]

    wanted = [f"makasih {i}" for i in range(5)]
    done = wait_for(lambda: all(lines(s) == wanted for s in senders), timeout=180)  # each once, in order
    assert done, {s: lines(s) for s in senders if lines(s) != wanted}
    time.sleep(2)
    assert all(lines(s) == wanted for s in senders) and all(graph.to(s) for s in senders)
    with sqlite3.connect(product.tmp / "crm.db") as db:
        pending = db.execute("SELECT COUNT(*) FROM whatsapp_inbox WHERE processed_at IS NULL").fetchone()[0]
    assert pending == 0


@pytest.mark.parametrize(
    "kind, content, name",
    [
        ("image", {"id": "media1", "mime_type": "image/jpeg"}, "gambar"),
        ("audio", {"id": "media2", "mime_type": "audio/ogg", "voice": True}, "pesan suara"),
        ("sticker", {"id": "media3", "mime_type": "image/webp"}, "stiker"),
        ("location", {"latitude": -6.2, "longitude": 106.8}, "lokasi"),
        ("document", {"id": "media4", "filename": "stnk.pdf"}, "dokumen"),
        ("video", {"id": "media5"}, "video"),
    ],
)
def test_media_gets_a_polite_answer_saying_what_the_bot_reads(product, graph, kind, content, name):
    sender = number()
    message = {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1", "type": kind, kind: content}
    assert post(product, body_for(sender, [message])).status_code == 200
    texts = wait_for(lambda: graph.texts_to(sender))
    assert f"belum bisa membaca {name}" in texts[0] and "teks" in texts[0]


def test_status_callbacks_are_accepted_and_ignored(product, graph):
    before = len(graph.sent)
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "changes": [
                    {"value": {"statuses": [{"id": "wamid.X", "status": "delivered", "recipient_id": "6281200000000"}]}}
                ]
            }
        ],
    }
    assert post(product, body).status_code == 200
    time.sleep(1)
    assert len(graph.sent) == before


def test_malformed_json_is_a_400(product):
    assert post(product, "not json at all").status_code in (200, 400)  # a JSON string, signed
    raw = b"{broken"
    signature = "sha256=" + hmac.new(WHATSAPP_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = requests.post(
        webhook(product),
        data=raw,
        timeout=10,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400


def test_the_contract_phone_verifies_and_another_number_is_asked_the_mothers_name(product, graph):
    budi = "6281210000001"  # Budi's phone in the seed (demo customer)
    for text in ("cicilan saya bulan ini berapa", "K10124000001", "17-08-1985"):
        post(product, body_for(budi, [text_message(budi, text)]))
        time.sleep(1.5)
    assert wait_for(lambda: any("verifikasi berhasil" in t for t in graph.texts_to(budi)))
    stranger = number()
    for text in ("cicilan saya bulan ini berapa", "K10124000001", "17-08-1985"):
        post(product, body_for(stranger, [text_message(stranger, text)]))
        time.sleep(1.5)
    texts = wait_for(lambda: [t for t in graph.texts_to(stranger) if "ibu kandung" in t])
    assert texts and not any("verifikasi berhasil" in t for t in graph.texts_to(stranger))
    post(product, body_for(stranger, [text_message(stranger, "Sri Wahyuni")]))
    assert wait_for(lambda: any("verifikasi berhasil" in t for t in graph.texts_to(stranger)))


def test_button_reply_payload_reaches_the_bot(product, graph):
    sender = number()
    message = {
        "from": sender,
        "id": f"wamid.{uuid.uuid4().hex}",
        "timestamp": "1",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "/greet", "title": "Halo"}},
    }
    post(product, body_for(sender, [message]))
    texts = wait_for(lambda: graph.texts_to(sender))
    assert "selamat datang" in texts[0]


def test_a_wish_to_stop_our_messages_said_in_a_sentence_gets_the_stop_buttons(product, graph):
    """ "saya ga mau dapat promo wa lagi": the buttons that stop them, and a tap records it."""
    sender = number()
    post(product, body_for(sender, [text_message(sender, "saya ga mau dapat promo wa lagi")]))
    offer = wait_for(
        lambda: [m for m in graph.to(sender) if m.get("type") == "interactive" and "Berhenti promo" in str(m)]
    )
    assert offer, graph.texts_to(sender)
    tap = {
        "from": sender,
        "id": f"wamid.{uuid.uuid4().hex}",
        "timestamp": "1",
        "type": "interactive",
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": "/opt_out_marketing", "title": "Berhenti promo"},
        },
    }
    post(product, body_for(sender, [tap]))
    assert wait_for(lambda: any("tidak akan menerima info promo" in t for t in graph.texts_to(sender)))


def test_agent_reply_goes_out_through_whatsapp(product, graph):
    sender = number()
    post(product, body_for(sender, [text_message(sender, "saya mau bicara dengan petugas")]))
    assert wait_for(lambda: any("petugas CRM" in t for t in graph.texts_to(sender)))
    web = login(product, "kepala", product.admin_password)
    item = item_for(product, web, f"whatsapp:{sender}")
    assert item["channel"] == "whatsapp"
    assert web.post(f"{product.console_url}/api/items/{item['id']}/claim", json={}, timeout=30).json()["ok"]
    assert web.post(
        f"{product.console_url}/api/items/{item['id']}/reply", json={"text": "Halo, dengan Kepala."}, timeout=30
    ).json()["ok"]
    assert wait_for(lambda: "Halo, dengan Kepala." in graph.texts_to(sender))
    assert (
        web.post(
            f"{product.console_url}/api/items/{item['id']}/resolve", json={"note": "selesai"}, timeout=30
        ).status_code
        == 200
    )


def test_a_payment_proof_photo_is_kept_with_the_dispute_and_a_statement_goes_out_as_a_document(product, graph):
    dewi = "6281210000004"  # Dewi's phone in the seed: the number verifies with contract and birth date
    for text in (
        "sy udh bayar kok blm masuk ya",
        "K10223000005",
        "23-11-1988",
    ):
        post(product, body_for(dewi, [text_message(dewi, text)]))
        time.sleep(1.5)
    assert wait_for(lambda: any("Kapan Bapak/Ibu membayar" in t for t in graph.texts_to(dewi)))
    post(product, body_for(dewi, [text_message(dewi, "6 hari lalu lewat atm")]))
    found = wait_for(lambda: [t for t in graph.texts_to(dewi) if "belum kami temukan" in t])
    assert found and "CASE-" in found[0] and "📎" not in found[0]
    photo = b"\xff\xd8\xff\xe0proof-photo"
    graph.add_media("media-proof-1", photo, "image/jpeg")
    image = {
        "from": dewi,
        "id": f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"id": "media-proof-1", "mime_type": "image/jpeg", "sha256": hashlib.sha256(photo).hexdigest()},
    }
    post(product, body_for(dewi, [image]))
    assert wait_for(lambda: any("bukti bayar sudah kami terima" in t for t in graph.texts_to(dewi)))
    web = login(product, "kepala", product.admin_password)
    item = item_for(product, web, f"whatsapp:{dewi}")
    case = web.get(f"{product.console_url}/api/items/{item['id']}", timeout=10).json()["item"]["case"]
    assert case["kind"] == "Pembayaran belum masuk" and case["attachments"][0]["source"] == "whatsapp"
    page = web.get(f"{product.console_url}/items/{item['id']}", timeout=10).text
    assert f'src="{case["attachments"][0]["url"]}"' in page  # the photo is shown on the item page
    assert web.get(product.console_url + case["attachments"][0]["url"], timeout=10).content == photo

    post(product, body_for(dewi, [text_message(dewi, "sekalian minta rincian pembayaran kontraknya")]))
    documents = wait_for(lambda: [m for m in graph.to(dewi) if m.get("type") == "document"])
    assert documents and documents[0]["document"]["filename"].startswith("rincian-pembayaran-K10223000005")
    upload = graph.uploads[-1]
    assert documents[0]["document"]["id"] == f"uploaded-{len(graph.uploads)}"
    assert b"%PDF" in upload["body"] and upload["content_type"].startswith("multipart/form-data")
