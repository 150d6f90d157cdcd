"""Overruling the classifiers: the components after them (certainty gate, answer words,
cancellation) put one intent first and keep the others ranked below it, so the NLU inbox and the
confirming question still see what the classifiers thought."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

FALLBACK = "nlu_fallback"


def put_first(message: Message, name: str, confidence: float) -> None:
    """`name` becomes the message's intent, at `confidence`, ahead of the rest of the ranking."""
    top = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
    rest = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *rest], add_to_output=True)
