"""config.yml's NLU pipeline as the trainers' tools read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml

from crm.settings import PROJECT_ROOT

CONFIG = PROJECT_ROOT / "config.yml"


def component(name: str, config: Path = CONFIG) -> Dict[str, Any]:
    """The settings of the pipeline component called `name` in `config` ({} when it has none)."""
    for entry in (yaml.safe_load(config.read_text()) or {}).get("pipeline") or []:
        if entry.get("name") == name:
            return dict(entry)
    return {}
