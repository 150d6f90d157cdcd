"""CancellationClassifier: "ga jadi deh, mau diskusi sm istri dulu" is `deny`, whatever the model says.

A customer who stops what is under way ("batal aja", "hmm ga jadi dulu deh, makasih", "skip
dulu") often adds a reason or a thank-you, which pulls the statistical classifier towards
`thank`, `inform` or `nlu_fallback`; so does a plain no with thanks ("tidak, terima kasih", read
as `thank` at 0.94), which declines whatever was asked. This component runs after the
FallbackClassifier and, when `crm.parsing.is_cancellation` recognises the message, makes `deny`
the intent with full confidence, so forms, follow-up questions and verification all end the same
way.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from crm.parsing import is_cancellation
from nlu_components.ranking import put_first

DENY = "deny"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CancellationClassifier(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CancellationClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not is_cancellation(message.get(TEXT) or ""):
                continue
            put_first(message, DENY, 1.0)
        return messages
