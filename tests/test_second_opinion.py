"""SecondOpinionClassifier: a meaning classifier that has a say only when DIET is unsure."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.normaliser import IndonesianNormaliser
from nlu_components.second_opinion import ALSO_ASKED, QUESTION, SecondOpinionClassifier, words_around_entities

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
NORMALISER = IndonesianNormaliser({})
EXAMPLES = {
    "ask_bpkb_pickup": [
        "kapan bpkb saya bisa diambil",
        "bpkb sudah bisa diambil belum",
        "cara ambil bpkb setelah lunas",
        "bpkb mobil saya kapan keluar",
        "mau ambil bpkb di cabang mana",
    ],
    "ask_office_hours": [
        "kantor buka jam berapa",
        "jam operasional cabang",
        "hari sabtu kantor buka tidak",
        "jam kerja kantor sampai jam berapa",
        "cabang tutup jam berapa",
    ],
    "out_of_scope": ["cuaca besok bagaimana", "putar lagu", "resep nasi goreng", "setel alarm jam 5", "berita"],
}


def _message(text: str, intent: str = "") -> Message:
    message = Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
    TOKENIZER.process([message])
    NORMALISER.process([message])
    return message


def _classified(text: str, ranking):
    message = _message(text)
    message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]})
    message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ranking])
    return message


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("second_opinion")
    context = ExecutionContext(GraphSchema({}), "test")
    config = SecondOpinionClassifier.get_default_config()
    component = SecondOpinionClassifier.create(config, storage, resource, context)
    data = TrainingData([_message(t, intent) for intent, texts in EXAMPLES.items() for t in texts])
    component.train(data)
    return SecondOpinionClassifier.load(config, storage, resource, context)


def test_an_unsure_diet_is_outvoted_by_the_meaning_of_the_words(trained):
    # no word of "surat kepemilikan kendaraan" is in the BPKB examples; DIET leans to office hours
    message = _classified(
        "surat kepemilikan kendaraan kapan bisa saya ambil",
        [("ask_office_hours", 0.45), ("ask_bpkb_pickup", 0.35), ("out_of_scope", 0.2)],
    )
    trained.process([message])
    assert message.get(INTENT)["name"] == "ask_bpkb_pickup"
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == message.get(INTENT)
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert trained.consulted == 1


def test_a_confident_diet_is_left_alone_and_nothing_is_embedded(trained, monkeypatch):
    before = trained.consulted
    monkeypatch.setattr(trained, "_embed", lambda texts: pytest.fail("embedded a confident answer"))
    message = _classified("kantor buka jam berapa", [("ask_office_hours", 0.95), ("ask_bpkb_pickup", 0.05)])
    trained.process([message])
    assert message.get(INTENT) == {"name": "ask_office_hours", "confidence": 0.95}
    assert trained.consulted == before


def test_the_question_around_a_contract_number_is_read_on_its_own(trained):
    """ "bpkb kapan bisa diambil, K10124000001 lahir 17-08-1985" is `inform` to DIET; the words
    around the entities say what is asked, for the dialogue to answer after verification."""
    text = "bpkb saya kapan bisa diambil, K10124000001 lahir 17-08-1985"
    message = _classified(text, [("inform", 0.99), ("ask_bpkb_pickup", 0.01)])
    start = text.index("K1")
    message.set(
        ENTITIES,
        [
            {"entity": "contract_number", "start": start, "end": start + 12, "value": "K10124000001"},
            {"entity": "date", "start": text.index("17-"), "end": len(text), "value": "17-08-1985"},
        ],
    )
    assert words_around_entities(message) == "bpkb saya kapan bisa diambil"
    trained.process([message])
    assert message.get(INTENT) == {"name": "inform", "confidence": 0.99}  # the answer stays an answer
    assert message.get(QUESTION)["name"] == "ask_bpkb_pickup" and message.get(QUESTION)["confidence"] > 0.5
    assert QUESTION in message.as_dict(only_output_properties=True)  # in the parse output
    # the credentials alone ask nothing; without a contract number nothing is read
    alone = _classified("K10124000001", [("inform", 0.99)])
    alone.set(ENTITIES, [{"entity": "contract_number", "start": 0, "end": 12, "value": "K10124000001"}])
    no_number = _classified("bpkb kapan bisa diambil 17-08-1985", [("inform", 0.99)])
    trained.process([alone, no_number])
    assert alone.get(QUESTION) is None and no_number.get(QUESTION) is None


def test_the_other_questions_of_a_message_are_read_clause_by_clause(trained):
    """ "kantor buka jam berapa? terus bpkb kapan bisa diambil?": DIET answers one question; the
    other clause's intent goes to the parse output for the dialogue to offer."""
    text = "kantor buka jam berapa? terus bpkb kapan bisa diambil?"
    message = _classified(text, [("ask_office_hours", 0.97), ("ask_bpkb_pickup", 0.03)])
    trained.process([message])
    assert message.get(INTENT) == {"name": "ask_office_hours", "confidence": 0.97}
    assert [a["name"] for a in message.get(ALSO_ASKED)] == ["ask_bpkb_pickup"]
    assert message.get(ALSO_ASKED)[0]["confidence"] >= 0.8
    assert ALSO_ASKED in message.as_dict(only_output_properties=True)
    # one question, a greeting before it, or the credentials after it: nothing more asked
    one = _classified("bpkb saya kapan bisa diambil ya kak", [("ask_bpkb_pickup", 0.99)])
    greeting = _classified("pagi kak, bpkb saya kapan bisa diambil", [("ask_bpkb_pickup", 0.99)])
    text = "bpkb saya kapan bisa diambil, no kontrak K10124000001"
    credentials = _classified(text, [("inform", 0.99)])
    credentials.set(ENTITIES, [{"entity": "contract_number", "start": text.index("K1"), "end": len(text)}])
    trained.process([one, greeting, credentials])
    assert one.get(ALSO_ASKED) is None and greeting.get(ALSO_ASKED) is None and credentials.get(ALSO_ASKED) is None


