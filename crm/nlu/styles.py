"""`make nlu-styles`: the held-out messages written the ways customers type, read again.

The held-out sets measure wordings, hardly how people type: capitals, stretched letters, vowels
left out, a typo, words run together, a greeting and thanks around the question, "min" around
it. Each held-out message the model reads right (in scope) or sends to the fallback (unrelated)
is rewritten in each style and read again; the share still right is printed per style
(docs/NLU.md, "Words typed in a hurry"). Not gated: a trainer's figure to watch, and the way to
measure a change to the normaliser or the spelling component.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from crm.nlu.evaluate import UNRELATED, _predict_sets, right
from crm.settings import PROJECT_ROOT
from crm.training_data import load_examples

_VOWELS = set("aeiou")
Style = Callable[[str, random.Random], Optional[str]]


def _longest(text: str, at_least: int = 1) -> Optional[Tuple[List[str], int]]:
    """The message's words and where its longest word is, when that has `at_least` letters."""
    words = text.split()
    index = max(range(len(words)), key=lambda at: len(words[at]))
    return (words, index) if len(words[index]) >= at_least else None


def capitals(text: str, rng: random.Random) -> Optional[str]:
    return text.upper()


def _with_longest(text: str, change: Callable[[str], Optional[str]], at_least: int = 1) -> Optional[str]:
    """The message with its longest word (of `at_least` letters) changed; None when it has none
    such or `change` cannot change it."""
    found = _longest(text, at_least)
    if found is None:
        return None
    words, index = found
    changed = change(words[index])
    if changed is None:
        return None
    words[index] = changed
    return " ".join(words)


def stretched(text: str, rng: random.Random) -> Optional[str]:
    """The last vowel of the longest word three times: "cicilaaan"."""

    def stretch(word: str) -> Optional[str]:
        vowels = [at for at, letter in enumerate(word) if letter in _VOWELS]
        return word[: vowels[-1] + 1] + word[vowels[-1]] * 2 + word[vowels[-1] + 1 :] if vowels else None

    return _with_longest(text, stretch)


def without_vowels(text: str, rng: random.Random) -> Optional[str]:
    """The longest word (five letters or more) without its vowels but the first letter: "pmbyrn"."""
    return _with_longest(text, lambda word: word[0] + "".join(c for c in word[1:] if c not in _VOWELS), 5)


def swapped(text: str, rng: random.Random) -> Optional[str]:
    """Two neighbouring letters of the longest word (five letters or more) swapped."""

    def swap(word: str) -> str:
        at = rng.randrange(1, len(word) - 2)
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]

    return _with_longest(text, swap, 5)


def joined(text: str, rng: random.Random) -> Optional[str]:
    """Two neighbouring words typed as one (messages of three words or more)."""
    words = text.split()
    if len(words) < 3:
        return None
    at = rng.randrange(0, len(words) - 1)
    words[at : at + 2] = [words[at] + words[at + 1]]
    return " ".join(words)


def wrapped(text: str, rng: random.Random) -> Optional[str]:
    return f"Selamat siang kak. {text[:1].upper()}{text[1:]}? Terima kasih."


def called(text: str, rng: random.Random) -> Optional[str]:
    return f"min {text} ya min"


def emoji(text: str, rng: random.Random) -> Optional[str]:
    return f"{text} 🙏🙏"


STYLES: Dict[str, Tuple[str, Style]] = {
    "capitals": ("SEMUA HURUF BESAR", capitals),
    "stretched": ("huruf dipanjangkan (cicilaaan)", stretched),
    "without_vowels": ("tanpa huruf hidup (pmbyrn)", without_vowels),
    "swapped": ("dua huruf tertukar", swapped),
    "joined": ("dua kata tersambung (cicilansaya)", joined),
    "wrapped": ("salam di depan, terima kasih di belakang", wrapped),
    "called": ("min ... ya min", called),
    "emoji": ("emoji di belakang", emoji),
}


def rewritten(examples: List[Tuple[str, str]], style: Style, seed: int = 7) -> List[Tuple[str, str]]:
    """`examples` in `style` (those it applies to), the same every run."""
    rng = random.Random(seed)
    out = []
    for text, intent in examples:
        new = style(text, rng)
        if new is not None:
            out.append((new, intent))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "crm-assistant.tar.gz"))
    parser.add_argument(
        "--data", action="append", help="a held-out set (repeatable; default: both in tests/nlu)", default=None
    )
    args = parser.parse_args(argv)
    paths = [
        Path(p) for p in args.data or [PROJECT_ROOT / "tests/nlu/heldout.yml", PROJECT_ROOT / "tests/nlu/fresh.yml"]
    ]
    examples = [example for path in paths for example in load_examples(path)]
    (originals,) = asyncio.run(_predict_sets(Path(args.model), [examples]))
    kept = [(p.text, p.expected) for p in originals if right(p)]
    groups = {
        "in scope": [e for e in kept if e[1] != UNRELATED],
        "unrelated": [e for e in kept if e[1] == UNRELATED],
    }
    variants = [rewritten(groups[group], style) for group in groups for _, style in STYLES.values()]
    predictions = asyncio.run(_predict_sets(Path(args.model), variants))
    print(f"Read right as written: {len(groups['in scope'])} in scope, {len(groups['unrelated'])} unrelated")
    print(f"{'style':44s} {'in scope':>16s} {'unrelated':>16s}")
    for index, (label, _) in enumerate(STYLES.values()):
        cells = []
        for offset in (0, len(STYLES)):
            found = predictions[offset + index]
            good = sum(right(p) for p in found)
            cells.append(f"{good / len(found):.3f} ({good}/{len(found)})" if found else "-")
        print(f"{label:44s} {cells[0]:>16s} {cells[1]:>16s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
