"""Whether a message is about someone else: another company, service or person that customers
also complain about or ask for (business/third_parties.yml, which the CRM analysts edit).

A complaint about a courier or a request for a marketplace's staff, said on our chat, reads to
the NLU like one about us; the certainty gate asks before acting on those
(nlu_components/certainty.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional, Tuple

from crm.business_files import BUSINESS, reread_when_saved
from crm.parsing import mentions, word_forms

if TYPE_CHECKING:
    from crm.services.payments import Channels

THIRD_PARTIES_FILE = BUSINESS / "third_parties.yml"


class ThirdPartiesFileError(ValueError):
    """business/third_parties.yml is not as the assistant needs it; the message says where."""


@dataclass(frozen=True)
class ThirdParties:
    others: Tuple[str, ...]
    ours: Tuple[str, ...]

    def about_others(self, text: str) -> bool:
        """The text names another party and nothing that points at us."""
        return mentions(text, self.others) and not mentions(text, self.ours)

    def about_us(self, texts: Iterable[str]) -> bool:
        """One of the texts (a message as typed, as normalised) names us, and none names another
        party: the mirror of `about_others`."""
        texts = tuple(texts)
        return any(mentions(text, self.ours) for text in texts) and not any(
            mentions(text, self.others) for text in texts
        )


def about_someone_else(parties: ThirdParties, text: str, ways_to_pay: Optional[Channels] = None) -> bool:
    """The text names another party and nothing of ours; with `ways_to_pay`, a way to pay that we
    do not accept named ("bisa bayar di kantor pos?", "pakai kredivo bisa?") makes it a question
    about paying us, while a channel named with another party's bill stays theirs ("bayar listrik
    pakai gopay", "bayar pdam lewat mana")."""
    if not parties.about_others(text):
        return False
    return ways_to_pay is None or ways_to_pay.refused_in(text) is None


def _words(data: dict, key: str, path: Path) -> Tuple[str, ...]:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw or not all(isinstance(word, str) and word.strip() for word in raw):
        raise ThirdPartiesFileError(f"{path.name}: '{key}' must be a list of words")
    return word_forms(raw)  # as `mentions` reads text: "j&t" is "j t", "kurir" also "kurirnya"


def _parse(path: Path, data: Dict[str, Any]) -> ThirdParties:
    others, ours = _words(data, "others", path), _words(data, "ours", path)
    both = sorted(set(others) & set(ours))
    if both:
        raise ThirdPartiesFileError(f"{path.name}: in both 'others' and 'ours': {', '.join(both)}")
    return ThirdParties(others, ours)


_read = reread_when_saved(_parse, ThirdPartiesFileError)


def third_parties(path: Path = THIRD_PARTIES_FILE) -> ThirdParties:
    """The lists as the analysts last saved them (re-read when the file changes)."""
    return _read(path)
