"""Statements (the PDF read back and its numbers checked), documents bound to a conversation, the
proof of a payment kept with its dispute, the payoff-letter request and amounts typed by customers.
On the seeded demo database, today = 22 Nov 2026."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from crm import policy
from crm.db import session_scope
from crm.formatting import rupiah, short_date
from crm.models import Case, CaseAttachment, CaseKind, Contract, Customer, RequestKind, ServiceRequest
from crm.parsing import read_amount
from crm.services import accounts, cases, documents, payments, statements
from tests.conftest import SEED_TODAY as TODAY
from tests.support.actions import AGUS, BUDI, DEWI_LOAN, SITI

NOW = datetime(2026, 11, 22, 3, 0)  # naive UTC, 10.00 WIB


@pytest.fixture
def session(demo_db):
    with session_scope(demo_db) as s:
        yield s


def _owner(session, number):
    return session.execute(select(Contract.customer_id).where(Contract.number == number)).scalar_one()


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("number", [BUDI, SITI, AGUS, DEWI_LOAN])
def test_statement_agrees_with_the_instalment_table(session, number):
    owner = _owner(session, number)
    made = statements.statement(session, owner, number, TODAY)
    summary = accounts.instalment_summary(session, owner, number, TODAY)
    contract = accounts.load_contract(session, owner, number)
    assert len(made.lines) == contract.tenor_months
    assert made.outstanding == summary.outstanding
    assert made.paid_total == sum(row.amount for row in contract.instalments if row.paid_at is not None)
    assert made.open_late_fees == payments.late_fees(session, owner, number, TODAY).total
    assert [line.state for line in made.lines].count("paid") == summary.paid_count


def test_siti_statement_shows_the_payment_in_flight_and_the_arrears(session):
    """Siti (in arrears): instalment 19 paid yesterday at an ATM and not yet posted, 20 overdue."""
    made = statements.statement(session, _owner(session, SITI), SITI, TODAY)
    by_sequence = {line.sequence: line for line in made.lines}
    assert by_sequence[19].state == "paid_in_flight" and by_sequence[19].channel == "ATM bank lain"
    assert by_sequence[20].state == "overdue" and by_sequence[20].paid_on is None
    # late fee by hand: 6,228,000 × 0.1 % per day × 12 days (10 Nov → 22 Nov) = 74,736... per the policy rate
    expected = policy.late_fee(6_228_000, (TODAY - by_sequence[20].due_date).days)
    assert by_sequence[20].late_fee == expected


def test_the_pdf_holds_the_numbers_and_no_other_customer(session):
    owner = _owner(session, SITI)
    made = statements.statement(session, owner, SITI, TODAY)
    text = _pdf_text(statements.render_pdf(made, datetime(2026, 11, 22, 10, 0), "Uji Finance"))
    assert "Rincian Pembayaran Kontrak K20123000002" in text and "Uji Finance" in text
    assert made.customer_name in text and made.virtual_account.split()[-1] in text
    assert f"Sisa angsuran belum dibayar: {rupiah(made.outstanding)}" in text
    assert f"Total angsuran dibayar: {rupiah(made.paid_total)}" in text
    assert f"Denda berjalan (belum dibayar): {rupiah(made.open_late_fees)}" in text
    for line in made.lines:  # every instalment row: sequence, due date, amount
        assert f"{line.sequence} {short_date(line.due_date)} {rupiah(line.amount)}" in text
    others = session.execute(select(Customer).where(Customer.id != owner)).scalars().all()
    for other in others:
        assert other.name not in text and other.nik not in text
        for contract in other.contracts:
            assert contract.number not in text


def test_names_outside_latin1_do_not_break_the_pdf(session):
    owner = _owner(session, BUDI)
    made = statements.statement(session, owner, BUDI, TODAY)
    renamed = statements.Statement(**{**made.__dict__, "customer_name": "Budi Šantoso Łukasz 王"})
    text = _pdf_text(statements.render_pdf(renamed, datetime(2026, 11, 22, 10, 0), "Uji"))
    assert "Nama debitur: Budi Santoso ?ukasz ?" in text  # accents reduced, other letters shown as "?"


def test_a_document_is_served_only_to_its_conversation_until_it_expires(session):
    contract_id = session.execute(select(Contract.id).where(Contract.number == BUDI)).scalar_one()
    token = documents.issue(
        session,
        conversation_id="web:abc",
        contract_id=contract_id,
        kind="statement",
        filename="x.pdf",
        content_type="application/pdf",
        data=b"%PDF-1.4 test",
        now=NOW,
    )
    assert documents.fetch(session, token, "web:abc", NOW).data == b"%PDF-1.4 test"
    assert documents.fetch(session, token, "web:other", NOW) is None
    assert documents.fetch(session, token, None, NOW) is None
    assert documents.fetch(session, token + "x", "web:abc", NOW) is None
    later = NOW + timedelta(minutes=policy.STATEMENT_LINK_MINUTES)
    assert documents.fetch(session, token, "web:abc", later) is None
    assert documents.purge_expired(session, later) == 1


def _dispute(session, conversation="whatsapp:6281234567890", created=NOW):
    filed = cases.file_case(
        session,
        kind=CaseKind.PAYMENT_DISPUTE,
        conversation_id=conversation,
        channel="whatsapp",
        data={"channel_id": "atm"},
        customer_id=_owner(session, DEWI_LOAN),
        contract_number=DEWI_LOAN,
    )
    session.get(Case, filed.case_id).created_at = created
    session.flush()
    return filed


def test_a_proof_is_kept_with_the_open_dispute_of_its_conversation(session):
    conversation = "whatsapp:6281234567890"
    assert (
        cases.attach_proof(
            session, conversation, source="whatsapp", content_type="image/jpeg", filename="a.jpg", data=b"x", now=NOW
        )
        is None
    )  # no dispute waits for a proof
    filed = _dispute(session, conversation)
    attached = cases.attach_proof(
        session,
        conversation,
        source="whatsapp",
        content_type="image/jpeg; charset=binary",
        filename="struk.jpg",
        data=b"\xff\xd8jpeg",
        now=NOW,
    )
    assert attached.case_reference == filed.reference
    row = session.get(CaseAttachment, attached.attachment_id)
    assert row.case_id == filed.case_id and row.size == 6 and row.content_type == "image/jpeg"
    with pytest.raises(cases.ProofRefused, match="file_type"):
        cases.attach_proof(
            session, conversation, source="whatsapp", content_type="audio/ogg", filename="a", data=b"x", now=NOW
        )
    with pytest.raises(cases.ProofRefused, match="too_large"):
        cases.attach_proof(
            session,
            conversation,
            source="website",
            content_type="image/png",
            filename="big.png",
            data=b"0" * (policy.MAX_PROOF_BYTES + 1),
            now=NOW,
        )


def test_an_old_dispute_no_longer_takes_proofs(session):
    _dispute(session, "web:old", created=NOW - timedelta(days=policy.PROOF_WAIT_DAYS + 1))
    assert cases.awaiting_proof(session, "web:old", NOW) is None


@pytest.mark.parametrize(
    "text, amount",
    [
        ("Rp6.228.000", 6_228_000),
        ("udah transfer 6,2 juta kemarin", 6_200_000),
        ("500rb", 500_000),
        ("bayar rp 750.000 lewat atm", 750_000),
        ("6228000", 6_228_000),
        ("tanggal 20 november 2026", None),
        ("jam 10.30 lewat atm", None),
        ("", None),
    ],
)
def test_amounts_customers_type(text, amount):
    assert read_amount(text) == amount


# --- actions ---------------------------------------------------------------------------------------


@pytest.fixture
def actions_env(actions_environment):
    return actions_environment


def test_statement_action_issues_the_pdf_to_this_conversation(actions_env):
    from actions import account
    from tests.support.actions import responses, run, tracker, verified_slots

    slots = verified_slots(SITI, account_topic="statement")
    messages, events = run(account.ActionAnswerAccount(), tracker(slots=slots, sender="rest:siti-statement"))
    assert responses(messages) == ["utter_statement_ready", None]
    assert messages[0]["link_note"] and "denda berjalan" in messages[0]["fees"]
    payload = messages[1]["attachment"]["payload"]
    assert payload["url"] == f"/webhooks/socketio/statements/{payload['document']}"
    with session_scope(actions_env) as session:
        document = documents.fetch(session, payload["document"], "rest:siti-statement", datetime.utcnow())
        assert document is not None and document.filename == payload["title"]
        assert documents.fetch(session, payload["document"], "rest:someone-else", datetime.utcnow()) is None
        text = _pdf_text(document.data)
    assert "K20123000002" in text and "Uji Finance" in text
    on_whatsapp, _ = run(
        account.ActionAnswerAccount(), tracker(slots=slots, channel="whatsapp", sender="whatsapp:6281200000002")
    )
    assert on_whatsapp[0]["link_note"] == ""  # a document on WhatsApp, no link to expire


def test_statement_is_never_made_before_verification(actions_env):
    from actions import account
    from tests.support.actions import run, tracker

    messages, _ = run(account.ActionAnswerAccount(), tracker(slots={"account_topic": "statement"}))
    assert messages == []


def test_a_discount_asked_with_the_payoff_is_answered_before_the_figure(actions_env):
    """ "ada diskon ga kalau lunas dipercepat?": what paying early saves (no further interest) and
    what it costs, then the figure; a plain payoff question gets the figure alone."""
    from actions import account
    from tests.support.actions import responses, run, tracker, verified_slots

    slots = verified_slots(BUDI, account_topic="payoff", topic_text="ada diskon ga kalau lunas dipercepat?")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots))
    assert responses(messages) == ["utter_payoff_discount", "utter_payoff_quote"]
    assert messages[0]["fee_rate"] == "3%" and messages[1]["fee_rate"] == "3% dari sisa pokok"
    plain = verified_slots(BUDI, account_topic="payoff", topic_text="mau lunasin semua berapa")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=plain))
    assert responses(messages) == ["utter_payoff_quote"]


def test_payoff_letter_requested_after_the_figure(actions_env):
    from actions import account
    from tests.support.actions import responses, run, slot_events, tracker, verified_slots

    slots = verified_slots(BUDI, account_topic="payoff", topic_text="kalo mau lunasin tgl 15 bulan depan brp")
    quote, events = run(account.ActionAnswerAccount(), tracker(slots=slots))
    assert responses(quote) == ["utter_payoff_quote"] and slot_events(events)["pending_offer"] == "payoff_letter"
    open_slots = {**slots, **slot_events(events)}
    created, _ = run(account.ActionHandleOffer(), tracker(slots=open_slots, intent="affirm", text="iya"))
    assert responses(created) == ["utter_request_created"]
    again, _ = run(account.ActionHandleOffer(), tracker(slots=open_slots, intent="affirm", text="iya"))
    assert again[0]["reference"] == created[0]["reference"]  # one open request per contract
    with session_scope(actions_env) as session:
        request = session.execute(select(ServiceRequest).where(ServiceRequest.reference == created[0]["reference"]))
        request = request.scalar_one()
        quoted = payments.payoff_quote(session, _owner(session, BUDI), BUDI, TODAY, TODAY.replace(day=15, month=12))
        assert request.kind is RequestKind.PAYOFF_LETTER and request.details["quoted_total"] == quoted.total
        assert request.details["quoted_as_of"] == "2026-12-15"
    declined, _ = run(account.ActionHandleOffer(), tracker(slots=open_slots, intent="deny", text="ga usah"))
    assert responses(declined) == ["utter_offer_declined"]


def test_a_discount_asked_under_the_letter_offer_is_no_refusal(actions_env):
    """ "ada diskon ga?" (unrelated at 1.00) under "Mau saya ajukan surat ...?" declined the letter;
    it gets what paying early saves and the offer again, which a yes then takes."""
    from actions import account, handover
    from tests.support.actions import responses, run, slot_events, tracker, verified_slots

    slots = verified_slots(BUDI, account_topic="payoff")
    _, events = run(account.ActionAnswerAccount(), tracker(slots=slots))
    open_slots = {**slots, **slot_events(events)}
    asked, events = run(
        handover.ActionReplyOrWait(), tracker(slots=open_slots, intent="out_of_scope", text="ada diskon ga?")
    )
    assert responses(asked) == ["utter_payoff_discount", "utter_offer_payoff_letter"]
    still = {**open_slots, **slot_events(events)}
    assert still["pending_offer"] == "payoff_letter" and still["offer_open"] is True
    created, _ = run(account.ActionHandleOffer(), tracker(slots=still, intent="affirm", text="ya"))
    assert responses(created) == ["utter_request_created"]


def test_another_day_asked_after_the_figure_gets_that_day(actions_env):
    """ "kalau tgl 20?" (an answer) or "kalo bulan depan berapa?" (heard as the instalment) right
    after the payoff figure ask the figure for that time; the letter then uses that day."""
    from actions import account, fallback
    from tests.support.actions import responses, run, slot_events, tracker, verified_slots

    slots = verified_slots(BUDI, account_topic="payoff")
    _, events = run(account.ActionAnswerAccount(), tracker(slots=slots))
    open_slots = {**slots, **slot_events(events)}
    answered, events = run(
        account.ActionHandleOffer(), tracker(slots=open_slots, intent="inform", text="kalau tgl 20?")
    )
    assert responses(answered) == ["utter_payoff_quote"] and "20 Desember" in answered[0]["as_of"]
    assert slot_events(events)["pending_offer"] == "payoff_letter"
    again = {**open_slots, **slot_events(events)}
    created, _ = run(account.ActionHandleOffer(), tracker(slots=again, intent="affirm", text="ya"))
    with session_scope(actions_env) as session:
        request = session.execute(select(ServiceRequest).where(ServiceRequest.reference == created[0]["reference"]))
        assert request.scalar_one().details["quoted_as_of"] == "2026-12-20"
    heard = {**open_slots, "account_topic": "instalment", "topic_text": "kalo bulan depan berapa?"}
    month, events = run(
        account.ActionAnswerAccount(), tracker(slots=heard, intent="ask_instalment", text="kalo bulan depan berapa?")
    )
    assert responses(month) == ["utter_ask_payoff_day"] and slot_events(events)["pending_offer"] == "payoff_day"
    day = {**heard, **slot_events(events)}
    end, events = run(fallback.ActionFallback(), tracker(slots=day, intent="nlu_fallback", text="akhir bulan"))
    assert responses(end) == ["utter_payoff_quote"] and "30 November" in end[0]["as_of"]
    assert slot_events(events)["offer_day"] == "2026-11-30"
    letter, _ = run(
        account.ActionHandleOffer(), tracker(slots={**day, **slot_events(events)}, intent="affirm", text="ya")
    )
    assert "30 November 2026" in letter[0]["details"]
    # still one open request, now with the figure the customer was told last
    assert letter[0]["reference"] == created[0]["reference"]
    with session_scope(actions_env) as session:
        request = session.execute(select(ServiceRequest).where(ServiceRequest.reference == created[0]["reference"]))
        details = request.scalar_one().details
        assert details["quoted_as_of"] == "2026-11-30" and str(details["quoted_total"]) in letter[0]["details"].replace(
            ".", ""
        )
    # the instalment named, or no payoff figure just given: the question asked is answered
    text = "kalo bulan depan cicilannya berapa?"
    other, _ = run(
        account.ActionAnswerAccount(), tracker(slots={**heard, "topic_text": text}, intent="ask_instalment", text=text)
    )
    assert responses(other) and not {"utter_ask_payoff_day", "utter_payoff_quote"} & set(responses(other))
    closed = {**heard, "offer_open": False}
    plain, _ = run(
        account.ActionAnswerAccount(), tracker(slots=closed, intent="ask_instalment", text="kalo bulan depan berapa?")
    )
    assert responses(plain) and not {"utter_ask_payoff_day", "utter_payoff_quote"} & set(responses(plain))
    declined, _ = run(
        account.ActionHandleOffer(), tracker(slots=open_slots, intent="deny", text="nanti aja bulan depan")
    )
    assert responses(declined) == ["utter_offer_declined"]


def test_a_yes_heard_as_a_statement_request_answers_the_letter_question(actions_env):
    """ "ya minta surat resminya" after the payoff figure: the classifier hears a statement
    request ("surat"), but the customer said yes to the letter."""
    from actions import account
    from tests.support.actions import responses, run, slot_events, tracker, verified_slots

    slots = verified_slots(BUDI, account_topic="payoff")
    _, events = run(account.ActionAnswerAccount(), tracker(slots=slots))
    open_slots = {**slots, **slot_events(events), "account_topic": "statement"}
    heard = tracker(slots=open_slots, intent="request_statement", text="ya minta surat resminya")
    assert responses(run(account.ActionAnswerAccount(), heard)[0]) == ["utter_request_created"]
    question = tracker(slots=open_slots, intent="request_statement", text="ya, rekening koran bisa?")
    assert responses(run(account.ActionAnswerAccount(), question)[0])[0] != "utter_request_created"
