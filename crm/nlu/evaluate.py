"""Evaluate the trained model on held-out messages (tests/nlu/heldout.yml, never trained on).

Prints intent accuracy on in-scope messages, the share of unrelated requests that reach the
fallback, the share of in-scope messages that wrongly reach it, a per-intent table and every
miss. "Reaching the fallback" means the bot does not answer as if it understood: the
prediction is `nlu_fallback` (not confident) or `out_of_scope` (the polite "not my area").

Usage: python -m crm.nlu.evaluate [--model models/crm-assistant.tar.gz] [--data tests/nlu/heldout.yml]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from crm.outcomes import FALLBACK_INTENTS  # noqa: F401 - re-exported (crm.nlu.report)
from crm.settings import PROJECT_ROOT
from crm.training_data import load_examples, strip_annotations  # noqa: F401 - re-exported

UNRELATED = "out_of_scope"


@dataclass(frozen=True)
class Prediction:
    text: str
    expected: str
    predicted: str
    confidence: float
    ranking: Tuple[Tuple[str, float], ...] = ()  # the classifier's own ranking, nlu_fallback left out
    also_asked: Tuple[str, ...] = ()  # what the message's other questions ask (second_opinion.py)


async def _predict(model: Path, examples: List[Tuple[str, str]]) -> List[Prediction]:
    return (await _predict_sets(model, [examples]))[0]


async def _predict_sets(model: Path, sets: List[List[Tuple[str, str]]]) -> List[List[Prediction]]:
    """Each set's predictions, the model loaded once."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no per-message debug lines
    logging.getLogger("rasa").setLevel(logging.WARNING)

    agent = Agent.load(str(model))
    results: List[List[Prediction]] = []
    for examples in sets:
        results.append([])
        for text, expected in examples:
            parsed = await agent.parse_message(text)
            intent = parsed.get("intent") or {}
            ranking = tuple(
                (r.get("name") or "", float(r.get("confidence") or 0))
                for r in parsed.get("intent_ranking") or []
                if r.get("name") != "nlu_fallback"
            )
            also = tuple(str(a.get("name")) for a in parsed.get("also_asked") or [])
            results[-1].append(
                Prediction(
                    text, expected, intent.get("name") or "", float(intent.get("confidence") or 0), ranking, also
                )
            )
    return results


@dataclass(frozen=True)
class Figures:
    intent_accuracy: float  # in-scope messages classified as labelled
    unrelated_to_fallback: float  # unrelated requests answered with the fallback / out-of-scope reply
    in_scope_to_fallback: float  # in-scope messages wrongly given the fallback / out-of-scope reply
    in_scope: int
    unrelated: int


def right(prediction: Prediction) -> bool:
    """The expected intent, or for an unrelated message the fallback or `out_of_scope`."""
    if prediction.expected == UNRELATED:
        return prediction.predicted in FALLBACK_INTENTS
    return prediction.predicted == prediction.expected


def figures(predictions: List[Prediction]) -> Figures:
    in_scope = [p for p in predictions if p.expected != UNRELATED]
    unrelated = [p for p in predictions if p.expected == UNRELATED]
    return Figures(
        intent_accuracy=sum(p.predicted == p.expected for p in in_scope) / max(len(in_scope), 1),
        unrelated_to_fallback=sum(p.predicted in FALLBACK_INTENTS for p in unrelated) / max(len(unrelated), 1),
        in_scope_to_fallback=sum(p.predicted in FALLBACK_INTENTS for p in in_scope) / max(len(in_scope), 1),
        in_scope=len(in_scope),
        unrelated=len(unrelated),
    )


def report(predictions: List[Prediction]) -> str:
    f = figures(predictions)
    lines = [
        f"held-out messages: {f.in_scope} in scope, {f.unrelated} unrelated",
        f"intent accuracy (in scope):            {f.intent_accuracy:.3f}",
        f"unrelated reaching the fallback:       {f.unrelated_to_fallback:.3f}",
        f"in-scope wrongly reaching the fallback: {f.in_scope_to_fallback:.3f}",
        "",
        f"{'intent':<26}{'n':>4}{'correct':>9}",
    ]
    by_intent: Dict[str, List[Prediction]] = defaultdict(list)
    for p in predictions:
        by_intent[p.expected].append(p)
    for intent in sorted(by_intent):
        items = by_intent[intent]
        ok = sum(right(p) for p in items)
        lines.append(f"{intent:<26}{len(items):>4}{ok:>9}")
    misses = [p for p in predictions if not right(p)]
    if misses:
        lines += ["", "misses (expected -> predicted, confidence):"]
        lines += [f"  {p.expected} -> {p.predicted} ({p.confidence:.2f}): {p.text}" for p in misses]
    confusions = Counter((p.expected, p.predicted) for p in misses)
    if confusions:
        common = ", ".join(f"{a}->{b} x{n}" for (a, b), n in confusions.most_common(5))
        lines += ["", f"most common confusions: {common}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "crm-assistant.tar.gz"))
    parser.add_argument("--data", default=str(PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    predictions = asyncio.run(_predict(Path(args.model), load_examples(Path(args.data))))
    print(report(predictions))
    if args.json:
        Path(args.json).write_text(json.dumps(figures(predictions).__dict__, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
