"""IndonesianNormaliser: chat spellings and abbreviations to standard words, for the word features.

Customers write "sy udh tf angs bln ini, knp blm msk?". After the tokenizer, this component sets
each token's *lemma* to its standard form ("saya sudah transfer angsuran bulan ini, kenapa belum
masuk?") from `normalisation_id.tsv`. The word-level CountVectorsFeaturizer reads lemmas, so
"udh", "udah" and "sudah" become one feature; the token's *text* and offsets are untouched, so the
character n-gram featurizer (configured with `use_lemma: false`) and the entity extractor still
see exactly what the customer typed.

Protected words (brands, banks, car models, the company's terms, English words that look like
Indonesian slang) are never mapped, whatever the dictionary says.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

DEFAULT_DICTIONARY = Path(__file__).resolve().parent / "normalisation_id.tsv"

PROTECTED = frozenset(
    """
bca bri bni btn mandiri cimb niaga permata danamon ocbc maybank panin bsi bjb mega jenius
toyota daihatsu avanza xenia innova fortuner rush terios ayla agya sigra calya raize rocky yaris
veloz vios camry alphard hilux granmax gran max luxio sirion zenix
ojk bpkb stnk samsat ktp nik npwp kk tlo siap dana
the of in on at by is it to go so me my we us up or if be as an do no ok
""".split()
)


def load_dictionary(path: Path) -> Dict[str, str]:
    """informal -> standard pairs from a TSV file; comments (#) and blank lines are skipped."""
    mapping: Dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"{path}:{number}: expected 'informal<TAB>standard', got {line!r}")
        informal, standard = parts[0].strip().lower(), parts[1].strip().lower()
        if informal not in PROTECTED:
            mapping[informal] = standard
    return mapping


def normal_form(word: str, mapping: Dict[str, str]) -> Optional[str]:
    """The standard form of `word`, or None when it is standard, unknown or protected."""
    key = word.lower()
    if key in PROTECTED:
        return None
    return mapping.get(key)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class IndonesianNormaliser(GraphComponent):
    """Writes the standard spelling of Indonesian chat words into the tokens' lemmas."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # The dictionary's hash is part of the config, so Rasa's training cache notices an edited
        # dictionary (the config is what Rasa fingerprints) and `rasa train` does not skip it.
        return {
            "dictionary": None,  # None: the dictionary shipped next to this module
            "dictionary_sha256": hashlib.sha256(DEFAULT_DICTIONARY.read_bytes()).hexdigest(),
        }

    def __init__(self, config: Dict[str, Any]) -> None:
        path = Path(config.get("dictionary") or DEFAULT_DICTIONARY)
        self.mapping = load_dictionary(path)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IndonesianNormaliser:
        return cls(config)

    def _normalise(self, message: Message) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        changed = False
        for token in tokens:
            standard = normal_form(token.text, self.mapping)
            if standard is not None:
                token.lemma, changed = standard, True
        if changed:
            # set() again so the message's cached fingerprint is dropped: Rasa's training cache
            # keys every later component on it, and an edited dictionary must retrain them
            message.set(TOKENS_NAMES[TEXT], tokens)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalise(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalise(message)
        return messages
