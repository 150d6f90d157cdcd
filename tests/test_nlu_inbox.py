"""The NLU inbox: PII masking, unsure messages from a tracker store, flags, labels written as
training examples in Rasa's format, dismissals."""

from __future__ import annotations

import json
import sqlite3

import pytest

from crm import privacy
from crm.db import session_scope
from crm.models import Staff
from crm.nlu.validate import nlu_examples
from crm.services import nlu_inbox
from crm.services import staff as staff_service


def test_nik_phone_and_contract_numbers_are_masked():
    text = "nik 3171234567890001 hp 0812-3456-7890 kontrak K10124000001 atau +62 811 2233 4455"
    masked = privacy.mask_text(text)
    assert masked == "nik xxxxxxxxxxxxxxxx hp xxxx-xxxx-xxxx kontrak Kxxxxxxxxxxx atau +xx xxx xxxx xxxx"
    assert privacy.mask_text("cicilan 3 bulan, tgl 25") == "cicilan 3 bulan, tgl 25"


def _tracker(path, events):
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
        "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"
    )
    for i, (sender, kind, data) in enumerate(events, start=1):
        connection.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, NULL, NULL, ?)", (i, sender, kind, float(i), json.dumps(data))
        )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def _user(text, intent, confidence, second=None):
    ranking = [{"name": intent, "confidence": confidence}]
    if second:
        ranking.append({"name": second[0], "confidence": second[1]})
    shown = "nlu_fallback" if confidence < 0.6 else intent
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": shown, "confidence": confidence}, "intent_ranking": ranking},
    }


@pytest.fixture
def tracker_url(tmp_path):
    return _tracker(
        tmp_path / "tracker.db",
        [
            ("a", "user", _user("cicilan saya berapa", "ask_instalment", 0.99, ("ask_bpkb_pickup", 0.005))),
            ("a", "user", _user("asdfgh qwerty", "greet", 0.41)),  # fallback
            ("b", "user", _user("ASDFGH  qwerty", "greet", 0.38)),  # the same, grouped
            ("b", "user", _user("bayar pakai 081234567890 bisa", "ask_instalment", 0.70)),  # low confidence
            ("c", "user", _user("mau tanya soal bpkb dan cicilan", "ask_bpkb_pickup", 0.52, ("ask_instalment", 0.45))),
            ("c", "active_loop", {"event": "active_loop", "name": "theft_form"}),
            ("c", "user", _user("parkiran pasar", "out_of_scope", 0.40)),  # a form answer: not an inbox item
            ("c", "active_loop", {"event": "active_loop", "name": None}),
            ("c", "user", _user('/inform{"date":"2026-12-01"}', "inform", 0.30)),  # a button payload
        ],
    )


def test_unsure_messages_are_grouped_with_their_reasons(tracker_url):
    entries = nlu_inbox.unsure_messages(tracker_url)
    assert set(entries) == {"asdfgh qwerty", "bayar pakai xxxxxxxxxxxx bisa", "mau tanya soal bpkb dan cicilan"}
    gibberish = entries["asdfgh qwerty"]
    assert gibberish.count == 2 and gibberish.conversations == ["a", "b"] and "fallback" in gibberish.reasons
    assert entries["bayar pakai xxxxxxxxxxxx bisa"].reasons == {"low_confidence"}
    assert "ambiguous" in entries["mau tanya soal bpkb dan cicilan"].reasons
    assert (
        nlu_inbox.unsure_messages(
            "sqlite:///" + "/nonexistent/none.db".replace("/nonexistent", str(__import__("tempfile").gettempdir()))
        )
        == {}
    )


