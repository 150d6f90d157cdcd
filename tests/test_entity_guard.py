"""EntityGuard keeps the entities the domain can read and drops DIET's stray tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.message import Message

from nlu_components.entity_guard import EntityGuard

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def guard(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("entity_guard")
    context = ExecutionContext(GraphSchema({}), "test")
    data = RasaFileImporter(training_data_paths=[str(ROOT / "data" / "nlu")]).get_nlu_data()
    EntityGuard.create({}, storage, resource, context).train(data)
    return EntityGuard.load({}, storage, resource, context)


def tagged(text: str, *spans) -> Message:
    """A message as DIET might leave it: `spans` are (entity, written words) pairs."""
    entities = []
    for name, words in spans:
        start = text.index(words)
        entities.append({"entity": name, "value": words, "start": start, "end": start + len(words)})
    return Message(data={"text": text, "entities": entities})


def kept(guard, message: Message) -> list:
    return [(e["entity"], e["value"]) for e in guard.process([message])[0].get("entities")]


def test_values_the_data_or_the_readers_know_are_kept(guard):
    assert kept(guard, tagged("jam buka cabang sby", ("city", "sby"))) == [("city", "sby")]
    assert kept(guard, tagged("buka pas lebaran ga", ("date", "lebaran"))) == [("date", "lebaran")]
    assert kept(guard, tagged("kalau rabu depan bisa?", ("date", "rabu depan"))) == [("date", "rabu depan")]
    assert kept(guard, tagged("lahir 12-12-1991", ("date", "12-12-1991"))) == [("date", "12-12-1991")]
    assert kept(guard, tagged("ganti ke tgl 27", ("day_of_month", "27"))) == [("day_of_month", "27")]
    assert kept(guard, tagged("kontrak K20123000002", ("contract_number", "K20123000002"))) == [
        ("contract_number", "K20123000002")
    ]


def test_stray_tags_are_dropped(guard):
    assert kept(guard, tagged("saya anak kandung beliau", ("city", "kandung"))) == []
    assert kept(guard, tagged("bulan depan saja", ("date", "depan"))) == []
    assert kept(guard, tagged("ganti ke tgl 45", ("day_of_month", "45"))) == []
    assert kept(guard, tagged("kontrak saya hilang", ("contract_number", "hilang"))) == []


def test_a_day_is_read_with_the_word_before_it(guard):
    assert kept(guard, tagged("parkiran pasar minggu", ("date", "minggu"))) == []  # a place
    assert kept(guard, tagged("buka hari minggu?", ("date", "minggu"))) == [("date", "minggu")]
    assert kept(guard, tagged("minggu buka?", ("date", "minggu"))) == [("date", "minggu")]


def test_nothing_inside_a_phone_number(guard):
    message = tagged("nomor hp saya 0812 3456 7890 besok", ("date", "7890"), ("date", "besok"))
    assert kept(guard, message) == [("date", "besok")]


def test_a_date_tagged_in_part_is_the_whole_date_written(guard):
    """ "5 [maret] 1990": the day the customer wrote, once, not the month alone; a date that is
    whole already, or one beside a phone number, stays as it is."""
    assert kept(guard, tagged("5 maret 1990", ("date", "maret"))) == [("date", "5 maret 1990")]
    twice = tagged("K20123000002 5 maret 1990", ("date", "5"), ("date", "1990"))
    assert kept(guard, twice) == [("date", "5 maret 1990")]
    assert kept(guard, tagged("kalau rabu depan bisa?", ("date", "rabu depan"))) == [("date", "rabu depan")]
    assert kept(guard, tagged("besok jam 10", ("date", "besok"))) == [("date", "besok")]


def test_entities_without_a_rule_pass(guard):
    assert kept(guard, tagged("5", ("csat_score", "5"))) == [("csat_score", "5")]


def test_an_untrained_guard_keeps_everything(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    untrained = EntityGuard.load({}, storage, Resource("nothing"), context)
    assert kept(untrained, tagged("anak kandung", ("city", "kandung"))) == [("city", "kandung")]
