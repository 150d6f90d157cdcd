"""The WhatsApp channel's pieces: signatures, message parsing, splitting, button limits, and
sending through a fake Graph API on loopback (retries on 429 / 5xx)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

import pytest

from channels.whatsapp import (
    GraphApiError,
    WhatsAppConfigError,
    WhatsAppInput,
    WhatsAppOutput,
    incoming_messages,
    interactive_payloads,
    message_text,
    shorten,
    signature_valid,
    split_text,
)
from tests.fake_graph import FakeGraph


@pytest.fixture
def graph():
    fake = FakeGraph()
    yield fake
    fake.close()


def output(graph: FakeGraph) -> WhatsAppOutput:
    return WhatsAppOutput(graph.url, "1234567890", "token-abc", retry_delays=(0.05, 0.1, 0.2))


def test_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"entry": []}'
    good = "sha256=" + hmac.new(b"rahasia", body, hashlib.sha256).hexdigest()
    assert signature_valid("rahasia", body, good)
    assert not signature_valid("rahasia", body + b" ", good)
    assert not signature_valid("lain", body, good)
    assert not signature_valid("rahasia", body, None) and not signature_valid("rahasia", body, "md5=abc")


def test_the_channel_refuses_to_start_without_its_secrets():
    with pytest.raises(WhatsAppConfigError, match="app_secret"):
        WhatsAppInput(verify_token="v", app_secret="", access_token="t", phone_number_id="1", database_url="sqlite://")


def test_text_buttons_and_lists_are_read_media_is_not():
    assert message_text({"type": "text", "text": {"body": "halo"}}) == "halo"
    assert (
        message_text(
            {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Ya"}},
            }
        )
        == "/affirm"
    )
    assert (
        message_text(
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": '/inform{"date":"2026-12-01"}', "title": "1 Des"},
                },
            }
        )
        == '/inform{"date":"2026-12-01"}'
    )
    for kind in ("image", "audio", "sticker", "location", "document", "video", "contacts"):
        assert message_text({"type": kind}) is None


def test_statuses_are_not_messages():
    body = {
        "entry": [
            {
                "changes": [
                    {
                        "value": {
                            "contacts": [{"wa_id": "6281210000001", "profile": {"name": "Budi"}}],
                            "messages": [
                                {"id": "wamid.A", "from": "6281210000001", "type": "text", "text": {"body": "halo"}}
                            ],
                            "statuses": [{"id": "wamid.B", "status": "read"}],
                        }
                    }
                ]
            }
        ]
    }
    found = incoming_messages(body)
    assert [m["id"] for m in found] == ["wamid.A"] and found[0]["_profile_name"] == "Budi"
    assert incoming_messages({"entry": [{"changes": [{"value": {"statuses": [{"id": "x"}]}}]}]}) == []


def test_long_text_is_split_at_word_breaks_under_4096():
    text = ("Angsuran bulan ini sudah kami terima. " * 300).strip()  # ~11,400 characters
    pieces = split_text(text)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_buttons_within_limits_become_reply_buttons():
    [payload] = interactive_payloads(
        "Pilih kontrak", [{"title": "Avanza", "payload": "/a"}, {"title": "Siap Dana", "payload": "/b"}]
    )
    assert payload["type"] == "button" and [b["reply"]["id"] for b in payload["action"]["buttons"]] == ["/a", "/b"]


@pytest.mark.parametrize(
    "buttons, lists, rows",
    [
        ([{"title": f"Pilihan {i}", "payload": f"/p{i}"} for i in range(4)], 1, [4]),  # more than 3
        (
            [{"title": "Toyota Avanza 1.5 G CVT (B 1234 XYZ)", "payload": "/a"}, {"title": "Tidak", "payload": "/n"}],
            1,
            [2],
        ),  # a title over 20 characters
        ([{"title": f"Tgl {i}", "payload": f"/d{i}"} for i in range(12)], 2, [10, 2]),  # more than 10
    ],
)
def test_buttons_over_the_limits_become_lists(buttons, lists, rows):
    payloads = interactive_payloads("Pilih tanggal", buttons)
    assert len(payloads) == lists and all(p["type"] == "list" for p in payloads)
    assert [len(p["action"]["sections"][0]["rows"]) for p in payloads] == rows
    assert all(len(r["title"]) <= 24 for p in payloads for r in p["action"]["sections"][0]["rows"])


def test_every_fixed_choice_in_the_domain_is_a_reply_button_on_whatsapp():
    """A choice of up to three in domain.yml (the confirming questions, the out-of-scope reply's
    button to staff, satisfaction) reaches a WhatsApp customer as tap buttons, not as a list behind
    a 'Pilih' tap: so its titles keep within WhatsApp's 20 characters."""
    import yaml

    from crm.settings import PROJECT_ROOT

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    choices = {
        f"{name}[{i}]": variant["buttons"]
        for name, variants in domain["responses"].items()
        for i, variant in enumerate(variants)
        if 0 < len(variant.get("buttons") or []) <= 3
    }
    assert {"utter_out_of_scope[0]", "utter_confirm_complain[0]"} <= set(choices)
    as_lists = {name for name, buttons in choices.items() if interactive_payloads("x", buttons)[0]["type"] != "button"}
    assert as_lists == set()


