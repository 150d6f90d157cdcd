"""ServingDIETClassifier loads a trained DIET without Rasa's one training step and answers exactly
as the network training produced: the same intents, confidences and entities."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.models import RasaModel
from rasa.utils.train_utils import create_data_generators

from nlu_components import serving_diet
from nlu_components.serving_diet import ServingDIET, ServingDIETClassifier, StoredModelMismatch

EXAMPLES = {
    "ask_instalment": ["cicilan saya berapa", "angsuran bulan ini brp", "berapa cicilan mobil saya", "tagihan cicilan"],
    "ask_bpkb": ["bpkb kapan bisa diambil", "ambil bpkb dimana", "bpkb saya sudah jadi?", "pengambilan bpkb"],
    "greet": ["halo", "selamat pagi", "hai min", "pagi kak"],
}
CONTRACT = "1234567890"
UNSEEN = [
    "cicilan bulan depan berapa",
    "bpkb bisa diambil hari sabtu?",
    "halo selamat siang",
    "nomor 1234567890",
    "cuaca",
]


def _featurize(messages, tokenizer, vectors):
    tokenizer.process(messages)
    vectors.process(messages)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    vectors = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3},
        storage,
        Resource("vectors"),
        context,
    )
    messages = [Message(data={TEXT: text, INTENT: intent}) for intent, texts in EXAMPLES.items() for text in texts]
    contract = f"nomor kontrak saya {CONTRACT}"
    messages.append(
        Message(
            data={
                TEXT: contract,
                INTENT: "ask_instalment",
                ENTITIES: [
                    {"start": contract.index(CONTRACT), "end": len(contract), "value": CONTRACT, "entity": "contract"}
                ],
            }
        )
    )
    data = TrainingData(training_examples=messages)
    tokenizer.process_training_data(data)
    vectors.train(data)
    vectors.process_training_data(data)
    config = {  # a small network of the same kind: the test is about loading, not learning
        **ServingDIETClassifier.get_default_config(),
        "epochs": 2,
        "random_seed": 1,
        "number_of_transformer_layers": 1,
        "transformer_size": 32,
        "hidden_layers_sizes": {"text": [32], "label": []},
        "embedding_dimension": 8,
    }
    resource = Resource("diet")
    classifier = ServingDIETClassifier.create(config, storage, resource, context)
    classifier.train(data)  # persists
    return storage, resource, context, config, tokenizer, vectors, classifier


def _answers(classifier, tokenizer, vectors):
    messages = [Message(data={TEXT: text}) for text in UNSEEN]
    _featurize(messages, tokenizer, vectors)
    classifier.process(messages)
    return [(m.get(INTENT), m.get(INTENT_RANKING_KEY), m.get(ENTITIES)) for m in messages]


def test_answers_exactly_as_the_trained_model(trained):
    storage, resource, context, config, tokenizer, vectors, just_trained = trained
    served = ServingDIETClassifier.load(copy.deepcopy(config), storage, resource, context)
    ours = _answers(served, tokenizer, vectors)
    trained_answers = _answers(just_trained, tokenizer, vectors)  # the network training left in memory

    assert [intent["name"] for intent, _, _ in ours] == [intent["name"] for intent, _, _ in trained_answers]
    for (intent, ranking, entities), (their_intent, their_ranking, their_entities) in zip(
        ours, trained_answers, strict=True
    ):
        assert np.isclose(intent["confidence"], their_intent["confidence"], atol=1e-6)
        assert [r["name"] for r in ranking] == [r["name"] for r in their_ranking]
        assert np.allclose([r["confidence"] for r in ranking], [r["confidence"] for r in their_ranking], atol=1e-6)
        assert entities == their_entities
    assert served.model.optimizer is None  # nothing of training was built


def test_a_weight_the_prediction_needs_but_the_file_lacks_fails_loading(trained, tmp_path, monkeypatch):
    storage, resource, context, config, _, _, _ = trained
    # the network asks for a second transformer layer the stored model does not have
    original_load = ServingDIET.load.__func__

    def load_into_other_shape(cls, model_file_name, *args, **kwargs):
        kwargs["config"] = {**kwargs["config"], "number_of_transformer_layers": 2}
        return original_load(cls, model_file_name, *args, **kwargs)

    monkeypatch.setattr(ServingDIET, "load", classmethod(load_into_other_shape))
    with pytest.raises(
        StoredModelMismatch, match="does not fit the configured network.*not bound to checkpointed values"
    ):
        ServingDIETClassifier.load(copy.deepcopy(config), storage, resource, context)


def test_config_serves_this_diet():
    import yaml

    pipeline = yaml.safe_load(Path("config.yml").read_text())["pipeline"]
    names = [component["name"] for component in pipeline]
    assert "nlu_components.serving_diet.ServingDIETClassifier" in names and "DIETClassifier" not in names
    assert serving_diet.ServingDIETClassifier.model_class() is ServingDIET


def test_the_rasa_server_imports_tensorflow_without_jax():
    import importlib.util
    import subprocess
    import sys

    assert importlib.util.find_spec("jax") is not None  # installed: TensorFlow depends on it
    code = (
        "import sys; from crm.runtime.rasa_server import keep_jax_out; keep_jax_out(); "
        "import rasa.core.agent, tensorflow as tf; tf.lite.Interpreter; "
        "print(sorted(m for m, v in sys.modules.items() if m.split('.')[0] in ('jax', 'jaxlib') and v))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]"


def test_the_direct_graph_call_gives_rasas_outputs(trained):
    storage, resource, context, config, tokenizer, vectors, _ = trained
    served = ServingDIETClassifier.load(copy.deepcopy(config), storage, resource, context)
    assert served.model._direct  # set up by the first prediction at loading
    for text in UNSEEN:
        message = Message(data={TEXT: text})
        _featurize([message], tokenizer, vectors)
        model_data = served._create_model_data([message], training=False)
        batches, _ = create_data_generators(model_data=model_data, batch_sizes=1, epochs=1, shuffle=False)
        batch = next(iter(batches))[0]  # what run_inference hands to _rasa_predict
        direct = served.model._rasa_predict(batch)
        rasas = RasaModel._rasa_predict(served.model, batch)  # tf.function's own call
        assert direct.keys() == rasas.keys()
        for key in ("i_scores", "e_entity_ids", "e_entity_scores"):
            assert np.array_equal(direct[key], rasas[key]), key
        for key, value in rasas[DIAGNOSTIC_DATA].items():
            assert np.array_equal(direct[DIAGNOSTIC_DATA][key], value), key


def test_inputs_unlike_the_traced_graph_are_refused(trained):
    storage, resource, context, config, _, _, _ = trained
    served = ServingDIETClassifier.load(copy.deepcopy(config), storage, resource, context)
    with pytest.raises(ValueError, match="traced for"):
        served.model._direct([np.zeros((1, 1))])
