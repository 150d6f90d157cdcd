"""PhoneNumberEntityGuard: no entity inside a phone number.

DIET tags entities token by token, and after a retraining on unrelated examples it has read
"0812 3456 7890" (a candidate's phone, itself a training example) as one or two dates. A phone
number is never a date, a city or a day of the month, so this component, after DIET, drops
every entity whose characters lie inside a phone number (`crm.privacy.PHONE`, the pattern the
log masking uses). The forms read phone numbers from the text, so nothing is lost.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, TEXT
from rasa.shared.nlu.training_data.message import Message

from crm.privacy import PHONE


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class PhoneNumberEntityGuard(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PhoneNumberEntityGuard:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if not entities:
                continue
            phones = [m.span() for m in PHONE.finditer(message.get(TEXT) or "")]
            if not phones:
                continue
            kept = [e for e in entities if not any(_inside(e, span) for span in phones)]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages


def _inside(entity: Dict[str, Any], span: tuple) -> bool:
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    return start is not None and end is not None and span[0] <= start and end <= span[1]
