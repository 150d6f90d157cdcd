"""EntityGuard: DIET's entities only when the rules of the domain can read them.

DIET tags entities token by token, and each retraining moves its tags: after examples were
added to unrelated intents it read "kandung" as a city, "depan" alone as a date and "7890" of a
phone number as a date (docs/NLU.md, "Entities that the rules can read"). The actions read
days, contracts, plates and branches from the text themselves, so a wrong tag helps nobody;
it only changes what the tracker records. After DIET and the synonym mapper this component
keeps an entity when

- it is not inside a phone number (`crm.privacy.PHONE`), and
- its value is one the training data gave that entity (an annotated value, a lookup-table
  entry or a synonym), or the domain's reader understands it: a day (`crm.when.read_when`,
  or a date of birth), a day of the month from 1 to 31, a contract number or a plate, and
- a day is still a day read with the word before it ("pasar minggu" is a place).

A date tagged in part ("5 [maret] 1990") is widened to the whole date written around it.

A city that is in no lookup table is dropped: the branch search reads the text anyway.
Entities the guard has no rule for (button payloads such as csat_score) pass unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from crm.clock import local_today
from crm.parsing import normalise_contract_number, normalise_plate
from crm.privacy import PHONE
from crm.when import parse_date_of_birth, parse_day_of_month, read_when, written_date_span
from nlu_components import word_sets

KNOWN_FILE = "known_values.json"


def _a_day(value: str) -> bool:
    today = local_today()
    return read_when(value, today=today).understood or parse_date_of_birth(value, today=today) is not None


def _a_day_of_month(value: str) -> bool:
    day = parse_day_of_month(value)
    return day is not None and 1 <= day <= 31


READERS: Dict[str, Callable[[str], bool]] = {
    "date": _a_day,
    "day_of_month": _a_day_of_month,
    "contract_number": lambda value: normalise_contract_number(value) is not None,
    "plate_number": lambda value: normalise_plate(value) is not None,
    "city": lambda value: False,  # only the values the training data names
}


def _key(value: Any) -> str:
    return " ".join(str(value).lower().split())


def known_values(training_data: TrainingData) -> Dict[str, Set[str]]:
    """Per entity, every value the training data gives it: annotations, lookups, synonyms."""
    known: Dict[str, Set[str]] = {}
    for message in training_data.entity_examples:
        text = message.get(TEXT) or ""
        for entity in message.get(ENTITIES) or []:
            values = known.setdefault(entity[ENTITY_ATTRIBUTE_TYPE], set())
            values.add(_key(entity.get(ENTITY_ATTRIBUTE_VALUE)))
            start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
            if start is not None and end is not None:
                values.add(_key(text[start:end]))
    for table in training_data.lookup_tables:
        known.setdefault(table["name"], set()).update(_key(element) for element in table["elements"])
    for values in known.values():
        for written, meant in training_data.entity_synonyms.items():
            if _key(meant) in values or _key(written) in values:
                values.update({_key(written), _key(meant)})
    return known


def _whole_date(entity: Dict[str, Any], text: str, phones: List[Tuple[int, int]]) -> Dict[str, Any]:
    """A date tagged in part ("5 [maret] 1990") as the whole date written around it, so the
    tracker records the day the customer wrote (crm.when.written_date_span); not into a phone."""
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    if entity.get(ENTITY_ATTRIBUTE_TYPE) != "date" or start is None or end is None:
        return entity
    low, high = written_date_span(text, start, end, today=local_today())
    if (low, high) == (start, end) or any(low < p_end and high > p_start for p_start, p_end in phones):
        return entity
    return {**entity, ENTITY_ATTRIBUTE_START: low, ENTITY_ATTRIBUTE_END: high, ENTITY_ATTRIBUTE_VALUE: text[low:high]}


def _same_span(one: Dict[str, Any], other: Dict[str, Any]) -> bool:
    keys = (ENTITY_ATTRIBUTE_TYPE, ENTITY_ATTRIBUTE_START, ENTITY_ATTRIBUTE_END)
    return all(one.get(k) == other.get(k) for k in keys)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class EntityGuard(GraphComponent):
    def __init__(
        self, model_storage: ModelStorage, resource: Resource, known: Optional[Dict[str, Set[str]]] = None
    ) -> None:
        self._storage, self._resource = model_storage, resource
        self.known = known  # None: not trained, every entity passes

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityGuard:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.known = known_values(training_data)
        word_sets.store(self._storage, self._resource, KNOWN_FILE, self.known)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EntityGuard:
        known = word_sets.stored(model_storage, resource, KNOWN_FILE)
        if known is None:
            return cls(model_storage, resource)
        _a_day("besok")  # load the date reader's language data now, not mid-chat
        return cls(model_storage, resource, known)

    def readable(self, entity: Dict[str, Any], text: str, phones: List[Tuple[int, int]]) -> bool:
        """Whether the entity is one the domain can read (see the module's docstring).

        `phones`: the spans of the phone numbers in `text`, found once per message.
        """
        start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
        if start is not None and end is not None and any(low <= start and end <= high for low, high in phones):
            return False
        name = str(entity.get(ENTITY_ATTRIBUTE_TYPE))
        reader = READERS.get(name)
        if reader is None:
            return True
        value = _key(entity.get(ENTITY_ATTRIBUTE_VALUE))
        written = _key(text[start:end]) if start is not None and end is not None else value
        reads = reader(written)
        if name == "date" and start and reads:
            # read with the word before it: "minggu" of "pasar minggu" is a place
            before = text[:start].split()[-1:]
            if before and not reader(_key(f"{before[0]} {written}")):
                return False
        known = (self.known or {}).get(name, set())
        return reads or value in known or written in known

    def process(self, messages: List[Message]) -> List[Message]:
        if self.known is None:
            return messages
        for message in messages:
            entities = message.get(ENTITIES) or []
            if not entities:
                continue
            text = message.get(TEXT) or ""
            phones = [m.span() for m in PHONE.finditer(text)]
            kept = [_whole_date(e, text, phones) for e in entities if self.readable(e, text, phones)]
            kept = [e for i, e in enumerate(kept) if not any(_same_span(e, other) for other in kept[:i])]
            if kept != entities:
                message.set(ENTITIES, kept, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