def test_a_10000_character_reply_goes_out_in_pieces(graph):
    asyncio.run(output(graph).send_text_message("6281210000001", "x " * 5000))
    sent = graph.to("6281210000001")
    assert len(sent) == 3 and all(len(m["text"]["body"]) <= 4096 for m in sent)
    assert sum(m["text"]["body"].count("x") for m in sent) == 5000
    assert sent[0]["path"] == "/1234567890/messages" and sent[0]["auth"] == "Bearer token-abc"


def test_buttons_are_sent_as_interactive_messages(graph):
    buttons = [{"title": f"{i} Des 2026", "payload": f'/inform{{"date":"2026-12-0{i}"}}'} for i in range(1, 6)]
    asyncio.run(output(graph).send_text_with_buttons("6281210000002", "Pilih tanggal janji:", buttons))
    [sent] = graph.to("6281210000002")
    assert sent["type"] == "interactive" and sent["interactive"]["type"] == "list"


def test_429_then_200_is_retried_and_logged(graph, caplog):
    graph.script = [429, 503]
    with caplog.at_level(logging.WARNING, logger="channels.whatsapp"):
        asyncio.run(output(graph).send_text_message("6281210000003", "halo"))
    assert graph.attempts == 3 and len(graph.to("6281210000003")) == 1
    assert sum("retrying" in r.message for r in caplog.records) == 2
    assert "6281210000003" not in caplog.text  # the number is masked in logs


def test_a_client_error_is_not_retried(graph):
    graph.script = [400]
    with pytest.raises(GraphApiError) as failure:
        asyncio.run(output(graph).send_text_message("6281210000004", "halo"))
    assert failure.value.status == 400 and graph.attempts == 1


def test_giving_up_after_the_last_retry(graph):
    graph.script = [500, 500, 500, 500]
    with pytest.raises(GraphApiError):
        asyncio.run(output(graph).send_text_message("6281210000005", "halo"))
    assert graph.attempts == 4 and graph.to("6281210000005") == []


def test_inbox_keeps_each_message_once_and_what_was_not_processed(tmp_path, graph):
    from crm import db as crm_db

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    crm_db.migrate(crm_db.create_db_engine(url))
    channel = WhatsAppInput(
        verify_token="v", app_secret="s", access_token="t", phone_number_id="1", api_url=graph.url, database_url=url
    )
    first = {"id": "wamid.1", "from": "6281210000011", "type": "text", "text": {"body": "satu"}}
    second = {"id": "wamid.2", "from": "6281210000011", "type": "text", "text": {"body": "dua"}}
    photo = {"id": "wamid.3", "from": "6281210000012", "type": "image", "image": {"id": "m"}}
    assert [m["id"] for m in channel.store([first, second, photo])] == ["wamid.1", "wamid.2", "wamid.3"]
    assert channel.store([first]) == []  # redelivered
    # a crash here (stored, not processed): a restarted channel finds them
    restarted = WhatsAppInput(
        verify_token="v", app_secret="s", access_token="t", phone_number_id="1", api_url=graph.url, database_url=url
    )
    assert [m["id"] for m in restarted.pending()] == ["wamid.1", "wamid.2", "wamid.3"]
    seen = []

    async def on_new_message(message):
        seen.append((message.sender_id, message.text, message.input_channel))

    asyncio.run(restarted.process(restarted.pending(), on_new_message))
    # in order, merged into one message (one answer for a burst); media answered
    assert seen == [("whatsapp:6281210000011", "satu\ndua", "whatsapp")]
    assert "belum bisa membaca gambar" in graph.texts_to("6281210000012")[0]
    assert restarted.pending() == []


