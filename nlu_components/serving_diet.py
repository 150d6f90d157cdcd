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

from typing import Any, Optional, Type

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


class StoredModelMismatch(RuntimeError):
    """Not a ValueError: Rasa's DIETClassifier.load turns a ValueError into "no model" and serves
    without intents."""


class ServingDIET(DIET):
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
