"""ChatSpelling: an unknown word as the training word it stands for; real words stay themselves."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.normaliser import IndonesianNormaliser
from nlu_components.sentence_embeddings import text_for
from nlu_components.spelling import ChatSpelling, Vocabulary, is_indonesian_word

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
NORMALISER = IndonesianNormaliser({})
WORDS = {
    "cicilan": 40, "angsuran": 30, "pembayaran": 20, "saya": 90, "belum": 25, "masuk": 20, "tagihan": 15,
    "berapa": 60, "bulan": 30, "merebus": 1, "matur": 2, "bayar": 30, "bapak": 5,
}  # fmt: skip
VOCABULARY = Vocabulary(WORDS)


@pytest.mark.parametrize(
    "typed, standing",
    [
        ("cicilaaan", "cicilan"),  # letters stretched
        ("angsuranq", "angsuran"),  # "q" for "ku"
        ("cicilannya", "cicilan"),  # an enclitic on a known word
        ("pmbyrn", "pembayaran"),  # vowels left out
        ("tghn", "tagihan"),
        ("pembayraan", "pembayaran"),  # one letter swapped, wrong, missing or extra
        ("agsuran", "angsuran"),
        ("cicilna", "cicilan"),
        ("tagihann", "tagihan"),
        ("menebus", None),  # an Indonesian word (me + tebus), not "merebus" mistyped
        ("catur", None),  # nor "matur"
        ("bln", "bulan"),
        ("xyz", None),
        ("k10124000001", None),  # numbers are not words
    ],
)
def test_an_unknown_word_stands_for_a_training_word(typed, standing):
    assert VOCABULARY.standing_for(typed) == standing


def test_two_known_words_typed_as_one_are_split():
    assert VOCABULARY.split("cicilansaya") == ("cicilan", "saya")
    assert VOCABULARY.split("pembayaran") is None  # itself a word
    assert VOCABULARY.split("sayaxx") is None


def test_indonesian_words_are_roots_with_the_usual_affixes():
    for word in ("menebus", "pembayarannya", "keterlambatan", "dicicil", "kepotong", "pelunasan", "catur"):
        assert is_indonesian_word(word), word
    for word in ("pmbyrn", "cicilaaan", "angsrn", "tagihn", "cicilansaya"):
        assert not is_indonesian_word(word), word


def _message(text: str, intent: str = "") -> Message:
    message = Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
    TOKENIZER.process([message])
    NORMALISER.process([message])
    return message


@pytest.fixture()
def spelling(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("spelling")
    context = ExecutionContext(GraphSchema({}), "test")
    component = ChatSpelling.create({}, storage, resource, context)
    examples = [_message(text, "ask_instalment") for text in ("cicilan saya berapa", "pembayaran saya belum masuk")]
    component.train(TrainingData(examples))
    return ChatSpelling.load({}, storage, resource, context)


def test_the_vocabulary_is_learnt_from_training_examples_and_read_back(spelling):
    assert "pembayaran" in spelling.vocabulary and "cicilan" in spelling.vocabulary
    assert "tagihan" not in spelling.vocabulary


def test_at_prediction_the_word_features_read_the_training_words(spelling):
    text = "PMBYRN Saya blm masuk, cicilansaya brp K10124000001 B 1234 XYZ"
    message = _message(text)
    spelling.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.lemma for t in tokens][:7] == ["pembayaran", "saya", "belum", "masuk", "cicilan", "saya", "berapa"]
    assert text_for(message).startswith("pembayaran saya belum masuk cicilan saya berapa")
    assert [t.text for t in tokens][7:] == ["K10124000001", "B", "1234", "XYZ"]  # entities: as typed
    assert [t.text for t in tokens][:2] == ["pmbyrn", "saya"]  # lower case, as the training examples
    first, second = tokens[4:6]  # the split word's halves keep their place in the text
    assert (text[first.start : first.end], text[second.start : second.end]) == ("cicilan", "saya")
    assert message.get(TEXT) == text  # the text, for the entities and the gate, is untouched


def test_training_examples_are_left_as_they_are(spelling):
    example = _message("PMBYRN saya")
    spelling.process_training_data(TrainingData([example]))
    assert [t.text for t in example.get(TOKENS_NAMES[TEXT])] == ["PMBYRN", "saya"]


def test_without_a_vocabulary_only_the_case_changes(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("spelling")
    context = ExecutionContext(GraphSchema({}), "test")
    untrained = ChatSpelling.load({}, storage, resource, context)
    message = _message("PMBYRN saya")
    untrained.process([message])
    assert [t.lemma for t in message.get(TOKENS_NAMES[TEXT])] == ["pmbyrn", "saya"]
