"""Reading the trainers' NLU YAML files: one reader for the evaluation, the validation and the NLU
inbox (which must not depend on developer tools)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import yaml

ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")


def strip_annotations(example: str) -> str:
    """An example as the customer typed it: '[K10124000001](contract_number)' and
    '[sby]{"entity": "city"}' become 'K10124000001' and 'sby'."""
    return ANNOTATION.sub(lambda m: m.group(1) or m.group(2), example)


def examples_in(path: Path) -> List[Tuple[str, str]]:
    """(intent, example as written) for every example in one NLU YAML file."""
    found = []
    for block in (yaml.safe_load(path.read_text()) or {}).get("nlu", []) or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.append((block["intent"], line[2:].strip()))
    return found


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs from a Rasa NLU YAML file; entity annotations are removed."""
    return [(strip_annotations(example), intent) for intent, example in examples_in(path)]


def nlu_examples(data_dir: Path) -> List[tuple]:
    """(intent, example, file) for every example under data_dir/nlu."""
    return [
        (intent, example, path.relative_to(data_dir.parent))
        for path in sorted((data_dir / "nlu").rglob("*.yml"))
        for intent, example in examples_in(path)
    ]
