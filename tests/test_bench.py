"""`make bench`'s profile summary: categories by the first matching marker, waiting threads left out."""

from __future__ import annotations

import sys

from crm.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import bench  # noqa: E402


def test_profile_summary_counts_each_sample_once_and_leaves_idle_workers_out(tmp_path):
    folded = tmp_path / "profile.folded"
    folded.write_text(
        "MainThread;run (rasa/core/processor.py:10);save (rasa/core/tracker_store.py:1360);commit (x.py:1) 30\n"
        "MainThread;predict (rasa/core/policies/ted_policy.py:5);featurize (rasa/core/featurizers/"
        "tracker_featurizers.py:9) 10\n"
        "MainThread;process (rasa/nlu/classifiers/diet_classifier.py:3) 40\n"
        "MainThread;select (selectors.py:1) 20\n"
        "ThreadPoolExecutor-0_0;_bootstrap (threading.py:973);_worker (concurrent/futures/thread.py:81) 900\n"
        "MainThread;run (sanic/app.py:1);serve (sanic/server/runners.py:155) 500\n"  # uvloop polling
        "ThreadPoolExecutor-0_1;_save_live (crm/runtime/tracker_store.py:9);"
        "exclusive (crm/runtime/file_lock.py:18) 70\n"
        "not a sample line\n"
    )
    shares = bench.summarise_profile(folded)
    assert shares["tracker store (SQL, events to and from JSON)"] == 30.0
    assert shares["dialogue: featurizing the conversation for the policies"] == 10.0  # first match wins
    assert shares["dialogue: TED policy inference"] == 0.0
    assert shares["NLU pipeline (tokenizer, featurizers, DIET)"] == 40.0
    assert shares[bench.OTHER] == 20.0
    assert abs(sum(shares.values()) - 100.0) < 1e-9
