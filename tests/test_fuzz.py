"""Property-based tests (hypothesis) over everything that parses customer text: the channel
front door, the date, contract, plate, phone and day parsers, the case form checks, log
masking and the normaliser. None may raise, whatever a customer types."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from actions.cases import clean_text, yes_or_no
from channels import inbound
from crm import parsing, privacy, when
from crm.services.verification import normalise_phone

TODAY = date(2026, 11, 22)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# customer-like text: digits, separators, Indonesian words, emoji, invisible and RTL characters
pieces = st.sampled_from(
    [
        "17",
        "08",
        "1985",
        "-",
        "/",
        ".",
        " ",
        "agustus",
        "besok",
        "tgl",
        "K",
        "101",
        "24",
        "000001",
        "+62",
        "0812",
        "\u200b",
        "\u202e",
        "\ufeff",
        "😀",
        "ي",
        "'",
        '"',
        "; DROP TABLE customers; --",
        "<script>",
        "{",
        "}",
        "/restart",
        "\n",
        "\x00",
    ]
)
customer_text = st.one_of(st.text(max_size=300), st.lists(pieces, max_size=30).map("".join))


@FAST
@given(customer_text)
@example("/\n/")  # found from a fresh clone: a slash left after the first strip
def test_the_front_door_never_raises_and_never_passes_a_typed_intent(text):
    screened = inbound.screen(text, 2000)
    assert (screened.text is None) != (screened.reply is None)
    if screened.text is not None:
        assert screened.text == screened.text.strip()
        assert not screened.text.startswith("/") or inbound.is_allowed_payload(screened.text)
        assert "\u200b" not in screened.text and "\u202e" not in screened.text and "\x00" not in screened.text
        assert len(screened.text) <= 2000


@FAST
@given(customer_text)
def test_date_parsers_return_a_date_or_none(text):
    for result in (when.parse_date(text, today=TODAY), when.parse_date(text, today=TODAY, prefer="past")):
        assert result is None or isinstance(result, date)
    born = when.parse_date_of_birth(text, today=TODAY)
    assert born is None or born < TODAY


@FAST
@given(customer_text)
def test_number_parsers_return_well_formed_values_or_none(text):
    contract = parsing.normalise_contract_number(text)
    assert contract is None or (contract.startswith("K") and contract[1:].isdigit())
    day = when.parse_day_of_month(text)
    assert day is None or 0 <= day <= 99
    parsing.normalise_plate(text)
    assert normalise_phone(text).isdigit() or normalise_phone(text) == ""


@FAST
@given(customer_text, st.sampled_from([None, "affirm", "deny", "inform"]))
def test_case_form_checks(text, intent):
    assert yes_or_no(text, intent) in (None, "ya", "belum")
    cleaned = clean_text(text)
    assert cleaned is None or (cleaned == cleaned.strip() and len(cleaned) <= 2000)


@FAST
@given(customer_text)
def test_masking_is_total_and_idempotent(text):
    once = privacy.mask_text(text)
    assert privacy.mask_text(once) == once


DICTIONARY = None


@FAST
@given(st.text(max_size=60))
def test_normaliser_lookup_never_raises(word):
    global DICTIONARY
    from nlu_components.normaliser import load_dictionary, normal_form

    if DICTIONARY is None:
        from crm.settings import PROJECT_ROOT

        DICTIONARY = load_dictionary(PROJECT_ROOT / "nlu_components" / "normalisation_id.tsv")
    result = normal_form(word, DICTIONARY)
    assert result is None or isinstance(result, str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "entry",
                    "changes",
                    "value",
                    "messages",
                    "contacts",
                    "from",
                    "id",
                    "type",
                    "text",
                    "body",
                    "interactive",
                    "button_reply",
                    "list_reply",
                    "button",
                    "payload",
                    "profile",
                    "wa_id",
                    "name",
                    "title",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@FAST
@given(st.dictionaries(st.sampled_from(["entry", "object"]), json_values, max_size=2))
def test_whatsapp_webhook_parsing_never_raises(body):
    from channels.whatsapp import incoming_messages, message_text

    for message in incoming_messages(body):
        assert isinstance(message["from"], str) and message["from"].isdigit()
        text = message_text(message)
        assert text is None or isinstance(text, str)


@FAST
@given(json_values)
def test_whatsapp_message_text_never_raises(message):
    from channels.whatsapp import message_text

    if isinstance(message, dict):
        text = message_text(message)
        assert text is None or isinstance(text, str)
