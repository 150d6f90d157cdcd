"""Whether a message names what a complaint, a request for staff or a case report is about
(business/subjects.yml, which the CRM analysts edit).

"timnas kalah lagi, kecewa berat" reads to the NLU like a complaint: the feeling is there, but
nothing in it is about us. The certainty gate asks before acting on such a message
(nlu_components/certainty.py); business/third_parties.yml's `ours` count as a subject too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Tuple

from crm.business_files import BUSINESS, reread_when_saved
from crm.parsing import mentions, mentions_loosely, word_forms

SUBJECTS_FILE = BUSINESS / "subjects.yml"


class SubjectsFileError(ValueError):
    """business/subjects.yml is not as the assistant needs it; the message says where."""


# to whom a complaint is made: "komplain ke bengkel ...", "kirim keluhan ke netflix tentang ...",
# "protes ke wasit": the (up to three) words after "ke", before what the complaint is about
_ADDRESSED = re.compile(
    r"\b(?:komplain\w*|komplen\w*|complain\w*|keluh\w*|mengeluh\w*|ngeluh\w*|mengadu\w*|adukan|"
    r"protes\w*|lapor\w*|melapor\w*)(?:\s+(?:saya|aku|sy|gue|gw|ini|itu|langsung|resmi|aja|saja|dong|nih|deh|juga))?"
    r"\s+(?:ke|kepada|pada|sama|untuk|buat)\s+([\w\s]+)",
    re.IGNORECASE,
)
_ABOUT = frozenset(
    "soal tentang mengenai terkait karena krn gara atas kalau kalo yang yg dan tapi biar supaya agar padahal "
    "sebab soalnya".split()
)


def addressees(text: str) -> Tuple[str, ...]:
    """Who each complaint in `text` is made to ("komplain ke bengkel langganan servisnya ..." is
    "bengkel langganan servisnya"): up to three words after "ke", before "soal", "karena" …"""
    found = []
    for match in _ADDRESSED.finditer(text or ""):
        words: list = []
        for word in match.group(1).lower().split():
            if word in _ABOUT or len(words) == 3:
                break
            words.append(word)
        if words:
            found.append(" ".join(words))
    return tuple(found)


@dataclass(frozen=True)
class Subjects:
    vehicles: Tuple[str, ...]
    intents: Mapping[str, Tuple[str, ...]]
    addressed_to_us: Tuple[str, ...] = ()

    def addressed_elsewhere(self, texts: Iterable[str], ours: Iterable[str] = ()) -> bool:
        """A complaint made to someone the message does not tie to us ("protes ke wasit", "keluhan
        ke netflix"): to whom names none of `addressed_to_us`, the complaint's or the request for
        staff's words, a vehicle or one of `ours`, and the message names none of `ours` elsewhere."""
        texts, ours = tuple(texts), tuple(ours)
        if any(mentions(text, ours) for text in texts):
            return False
        known = (
            *self.addressed_to_us,
            *self.intents.get("complain", ()),
            *self.intents.get("request_human", ()),
            *self.vehicles,
        )
        return any(not mentions(whom, known) for text in texts for whom in addressees(text))

    def named(self, intent: str, texts: Iterable[str], ours: Iterable[str] = ()) -> bool:
        """Whether one of `texts` (the message as typed, as normalised) names the intent's subject:
        one of its words, a vehicle or one of `ours`, also as typed in a hurry ("cicilaaan",
        "angsrn": `mentions_loosely`). An intent without a list needs none."""
        words = self.intents.get(intent)
        if words is None:
            return True
        every = (*words, *self.vehicles, *ours)
        return any(mentions_loosely(text, every) for text in texts)


def _words(raw: Any, where: str, path: Path) -> Tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(word, str) and word.strip() for word in raw):
        raise SubjectsFileError(f"{path.name}: '{where}' must be a list of words")
    return word_forms(raw)


def _parse(path: Path, data: Dict[str, Any]) -> Subjects:
    intents = data.get("intents")
    if not isinstance(intents, dict) or not intents:
        raise SubjectsFileError(f"{path.name}: 'intents' must name intents, each with a list of words")
    return Subjects(
        _words(data.get("vehicles"), "vehicles", path),
        {str(intent): _words(words, f"intents: {intent}", path) for intent, words in intents.items()},
        _words(data["addressed_to_us"], "addressed_to_us", path) if "addressed_to_us" in data else (),
    )


_read = reread_when_saved(_parse, SubjectsFileError)


def subjects(path: Path = SUBJECTS_FILE) -> Subjects:
    """The lists as the analysts last saved them (re-read when the file changes)."""
    return _read(path)
