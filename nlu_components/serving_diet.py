"""ServingDIETClassifier: Rasa's DIET, loaded for answering without a training step.

Rasa's `RasaModel.load` builds the network by training one step on an example before restoring
the weights: that traces the whole training graph (loss, gradients, optimizer slots) and keeps
about 430 MB per process that answering never uses (one process: 1,087 MB after loading, 659 MB
loaded this way; each Rasa worker loads its own copy). Here the stored weights are restored into
the variables as the first prediction creates them, and loading fails if any variable the
prediction created did not get its stored value. Training, finetuning and predictions are Rasa's
own (the same intents, confidences and entities as the network training left in memory:
tests/test_serving_diet.py).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional, Sequence, Type

import numpy as np
from keras.utils import tf_utils
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)


class StoredModelMismatch(RuntimeError):
    """Not a ValueError: Rasa's DIETClassifier.load turns a ValueError into "no model" and serves
    without intents."""


def direct_call(traced: Any) -> Optional[Callable[[Sequence[np.ndarray]], Dict[str, Any]]]:
    """A call of `traced` (a tf.function with an input signature) that goes straight to its one
    graph: the arrays become tensors of the signature's types and run the concrete function.
    tf.function's own call first checks and casts every input against the signature in Python,
    which took about a third of DIET's prediction (2-2.5 ms of 7 ms a message). None when this
    TensorFlow lacks the concrete function's flat call (then Rasa's call is used)."""
    import tensorflow as tf

    specs = tf.nest.flatten(traced.input_signature)
    concrete = traced.get_concrete_function(*traced.input_signature)
    if not hasattr(concrete, "_call_flat"):
        logger.warning("TensorFlow %s has no ConcreteFunction._call_flat: DIET is called the usual way", tf.__version__)
        return None

    def call(batch: Sequence[np.ndarray]) -> Dict[str, Any]:
        arrays = tf.nest.flatten(batch)
        if len(arrays) != len(specs):
            raise ValueError(f"DIET was traced for {len(specs)} inputs, got {len(arrays)}")
        tensors = [tf.constant(array, dtype=spec.dtype) for array, spec in zip(arrays, specs, strict=True)]
        return concrete._call_flat(tensors, concrete.captured_inputs)

    return call


class ServingDIET(DIET):
    # the direct call once Rasa has traced the graph; False when this TensorFlow has none
    _direct: Any = None

    def _rasa_predict(self, batch_in: Any) -> Dict[str, Any]:
        """Rasa's prediction; once Rasa has traced the graph, called through `direct_call`."""
        if not self._direct or self._run_eagerly:
            outputs = super()._rasa_predict(batch_in)
            if self._direct is None and self._tf_predict_step is not None and not self._run_eagerly:
                self._direct = direct_call(self._tf_predict_step) or False
            return outputs
        outputs = tf_utils.sync_to_numpy_or_python_type(self._direct(batch_in))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    @classmethod
    def load(
        cls,
        model_file_name: str,
        model_data_example: RasaModelData,
        predict_data_example: Optional[RasaModelData] = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        if finetune_mode or predict_data_example is None:
            # finetuning trains on: it needs the optimizer Rasa builds
            return super().load(
                model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        restoring = model.load_weights(model_file_name)  # restored as the variables are created
        model.run_inference(predict_data_example)
        try:
            restoring.assert_existing_objects_matched()
        except AssertionError as unmatched:
            raise StoredModelMismatch(
                f"{model_file_name} does not fit the configured network (retrain: make train): "
                f"{str(unmatched).split(':')[0]}"
            ) from None
        restoring.expect_partial()  # the optimizer's stored slots are left unread on purpose
        if not model.trainable_weights:
            raise StoredModelMismatch(f"{model_file_name}: the prediction created no weights to restore")
        return model


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class ServingDIETClassifier(DIETClassifier):
    @staticmethod
    def model_class() -> Type[RasaModel]:
        return ServingDIET
