"""`make nlu-report`: how well the bot understands, for trainers, with a regression gate.

The model trained on `data/` (the training split) is evaluated on `tests/nlu/heldout.yml` (the
held-out split, never trained on). Written to var/results/nlu-report/:
  report.md             per-intent precision / recall / F1, the overall figures, the difference
                        from the accepted baseline, every misunderstood message, and a sweep of
                        the fallback thresholds (what would reach the fallback at other settings)
  confusion_matrix.png  which intent was taken for which
  figures.json          the numbers
The command fails (exit 1) when an intent's F1 is more than 0.02 below the accepted baseline
(tests/nlu/baseline.json) or the overall accuracy is lower. `--accept` makes the current figures
the new baseline (commit it with the data change that earned it).

Unrelated messages are labelled `out_of_scope`; for scoring, a prediction of `nlu_fallback`
or `out_of_scope` both count as "fallback" (the bot does not pretend to understand).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from crm.nlu.evaluate import FALLBACK_INTENTS, UNRELATED, Prediction, _predict, figures, load_examples
from crm.settings import PROJECT_ROOT

FALLBACK = UNRELATED  # the class name used for "reached the fallback" in the tables
F1_TOLERANCE = 0.02
BASELINE = PROJECT_ROOT / "tests" / "nlu" / "baseline.json"
OUT = PROJECT_ROOT / "var" / "results" / "nlu-report"


def scored(prediction: Prediction) -> str:
    return FALLBACK if prediction.predicted in FALLBACK_INTENTS else prediction.predicted


def per_intent(predictions: Sequence[Prediction]) -> Dict[str, Dict[str, float]]:
    labels = sorted({p.expected for p in predictions})
    table = {}
    for label in labels:
        tp = sum(p.expected == label and scored(p) == label for p in predictions)
        fp = sum(p.expected != label and scored(p) == label for p in predictions)
        fn = sum(p.expected == label and scored(p) != label for p in predictions)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return table


def summary(predictions: Sequence[Prediction]) -> Dict:
    table = per_intent(predictions)
    base = figures(list(predictions))
    return {
        "accuracy": sum(scored(p) == p.expected for p in predictions) / max(len(predictions), 1),
        "intent_accuracy_in_scope": base.intent_accuracy,
        "macro_f1": sum(row["f1"] for row in table.values()) / max(len(table), 1),
        "unrelated_to_fallback": base.unrelated_to_fallback,
        "in_scope_to_fallback": base.in_scope_to_fallback,
        "messages": len(predictions),
        "per_intent_f1": {label: round(row["f1"], 4) for label, row in table.items()},
    }


def regressions(current: Dict, baseline: Optional[Dict]) -> List[str]:
    """What makes CI fail: an intent's F1 more than 0.02 below baseline, or lower accuracy."""
    if not baseline:
        return []
    problems = []
    for label, f1 in baseline.get("per_intent_f1", {}).items():
        now = current["per_intent_f1"].get(label)
        if now is None:
            problems.append(f"intent {label} is in the baseline but has no held-out messages now")
        elif now < f1 - F1_TOLERANCE:
            problems.append(f"intent {label}: F1 {now:.3f} is more than {F1_TOLERANCE} below the baseline {f1:.3f}")
    if current["accuracy"] < baseline.get("accuracy", 0) - 1e-9:
        problems.append(f"accuracy {current['accuracy']:.3f} is below the baseline {baseline['accuracy']:.3f}")
    return problems


def sweep(
    predictions: Sequence[Prediction],
    thresholds: Sequence[float] = (0.4, 0.5, 0.6, 0.7, 0.8),
    ambiguities: Sequence[float] = (0.0, 0.05, 0.1, 0.2),
) -> List[Dict]:
    """What the FallbackClassifier would do at other settings, from the classifier's own ranking:
    fallback when the top confidence < threshold or the top two are closer than ambiguity."""
    rows = []
    for threshold in thresholds:
        for ambiguity in ambiguities:
            unrelated_hit = in_scope_hit = correct = unrelated = in_scope = 0
            for p in predictions:
                ranking = p.ranking or ((p.predicted, p.confidence),)
                top, first = ranking[0][0], ranking[0][1]
                second = ranking[1][1] if len(ranking) > 1 else 0.0
                fallback = first < threshold or first - second < ambiguity or top == UNRELATED
                if p.expected == UNRELATED:
                    unrelated += 1
                    unrelated_hit += fallback
                else:
                    in_scope += 1
                    in_scope_hit += fallback
                    correct += (not fallback) and top == p.expected
            rows.append(
                {
                    "threshold": threshold,
                    "ambiguity": ambiguity,
                    "unrelated_to_fallback": unrelated_hit / max(unrelated, 1),
                    "in_scope_to_fallback": in_scope_hit / max(in_scope, 1),
                    "intent_accuracy_in_scope": correct / max(in_scope, 1),
                }
            )
    return rows