def test_inbox_gives_messages_in_the_order_the_customer_sent_them(tmp_path):
    """Meta delivers webhooks out of order (a backlog after an outage comes at once): its
    timestamp decides, and the recording order within one second (microseconds, not seconds)."""
    from crm import db as crm_db
    from crm.models import WhatsAppInboxMessage
    from crm.services import whatsapp_inbox

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    crm_db.migrate(crm_db.create_db_engine(url))
    sessions = crm_db.make_session_factory(crm_db.create_db_engine(url))

    def message(n: int, stamp: str) -> dict:
        return {"id": f"wamid.{n}", "from": "6281210000021", "timestamp": stamp, "type": "text", "text": {"body": n}}

    whatsapp_inbox.store(sessions, [message(3, "1764900002"), message(1, "1764900000"), message(2, "1764900001")])
    whatsapp_inbox.store(sessions, [message(n, "1764900005") for n in (4, 5, 6, 7, 8, 9)])
    assert [m["id"] for m in whatsapp_inbox.pending(sessions)] == [f"wamid.{n}" for n in range(1, 10)]
    with crm_db.session_scope(sessions) as db:  # recorded to the microsecond: one second's rows keep an order
        times = [row.received_at for row in db.query(WhatsAppInboxMessage).order_by(WhatsAppInboxMessage.received_at)]
    assert len(set(times)) == 9


def test_long_titles_are_shortened_between_words_never_inside_a_plate():
    title = "B 8396 VE · Innova Zenix 2.0 Q HV CVT"
    [payload] = interactive_payloads("Pilih kontrak", [{"title": title, "payload": "/a"}])
    [row] = payload["action"]["sections"][0]["rows"]
    assert row["title"] == "B 8396 VE · Innova…"
    assert len(row["title"]) <= 24 and row["description"] == title
    assert shorten("B 8396 VE", 20) == "B 8396 VE"
    assert shorten("Toyota Avanza 1.5 G CVT (B 1234 XYZ)", 24) == "Toyota Avanza 1.5 G CVT…"


def test_a_document_issued_to_the_conversation_is_uploaded_and_sent(graph, session_factory):
    from datetime import datetime

    from crm.db import session_scope
    from crm.seed import seed
    from crm.services import documents
    from tests.fake_graph import ACCESS_TOKEN

    seed(session_factory.kw["bind"], 3)
    with session_scope(session_factory) as db:
        from crm.models import Contract

        contract_id = db.query(Contract.id).first()[0]
        token = documents.issue(
            db,
            conversation_id="whatsapp:628123",
            contract_id=contract_id,
            kind="statement",
            filename="rincian.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4 rincian",
            now=datetime.utcnow(),
        )
    sender = WhatsAppOutput(graph.url, "1234567890", ACCESS_TOKEN, retry_delays=(0.05,), sessions=session_factory)
    attachment = {"type": "file", "payload": {"title": "rincian.pdf", "document": token}}
    asyncio.run(sender.send_attachment("whatsapp:628123", attachment))
    assert b"%PDF-1.4 rincian" in graph.uploads[0]["body"] and graph.uploads[0]["path"] == "/1234567890/media"
    sent = graph.to("628123")[0]
    assert sent["type"] == "document" and sent["document"] == {"id": "uploaded-1", "filename": "rincian.pdf"}
    asyncio.run(sender.send_attachment("whatsapp:628999", attachment))  # another conversation: nothing
    assert graph.to("628999") == [] and len(graph.uploads) == 1


def test_a_customers_media_is_fetched_with_the_token_and_a_size_limit(graph):
    from channels.whatsapp.graph import MediaTooLarge
    from tests.fake_graph import ACCESS_TOKEN

    graph.add_media("m-1", b"\xff\xd8photo", "image/jpeg")
    fetcher = WhatsAppOutput(graph.url, "1234567890", ACCESS_TOKEN)
    assert asyncio.run(fetcher.fetch_media("m-1", 1000)) == (b"\xff\xd8photo", "image/jpeg")
    with pytest.raises(MediaTooLarge):
        asyncio.run(fetcher.fetch_media("m-1", 4))
    with pytest.raises(GraphApiError):
        asyncio.run(WhatsAppOutput(graph.url, "1234567890", "wrong-token").fetch_media("m-1", 1000))
