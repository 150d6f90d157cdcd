"""`make nlu-report`: how well the bot understands, for trainers, with a regression gate.

The model trained on `data/` (the training split) is evaluated on `tests/nlu/heldout.yml` (the
held-out split, never trained on). Written to var/results/nlu-report/:
  report.md             per-intent precision / recall / F1, the overall figures, the difference
                        from the accepted baseline, every misunderstood message, and a sweep of
                        the fallback thresholds (what would reach the fallback at other settings)
  confusion_matrix.png  which intent was taken for which
  seeds.json            (--accept) each other seed's outcome of each held-out message
  figures.json          the numbers
The gate compares each held-out message with its outcome in the accepted baseline
(tests/nlu/baseline.json) and fails (exit 1) only on what chance cannot explain:
  - overall: more messages lost (right before, wrong now) than gained, by a margin McNemar's
    exact test finds significant (one-sided p < 0.05);
  - one intent: it lost more messages (net of gains) than one seed alone took from an intent
    among the baseline's models, and at least 2;
  - a new intent (not in the baseline) swallows a message that belongs elsewhere;
  - an unrelated message that reached the fallback before now files a complaint, escalates or
    starts a case (COSTLY_INTENTS).
`--accept` makes the current outcomes the new baseline (commit it with the data change that
earned it) and trains the same data with other DIET seeds (ACCEPT_SEEDS): a message some of
these models get right and others wrong flips by chance and counts neither as lost nor as
gained, and the most messages of one intent that one seed lost while all the others got them
right (`chance_losses`, the largest seen over the accepts so far) is what an intent may lose.
The report lists every flip. The problems are said in Indonesian, with where to look.

Unrelated messages are labelled `out_of_scope`; for scoring, a prediction of `nlu_fallback`
or `out_of_scope` both count as "fallback" (the bot does not pretend to understand).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from crm import policy
from crm.nlu import pipeline
from crm.nlu.compare import train_nlu, variant_config
from crm.nlu.evaluate import FALLBACK_INTENTS, UNRELATED, Prediction, _predict_sets, figures, load_examples
from crm.responses import buttons
from crm.settings import PROJECT_ROOT

FALLBACK = UNRELATED  # the class name used for "reached the fallback" in the tables
F1_TOLERANCE = 0.02  # marks an intent in the report's table; the gate counts messages instead
SIGNIFICANCE = 0.05
MIN_NET_LOSS_PER_INTENT = 2
# DIET seeds trained besides the served model's when a baseline is accepted (docs/NLU.md, "The
# regression gate": what several seeds tell about which held-out messages flip by chance)
ACCEPT_SEEDS = (1, 2, 3, 4)
# what an unrelated message must never start without the customer meaning it
COSTLY_INTENTS = policy.COSTLY_INTENTS
BASELINE = PROJECT_ROOT / "tests" / "nlu" / "baseline.json"
FRESH = PROJECT_ROOT / "tests" / "nlu" / "fresh.yml"  # the second held-out set, never tuned on
SEVERAL = PROJECT_ROOT / "tests" / "nlu" / "several_questions.yml"  # two questions in one message
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


def confirmed(prediction: Prediction) -> bool:
    """The gate asked to confirm the right costly intent (actions/fallback.py: costly_guess)."""
    top = prediction.ranking[0] if prediction.ranking else None
    return (
        prediction.predicted == "nlu_fallback"
        and prediction.expected in policy.COSTLY_INTENTS
        and top is not None
        and top[0] == prediction.expected
        and top[1] >= policy.COSTLY_CONFIRM_FLOOR
    )


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
        # in-scope messages of a costly intent the gate turned into a confirming question naming
        # that very intent (the customer clicks "Ya"): counted in in_scope_to_fallback too
        "in_scope_to_confirm": sum(confirmed(p) for p in predictions)
        / max(sum(p.expected != UNRELATED for p in predictions), 1),
        # unrelated messages that would file a complaint, escalate or start a case
        "unrelated_to_costly": sum(p.expected == UNRELATED and scored(p) in COSTLY_INTENTS for p in predictions),
        # each held-out message's outcome: what the gate compares with the next run
        "outcomes": {p.text: [p.expected, scored(p)] for p in predictions},
    }


def mcnemar_p(lost: int, gained: int) -> float:
    """One-sided exact McNemar p-value: the chance of at least `lost` losses among the
    `lost + gained` flipped messages if a flip were as likely either way."""
    flipped = lost + gained
    if flipped == 0:
        return 1.0
    return sum(math.comb(flipped, k) for k in range(lost, flipped + 1)) / 2**flipped


@dataclass
class Changes:
    """Held-out messages whose outcome changed since the baseline."""

    lost: List[Tuple[str, str, str]] = field(default_factory=list)  # (text, expected, predicted now)
    gained: List[Tuple[str, str, str]] = field(default_factory=list)
    swallowed: List[Tuple[str, str, str]] = field(default_factory=list)  # taken by a new intent
    costly: List[Tuple[str, str, str]] = field(default_factory=list)  # unrelated, now a costly intent
    # flipped either way, but the baseline's seeds disagreed on it: (text, expected, now, right in)
    by_chance: List[Tuple[str, str, str, int]] = field(default_factory=list)
    new_messages: int = 0


def right_in(runs: Sequence[Dict]) -> Dict[str, int]:
    """In how many of `runs` (summaries of models trained on the same data with different seeds)
    each held-out message was right."""
    counts: Dict[str, int] = {}
    for run in runs:
        for text, (expected, now) in run["outcomes"].items():
            counts[text] = counts.get(text, 0) + (now == expected)
    return counts


def chance_losses(runs: Sequence[Dict]) -> int:
    """The most held-out messages of one intent that one of `runs` (models of the same data,
    different seeds) got wrong while all the others got them right: what a seed alone can
    take from an intent. A seed's misses come in clusters (one loses two theft reports in
    slang, another two insurance claims), so this is measured, not assumed."""
    worst = 0
    for index, run in enumerate(runs):
        others = [other["outcomes"] for position, other in enumerate(runs) if position != index]
        lost: Counter = Counter(
            expected
            for text, (expected, now) in run["outcomes"].items()
            if now != expected and all(text in other and other[text][1] == expected for other in others)
        )
        worst = max(worst, max(lost.values(), default=0))
    return worst


def with_seeds(current: Dict, others: Sequence[Dict], previous: Optional[Dict]) -> Dict:
    """The baseline to accept: `current` and what `others` (the same data, other DIET seeds) say
    about chance. `chance_losses` is the largest seen so far, this accept's or `previous`'s: five
    models show a cluster of two lost messages with one version of the data and not with the
    next (docs/NLU.md), and DIET's noise does not shrink because one draw did not show it."""
    runs = [current, *others]
    seen = max(chance_losses(runs), int((previous or {}).get("chance_losses") or 0))
    return {**current, "models": len(runs), "right_in": right_in(runs), "chance_losses": seen}


