"""AnswerWordGuard: "oi" is not a yes.

`affirm` and `deny` answer whatever question is open: a yes confirms a complaint, a due-date
change, a request for staff. DIET reads a short message by its character n-grams, so a word it
has never seen can land on them surely ("oi" was `affirm` at 0.96, by the letters of "yoi";
"woy" at 0.78). This component learns the words of each guarded intent's training examples and
turns the intent into `nlu_fallback`, the candidate kept first in the ranking, when the message
uses none of them. A letter repeated counts once ("iyaaa", "okee", "sipp"), and the normaliser's
standard form of a word counts too ("gk" is "tidak"), so trainers extend what counts as a yes or
a no by adding examples, not code.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components import word_sets
from nlu_components.ranking import FALLBACK, put_first

logger = logging.getLogger(__name__)

WORDS_FILE = "answer_words.json"
_REPEATS = re.compile(r"(.)\1+")


def plain(word: str) -> str:
    """Lower case, a letter repeated counted once: "Iyaaa" -> "iya", "nggak" -> "ngak"."""
    return _REPEATS.sub(r"\1", word.lower())


def words_of(message: Message) -> FrozenSet[str]:
    """The message's words as typed and as the normaliser reads them."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    found = set()
    for token in tokens:
        for word in (token.text, token.lemma):
            if word:
                found.add(plain(word))
    return frozenset(found)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class AnswerWordGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"intents": []}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        words: Optional[Mapping[str, Iterable[str]]] = None,
    ) -> None:
        self.intents = [str(name) for name in config.get("intents") or []]
        self._storage, self._resource = model_storage, resource
        self.words: Dict[str, FrozenSet[str]] = {k: frozenset(v) for k, v in (words or {}).items()}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerWordGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        words: Dict[str, set] = {name: set() for name in self.intents}
        for message in training_data.intent_examples:
            name = message.get(INTENT)
            if name in words:
                words[name] |= words_of(message)
        for name, found in words.items():
            if not found:
                raise ValueError(f"AnswerWordGuard: intent {name!r} has no training examples (config.yml)")
        self.words = {name: frozenset(found) for name, found in words.items()}
        word_sets.store(self._storage, self._resource, WORDS_FILE, self.words)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> AnswerWordGuard:
        words = word_sets.stored(model_storage, resource, WORDS_FILE)
        if words is None:
            logger.warning("AnswerWordGuard: no trained words; answers are kept as the classifier read them")
        return cls(config, model_storage, resource, words)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name = str(intent.get(INTENT_NAME_KEY))
            known = self.words.get(name)
            if known is None or words_of(message) & known:
                continue
            put_first(message, FALLBACK, float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
        return messages
