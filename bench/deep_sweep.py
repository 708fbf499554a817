"""Several ``deep`` configurations on the ML-100K random top-N protocol, one process.

    .venv/bin/python bench/deep_sweep.py '[{"l2": 0.03}, {"wide_items": 0}]' OUT.jsonl [--data DIR]

The split, metrics and engine are those of ``recommendations_evaluate --format movielens100k
--engines deep --params '{"deep": {...}}'`` (``evaluation.evaluate_topn``, seed 42); each
configuration's line in OUT.jsonl has its test ndcg@10, its validation ndcg@10 (the users the
engine carves from the training data, what a choice between configurations may rest on),
best epoch and fit seconds. It saves reloading Django and the data between configurations.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", help="JSON list of DeepRecommender parameter dicts")
    ap.add_argument("out", help="JSON-lines file to append to")
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/ml-100k"))
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_shop.settings")
    import django

    django.setup()
    from bench.deep_ml100k import project_dataset
    from recommendations import evaluation as ev
    from recommendations.algorithms.deep import DeepRecommender

    ds = project_dataset(args.data)
    for cfg in json.loads(args.configs):
        fitted: list[DeepRecommender] = []

        def spec(cfg: dict = cfg, fitted: list = fitted) -> DeepRecommender:
            fitted.append(DeepRecommender(**cfg))
            return fitted[-1]

        row = ev.evaluate_topn(ds, {"deep": spec}, progress=False, beyond_accuracy=False)[0]
        h = fitted[0].history_
        rec = {
            "cfg": cfg,
            "test_ndcg@10": row["ndcg@10"],
            "val_ndcg@10": h["val_ndcg@10"],
            "best_epoch": h["best_epoch"],
            "val_ndcg@10_wide": h.get("val_ndcg@10_wide"),
            "wide_scale": h.get("wide_scale"),
            "fit_s": row.get("fit_seconds"),
            "load": os.getloadavg()[0],
            "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        }
        print(json.dumps(rec), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
