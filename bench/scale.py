#!/usr/bin/env python
"""Fit time and peak memory of every engine on generated shops of growing size.

Each (size, engine) fit runs in its own process so its peak RSS is its own. The data comes
from the demo generator (no database), built once per size and cached in a temp folder.

    python bench/scale.py                                   # 100k, 1M and 5M events, all engines
    python bench/scale.py --sizes 100000 --engines popular,item_cf
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENGINES = ["popular", "trending", "item_cf", "user_cf", "content", "rating", "deep", "hybrid"]
#: events -> (shoppers, products): the shop grows in every direction, not just in events.
SHAPES = {100_000: (1_000, 2_400), 1_000_000: (10_000, 10_000), 5_000_000: (50_000, 20_000)}


def dataset_path(cache: Path, n_events: int) -> Path:
    path = cache / f"dataset-{n_events}.pkl"
    if not path.exists():
        from demo_shop.catalog.generator import generate_frames
        from recommendations.algorithms.dataset import Dataset

        users, products = SHAPES.get(n_events, (max(1000, n_events // 100), 10_000))
        started = time.perf_counter()
        events, catalogue = generate_frames(n_users=users, n_events=n_events, n_products=products)
        dataset = Dataset.from_frames(events, catalogue)
        with path.open("wb") as fh:
            pickle.dump(dataset, fh, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"generated {n_events:,} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def fit_one(path: str, engine: str) -> None:
    """Child process: load the dataset, fit one engine, print a JSON line."""
    from recommendations.algorithms import get_engine
    from recommendations.evaluation import peak_rss_mib  # VmHWM: not inherited across fork/exec

    with open(path, "rb") as fh:
        dataset = pickle.load(fh)
    before = peak_rss_mib()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    model = get_engine(engine).fit(dataset)
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    # how the training ended, where the engine reports it (deep: epochs, time budget)
    history = {k: v for k, v in getattr(model, "history_", {}).items()
               if k in ("softmax", "epochs_run", "best_epoch", "max_epochs", "stopped_by_time", "val_ndcg@10")}
    print(json.dumps({"engine": engine, "fit_seconds": round(seconds, 2),
                      "peak_rss_mb": round(peak), "data_rss_mb": round(before),
                      "users": dataset.n_users, "products": dataset.n_items,
                      "events": dataset.n_events,
                      "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                      **({"history": history} if history else {})}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per fit")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "recommendations-scale"))
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "scale.json"))
    parser.add_argument("--fit", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit:
        fit_one(*args.fit)
        return

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'events':>10} {'users':>7} {'products':>8}  {'engine':<9}{'fit s':>9}{'peak RSS MB':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        path = dataset_path(cache, size)
        for engine in args.engines.split(","):
            try:
                out = subprocess.run([sys.executable, __file__, "--fit", str(path), engine],
                                     capture_output=True, text=True, timeout=args.timeout, check=True)
                row = json.loads(out.stdout.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                row = {"engine": engine, "error": f"over {args.timeout} s"}
            except subprocess.CalledProcessError as exc:
                row = {"engine": engine, "error": exc.stderr.strip().splitlines()[-1][:200]}
            row["size"] = size
            rows.append(row)
            if "error" in row:
                print(f"{size:>10,} {'':>7} {'':>8}  {engine:<9} {row['error']}")
            else:
                print(f"{size:>10,} {row['users']:>7,} {row['products']:>8,}  {engine:<9}"
                      f"{row['fit_seconds']:>9.1f}{row['peak_rss_mb']:>13,}", flush=True)
    threads = os.environ.get("OMP_NUM_THREADS", "default (2 cores)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"threads": threads, "results": rows}, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
