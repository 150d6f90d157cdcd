"""Whether a message names what a complaint, a request for staff or a case report is about
(business/subjects.yml, which the CRM analysts edit).

"timnas kalah lagi, kecewa berat" reads to the NLU like a complaint: the feeling is there, but
nothing in it is about us. The certainty gate asks before acting on such a message
(nlu_components/certainty.py); business/third_parties.yml's `ours` count as a subject too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Tuple

from crm.business_files import BUSINESS, reread_when_saved
from crm.parsing import mentions, word_forms

SUBJECTS_FILE = BUSINESS / "subjects.yml"


class SubjectsFileError(ValueError):
    """business/subjects.yml is not as the assistant needs it; the message says where."""


@dataclass(frozen=True)
class Subjects:
    vehicles: Tuple[str, ...]
    intents: Mapping[str, Tuple[str, ...]]

    def named(self, intent: str, texts: Iterable[str], ours: Iterable[str] = ()) -> bool:
        """Whether one of `texts` (the message as typed, as normalised) names the intent's subject:
        one of its words, a vehicle or one of `ours`. An intent without a list needs none."""
        words = self.intents.get(intent)
        if words is None:
            return True
        every = (*words, *self.vehicles, *ours)
        return any(mentions(text, every) for text in texts)


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
    )


_read = reread_when_saved(_parse, SubjectsFileError)


def subjects(path: Path = SUBJECTS_FILE) -> Subjects:
    """The lists as the analysts last saved them (re-read when the file changes)."""
    return _read(path)
