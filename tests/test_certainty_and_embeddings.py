"""The NLU additions of issue 21 in-process: sentence embeddings from the bundled model (on the
normaliser's output), the certainty gate before costly intents, and the confirming question."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from crm.parsing import wordless
from nlu_components.certainty import CertaintyGate
from nlu_components.normaliser import IndonesianNormaliser
from nlu_components.sentence_embeddings import SentenceEmbeddingFeaturizer, text_for

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
NORMALISER = IndonesianNormaliser({})


def _message(text: str) -> Message:
    message = Message(data={TEXT: text})
    TOKENIZER.process([message])
    NORMALISER.process([message])
    return message


def _sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features(TEXT, ["embeddings"])
    return sentence.features


@pytest.fixture(scope="module")
def featurizer():
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "alias": "embeddings"}
    return SentenceEmbeddingFeaturizer(config, "embeddings")


def test_chat_spelling_and_standard_words_get_the_same_meaning_vector(featurizer):
    chat, standard = _message("sy udh bayar angs tp blm msk"), _message("saya sudah bayar angsuran tetapi belum masuk")
    assert text_for(chat) == text_for(standard)  # the normaliser's output is what is embedded
    featurizer.process([chat, standard])
    a, b = _sentence_vector(chat), _sentence_vector(standard)
    assert a.shape == (1, 384) and np.allclose(a, b)
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-3  # L2-normalised


def test_meaning_is_closer_between_paraphrases_than_topics(featurizer):
    messages = [_message(t) for t in ("sisa utang saya berapa", "sisa pinjaman saya tinggal berapa", "cuaca besok")]
    featurizer.process(messages)
    debt, loan, weather = (_sentence_vector(m)[0] for m in messages)
    assert float(debt @ loan) > float(debt @ weather)


def test_training_data_is_featurized_in_batches(featurizer):
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = [_message(f"contoh kalimat nomor {i}") for i in range(70)]  # more than one batch of 64
    featurizer.process_training_data(TrainingData(training_examples=examples))
    assert all(_sentence_vector(m).shape == (1, 384) for m in examples)


def _classified(text: str, ranking):
    message = Message(data={TEXT: text})
    message.set(INTENT, dict(ranking[0]))
    message.set(INTENT_RANKING_KEY, [dict(r) for r in ranking])
    return message


GATE = CertaintyGate({"complain": 0.9, "request_human": 0.85})


def test_a_costly_intent_below_its_threshold_becomes_a_fallback_keeping_the_candidate():
    unsure = _classified(
        "aku kesal banget", [{"name": "complain", "confidence": 0.8}, {"name": "greet", "confidence": 0.1}]
    )
    sure = _classified("saya mau komplain", [{"name": "complain", "confidence": 0.97}])
    cheap = _classified("cicilan brp", [{"name": "ask_instalment", "confidence": 0.5}])
    GATE.process([unsure, sure, cheap])
    assert unsure.get(INTENT)["name"] == "nlu_fallback"
    assert [r["name"] for r in unsure.get(INTENT_RANKING_KEY)] == ["nlu_fallback", "complain", "greet"]
    assert sure.get(INTENT)["name"] == "complain" and cheap.get(INTENT)["name"] == "ask_instalment"


ABOUT_OTHERS = CertaintyGate({"complain": 0.85, "request_human": 0.85}, about_others=["complain", "request_human"])


@pytest.mark.parametrize(
    "text, intent, asked",
    [
        ("kurirnya galak banget, mau komplain", "complain", True),  # "kurir" + "nya"
        ("driver grab nya kasar, kecewa", "complain", True),
        ("tolong sambungin ke cs tokopedia", "request_human", True),
        ("debt collector pinjol neror keluarga saya", "complain", True),
        ("kurir dari kantor kalian tidak sopan", "complain", False),  # says it is ours
        ("bpkb dikirim jne tapi belum sampai, kecewa", "complain", False),
        ("bayar di indomaret tapi belum masuk, kecewa", "complain", False),  # a payment channel
        ("petugas kasar banget, mau komplain", "complain", False),  # names nobody else
        ("mobil saya hilang di parkiran mall", "report_vehicle_theft", False),  # not an about_others intent
    ],
)
def test_a_sure_complaint_or_request_about_another_company_is_asked_about_first(text, intent, asked):
    message = _classified(text, [{"name": intent, "confidence": 0.99}, {"name": "out_of_scope", "confidence": 0.01}])
    ABOUT_OTHERS.process([message])
    expected = ["nlu_fallback", intent, "out_of_scope"] if asked else [intent, "out_of_scope"]
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == expected
    assert message.get(INTENT)["name"] == expected[0]


NAMING_US = CertaintyGate({"complain": 0.85}, thresholds_naming_us={"complain": 0.45})


@pytest.mark.parametrize(
    "text, confidence, acted",
    [
        ("pelayanan di kantor cabang jelek banget", 0.49, True),  # "cabang" is ours
        ("saya mau lapor petugas kalian yg minta uang tambahan", 0.49, True),
        ("udah bayar kok masih ditelpon terus sama penagih, kesel", 0.49, False),  # says no "ours" word
        ("pelayanan di cabang jne lambat, kesel", 0.6, False),  # names another party too
        ("pelayanan di kantor cabang jelek banget", 0.4, False),  # below even the lower threshold
        ("saya mau komplain", 0.9, True),  # sure anyway
    ],
)
def test_a_complaint_naming_us_needs_less_certainty(text, confidence, acted):
    message = _classified(text, [{"name": "complain", "confidence": confidence}, {"name": "greet", "confidence": 0.01}])
    NAMING_US.process([message])
    assert message.get(INTENT)["name"] == ("complain" if acted else "nlu_fallback")


NAMING_SUBJECT = CertaintyGate({"report_vehicle_theft": 0.75}, thresholds_naming_subject={"report_vehicle_theft": 0.6})


@pytest.mark.parametrize(
    "text, confidence, acted",
    [
        ("mobilku kemalingan min, tolong", 0.63, True),  # "mobil" is its subject (a vehicle)
        ("kendaraan yang masih nyicil di sini dibawa kabur", 0.61, True),
        ("dompet saya hilang di pasar", 0.63, False),  # names nothing a theft report is about
        ("berita pencurian mobil di bekasi hari ini", 0.58, False),  # below even the lower threshold
        ("raib semua", 0.9, True),  # sure anyway (the subject rule is needs_subject's)
    ],
)
def test_a_case_report_naming_its_subject_needs_less_certainty(text, confidence, acted):
    message = _classified(
        text, [{"name": "report_vehicle_theft", "confidence": confidence}, {"name": "greet", "confidence": 0.01}]
    )
    NAMING_SUBJECT.process([message])
    assert message.get(INTENT)["name"] == ("report_vehicle_theft" if acted else "nlu_fallback")


UNRELATED_ABOUT_OTHERS = CertaintyGate(
    {},
    unrelated_about_others=["ask_instalment", "ask_late_fee", "ask_office_hours", "ask_payment_methods"],
    ways_to_pay_are_ours=["ask_payment_methods"],
)


@pytest.mark.parametrize(
    "text, intent, unrelated",
    [
        ("berapa tagihan kartu kredit saya bulan ini", "ask_instalment", True),
        ("iuran bpjs saya berapa", "ask_instalment", True),
        ("denda telat bayar kartu kredit berapa persen", "ask_late_fee", True),
        ("angsuran saya berapa, mau bayar pakai kartu kredit", "ask_instalment", False),  # "angsuran" is ours
        ("cicilan bulan ini berapa", "ask_instalment", False),  # names nobody else
        ("cicilan akulaku berapa", "ask_autodebit", False),  # not one of the intents
        ("bayar pdam lewat mana", "ask_payment_methods", True),
        ("bayar pbb lewat mana", "ask_payment_methods", True),
        ("bisa bayar di kantor pos?", "ask_payment_methods", False),  # a way to pay us, not accepted
        ("bayar cicilan bisa lewat tokopedia?", "ask_payment_methods", False),
        ("bayar listrik pakai gopay gimana", "ask_payment_methods", True),  # our channel, their bill
        ("byr cicilan pake kredivo bisa ga", "ask_payment_methods", False),  # "cicilan" names nobody else
        ("kapan jatuh tempo tagihan telepon saya", "ask_instalment", True),
        ("berapa denda pajak motor yang telat setahun", "ask_late_fee", True),
        ("kantor pos buka hari sabtu ga", "ask_office_hours", True),  # another office's hours
        ("jam buka samsat hari ini", "ask_office_hours", True),
        ("samsat tutup, cabang kalian buka jam berapa", "ask_office_hours", False),  # "cabang" is ours
        ("kantor buka jam berapa", "ask_office_hours", False),
    ],
)
def test_a_question_about_another_partys_bill_is_unrelated(text, intent, unrelated):
    message = _classified(text, [{"name": intent, "confidence": 0.97}, {"name": "out_of_scope", "confidence": 0.02}])
    UNRELATED_ABOUT_OTHERS.process([message])
    expected = ["out_of_scope", intent] if unrelated else [intent, "out_of_scope"]
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == expected
    assert message.get(INTENT)["name"] == expected[0]


PUT_THROUGH = CertaintyGate({"request_human": 0.75}, about_others=["request_human"], put_through="request_human")


@pytest.mark.parametrize(
    "text, first, through",
    [
        ("hubungkan ke agen dong", "out_of_scope", True),
        ("bisa dihubungkan ke atasan kamu?", "out_of_scope", True),
        ("alihkan ke customer service", "request_credit_takeover", True),
        ("hubungkan saya ke bagian layanan pelanggan", "request_human", True),
        ("min tolong sambungin ke cs ya", "request_human", True),
        # more than being put through: what DIET read stands
        ("oper kredit ke adik saya", "request_credit_takeover", False),
        ("sambungkan ke cs tokopedia", "request_human", False),
        ("hubungkan ke agen asuransi", "out_of_scope", False),
        ("transfer ke rekening bca", "ask_payment_methods", False),
        ("hubungkan saya dengan adik saya", "out_of_scope", False),
    ],
)
def test_a_message_only_asking_to_be_put_through_to_a_person_is_request_human(text, first, through):
    message = _classified(text, [{"name": first, "confidence": 0.4}, {"name": "greet", "confidence": 0.1}])
    PUT_THROUGH.process([message])
    if through:
        assert message.get(INTENT) == {"name": "request_human", "confidence": 1.0}
    else:
        assert message.get(INTENT)["name"] in (first, "nlu_fallback")  # DIET's reading, or held at 0.4


@pytest.mark.parametrize(
    "text, nothing",
    [
        ("?", True),
        ("...", True),
        ("!!! ??", True),
        ("hmm", True),
        ("Hmmm...", True),
        ("ehm", True),
        ("hahaha", True),
        ("wkwk", True),
        ("👍", False),
        ("ok", False),
        ("oh", False),
        ("p", False),
        ("hai", False),
        ("hah?", False),
        ("hmm oke", False),
    ],
)
def test_a_message_without_a_word_or_with_only_sounds_is_out_of_scope(text, nothing):
    assert wordless(text) is nothing
    message = _classified(text, [{"name": "affirm", "confidence": 0.9}])
    GATE.process([message])
    assert (message.get(INTENT)["name"] == "out_of_scope") is nothing


@pytest.mark.parametrize(
    "text, announced",
    [
        ("min mau nanya dong", True),
        ("boleh tanya?", True),
        ("permisi kak, saya mau bertanya", True),
        ("bisa bantu saya?", False),  # DIET's: "tolong dibantu ya kak" is also a yes to an offer
        ("tolong dibantu ya kak", False),
        ("mau konsultasi", True),
        ("mau nanya cicilan dong", False),  # the question is asked
        ("tanya bpkb", False),
        ("mau komplain", False),
        ("halo", True),  # a greeting alone
        ("admin", True),  # the answerer called ("admin" was unsure between greet and a person)
        ("permisi mas", True),
        ("gan?", True),
        ("admin tolong sambungkan ke petugas", False),
        ("ya pak", False),  # a yes to the bot's question, not a greeting
        ("punten", True),  # Sundanese: unsure before
        ("sugeng enjing min", True),  # Javanese: unsure before
        ("assalamualaikum wr wb", True),
        ("pagi kak", False),  # a time of day without a wish may answer "Kapan kejadiannya?"
        ("selamat ya kak", False),
    ],
)
def test_a_message_that_only_announces_a_question_is_a_greeting(text, announced):
    """DIET read "mau nanya dong" as an instalment question (0.59, verification started), "boleh
    tanya?" as a yes (0.95), "mau konsultasi" as unrelated (1.00); the training data calls them
    greetings, whose answer asks what the customer wants to know."""
    message = _classified(text, [{"name": "ask_instalment", "confidence": 0.59}, {"name": "greet", "confidence": 0.2}])
    GATE.process([message])
    assert (message.get(INTENT)["name"] == "greet") is announced


@pytest.mark.parametrize(
    "text, farewell",
    [
        ("sampai nanti min", True),  # unsure before
        ("ya udah min, makasih, sampai ketemu", True),  # unsure before
        ("cukup sekian, terima kasih", True),  # thanks alone before
        ("oke kak, makasih, bye", True),
        ("terimakasih, wassalam", True),
        ("makasih kak", False),  # thanks alone stays DIET's
        ("dah", False),  # also answers "Sudah transfer?"
        ("udah sampai", False),
        ("bpkb saya belum sampai", False),
        ("sampai besok saya datang ke kantor", False),
        ("selamat ya kak", False),
    ],
)
def test_a_message_that_only_says_goodbye_is_a_farewell(text, farewell):
    """DIET left "sampai nanti" unsure (the rephrase request) and read a farewell with thanks as
    thanks alone, so the chat was not closed."""
    message = _classified(text, [{"name": "thank", "confidence": 0.65}, {"name": "goodbye", "confidence": 0.3}])
    GATE.process([message])
    assert (message.get(INTENT)["name"] == "goodbye") is farewell


@pytest.mark.parametrize(
    "text, lost",
    [
        ("hah?", True),  # a greeting at 0.68 before
        ("hah gimana", True),  # unsure before
        ("maksudnya apa sih kak", True),
        ("kok jawabannya gitu sih", True),  # a complaint at 0.98 before: filed with an OJK due date
        ("jawabannya ga nyambung min", True),
        ("apa?", False),  # may start a question: DIET's
        ("hmm", False),  # thinking: a sound, no word (out_of_scope)
        ("hah, kok denda saya naik", False),  # a question asked
        ("jawaban pengaduan saya belum ada", False),  # a complaint about how a complaint is handled
        ("telponnya tidak nyambung", False),
    ],
)
def test_a_message_that_only_says_the_customer_did_not_follow_is_confused(text, lost):
    message = _classified(text, [{"name": "greet", "confidence": 0.68}, {"name": "confused", "confidence": 0.2}])
    GATE.process([message])
    assert (message.get(INTENT)["name"] == "confused") is lost


def test_the_fallback_asks_to_confirm_a_costly_guess_and_otherwise_to_rephrase(actions_environment):
    from actions.fallback import ActionFallback
    from tests.support.actions import responses, run, tracker

    def ask(ranking, sender):
        t = tracker(text="x", intent="nlu_fallback", sender=sender)
        t.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.9}, *ranking]
        return responses(run(ActionFallback(), t)[0])

    assert ask([{"name": "complain", "confidence": 0.7}], "c1") == ["utter_confirm_complain"]
    assert ask([{"name": "request_human", "confidence": 0.5}], "c2") == ["utter_confirm_request_human"]
    assert ask([{"name": "complain", "confidence": 0.2}], "c3") == ["utter_ask_rephrase"]
    # not a costly guess: the best guesses that are self-service topics become buttons
    assert ask([{"name": "ask_instalment", "confidence": 0.7}], "c4") == ["utter_suggest_topics"]
    assert ask([{"name": "out_of_scope", "confidence": 0.6}, {"name": "greet", "confidence": 0.3}], "c5") == [
        "utter_ask_rephrase"
    ]


@pytest.mark.parametrize(
    "ranking, offered",
    [
        # the two best guesses, in the classifier's order
        (
            [("ask_payment_methods", 0.38), ("ask_autodebit", 0.32), ("ask_instalment", 0.2)],
            ["/ask_payment_methods", "/ask_autodebit"],
        ),
        # a guess below the floor, or one that is no self-service topic, is not offered
        ([("ask_payoff", 0.45), ("ask_late_fee", 0.1)], ["/ask_payoff"]),
        ([("deny", 0.52), ("ask_office_hours", 0.3)], ["/ask_office_hours"]),
        ([("out_of_scope", 0.5), ("thank", 0.4)], []),
    ],
)
def test_an_unsure_message_offers_its_best_guessed_topics(ranking, offered):
    from actions.fallback import suggested_topics
    from tests.support.actions import tracker

    t = tracker(text="x", intent="nlu_fallback")
    t.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.4}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking
    ]
    buttons = suggested_topics(t)
    assert [b["payload"] for b in buttons] == offered
    assert all(b["title"] and not b["title"].startswith("/") for b in buttons)  # domain.yml's words


def test_the_confirming_buttons_pass_the_front_door():
    from channels.inbound import is_allowed_payload
    from crm.responses import render  # noqa: F401 - the responses exist (make validate checks the names)

    for payload in ("/complain", "/request_human", "/report_vehicle_theft", "/request_credit_takeover"):
        assert is_allowed_payload(payload)


def test_the_gate_in_config_covers_exactly_the_costly_intents():
    import yaml

    from crm import policy
    from crm.settings import PROJECT_ROOT

    pipeline = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())["pipeline"]
    gate = next(c for c in pipeline if c["name"] == "nlu_components.certainty.CertaintyGate")
    assert set(gate["thresholds"]) == set(policy.COSTLY_INTENTS)
    assert set(gate["about_others"]) <= set(policy.COSTLY_INTENTS)
    assert not set(gate["unrelated_about_others"]) & set(policy.COSTLY_INTENTS)  # those are asked about
    assert all(gate["thresholds_naming_us"][k] < gate["thresholds"][k] for k in gate["thresholds_naming_us"])
    lowered = gate["thresholds_naming_subject"]
    assert all(lowered[k] < gate["thresholds"][k] for k in lowered)
    assert set(lowered) <= set(gate["needs_subject"])  # its words are the subject lists
    names = [c["name"] for c in pipeline]
    assert names.index("FallbackClassifier") < names.index("nlu_components.certainty.CertaintyGate")
    assert names.index("nlu_components.certainty.CertaintyGate") < names.index(
        "nlu_components.cancellation.CancellationClassifier"
    )
