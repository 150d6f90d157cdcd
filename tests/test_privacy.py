"""Personal data never reaches a log line (crm/privacy.py)."""

from __future__ import annotations

import logging

import pytest

from crm import privacy


@pytest.mark.parametrize(
    "text",
    [
        "tgl lahir 17-08-1985",
        "17/8/85",
        "1985-08-17",
        "17.08.1985",
        "17 agustus 1985",
        "17 Agu 85",
        "17081985",
        "NIK 3171012345670001",
        "nik 317101 234567 0001",
        "wa 081210000001",
        "+62 812-1000-0001",
        "6281210000001",
        "+6281210000001",
        # as customers type them (issue 14): grouped NIKs, dates in words or with spaces, phones with separators
        "nik 3171 0123 4567 0001",
        "NIK 3171.0123.4567.0001",
        "nik: 31.71.01.234567.0001",
        "3171-0123-4567-0001",
        "lahir tujuh belas agustus 1985",
        "lahir 17 agt 1985",
        "tgl lahir 17 - 08 - 1985",
        "lahir 17 08 1985",
        "born August 17, 1985",
        "1985/08/17",
        "lahir 17 Agustus '85",
        "hp 0812 1000 0001",
        "hp (0812) 1000-0001",
        "wa +62 (812) 1000 0001",
        "62 812 1000 0001",
        "0812.1000.0001",
        "kontrak K10124000001",  # identity data like the rest (issue: one home per rule)
    ],
)
def test_identity_data_is_masked(text):
    masked = privacy.mask_text(text)
    assert "xx" in masked
    assert not any(
        part in masked
        for part in (
            "1985",
            "'85",
            "3171012345670001",
            "10000001",
            "1000-0001",
            "0001",
            "1000 0001",
            "0123",
            "4567",
            "agustus 1985",
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "Rasa 3.6.21 listening on 127.0.0.1:5005",
        "Rp 5.425.000",
        "tanggal 25",
        "HTTP 200 in 12 ms",
        "Rp 12.500.000 sampai tanggal 25",
        "200 OK 1024 bytes",
        "jatuh tempo tanggal 5",
    ],
)
def test_operational_text_stays_readable(text):
    assert privacy.mask_text(text) == text


@pytest.fixture
def masking():
    factory, format_exception = logging.getLogRecordFactory(), logging.Formatter.formatException
    privacy.install_log_masking()
    yield
    logging.setLogRecordFactory(factory)
    logging.Formatter.formatException = format_exception


def test_every_logger_is_masked_including_arguments_and_tracebacks(masking, tmp_path):
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.info("Received user message '%s' from %s", "lahir 17-08-1985 nik 3171012345670001", "+6281210000001")
        try:
            raise ValueError("bad date 17/08/1985")
        except ValueError:
            logger.exception("failed for %s", "081210000001")
    finally:
        logger.removeHandler(handler)
        handler.close()
    written = path.read_text()
    assert "Received user message" in written and "ValueError" in written
    for secret in ("17-08-1985", "3171012345670001", "6281210000001", "17/08/1985", "081210000001"):
        assert secret not in written


SAMPLES = {
    "NIK": "nik saya 3171 0123 4567 0001 ya",
    "phone": "hp (0812) 1000-0001 atau wa +62 812 1000 0001",
    "date of birth": "lahir 17-08-1985, atau 17 agustus 1985, atau 17081985",
    "contract number": "kontrak K10124000001 dan k-101-24-000002",
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_kind_of_personal_data_is_masked_identically_in_logs_console_and_nlu_inbox(
    kind, masking, tmp_path, demo_db
):
    """One text, three places staff read it: a log file, an agent's transcript in the console and
    the trainers' NLU inbox (from the tracker store, labelled into the training data)."""
    import json
    import sqlite3

    from crm.console import queue as console_queue
    from crm.db import session_scope
    from crm.models import Staff, StaffRole
    from crm.services import nlu_inbox

    text = SAMPLES[kind]
    expected = privacy.mask_text(text)
    assert not any(ch.isdigit() for ch in expected)

    path = tmp_path / "masked.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("crm.masking-test")
    logger.addHandler(handler)
    try:
        logger.warning("%s", text)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert path.read_text().strip() == expected

    # the console masks an agent's transcript lines with this very function
    assert console_queue.mask_text is privacy.mask_text

    tracker = tmp_path / "tracker.db"
    db = sqlite3.connect(tracker)
    db.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, data TEXT)"
    )
    parse = {"intent": {"name": "nlu_fallback", "confidence": 0.3}, "intent_ranking": []}
    db.execute(
        "INSERT INTO events VALUES (1, 'rest:x', 'user', 1.0, ?)", (json.dumps({"text": text, "parse_data": parse}),)
    )
    db.commit()
    db.close()
    [entry] = nlu_inbox.unsure_messages(f"sqlite:///{tracker}").values()
    assert entry.text == expected
    with session_scope(demo_db) as session:
        trainer = Staff(username="rina", full_name="Rina", role=StaffRole.SUPERVISOR, password_hash="x")
        session.add(trainer)
        session.flush()
        written = nlu_inbox.label(session, text, "inform", trainer, tmp_path / "data").read_text()
    assert f"- {expected}" in written


def test_the_console_and_the_nlu_inbox_mask_with_the_same_patterns_as_the_logs():
    from crm.services.queue import mask_text as console_mask

    assert console_mask is privacy.mask_text
    for typed in ("nik 3171 0123 4567 0001", "hp (0812) 1000-0001", "wa +62 812 1000 0001"):
        assert "0001" not in privacy.mask_text(typed)
