"""AnswerWordGuard: a yes or a no needs a word that the yes or no examples use ("oi" is not a yes)."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from crm.settings import PROJECT_ROOT
from crm.training_data import load_examples, nlu_examples
from nlu_components.answer_words import AnswerWordGuard, plain
from nlu_components.normaliser import IndonesianNormaliser

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
NORMALISER = IndonesianNormaliser({})
CONFIG = {"intents": ["affirm", "deny"]}
CONTEXT = ExecutionContext(GraphSchema({}), "test")


def _message(text: str, intent: str = "") -> Message:
    message = Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
    TOKENIZER.process([message])
    NORMALISER.process([message])
    return message


def _read_as(text: str, intent: str, confidence: float = 0.96) -> Message:
    message = _message(text)
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.02}])
    return message


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    return LocalModelStorage(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def guard(storage):
    """Trained on the project's own training data, as `make train` does."""
    resource = Resource("answer_words")
    examples = [_message(text, intent) for intent, text, _ in nlu_examples(PROJECT_ROOT / "data")]
    AnswerWordGuard.create(CONFIG, storage, resource, CONTEXT).train(TrainingData(examples))
    return AnswerWordGuard.load(CONFIG, storage, resource, CONTEXT)


@pytest.mark.parametrize("text", ["oi", "woy", "a", "hmm", "lol", "asdf"])
def test_a_word_no_answer_uses_is_not_a_yes_and_the_guess_is_kept_for_the_inbox(guard, text):
    message = guard.process([_read_as(text, "affirm")])[0]
    assert message.get(INTENT)["name"] == "nlu_fallback"
    ranking = [r["name"] for r in message.get(INTENT_RANKING_KEY)]
    assert ranking[:3] == ["nlu_fallback", "affirm", "greet"]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("iyaaa", "affirm"),  # a letter repeated counts once
        ("okee kak", "affirm"),
        ("sipp", "affirm"),
        ("Betull", "affirm"),
        ("gk", "deny"),  # the normaliser reads "tidak"
        ("nggak deh", "deny"),
    ],
)
def test_yes_and_no_as_customers_type_them_stay(guard, text, intent):
    assert guard.process([_read_as(text, intent)])[0].get(INTENT)["name"] == intent


def test_other_intents_are_not_its_business(guard):
    message = guard.process([_read_as("oi", "greet")])[0]
    assert message.get(INTENT)["name"] == "greet"


def test_every_held_out_yes_and_no_passes(guard):
    """A trainer who writes a held-out answer with a word no example has sees it fail here."""
    for name in ("heldout.yml", "fresh.yml"):
        for text, intent in load_examples(PROJECT_ROOT / "tests" / "nlu" / name):
            if intent in CONFIG["intents"]:
                message = guard.process([_read_as(text, intent)])[0]
                assert message.get(INTENT)["name"] == intent, f"{name}: {text!r}"


def test_without_trained_words_answers_are_kept(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("never_trained")
    untrained = AnswerWordGuard.load(CONFIG, storage, resource, CONTEXT)
    assert untrained.process([_read_as("oi", "affirm")])[0].get(INTENT)["name"] == "affirm"


def test_a_guarded_intent_without_examples_is_refused(tmp_path):
    component = AnswerWordGuard.create(
        {"intents": ["affirm", "afirm"]}, LocalModelStorage(tmp_path), Resource("x"), CONTEXT
    )
    with pytest.raises(ValueError, match="afirm"):
        component.train(TrainingData([_message("iya", "affirm")]))


def test_plain_counts_a_repeated_letter_once():
    assert plain("IYAAA") == plain("iya") and plain("nggak") == plain("ngak")
