"""A reviewed conversation session as a Rasa test story, for trainers to commit under
tests/stories/reviewed/ (make test-dialogue then replays it with --fail-on-prediction-errors).

The story holds what the dialogue policies need and nothing about the customer: intents (no
message text), entity names with masked values, the actions the bot took, forms, and slots,
where a text slot's value becomes "xxx" (being set is what a policy sees) and any other value is
masked like a transcript (crm.privacy).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Sequence

import yaml

from crm.privacy import mask_text
from crm.settings import PROJECT_ROOT

SKIPPED_ACTIONS = {"action_listen", "action_session_start"}
SKIPPED_EVENTS = {"session_started", "bot", "user_featurization", "action_execution_rejected"}


@lru_cache(maxsize=2)
def _text_slots(domain_path: Path, mtime: float) -> frozenset:
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    return frozenset(name for name, slot in (domain.get("slots") or {}).items() if slot.get("type") in ("text", "any"))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def masked_events(events: Sequence[Dict[str, Any]], domain_path: Path) -> List[Dict[str, Any]]:
    """The session's events a story needs, with personal data taken out."""
    text_slots = _text_slots(domain_path, domain_path.stat().st_mtime)
    kept: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind in SKIPPED_EVENTS or (kind == "action" and event.get("name") in SKIPPED_ACTIONS):
            continue
        if kind == "user":
            parse = event.get("parse_data") or {}
            entities = [
                {"entity": e.get("entity"), "value": _masked(e.get("value")), "start": 0, "end": 0}
                for e in parse.get("entities") or []
                if e.get("entity")
            ]
            intent = (parse.get("intent") or {}).get("name")
            if not intent:
                continue
            kept.append(
                {
                    "event": "user",
                    "text": None,
                    "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": entities},
                }
            )
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name in text_slots and value is not None and name != "requested_slot":
                value = "xxx"
            kept.append({"event": "slot", "name": name, "value": _masked(value)})
        elif kind in ("action", "active_loop", "restart", "followup", "reset_slots", "action_reverted", "rewind"):
            kept.append({k: v for k, v in event.items() if k in ("event", "name", "policy", "confidence")})
    return kept


def story_yaml(name: str, events: Sequence[Dict[str, Any]], domain_path: Path = PROJECT_ROOT / "domain.yml") -> str:
    """A test-stories file with one story made of `events` (tracker events as dicts)."""
    from rasa.shared.core.events import Event
    from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter
    from rasa.shared.core.training_data.structures import Story

    parsed = [Event.from_parameters(e) for e in masked_events(events, domain_path)]
    story = Story.from_events([e for e in parsed if e is not None], name)
    return YAMLStoryWriter().dumps(story.story_steps, is_test_story=False)
