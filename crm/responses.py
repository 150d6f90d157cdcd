"""Customer-facing text sent outside Rasa's own dialogue (the console's takeover messages, the
WhatsApp channel's answers to media). It lives in domain.yml with every other response, so
there is one place to review the wording."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

import yaml

from crm.settings import PROJECT_ROOT


@lru_cache(maxsize=4)
def domain_file(domain_path: Path = PROJECT_ROOT / "domain.yml") -> Dict[str, Any]:
    """domain.yml as written, read once per process (its responses here, its slot mappings for
    the actions)."""
    return yaml.safe_load(domain_path.read_text()) or {}


def _responses(domain_path: Path) -> Dict[str, Any]:
    return domain_file(domain_path).get("responses", {})


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(name: str, domain_path: Path = PROJECT_ROOT / "domain.yml", **values: Any) -> str:
    """The first text variant of response `name`, with {placeholders} filled from `values`."""
    variants = _responses(domain_path).get(name)
    if not variants:
        raise KeyError(f"domain.yml has no response {name!r}")
    return string.Formatter().vformat(variants[0]["text"], (), _Blank(values))


def payload(written: str) -> str:
    """A button payload of domain.yml as Rasa sends it: literal braces are doubled there
    (`/inform{{"csat_score":"5"}}`), or Rasa takes them for a slot to fill, logs an error with a
    stack trace on every use and sends them unchanged."""
    return string.Formatter().vformat(written, (), _Blank())


def buttons(name: str, domain_path: Path = PROJECT_ROOT / "domain.yml") -> List[Dict[str, str]]:
    """The buttons (title, payload as sent) of response `name`'s first variant; [] when none."""
    variants = _responses(domain_path).get(name)
    if not variants:
        raise KeyError(f"domain.yml has no response {name!r}")
    return [{"title": str(b["title"]), "payload": payload(str(b["payload"]))} for b in variants[0].get("buttons") or []]
