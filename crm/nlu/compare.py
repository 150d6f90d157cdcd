"""`make nlu-compare`: the NLU pipeline with and without a feature, measured the same way.

For each variant (config.yml; config.yml with the components named by `--with` added before DIET
or without those named by `--without`; each whole config file given by `--against`), an
NLU-only model is trained on data/ (timed), then loaded in a fresh process that reports the
memory the model adds (RSS after loading minus before), the median and 95th-percentile time of
one `parse_message` on the held-out messages, and the figures on each held-out set (accuracy,
macro F1, unrelated → fallback, in-scope → fallback, and unrelated messages read as a costly
intent). The table goes to stdout and var/results/nlu-compare.md; docs/NLU.md quotes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from crm.nlu import pipeline
from crm.settings import PROJECT_ROOT

OUT = PROJECT_ROOT / "var" / "results" / "nlu-compare.md"
HELDOUT_SETS = ("heldout.yml", "fresh.yml")  # tests/nlu: the gate's set, and one never tuned on


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _measure(model: Path, sets: List[Path]) -> Dict:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from crm.nlu.evaluate import Prediction
    from crm.nlu.report import summary
    from crm.training_data import load_examples

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    before = _rss_mb()
    agent = Agent.load(str(model))
    await agent.parse_message("halo")  # first call loads lazily-built parts
    loaded = _rss_mb()
    timings: List[float] = []
    out: Dict = {}
    for index, heldout in enumerate(sets):
        predictions = []
        for text, expected in load_examples(heldout):
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            timings.append((time.perf_counter() - start) * 1000)
            intent = parsed.get("intent") or {}
            confidence = float(intent.get("confidence") or 0)
            predictions.append(Prediction(text, expected, intent.get("name") or "", confidence))
        figures = summary(predictions)
        suffix = f"@{index}" if index else ""  # the first set's figures keep their plain names
        out.update(
            {
                f"accuracy{suffix}": figures["accuracy"],
                f"macro_f1{suffix}": figures["macro_f1"],
                f"unrelated_to_fallback{suffix}": figures["unrelated_to_fallback"],
                f"in_scope_to_fallback{suffix}": figures["in_scope_to_fallback"],
                f"unrelated_to_costly{suffix}": figures["unrelated_to_costly"],
                f"unrelated{suffix}": sum(p.expected == "out_of_scope" for p in predictions),
            }
        )
    timings.sort()
    return {
        **out,
        "parse_ms_median": statistics.median(timings),
        "parse_ms_p95": timings[int(0.95 * (len(timings) - 1))],
        "model_mb": loaded - before,
    }


def variant_config(
    config: Path, without: List[str], folder: Path, add: Optional[List[str]] = None, seed: Optional[int] = None
) -> Path:
    """A copy of `config` in `folder`: without the components `without`, with `add` before DIET,
    DIET's `random_seed` set to `seed` when given."""
    data = yaml.safe_load(config.read_text())
    if seed is not None:
        for component in data["pipeline"]:
            if str(component.get("name")).endswith("DIETClassifier"):
                component["random_seed"] = seed
    pipeline = [c for c in data["pipeline"] if c.get("name") not in without]
    at = next((i for i, c in enumerate(pipeline) if str(c.get("name")).endswith("DIETClassifier")), len(pipeline))
    data["pipeline"] = pipeline[:at] + [{"name": name} for name in add or []] + pipeline[at:]
    path = folder / f"config-{len(list(folder.glob('config-*.yml')))}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def train_nlu(config: Path, out: Path, name: str) -> float:
    """Train an NLU-only model on data/ with `config` into `out`/`name`.tar.gz; the seconds it took."""
    rasa = Path(sys.executable).parent / "rasa"
    start = time.monotonic()
    subprocess.run(
        [str(rasa), "train", "nlu", "--config", str(config), "--nlu", str(PROJECT_ROOT / "data"), "--out", str(out)]
        + ["--fixed-model-name", name],
        check=True,
        capture_output=True,
        cwd=str(PROJECT_ROOT),
    )
    return time.monotonic() - start


def _spread(row: Dict, key: str) -> str:
    low, high = row[f"{key}_range"]
    return f"{row[key]:.3f}" if low == high else f"{row[key]:.3f} ({low:.3f}-{high:.3f})"


def _mean(runs: List[Dict]) -> Dict:
    """The mean of each figure over seeds, and each figure's range as `<key>_range`."""
    out: Dict = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        out[key] = sum(values) / len(values)
        out[f"{key}_range"] = (min(values), max(values))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(pipeline.CONFIG))
    parser.add_argument(
        "--heldout", action="append", help="a held-out set to measure on (repeatable; default: both in tests/nlu)"
    )
    parser.add_argument("--without", action="append", default=[], help="a component left out of the second variant")
    parser.add_argument("--with", dest="add", action="append", default=[], help="a component added before DIET")
    parser.add_argument("--against", action="append", default=[], help="another whole config file, as a variant")
    parser.add_argument("--seeds", type=int, default=1, help="train each variant with this many DIET seeds")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: measure one model, print JSON
    args = parser.parse_args(argv)
    sets = [Path(p) for p in args.heldout or [PROJECT_ROOT / "tests" / "nlu" / name for name in HELDOUT_SETS]]
    if args.measure:
        print(json.dumps(asyncio.run(_measure(Path(args.measure), sets))))
        return 0
    rows: List[Dict] = []
    with tempfile.TemporaryDirectory(prefix="nlu-compare-") as tmp:
        folder = Path(tmp)
        variants: List[tuple] = [("config.yml", Path(args.config), [], [])]
        if args.without or args.add:
            label = " ".join([*(f"without {c}" for c in args.without), *(f"with {c}" for c in args.add)])
            variants.append((label, Path(args.config), args.without, args.add))
        variants += [(Path(other).name, Path(other), [], []) for other in args.against]
        for label, base, without, add in variants:
            runs = []
            for seed in range(42, 42 + args.seeds):
                config = variant_config(base, without, folder, add, seed if args.seeds > 1 else None)
                name = f"model-{len(rows)}-{seed}"
                seconds = train_nlu(config, folder, name)
                measured = subprocess.run(
                    [sys.executable, "-m", "crm.nlu.compare", "--measure", str(folder / f"{name}.tar.gz")]
                    + [arg for path in sets for arg in ("--heldout", str(path))],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=str(PROJECT_ROOT),
                )
                runs.append({"train_s": seconds, **json.loads(measured.stdout.strip().splitlines()[-1])})
            rows.append({"variant": label + (f" ({args.seeds} seeds, mean)" if args.seeds > 1 else ""), **_mean(runs)})
    lines = []
    for index, path in enumerate(sets):
        suffix = f"@{index}" if index else ""
        lines += [f"{path.name}:", "", *_table(rows, suffix), ""]
    lines += ["| variant | parse ms (median / p95) | model memory MB | NLU training s |", "|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['parse_ms_median']:.1f} / {r['parse_ms_p95']:.1f} | {r['model_mb']:.0f} "
            f"| {r['train_s']:.0f} |"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def _table(rows: List[Dict], suffix: str) -> List[str]:
    lines = [
        "| variant | accuracy | macro F1 | unrelated → fallback | in-scope → fallback | unrelated → costly |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {_spread(r, 'accuracy' + suffix)} | {_spread(r, 'macro_f1' + suffix)} | "
            f"{_spread(r, 'unrelated_to_fallback' + suffix)} | {_spread(r, 'in_scope_to_fallback' + suffix)} | "
            f"{r['unrelated_to_costly' + suffix]:.1f}/{r['unrelated' + suffix]:.0f} |"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