def confusion_png(predictions: Sequence[Prediction], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({p.expected for p in predictions} | {scored(p) for p in predictions})
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for p in predictions:
        matrix[index[p.expected]][index[scored(p)]] += 1
    size = max(6, len(labels) * 0.45)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("dikenali sebagai (predicted)")
    ax.set_ylabel("seharusnya (expected)")
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(
                    j,
                    i,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > max(map(max, matrix)) / 2 else "black",
                )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(
    predictions: Sequence[Prediction],
    current: Dict,
    baseline: Optional[Dict],
    problems: List[str],
    swept: List[Dict],
    config_thresholds: Tuple[float, float],
) -> str:
    table = per_intent(predictions)
    lines = [
        "# Laporan NLU (NLU report)",
        "",
        f"Held-out messages: {current['messages']} (never trained on). "
        f"Current fallback thresholds in config.yml: threshold {config_thresholds[0]}, "
        f"ambiguity {config_thresholds[1]}.",
        "",
        "| figure | now | baseline |",
        "|---|---|---|",
    ]
    for key in ("accuracy", "intent_accuracy_in_scope", "macro_f1", "unrelated_to_fallback", "in_scope_to_fallback"):
        before = f"{baseline[key]:.3f}" if baseline and key in baseline else "-"
        lines.append(f"| {key} | {current[key]:.3f} | {before} |")
    lines += [
        "",
        "## Per intent",
        "",
        "| intent | precision | recall | F1 | baseline F1 | n |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in table.items():
        before = (baseline or {}).get("per_intent_f1", {}).get(label)
        mark = " ⚠" if before is not None and row["f1"] < before - F1_TOLERANCE else ""
        lines.append(
            f"| {label} | {row['precision']:.2f} | {row['recall']:.2f} | {row['f1']:.2f}{mark} | "
            f"{'-' if before is None else f'{before:.2f}'} | {row['support']} |"
        )
    lines += ["", "## Result", ""]
    lines += [f"- FAIL: {p}" for p in problems] or [
        "- OK: no intent fell more than 0.02 below the baseline, accuracy did not drop."
    ]
    misses = [p for p in predictions if scored(p) != p.expected]
    lines += [
        "",
        "## Misunderstood messages",
        "",
        "| message | expected | predicted | confidence |",
        "|---|---|---|---|",
    ]
    lines += [f"| {p.text} | {p.expected} | {p.predicted} | {p.confidence:.2f} |" for p in misses] or [
        "| (none) | | | |"
    ]
    common = Counter((p.expected, scored(p)) for p in misses).most_common(5)
    if common:
        lines += ["", "Most common confusions: " + ", ".join(f"{a} → {b} ×{n}" for (a, b), n in common)]
    lines += [
        "",
        "## Fallback threshold sweep (from the classifier's own confidences)",
        "",
        "| threshold | ambiguity | unrelated → fallback | in-scope → fallback | in-scope accuracy |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['threshold']} | {r['ambiguity']} | {r['unrelated_to_fallback']:.3f} | "
        f"{r['in_scope_to_fallback']:.3f} | {r['intent_accuracy_in_scope']:.3f} |"
        for r in swept
    ]
    lines += ["", "![confusion matrix](confusion_matrix.png)", ""]
    return "\n".join(lines)


def config_thresholds(config: Path = PROJECT_ROOT / "config.yml") -> Tuple[float, float]:
    for component in (yaml.safe_load(config.read_text()) or {}).get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.0, 0.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "crm-assistant.tar.gz"))
    parser.add_argument("--data", default=str(PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"))
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--baseline", default=str(BASELINE))
    parser.add_argument("--accept", action="store_true", help="write the current figures as the new baseline")
    args = parser.parse_args(argv)

    predictions = asyncio.run(_predict(Path(args.model), load_examples(Path(args.data))))
    current = summary(predictions)
    baseline_path = Path(args.baseline)
    baseline = json.loads(baseline_path.read_text()) if baseline_path.is_file() else None
    problems = [] if args.accept else regressions(current, baseline)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    swept = sweep(predictions)
    (out / "figures.json").write_text(json.dumps({**current, "sweep": swept}, indent=2))
    confusion_png(predictions, out / "confusion_matrix.png")
    (out / "report.md").write_text(markdown(predictions, current, baseline, problems, swept, config_thresholds()))
    print(f"NLU report: {out / 'report.md'}")
    print(
        f"accuracy {current['accuracy']:.3f}, macro F1 {current['macro_f1']:.3f}, unrelated to fallback "
        f"{current['unrelated_to_fallback']:.3f}, in-scope to fallback {current['in_scope_to_fallback']:.3f}"
    )
    if args.accept:
        baseline_path.write_text(json.dumps({k: v for k, v in current.items()}, indent=2, sort_keys=True) + "\n")
        print(f"baseline accepted: {baseline_path}")
        return 0
    for problem in problems:
        print(f"nlu-report: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
