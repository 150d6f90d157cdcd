"""PhoneNumberEntityGuard: entities inside a phone number are dropped, others kept."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_components.phone_entities import PhoneNumberEntityGuard

GUARD = PhoneNumberEntityGuard()


def entity(name: str, text: str, part: str) -> dict:
    start = text.index(part)
    return {"entity": name, "value": part, "start": start, "end": start + len(part), "extractor": "DIETClassifier"}


def guarded(text: str, *entities: dict) -> list:
    message = Message(data={TEXT: text, ENTITIES: list(entities)})
    GUARD.process([message])
    return [e["value"] for e in message.get(ENTITIES)]


def test_a_date_read_inside_a_phone_number_is_dropped():
    text = "0812 3456 7890"
    assert guarded(text, entity("date", text, "7890"), entity("date", text, "0812 3456")) == []


def test_entities_outside_the_phone_number_stay():
    text = "nomornya +62 811-2233-4455, kejadiannya kemarin di bekasi"
    kept = guarded(text, entity("date", text, "4455"), entity("date", text, "kemarin"), entity("city", text, "bekasi"))
    assert kept == ["kemarin", "bekasi"]


def test_without_a_phone_number_nothing_changes():
    text = "tanggal 05-03-1990, kontrak K10124000001"
    assert guarded(text, entity("date", text, "05-03-1990")) == ["05-03-1990"]