def test_flags_labels_and_dismissals(session_factory, tracker_url, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "nlu").mkdir(parents=True)
    (data_dir / "nlu" / "greet.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - halo\n'
    )
    with session_scope(session_factory) as session:
        rina = staff_service.create_staff(session, "rina", "Rina", "kata-sandi-rahasia", "supervisor")
        nlu_inbox.flag(
            session, "mobil saya ditarik paksa, nik 3171234567890001", rina, predicted="complain", conversation_id="d"
        )
    with session_scope(session_factory) as session:
        entries = nlu_inbox.inbox(session, tracker_url)
        assert entries[0]["reasons"] == ["flagged"] and "xxxxxxxxxxxxxxxx" in entries[0]["text"]
        rina = session.get(Staff, 1)
        path = nlu_inbox.label(session, entries[0]["text"], "complain", rina, data_dir)
        nlu_inbox.dismiss(session, "asdfgh qwerty", rina)
    assert path == data_dir / "nlu" / "inbox" / "complain.yml"
    written = [(i, e) for i, e, _ in nlu_examples(data_dir)]
    assert ("complain", "mobil saya ditarik paksa, nik xxxxxxxxxxxxxxxx") in written
    with session_scope(session_factory) as session:
        left = {e["key"] for e in nlu_inbox.inbox(session, tracker_url)}
        assert left == {"bayar pakai xxxxxxxxxxxx bisa", "mau tanya soal bpkb dan cicilan"}
        rina = session.get(Staff, 1)
        with pytest.raises(nlu_inbox.InboxError, match="sudah ada"):
            nlu_inbox.label(session, "HALO", "thank", rina, data_dir)
        with pytest.raises(nlu_inbox.InboxError, match="Nama intent"):
            nlu_inbox.label(session, "pesan baru", "Intent Baru!", rina, data_dir)
        with pytest.raises(nlu_inbox.InboxError, match="kosong"):
            nlu_inbox.label(session, "   ", "greet", rina, data_dir)
        nlu_inbox.label(session, "mau tanya soal bpkb dan cicilan", "ask_bpkb_pickup", rina, data_dir)
    assert len([1 for i, _, _ in nlu_examples(data_dir) if i == "ask_bpkb_pickup"]) == 1


def test_a_customer_click_after_an_unacted_message_says_what_it_meant(tmp_path):
    """The confirming question's "Ya" (/complain), the out-of-scope reply's "Bicara ke petugas"
    (/request_human) and the rephrase suggestions name what the message before meant; a yes or a
    no, a typed message in between, or a click after an understood message say nothing about it."""
    url = _tracker(
        tmp_path / "tracker.db",
        [
            ("a", "user", _user("hubungkan ke agen dong", "out_of_scope", 1.0)),  # confident, acted on
            ("a", "user", {"event": "user", "text": "/request_human", "parse_data": {}}),
            ("b", "user", _user("kolektornya kasar, sy ga terima", "complain", 0.55)),  # fallback
            ("b", "user", {"event": "user", "text": "/complain", "parse_data": {}}),
            ("c", "user", _user("cuaca besok gimana", "out_of_scope", 1.0)),
            ("c", "user", {"event": "user", "text": "/deny", "parse_data": {}}),  # an answer
            ("d", "user", _user("pesan ojek dong", "out_of_scope", 0.99)),
            ("d", "user", _user("oke makasih", "thank", 0.98)),  # typed in between
            ("d", "user", {"event": "user", "text": "/request_human", "parse_data": {}}),
            ("e", "user", _user("cicilan saya berapa", "ask_instalment", 0.99)),  # understood
            ("e", "user", {"event": "user", "text": "/ask_bpkb_pickup", "parse_data": {}}),
        ],
    )
    entries = nlu_inbox.unsure_messages(url)
    assert set(entries) == {"hubungkan ke agen dong", "kolektornya kasar, sy ga terima"}
    person = entries["hubungkan ke agen dong"]
    assert person.chosen == "request_human" and person.reasons == {"customer_chose"}
    assert person.predicted == "out_of_scope" and person.count == 1 and person.conversations == ["a"]
    complaint = entries["kolektornya kasar, sy ga terima"]
    assert complaint.chosen == "complain" and complaint.reasons >= {"fallback", "customer_chose"}
    assert complaint.as_dict()["chosen"] == "complain"
