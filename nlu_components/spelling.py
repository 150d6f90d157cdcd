"""ChatSpelling: a word typed in a hurry is read as the training word it stands for.

DIET's word features know the training examples' words only. Customers write "PEMBAYARAN SAYA
BELUM MASUK", "pmbyrn", "pembayraan", "cicilaaan", "cicilansaya": each an unknown word to DIET,
whose answer then rests on character n-grams alone (held-out messages written so: 6-18 % fewer
right, docs/NLU.md, "Words typed in a hurry"). At prediction, after the normaliser, this component:
- lower-cases every word of four letters or more (the training examples are written in lower
  case; a contract number and a plate's letters keep theirs, for the entities);
- gives an unknown word the lemma of the training word it stands for: letters stretched
  ("cicilaaan"), an enclitic ("angsuranq", "cicilannya" when only "cicilan" is known), vowels
  left out ("pmbyrn"), or one letter wrong, missing, extra or swapped ("pembayraan", five letters
  at least); the most frequent training word when several fit;
- splits two known words typed as one ("cicilansaya") into two tokens.
What the customer typed stays the token's text and the message's text: the character n-grams, the
entities and the certainty gate's rules still read it. Training examples are left as they are;
the component learns only their vocabulary.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from crm.parsing import ENCLITICS, drops_only_vowels, skeleton, unstretched

VOCABULARY_FILE = "vocabulary.json"
_WORD = re.compile(r"[a-z]+")

# a root with an affix or two ("menebus": me + tebus) is a word, not a typo: Sastrawi's list of
# Indonesian roots (inside its PyPI wheel), read with the usual prefixes and suffixes
_SUFFIXES = ("", "nya", "lah", "kah", "ku", "mu", "kan", "an", "i", "kannya", "annya", "inya", "kanlah")
_PREFIXES = (
    ("", ""),
    ("di", ""),
    ("ke", ""),
    ("se", ""),
    ("ter", ""),
    ("ber", ""),
    ("be", ""),
    ("per", ""),
    ("pe", ""),
    ("me", ""),
    ("mem", ""),
    ("mem", "p"),
    ("men", ""),
    ("men", "t"),
    ("meng", ""),
    ("meng", "k"),
    ("meny", "s"),
    ("pem", ""),
    ("pem", "p"),
    ("pen", ""),
    ("pen", "t"),
    ("peng", ""),
    ("peng", "k"),
    ("peny", "s"),
    ("diper", ""),
    ("memper", ""),
    ("keber", ""),
    ("keter", ""),
)


@lru_cache(maxsize=1)
def _roots() -> frozenset:
    """The root list inside the Sastrawi wheel, read as a file (its stemmer is not needed)."""
    listed = resources.files("Sastrawi.Stemmer").joinpath("data").joinpath("kata-dasar.txt").read_text(encoding="utf-8")
    return frozenset(word.strip().lower() for word in listed.splitlines() if word.strip())


def is_indonesian_word(word: str) -> bool:
    """`word` is an Indonesian root, or one with the usual affixes ("menebus", "pembayarannya")."""
    roots = _roots()
    for suffix in _SUFFIXES:
        if suffix and not word.endswith(suffix):
            continue
        stem = word[: len(word) - len(suffix)] if suffix else word
        for prefix, initial in _PREFIXES:
            if stem.startswith(prefix) and len(stem) - len(prefix) >= 2 and initial + stem[len(prefix) :] in roots:
                return True
    return False


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter wrong, missing, extra, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _deletions(word: str) -> List[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


class Vocabulary:
    """The training examples' words and how often each occurs; what an unknown word stands for."""

    def __init__(self, counts: Dict[str, int]) -> None:
        self.counts = dict(counts)
        self._by_deletion: Dict[str, List[str]] = {}
        self._by_skeleton: Dict[str, List[str]] = {}
        for word in self.counts:
            if len(word) >= 4:
                for variant in {word, *_deletions(word)}:
                    self._by_deletion.setdefault(variant, []).append(word)
            if len(skeleton(word)) >= 3:
                self._by_skeleton.setdefault(skeleton(word), []).append(word)

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def _likeliest(self, words) -> Optional[str]:
        found = [word for word in words if word in self.counts]
        return max(found, key=lambda word: (self.counts[word], word)) if found else None

    def standing_for(self, word: str) -> Optional[str]:
        """The training word `word` (lower case, unknown) stands for, or None. A known word with an
        enclitic is that word ("cicilannya"); any other Indonesian word stands for itself
        ("menebus" is not "merebus" mistyped, "catur" not "matur")."""
        if len(word) < 3 or not _WORD.fullmatch(word):
            return None
        bases = [
            word[: -len(suffix)]
            for suffix in (*ENCLITICS, "q")
            if word.endswith(suffix) and len(word) - len(suffix) >= 3
        ]
        found = self._likeliest([*(base + "ku" for base in bases if word.endswith("q")), *bases])
        if found or is_indonesian_word(word):
            return found
        found = self._likeliest({re.sub(r"(\w)\1{2,}", r"\1\1", word), unstretched(word)} - {word})
        if found:
            return found
        found = self._likeliest(
            known
            for known in self._by_skeleton.get(skeleton(word), ())
            if len(word) < len(known) and drops_only_vowels(word, known)
        )
        if found or len(word) < 5:
            return found
        near = {known for variant in {word, *_deletions(word)} for known in self._by_deletion.get(variant, ())}
        return self._likeliest(known for known in near if _one_edit_apart(word, known))

    def split(self, word: str) -> Optional[Tuple[str, str]]:
        """Two training words typed as one ("cicilansaya"), each of three letters at least."""
        if len(word) < 6 or not _WORD.fullmatch(word) or is_indonesian_word(word):
            return None
        splits = [(word[:i], word[i:]) for i in range(3, len(word) - 2) if word[:i] in self and word[i:] in self]
        return max(splits, key=lambda pair: min(self.counts[pair[0]], self.counts[pair[1]])) if splits else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class ChatSpelling(GraphComponent):
    """Reads unknown words as the training words they stand for, at prediction time."""

    def __init__(
        self, model_storage: ModelStorage, resource: Resource, vocabulary: Optional[Vocabulary] = None
    ) -> None:
        self._storage, self._resource = model_storage, resource
        self.vocabulary = vocabulary

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChatSpelling:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        counts: Counter = Counter()
        for message in training_data.training_examples:
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                counts.update({token.text.lower(), (token.lemma or token.text).lower()})
        with self._storage.write_to(self._resource) as folder:
            (folder / VOCABULARY_FILE).write_text(json.dumps(dict(sorted(counts.items())), ensure_ascii=False))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ChatSpelling:
        try:
            with model_storage.read_from(resource) as folder:
                counts = json.loads((folder / VOCABULARY_FILE).read_text())
        except (ValueError, FileNotFoundError):
            return cls(model_storage, resource)
        _roots()  # read the roots now, not mid-chat
        return cls(model_storage, resource, Vocabulary(counts))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            if tokens:
                message.set(TOKENS_NAMES[TEXT], self._spelt(tokens))
        return messages

    def _spelt(self, tokens: List[Token]) -> List[Token]:
        spelt: List[Token] = []
        vocabulary = self.vocabulary
        for token in tokens:
            text, lemma = token.text.lower(), (token.lemma or token.text).lower()
            if not token.text.isalpha():
                spelt.append(token)  # a contract number, a plate's digits: as typed, for the entities
                continue
            if len(text) >= 4:  # a plate's "B" and "XYZ" keep their capitals, for the entities
                token.text = text
            token.lemma = lemma
            if vocabulary is None or text in vocabulary or lemma in vocabulary:
                spelt.append(token)
                continue
            standing = vocabulary.standing_for(lemma)
            if standing:
                token.lemma = standing
                spelt.append(token)
                continue
            halves = vocabulary.split(lemma) if lemma == text else None
            if halves is None:
                spelt.append(token)
                continue
            first, second = halves
            cut = token.start + len(first)
            spelt += [Token(first, token.start, cut, lemma=first), Token(second, cut, token.end, lemma=second)]
        return spelt