def test_what_else_is_asked_is_besides_what_the_message_is_read_as_in_the_end(trained):
    """DIET unsure of the second question's intent, the meaning classifier makes the message the
    first question's: the second is offered, not the first again."""
    text = "jam operasional cabang berapa? terus bpkb kapan bisa diambil?"
    message = _classified(text, [("ask_bpkb_pickup", 0.4), ("ask_office_hours", 0.35), ("out_of_scope", 0.25)])
    trained.process([message])
    read = message.get(INTENT)["name"]
    asked = [a["name"] for a in message.get(ALSO_ASKED) or []]
    assert read not in asked and set(asked) <= {"ask_bpkb_pickup", "ask_office_hours"} - {read}


def test_the_weights_are_stored_with_the_model(trained, tmp_path):
    opinion = trained.opinion(_message("jam buka kantor cabang"))
    assert max(opinion, key=opinion.get) == "ask_office_hours"
    assert set(opinion) == set(EXAMPLES) and sum(opinion.values()) == pytest.approx(1.0)


def test_without_trained_weights_diet_answers_alone(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("never_trained")
    context = ExecutionContext(GraphSchema({}), "test")
    component = SecondOpinionClassifier.load(SecondOpinionClassifier.get_default_config(), storage, resource, context)
    message = _classified("apa saja", [("ask_office_hours", 0.3), ("out_of_scope", 0.2)])
    component.process([message])
    assert message.get(INTENT)["name"] == "ask_office_hours"


def test_diet_weight_outside_zero_to_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match="diet_weight"):
        SecondOpinionClassifier({"diet_weight": 1.5}, LocalModelStorage(tmp_path), Resource("x"))


def test_a_sure_costly_intent_is_doubted_when_the_words_mean_something_unrelated(trained, monkeypatch):
    monkeypatch.setattr("nlu_components.second_opinion.COSTLY_INTENTS", frozenset({"ask_bpkb_pickup"}))
    unrelated = _classified("setel alarm jam 6 pagi", [("ask_bpkb_pickup", 0.97), ("out_of_scope", 0.03)])
    meant = _classified("bpkb saya kapan bisa diambil", [("ask_bpkb_pickup", 0.97), ("out_of_scope", 0.03)])
    trained.process([unrelated, meant])
    assert unrelated.get(INTENT)["name"] in ("ask_bpkb_pickup", "out_of_scope")
    assert unrelated.get(INTENT)["confidence"] < 0.8  # below any certainty threshold: the bot asks first
    assert meant.get(INTENT) == {"name": "ask_bpkb_pickup", "confidence": 0.97}  # agreed: untouched


def test_class_weight_other_than_balanced_is_refused(tmp_path):
    with pytest.raises(ValueError, match="class_weight"):
        SecondOpinionClassifier({"class_weight": "heavy"}, LocalModelStorage(tmp_path), Resource("x"))


def test_balanced_class_weights_keep_a_large_out_of_scope_class_from_outvoting_an_intent(tmp_path):
    """out_of_scope has several times the examples of any intent; weighted by class size, an
    intent's own wording keeps more of its probability than with every example counted once."""
    context = ExecutionContext(GraphSchema({}), "test")
    unrelated = [f"{a} {b}" for a in ("putar", "setel", "cari", "pesan", "buka") for b in ("lagu", "alarm", "resep")]
    data = TrainingData(
        [_message(t, "ask_office_hours") for t in EXAMPLES["ask_office_hours"][:3]]
        + [_message(t, "out_of_scope") for t in unrelated]
    )
    probability = {}
    for weight in (None, "balanced"):
        folder = tmp_path / str(weight)
        folder.mkdir()
        storage, resource = LocalModelStorage(folder), Resource(f"second_opinion_{weight}")
        config = {**SecondOpinionClassifier.get_default_config(), "C": 1.0, "class_weight": weight}
        SecondOpinionClassifier.create(config, storage, resource, context).train(data)
        component = SecondOpinionClassifier.load(config, storage, resource, context)
        opinion = component.opinion(_message("kantor cabang tutup jam berapa"))
        assert set(opinion) == {"ask_office_hours", "out_of_scope"} and sum(opinion.values()) == pytest.approx(1.0)
        probability[weight] = opinion["ask_office_hours"]
    assert probability["balanced"] > probability[None]
