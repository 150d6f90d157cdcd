"""CourtesyTrimmer: the classifiers read the question, not the greetings and thanks around it, nor
the "min" and "kak" that call whoever answers.

"Selamat pagi, Bapak/Ibu. Saya ingin menanyakan jumlah angsuran saya bulan ini. Terima kasih." was
unsure between an instalment question, thanks and a greeting (0.38), and went to the fallback;
without the opening and closing sentences it is an instalment question at 0.99. At prediction
time this component keeps only the tokens between the opening greetings and the closing thanks
(`crm.parsing.without_courtesies`), less the short words that only call the answerer
(`crm.parsing.VOCATIVES`: "min", "kak", "gan"; the training data has them mostly around our
own topics, so "min cara menanam tomat di pot ya min" was a question about how to pay). The
text itself is untouched, so the certainty gate's rules and the dialogue still see everything
the customer wrote. Training examples are left as they are: DIET keeps learning from greetings
("halo min, mau tanya") what it always learnt. Figures: docs/NLU.md ("Words typed in a hurry,
and the courtesies around a question").
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

from crm.parsing import VOCATIVES, without_courtesies


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class CourtesyTrimmer(GraphComponent):
    """Drops the tokens of a message's opening greetings, closing thanks and vocatives before featurizing."""

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
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            span = without_courtesies(message.get(TEXT) or "")
            if span is not None:
                kept = [token for token in tokens if token.start >= span[0] and token.end <= span[1]]
                tokens = kept or tokens
            uncalled = [token for token in tokens if token.text.lower() not in VOCATIVES]
            if len(uncalled) >= 2:  # "iya min" stays whole
                tokens = uncalled
            message.set(TOKENS_NAMES[TEXT], tokens)
        return messages