def intent_loss_allowed(baseline: Dict) -> int:
    """An intent fails the gate when it loses this many held-out messages more than it gains."""
    return max(MIN_NET_LOSS_PER_INTENT, int(baseline.get("chance_losses") or 0) + 1)


def changes(current: Dict, baseline: Dict) -> Changes:
    before_outcomes = baseline.get("outcomes") or {}
    known_intents = set(baseline.get("per_intent_f1", {}))
    models = int(baseline.get("models") or 1)
    right = baseline.get("right_in") or {}
    found = Changes()
    for text, (expected, now) in current.get("outcomes", {}).items():
        if text not in before_outcomes:
            found.new_messages += 1
            continue
        before = before_outcomes[text][1]
        row = (text, expected, now)
        flipped = (before == expected) != (now == expected)
        if flipped and 0 < right.get(text, 0) < models:
            found.by_chance.append((*row, right[text]))
        elif before == expected and now != expected:
            found.lost.append(row)
        elif before != expected and now == expected:
            found.gained.append(row)
        if now != expected and now not in known_intents and now != before:
            found.swallowed.append(row)
        if expected == UNRELATED and before == UNRELATED and now in COSTLY_INTENTS:
            found.costly.append(row)
    return found


def regressions(current: Dict, baseline: Optional[Dict]) -> List[str]:
    """What makes CI fail (see the module text), each said in Indonesian with where to look."""
    if not baseline:
        return []
    problems = [
        f"intent {label} ada di baseline tetapi tidak punya pesan uji lagi di tests/nlu/heldout.yml"
        for label in baseline.get("per_intent_f1", {})
        if label not in current["per_intent_f1"]
    ]
    if not baseline.get("outcomes"):  # a baseline from before outcomes were kept: figures only
        if current["accuracy"] < baseline.get("accuracy", 0) - 1e-9:
            problems.append(f"akurasi {current['accuracy']:.3f} di bawah baseline {baseline['accuracy']:.3f}")
        return problems
    found = changes(current, baseline)
    p_value = mcnemar_p(len(found.lost), len(found.gained))
    if len(found.lost) > len(found.gained) and p_value < SIGNIFICANCE:
        problems.append(
            f"secara keseluruhan model memburuk: {len(found.lost)} pesan uji yang dulu benar sekarang salah, "
            f"hanya {len(found.gained)} yang membaik (uji McNemar p={p_value:.3f}); lihat 'Pesan yang berubah' "
            "di laporan dan contoh kalimat yang baru ditambahkan"
        )
    by_intent: Counter = Counter(expected for _, expected, _ in found.lost)
    by_intent.subtract(Counter(expected for _, expected, _ in found.gained))
    allowed = intent_loss_allowed(baseline)
    for label, net in sorted(by_intent.items()):
        if net >= allowed:
            taken = Counter(now for _, expected, now in found.lost if expected == label).most_common(1)[0][0]
            chance = (
                f", lebih dari {baseline['chance_losses']} yang bisa hilang karena seed saja"
                if baseline.get("chance_losses")
                else ""
            )
            problems.append(
                f"intent {label} kehilangan {net} pesan uji (kebanyakan sekarang dibaca sebagai {taken}{chance}); "
                f"periksa contoh kalimat {label} dan {taken} di data/nlu/"
            )
    for text, expected, now in found.swallowed:
        problems.append(
            f'intent baru {now} menelan pesan "{text}" milik {expected}; tambahkan contoh yang membedakannya '
            f"di data/nlu/{now}.yml atau data/nlu/{expected}.yml"
        )
    for text, _, now in found.costly:
        problems.append(
            f'pesan yang tidak berhubungan "{text}" dulu ke fallback, sekarang dibaca {now} '
            "(membuat pengaduan, eskalasi atau laporan); tambahkan kalimat serupa ke data/nlu/out_of_scope.yml"
        )
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
    for key in (
        "accuracy",
        "intent_accuracy_in_scope",
        "macro_f1",
        "unrelated_to_fallback",
        "in_scope_to_fallback",
        "in_scope_to_confirm",
    ):
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
    lines += ["", "## Hasil (result)", ""]
    lines += [f"- GAGAL: {p}" for p in problems] or [
        "- OK: tidak ada penurunan yang lebih dari kebetulan (no regression beyond noise)."
    ]
    if baseline and baseline.get("outcomes"):
        found = changes(current, baseline)
        lines += [
            "",
            "## Pesan yang berubah sejak baseline (messages whose outcome changed)",
            "",
            f"{len(found.lost)} lost, {len(found.gained)} gained (McNemar one-sided p = "
            f"{mcnemar_p(len(found.lost), len(found.gained)):.3f}); {len(found.by_chance)} flipped by chance "
            f"(the baseline's seeds disagreed on them); {found.new_messages} held-out messages are new.",
            "",
            "| message | expected | now | change |",
            "|---|---|---|---|",
        ]
        lines += [f"| {t} | {e} | {n} | lost |" for t, e, n in found.lost]
        lines += [f"| {t} | {e} | {n} | gained |" for t, e, n in found.gained]
        models = baseline.get("models") or 1
        lines += [
            f"| {t} | {e} | {n} | by chance: right in {k} of the baseline's {models} seeds, not counted |"
            for t, e, n, k in found.by_chance
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


def fresh_figures(predictions: Sequence[Prediction]) -> Dict:
    """The second set's figures, without its messages: a trainer who copied its misses into
    data/ would turn it into one more training set."""
    return {k: v for k, v in summary(predictions).items() if k not in ("outcomes", "per_intent_f1")}


def fresh_markdown(fresh: Dict, path: Path) -> str:
    lines = [
        "",
        f"## Set kedua: {path.name} (second held-out set, never tuned on)",
        "",
        f"{fresh['messages']} messages written apart from the training data. Its messages are not listed "
        "on purpose: do not copy them into data/ (docs/NLU.md).",
        "",
        "| figure | now |",
        "|---|---|",
    ]
    for key in ("accuracy", "macro_f1", "unrelated_to_fallback", "in_scope_to_fallback", "in_scope_to_confirm"):
        lines.append(f"| {key} | {fresh[key]:.3f} |")
    lines += [f"| unrelated_to_costly | {fresh['unrelated_to_costly']} |", ""]
    return "\n".join(lines)


def load_several(path: Path = SEVERAL) -> List[Tuple[str, Tuple[str, ...]]]:
    """tests/nlu/several_questions.yml: each message and the intents it asks."""
    entries = (yaml.safe_load(path.read_text()) or {}).get("messages") or []
    return [(str(e["text"]), tuple(str(i) for i in e["asks"])) for e in entries]


def offered(prediction: Prediction) -> List[str]:
    """The other questions the dialogue offers as buttons after its answer (actions/common.py:
    also_asked): the clauses' intents that are self-service topics (utter_topics)."""
    topics = {b["payload"].lstrip("/") for b in buttons("utter_topics")}
    return [name for name in prediction.also_asked if name in topics and name != prediction.predicted]


def several_figures(
    several: Sequence[Prediction], asks: Sequence[Tuple[str, ...]], single: Sequence[Prediction]
) -> Dict:
    """Of the messages asking two questions: how many get both answered or offered; of the
    held-out messages asking one: how many are offered another question they did not ask."""
    both = sum(set(wanted) <= {p.predicted, *offered(p)} for p, wanted in zip(several, asks, strict=True))
    return {
        "messages": len(several),
        "both_answered_or_offered": both / max(len(several), 1),
        "single_offered_another": sum(bool(offered(p)) for p in single) / max(len(single), 1),
    }


def several_markdown(figures: Dict, path: Path) -> str:
    return "\n".join(
        [
            "",
            f"## Beberapa pertanyaan dalam satu pesan: {path.name}",
            "",
            f"{figures['messages']} messages asking two questions at once; both answered or offered as a button: "
            f"{figures['both_answered_or_offered']:.3f}. Held-out messages asking one question offered another: "
            f"{figures['single_offered_another']:.3f}.",
            "",
        ]
    )


def seed_runs(heldout: Path, seeds: Sequence[int]) -> List[Dict]:
    """The held-out summaries of NLU-only models trained on data/ with config.yml and each DIET
    seed in `seeds` (a few minutes each)."""
    examples = load_examples(heldout)
    runs = []
    with tempfile.TemporaryDirectory(prefix="nlu-seeds-") as tmp:
        folder = Path(tmp)
        for seed in seeds:
            seconds = train_nlu(variant_config(pipeline.CONFIG, [], folder, seed=seed), folder, f"seed-{seed}")
            (predictions,) = asyncio.run(_predict_sets(folder / f"seed-{seed}.tar.gz", [examples]))
            runs.append(summary(predictions))
            print(f"seed {seed}: trained in {seconds:.0f} s, accuracy {runs[-1]['accuracy']:.3f}", flush=True)
    return runs


def config_thresholds(config: Path = pipeline.CONFIG) -> Tuple[float, float]:
    fallback = pipeline.component("FallbackClassifier", config)
    if not fallback:
        return 0.0, 0.0
    return float(fallback.get("threshold", 0.3)), float(fallback.get("ambiguity_threshold", 0.1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "crm-assistant.tar.gz"))
    parser.add_argument("--data", default=str(PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"))
    parser.add_argument("--fresh", default=str(FRESH), help="a second held-out set: figures only, never listed")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--baseline", default=str(BASELINE))
    parser.add_argument("--accept", action="store_true", help="write the current figures as the new baseline")
    parser.add_argument(
        "--seeds",
        type=int,
        default=len(ACCEPT_SEEDS),
        choices=range(len(ACCEPT_SEEDS) + 1),
        help="with --accept: how many other DIET seeds to train, to learn which messages flip by chance",
    )
    args = parser.parse_args(argv)

    fresh_path = Path(args.fresh)
    several = load_several() if SEVERAL.is_file() else []
    sets = [load_examples(Path(args.data))] + ([load_examples(fresh_path)] if fresh_path.is_file() else [])
    predictions, *others, asked_several = asyncio.run(
        _predict_sets(Path(args.model), sets + [[(text, asks[0]) for text, asks in several]])
    )
    current = summary(predictions)
    fresh = fresh_figures(others[0]) if others else None
    several_found = several_figures(asked_several, [asks for _, asks in several], predictions + sum(others, []))
    baseline_path = Path(args.baseline)
    baseline = json.loads(baseline_path.read_text()) if baseline_path.is_file() else None
    problems = [] if args.accept else regressions(current, baseline)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    swept = sweep(predictions)
    (out / "figures.json").write_text(
        json.dumps({**current, "sweep": swept, "fresh": fresh, "several_questions": several_found}, indent=2)
    )
    confusion_png(predictions, out / "confusion_matrix.png")
    report = markdown(predictions, current, baseline, problems, swept, config_thresholds())
    (out / "report.md").write_text(
        report + (fresh_markdown(fresh, fresh_path) if fresh else "") + several_markdown(several_found, SEVERAL)
    )
    print(f"NLU report: {out / 'report.md'}")
    print(
        f"accuracy {current['accuracy']:.3f}, macro F1 {current['macro_f1']:.3f}, unrelated to fallback "
        f"{current['unrelated_to_fallback']:.3f}, in-scope to fallback {current['in_scope_to_fallback']:.3f} "
        f"(of which a confirming question for the right intent {current['in_scope_to_confirm']:.3f})"
    )
    if fresh:
        print(
            f"{fresh_path.name} (never tuned on): accuracy {fresh['accuracy']:.3f}, macro F1 {fresh['macro_f1']:.3f}, "
            f"unrelated to fallback {fresh['unrelated_to_fallback']:.3f}, in-scope to fallback "
            f"{fresh['in_scope_to_fallback']:.3f}, unrelated to a costly intent {fresh['unrelated_to_costly']}"
        )
    print(
        f"{SEVERAL.name}: both questions answered or offered {several_found['both_answered_or_offered']:.3f} "
        f"of {several_found['messages']}; one-question messages offered another "
        f"{several_found['single_offered_another']:.3f}"
    )
    if args.accept:
        accepted = dict(current)
        if args.seeds:
            seeds = ACCEPT_SEEDS[: args.seeds]
            seeded = seed_runs(Path(args.data), seeds)
            accepted = with_seeds(current, seeded, baseline)
            # each seed's outcomes, for whoever wants to see which messages move (not the baseline)
            outcomes = {str(seed): run["outcomes"] for seed, run in zip(seeds, seeded, strict=True)}
            (out / "seeds.json").write_text(json.dumps(outcomes, indent=1, ensure_ascii=False))
            unsure = sum(0 < k < accepted["models"] for k in accepted["right_in"].values())
            print(
                f"{unsure} held-out messages are right with some seeds and wrong with others (not gated); "
                f"an intent may lose {accepted['chance_losses']} by chance (the most one seed alone was seen to lose)"
            )
        baseline_path.write_text(json.dumps(accepted, indent=2, sort_keys=True) + "\n")
        print(f"baseline accepted: {baseline_path}")
        return 0
    for problem in problems:
        print(f"nlu-report: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
