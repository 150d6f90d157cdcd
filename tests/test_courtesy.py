"""CourtesyTrimmer: at prediction the featurizers get the question's tokens, not the greetings
and thanks around it; training examples and the message's text are left as they are."""

from __future__ import annotations

from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.courtesy import CourtesyTrimmer
from nlu_components.normaliser import IndonesianNormaliser
from nlu_components.sentence_embeddings import text_for

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
NORMALISER = IndonesianNormaliser({})
TRIMMER = CourtesyTrimmer()


def _read(text: str) -> Message:
    message = Message(data={TEXT: text})
    TOKENIZER.process([message])
    NORMALISER.process([message])
    return message


def test_the_question_is_what_the_featurizers_read():
    text = "Selamat pagi, Bapak/Ibu. Sy mau tanya angsuran sy bln ini brp? Terima kasih."
    message = _read(text)
    TRIMMER.process([message])
    assert [t.text for t in message.get(TOKENS_NAMES[TEXT])] == [
        "Sy",
        "mau",
        "tanya",
        "angsuran",
        "sy",
        "bln",
        "ini",
        "brp",
    ]
    assert text_for(message) == "saya mau tanya angsuran saya bulan ini berapa"  # still normalised
    assert message.get(TEXT) == text  # the gate and the dialogue see everything written
    token = message.get(TOKENS_NAMES[TEXT])[3]
    assert text[token.start : token.end] == "angsuran"  # offsets into the text, for entities


def test_a_message_without_courtesies_or_of_courtesies_only_is_left_whole():
    for text in ("cicilan saya berapa", "halo, selamat pagi", "terima kasih banyak, membantu banget"):
        message = _read(text)
        before = [t.text for t in message.get(TOKENS_NAMES[TEXT])]
        TRIMMER.process([message])
        assert [t.text for t in message.get(TOKENS_NAMES[TEXT])] == before


def test_training_examples_keep_their_greetings():
    example = _read("halo min, cicilan saya berapa ya? makasih")
    before = [t.text for t in example.get(TOKENS_NAMES[TEXT])]
    TRIMMER.process_training_data(TrainingData([example]))
    assert [t.text for t in example.get(TOKENS_NAMES[TEXT])] == before


def test_the_words_that_only_call_the_answerer_are_left_out():
    message = _read("min cara menanam tomat di pot ya min")
    TRIMMER.process([message])
    assert [t.text for t in message.get(TOKENS_NAMES[TEXT])] == ["cara", "menanam", "tomat", "di", "pot", "ya"]
    for text, kept in (("iya min", ["iya", "min"]), ("kakak saya meninggal", ["kakak", "saya", "meninggal"])):
        message = _read(text)  # too little left to drop it; "kakak" is someone
        TRIMMER.process([message])
        assert [t.text for t in message.get(TOKENS_NAMES[TEXT])] == kept
