"""Named sets of words stored with a trained model (one JSON file in the component's resource):
what EntityGuard and AnswerWordGuard learn from the training data and read back at load."""

from __future__ import annotations

import json
from typing import Dict, Iterable, Mapping, Optional, Set

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def store(storage: ModelStorage, resource: Resource, filename: str, sets: Mapping[str, Iterable[str]]) -> None:
    with storage.write_to(resource) as folder:
        (folder / filename).write_text(
            json.dumps({name: sorted(values) for name, values in sets.items()}, ensure_ascii=False)
        )


def stored(storage: ModelStorage, resource: Resource, filename: str) -> Optional[Dict[str, Set[str]]]:
    """The sets as stored, or None when the component was never trained."""
    try:
        with storage.read_from(resource) as folder:
            found = json.loads((folder / filename).read_text())
    except (ValueError, FileNotFoundError):
        return None
    return {name: set(values) for name, values in found.items()}
