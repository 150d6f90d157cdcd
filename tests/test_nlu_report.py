"""The NLU report's arithmetic and its regression gate, on hand-made predictions."""

from __future__ import annotations

from crm.nlu.evaluate import Prediction
from crm.nlu.report import confusion_png, per_intent, regressions, summary, sweep


def p(expected, predicted, confidence=0.9, ranking=()):
    return Prediction("teks", expected, predicted, confidence, ranking)


PREDICTIONS = [
    p("greet", "greet"),
    p("greet", "greet"),
    p("greet", "thank"),
    p("thank", "thank"),
    p("out_of_scope", "nlu_fallback"),
    p("out_of_scope", "greet"),
]


def test_per_intent_precision_recall_f1():
    table = per_intent(PREDICTIONS)
    assert table["greet"]["precision"] == 2 / 3 and table["greet"]["recall"] == 2 / 3
    assert table["thank"]["precision"] == 0.5 and table["thank"]["recall"] == 1.0
    assert table["out_of_scope"]["recall"] == 0.5  # nlu_fallback counts as reaching the fallback


def test_gate_fails_on_an_f1_drop_over_002_or_lower_accuracy():
    current = summary(PREDICTIONS)
    assert regressions(current, None) == []
    assert regressions(current, current) == []
    greet = current["per_intent_f1"]["greet"]
    better = {**current, "per_intent_f1": {**current["per_intent_f1"], "greet": greet + 0.03}}
    assert any("greet" in problem for problem in regressions(current, better))
    slightly = {**current, "per_intent_f1": {**current["per_intent_f1"], "greet": greet + 0.01}}
    assert regressions(current, slightly) == []
    assert any("accuracy" in problem for problem in regressions(current, {**current, "accuracy": 0.99}))


def test_threshold_sweep_uses_the_classifiers_ranking():
    unsure = p("out_of_scope", "greet", 0.55, (("greet", 0.55), ("thank", 0.40)))
    sure = p("greet", "greet", 0.95, (("greet", 0.95), ("thank", 0.02)))
    rows = {
        (r["threshold"], r["ambiguity"]): r
        for r in sweep([unsure, sure], thresholds=(0.5, 0.6), ambiguities=(0.0, 0.2))
    }
    assert rows[(0.5, 0.0)]["unrelated_to_fallback"] == 0.0
    assert rows[(0.6, 0.0)]["unrelated_to_fallback"] == 1.0
    assert rows[(0.5, 0.2)]["unrelated_to_fallback"] == 1.0  # top two within 0.2
    assert rows[(0.6, 0.2)]["in_scope_to_fallback"] == 0.0


def test_confusion_matrix_image_is_written(tmp_path):
    confusion_png(PREDICTIONS, tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
