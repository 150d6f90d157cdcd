"""CourtesyTrimmer: the classifiers read the question, not the greetings and thanks around it.

"Selamat pagi, Bapak/Ibu. Saya ingin menanyakan jumlah angsuran saya bulan ini. Terima kasih." was
unsure between an instalment question, thanks and a greeting (0.38), and went to the fallback;
without the opening and closing sentences it is an instalment question at 0.99. At prediction
time this component keeps only the tokens between the opening greetings and the closing thanks
(`crm.parsing.without_courtesies`); the text itself is untouched, so the certainty gate's rules
and the dialogue still see everything the customer wrote. Training examples are left as they are:
DIET keeps learning from greetings ("halo min, mau tanya") what it always learnt. Figures:
docs/NLU.md ("Greetings and thanks around a question").
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from crm.parsing import without_courtesies


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class CourtesyTrimmer(GraphComponent):
    """Drops the tokens of a message's opening greetings and closing thanks before featurizing."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CourtesyTrimmer:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            span = without_courtesies(message.get(TEXT) or "")
            if span is None:
                continue
            start, end = span
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            kept = [token for token in tokens if token.start >= start and token.end <= end]
            if kept:
                message.set(TOKENS_NAMES[TEXT], kept)
        return messages
