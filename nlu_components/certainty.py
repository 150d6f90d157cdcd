"""CertaintyGate: costly intents need certainty; a message without a word means nothing.

Runs after the FallbackClassifier. Its rules:
- an intent that files a complaint, escalates to staff or starts a case form (`thresholds`,
  tuned on held-out data, docs/NLU.md) below its own threshold becomes `nlu_fallback`, with the
  candidate kept first in the ranking: `action_fallback` then asks one confirming question with
  buttons ("Apakah Bapak/Ibu ingin menyampaikan keluhan?") instead of acting on a guess;
- so does one of `about_others` (a complaint, a request for staff) whose message names another
  company or person and nothing of ours (business/third_parties.yml: "kurirnya galak banget,
  mau komplain"), or makes the complaint to someone nothing ties to us ("protes ke wasit",
  business/subjects.yml `addressed_to_us`), however sure the classifier is: the words say
  nothing about us;
- and one of `needs_subject` whose message names nothing it could be about: none of the
  intent's words in business/subjects.yml, no vehicle, nothing of ours ("timnas kalah lagi,
  kecewa berat" is no complaint to file, "ini bot ya?" no request for staff);
- one of `unrelated_about_others` (a question about one's own account) that names another
  party and nothing of ours is `out_of_scope` ("berapa tagihan kartu kredit saya", "iuran bpjs
  berapa"): it asks about someone else's bill, and verifying the customer for it helps no one;
  for one of `ways_to_pay_are_ours` a way to pay that we do not accept (business/
  payment_channels.yml: "bisa bayar di kantor pos?") is ours, to be told so: "bayar pdam lewat
  mana" and "bayar listrik pakai gopay" are unrelated;
- a message with no letter or digit ("?", "...", "!!!"), or only sounds ("hmm", "haha"), is
  `out_of_scope`: it asks nothing;
- a message that only announces a question ("min mau nanya dong", "boleh tanya?"), only
  calls whoever answers ("admin", "gan", "permisi mas") or only greets ("punten", "sugeng
  enjing min") is `greet`, as the training data's examples of them are: it asks nothing yet,
  and DIET read such words as an instalment question (0.59), a yes (0.95), unrelated (1.00) or
  unsure;
- a message that only says goodbye, thanks and an okay around it ("sampai nanti", "ya udah
  min, makasih, sampai ketemu", "cukup sekian, terima kasih") is `goodbye`: DIET left
  "sampai nanti" unsure and read a farewell with thanks as thanks alone;
- a message that only says the customer did not follow ("hah?", "hah gimana") is `confused`:
  DIET read "hah?" as a greeting and left "hah gimana" unsure;
- a message that only asks to be put through to a person (`put_through`: one of that intent's
  people in business/subjects.yml, "hubungkan ke agen dong", "bisa dihubungkan ke atasan kamu?")
  is that intent: DIET read such requests as unrelated (0.91-1.00) or left them unsure;
- one of `thresholds_naming_us` whose message names us in so many words (`ours` in
  business/third_parties.yml: "cabang", "kalian", "leasing") and no other party needs only that
  lower threshold: "pelayanan di kantor cabang jelek banget" is a complaint about us at 0.49;
- so does one of `thresholds_naming_subject` (a case report) whose message names what it is
  about (business/subjects.yml: the car, its parts, the credit): "mobilku kemalingan min" is a
  theft report at 0.63, "ada baret di pintu, asuransi bisa cover?" a claim at 0.72.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Generic, Iterable, List, Optional, Type, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from crm.parsing import (
    announces_a_question,
    asks_to_be_put_through,
    bids_farewell,
    only_greets,
    puzzled,
    wordless,
)
from crm.services.payments import Channels, ChannelsFileError, payment_channels
from crm.subjects import Subjects, SubjectsFileError, subjects
from crm.third_parties import ThirdParties, ThirdPartiesFileError, about_someone_else, third_parties
from nlu_components.ranking import FALLBACK, put_first
from nlu_components.sentence_embeddings import text_for

logger = logging.getLogger(__name__)
T = TypeVar("T")

UNRELATED = "out_of_scope"
GREETING = "greet"
FAREWELL = "goodbye"
PUZZLED = "confused"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CertaintyGate(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "thresholds": {},
            "about_others": [],
            "unrelated_about_others": [],
            "needs_subject": [],
            "thresholds_naming_us": {},
            "thresholds_naming_subject": {},
            "ways_to_pay_are_ours": [],
            "put_through": None,
        }

    def __init__(
        self,
        thresholds: Dict[str, float],
        about_others: Iterable[str] = (),
        unrelated_about_others: Iterable[str] = (),
        needs_subject: Iterable[str] = (),
        thresholds_naming_us: Optional[Dict[str, float]] = None,
        thresholds_naming_subject: Optional[Dict[str, float]] = None,
        ways_to_pay_are_ours: Iterable[str] = (),
        put_through: Optional[str] = None,
    ) -> None:
        self.thresholds = {str(k): float(v) for k, v in (thresholds or {}).items()}
        self.thresholds_naming_us = {str(k): float(v) for k, v in (thresholds_naming_us or {}).items()}
        self.thresholds_naming_subject = {str(k): float(v) for k, v in (thresholds_naming_subject or {}).items()}
        self.about_others = frozenset(str(name) for name in about_others or ())
        self.unrelated_about_others = frozenset(str(name) for name in unrelated_about_others or ())
        self.needs_subject = frozenset(str(name) for name in needs_subject or ())
        self.ways_to_pay_are_ours = frozenset(str(name) for name in ways_to_pay_are_ours or ())
        self.put_through = str(put_through) if put_through else None
        reads_subjects = self.needs_subject or self.thresholds_naming_subject or self.put_through
        reads = self.about_others or self.unrelated_about_others or self.thresholds_naming_us or reads_subjects
        self._others: _LastRead[ThirdParties] = _LastRead(lambda: third_parties(), ThirdPartiesFileError, bool(reads))
        self._subjects: _LastRead[Subjects] = _LastRead(lambda: subjects(), SubjectsFileError, bool(reads_subjects))
        self._channels: _LastRead[Channels] = _LastRead(
            lambda: payment_channels(), ChannelsFileError, bool(self.ways_to_pay_are_ours)
        )

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CertaintyGate:
        return cls(
            config.get("thresholds") or {},
            config.get("about_others") or (),
            config.get("unrelated_about_others") or (),
            config.get("needs_subject") or (),
            config.get("thresholds_naming_us") or {},
            config.get("thresholds_naming_subject") or {},
            config.get("ways_to_pay_are_ours") or (),
            config.get("put_through"),
        )

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name, confidence = intent.get(INTENT_NAME_KEY), float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            text = message.get(TEXT) or ""
            if wordless(text) or self._about_someone_elses_bill(str(name), text):
                put_first(message, UNRELATED, 1.0)
                continue
            if announces_a_question(text) or only_greets(text):  # "min mau nanya dong", "admin": the greeting's
                put_first(message, GREETING, 1.0)
                continue
            if bids_farewell(text):  # "sampai nanti", "cukup sekian, terima kasih"
                put_first(message, FAREWELL, 1.0)
                continue
            if puzzled(text):  # "hah?", "hah gimana"
                put_first(message, PUZZLED, 1.0)
                continue
            if self._asks_to_be_put_through(text):  # "hubungkan ke agen dong"
                put_first(message, str(self.put_through), 1.0)
                continue
            threshold = self._threshold(str(name), confidence, message)
            unsure = threshold is not None and confidence < threshold
            held = (
                unsure
                or (str(name) in self.about_others and (self._names_others(text) or self._made_elsewhere(message)))
                or (str(name) in self.needs_subject and not self._names_subject(str(name), message))
            )
            if not held:
                continue
            put_first(message, FALLBACK, threshold if unsure and threshold is not None else confidence)
        return messages

    def _about_someone_elses_bill(self, intent: str, text: str) -> bool:
        """An account question that names another party and nothing of ours ("iuran bpjs berapa",
        "bayar pdam lewat mana"); for `ways_to_pay_are_ours` a way to pay that we do not accept
        ("bisa bayar di kantor pos?") is ours."""
        parties = self._parties()
        if intent not in self.unrelated_about_others or parties is None:
            return False
        return about_someone_else(parties, text, self._channels.get() if intent in self.ways_to_pay_are_ours else None)

    def _threshold(self, intent: str, confidence: float, message: Message) -> Optional[float]:
        """The certainty `intent` needs here: lower when the message names us in so many words
        ("pelayanan di kantor cabang jelek banget") or, for a case report, what it is about ("ada
        baret di pintu, asuransi bisa cover?")."""
        threshold = self.thresholds.get(intent)
        if threshold is None or confidence >= threshold:
            return threshold
        lower = self.thresholds_naming_us.get(intent)
        if lower is not None and lower <= confidence and self._names_us(message):
            return lower
        lower = self.thresholds_naming_subject.get(intent)
        if lower is not None and lower <= confidence and self._names_subject(intent, message):
            return lower
        return threshold

    def _names_subject(self, intent: str, message: Message) -> bool:
        """The message as typed or as normalised ("dc" in either) names what `intent` is about."""
        parties, lists = self._parties(), self._subject_lists()
        if lists is None or parties is None:
            return True
        return lists.named(intent, (message.get(TEXT) or "", text_for(message)), parties.ours)

    def _made_elsewhere(self, message: Message) -> bool:
        """A complaint made to someone the message does not tie to us ("protes ke wasit", "keluhan
        ke netflix tentang tagihan ganda"): business/subjects.yml's `addressed_to_us` and lists."""
        parties, lists = self._parties(), self._subject_lists()
        if lists is None or parties is None:
            return False
        return lists.addressed_elsewhere((message.get(TEXT) or "", text_for(message)), parties.ours)

    def _asks_to_be_put_through(self, text: str) -> bool:
        """Put through to one of the people `put_through`'s subject words name, nothing else said."""
        lists = self._subject_lists() if self.put_through else None
        return lists is not None and asks_to_be_put_through(text, lists.intents.get(str(self.put_through), ()))

    def _subject_lists(self) -> Optional[Subjects]:
        return self._subjects.get()

    def _names_us(self, message: Message) -> bool:
        """The message as typed or as normalised names us ("cabang", "kalian") and no other party."""
        parties = self._parties()
        return parties is not None and parties.about_us((message.get(TEXT) or "", text_for(message)))

    def _names_others(self, text: str) -> bool:
        parties = self._parties()
        return parties is not None and parties.about_others(text)

    def _parties(self) -> Optional[ThirdParties]:
        return self._others.get()


class _LastRead(Generic[T]):
    """An analysts' file the gate reads (`wanted`), read again whenever saved; a version saved
    half-edited while serving keeps the one last read (a broken file fails at load)."""

    def __init__(self, read: Callable[[], T], error: Type[ValueError], wanted: bool) -> None:
        self._read, self._error = read, error
        self._value: Optional[T] = read() if wanted else None

    def get(self) -> Optional[T]:
        if self._value is None:
            return None
        try:
            self._value = self._read()
        except self._error as problem:
            logger.warning("Keeping the lists last read: %s", problem)
        return self._value
