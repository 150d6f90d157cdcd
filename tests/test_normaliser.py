"""The Indonesian normaliser: lemmas get the standard word, text and offsets stay as typed,
brands, banks and English words are never mapped, and the dictionary file is checked."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.normaliser import DEFAULT_DICTIONARY, IndonesianNormaliser, load_dictionary, normal_form

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
NORMALISER = IndonesianNormaliser({})


def tokens_of(text: str):
    message = Message(data={TEXT: text})
    TOKENIZER.process([message])
    NORMALISER.process([message])
    return message.get(TOKENS_NAMES[TEXT])


def test_chat_words_get_their_standard_form_as_lemma():
    tokens = tokens_of("min sy udh tf angs bln ini knp blm msk")
    assert [t.lemma for t in tokens] == [
        "admin",
        "saya",
        "sudah",
        "transfer",
        "angsuran",
        "bulan",
        "ini",
        "kenapa",
        "belum",
        "masuk",
    ]


def test_text_and_offsets_stay_as_typed():
    text = "Gmn cara bayar cicilan yg telat?"
    tokens = tokens_of(text)
    assert [t.text for t in tokens] == ["Gmn", "cara", "bayar", "cicilan", "yg", "telat"]
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert tokens[0].lemma == "bagaimana" and tokens[4].lemma == "yang" and tokens[5].lemma == "terlambat"


@pytest.mark.parametrize(
    "word",
    ["BCA", "bri", "Mandiri", "Toyota", "Avanza", "BPKB", "STNK", "OJK", "in", "it", "by", "go", "so", "ok", "kk"],
)
def test_brands_banks_domain_terms_and_english_are_never_mapped(word):
    assert normal_form(word, NORMALISER.mapping) is None
    assert tokens_of(f"autodebit {word} saya")[1].lemma == word


def test_the_shipped_dictionary_is_well_formed_and_reviewed():
    mapping = load_dictionary(DEFAULT_DICTIONARY)
    assert len(mapping) > 200
    assert mapping["tf"] == "transfer"  # not IndoCollex's "tensorflow"
    assert "bang" not in mapping and "bb" not in mapping and "cs" not in mapping
    assert all(k == k.lower() and v == v.lower() for k, v in mapping.items())


def test_a_bad_dictionary_line_says_where(tmp_path):
    bad = tmp_path / "d.tsv"
    bad.write_text("# ok\nudh\tsudah\nrusak tanpa tab\n")
    with pytest.raises(ValueError, match=r"d.tsv:3: expected"):
        load_dictionary(bad)


def test_training_data_is_normalised_too():
    message = Message(data={TEXT: "sy mau tanya", "intent": "greet"})
    TOKENIZER.process_training_data(TrainingData([message]))
    NORMALISER.process_training_data(TrainingData([message]))
    assert message.get(TOKENS_NAMES[TEXT])[0].lemma == "saya"


def test_the_dictionary_hash_is_in_the_config_so_an_edit_retrains():
    import hashlib

    config = IndonesianNormaliser.get_default_config()
    assert config["dictionary_sha256"] == hashlib.sha256(DEFAULT_DICTIONARY.read_bytes()).hexdigest()


def test_the_featurizers_after_it_see_an_edited_dictionary(tmp_path):
    """Rasa's training cache keys DIET and the featurizers on the messages' fingerprints.

    Rasa caches a message's fingerprint; lemmas changed in place once left it stale, and a
    retraining after a dictionary edit restored the featurizers trained with the old one.
    """
    edited = tmp_path / "edited.tsv"
    edited.write_text(DEFAULT_DICTIONARY.read_text(encoding="utf-8") + "tanya\tbertanya\n", encoding="utf-8")
    fingerprints = []
    for normaliser in (NORMALISER, IndonesianNormaliser({"dictionary": str(edited)})):
        data = TrainingData([Message(data={TEXT: "sy mau tanya", "intent": "greet"})])
        TOKENIZER.process_training_data(data)
        data.fingerprint()  # as Rasa's fingerprint run does before the normaliser runs
        fingerprints.append(normaliser.process_training_data(data).fingerprint())
    assert fingerprints[0] != fingerprints[1]
