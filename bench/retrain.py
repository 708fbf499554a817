#!/usr/bin/env python3
"""Retrain wall time and peak memory (RSS) per engine, at the demo's size and at 1M events.

    .venv/bin/python bench/retrain.py                                   # 100k and 1M events, fast engines
    .venv/bin/python bench/retrain.py --events 100000 --engines item_cf deep
    .venv/bin/python bench/retrain.py --db --events 100000              # + the database load step

Each (size, engine) runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own. The
subprocess does what ``training.train`` does after loading the data: build the interaction
matrix (``Dataset.from_frames``), then ``fitting.fit_for_training`` (self-tuning within
``TUNING_SECONDS``, validation on a hold-out split of ``VALIDATION_MAX_USERS`` users, the final
fit; a time-bounded engine shares its ``max_seconds`` between the two fits) and save the
artifact, at the app's default settings; the frames come from the demo generator
(``demo_shop.catalog.generator.generate_frames``, seeded), pickled once per size, so loading
them stands in for ``data.load_frames``. ``--db`` additionally times ``data.load_frames``
from a temporary SQLite database filled with the same events (the step the frames replace).

Prints a table and writes JSON to ``bench/results/retrain.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from recommendations.evaluation import peak_rss_mib  # noqa: E402

FAST_ENGINES = ["popular", "trending", "item_cf", "user_cf", "content", "rating"]


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def child(frames_path: str, engine: str) -> dict:
    """One engine's retrain on pickled frames; prints a JSON line."""
    _setup_django()
    import pandas as pd

    from recommendations import training
    from recommendations.algorithms.dataset import Dataset
    from recommendations.artifacts import save_bundle
    from recommendations.conf import app_settings
    from recommendations.fitting import fit_for_training

    rss_start = peak_rss_mib()
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    events, products = pd.read_pickle(frames_path)
    t_load = time.perf_counter() - t0
    params = app_settings.ENGINE_PARAMS.get(engine, {})
    t0 = time.perf_counter()
    dataset = Dataset.from_frames(events, products, event_weights=app_settings.EVENT_WEIGHTS,
                                  decay_half_life_days=app_settings.TIME_DECAY_HALF_LIFE_DAYS)
    dataset = training._apply_min_support(dataset, app_settings.MIN_SUPPORT)
    del events
    t_build = time.perf_counter() - t0
    t_steps = time.perf_counter()
    stages: dict[str, float] = {}
    fitted = fit_for_training(  # tuning, validation and the final fit, as training.train does
        engine, dataset, params, tuning_seconds=app_settings.TUNING_SECONDS,
        validation_max_users=app_settings.VALIDATION_MAX_USERS,
        stage=lambda name, percent: stages.setdefault(name, time.perf_counter()))
    t_end = time.perf_counter()
    marks = [t_steps, *stages.values(), t_end]
    spans = dict(zip(stages, (b - a for a, b in zip(marks[1:], marks[2:]))))
    t_tune, t_validate, t_fit = spans.get("tuning", 0.0), spans["validating"], spans["fitting"]
    model = fitted.model
    history = {k: v for k, v in getattr(model, "history_", {}).items()
               if k in ("softmax", "epochs_run", "best_epoch", "max_epochs", "stopped_by_time")}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as fh:
        save_bundle(model, dataset.user_ids, dataset.item_ids, fh)
        artifact_mb = fh.tell() / 1e6
    t_save = time.perf_counter() - t0
    return {
        "engine": engine, "n_users": dataset.n_users, "n_products": dataset.n_items,
        "n_events": dataset.n_events, "load_frames_s": t_load, "build_s": t_build,
        "tune_s": t_tune, "validate_s": t_validate, "fit_s": t_fit, "save_s": t_save,
        "retrain_s": t_build + (t_end - t_steps) + t_save,
        "tuning": fitted.tuning, "params": fitted.params,
        "peak_rss_mb": peak_rss_mib(), "rss_before_data_mb": rss_start, "artifact_mb": artifact_mb,
        "ndcg@10": fitted.metrics.get("ndcg@10"),
        "load_avg_1min": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        **({"history": history} if history else {}),
    }


def db_load(events_pickle: str) -> dict:
    """Time ``data.load_frames`` from a temporary SQLite database holding the same events."""
    tmp = Path(tempfile.mkdtemp(prefix="rec-bench-db-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    _setup_django()
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from recommendations.data import load_frames
    from recommendations.models import Event, Product, Rating

    call_command("migrate", verbosity=0)
    events, products = pd.read_pickle(events_pickle)
    Product.objects.bulk_create([Product(id=int(p), name=str(n), category=str(c))
                                 for p, n, c in zip(products["product_id"], products["name"],
                                                    products["category"])], batch_size=5000)
    User = get_user_model()
    users = sorted(events["user_id"].astype(str).unique())
    User.objects.bulk_create([User(username=f"u{u}") for u in users], batch_size=5000)
    pk = dict(User.objects.values_list("username", "pk"))
    kinds = {"view": 1, "cart": 2, "purchase": 3}
    t0 = time.perf_counter()
    rated = events["event"] == "rating"
    ev = events[~rated]
    for start in range(0, len(ev), 50_000):
        part = ev.iloc[start:start + 50_000]
        Event.objects.bulk_create([Event(user_id=pk[f"u{u}"], product_id=int(p), kind=kinds[e],
                                         quantity=max(1, int(v)))
                                   for u, p, e, v in zip(part["user_id"], part["product_id"],
                                                         part["event"], part["value"])], batch_size=5000)
    rt = events[rated].drop_duplicates(["user_id", "product_id"], keep="last")
    Rating.objects.bulk_create([Rating(user_id=pk[f"u{u}"], product_id=int(p), score=int(v))
                                for u, p, v in zip(rt["user_id"], rt["product_id"], rt["value"])],
                               batch_size=5000)
    t_insert = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame, _ = load_frames()
    t_read = time.perf_counter() - t0
    return {"rows": len(frame), "insert_s": t_insert, "load_frames_s": t_read, "peak_rss_mb": peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description="Retrain time and memory per engine.")
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", default=FAST_ENGINES)
    parser.add_argument("--db", action="store_true", help="also time loading events from SQLite")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "retrain.json"))
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (default 1)")
    parser.add_argument("--child", nargs=2, metavar=("FRAMES", "ENGINE"), help=argparse.SUPPRESS)
    parser.add_argument("--db-child", metavar="FRAMES", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(*args.child)), flush=True)
        return
    if args.db_child:
        print("RESULT " + json.dumps(db_load(args.db_child)), flush=True)
        return

    sys.path.insert(0, str(ROOT))
    from demo_shop.catalog.generator import generate_frames

    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OPENBLAS_NUM_THREADS": str(args.threads),
           "MKL_NUM_THREADS": str(args.threads), "TF_NUM_INTRAOP_THREADS": str(args.threads),
           "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("DATABASE_URL", None)
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="rec-bench-"))
    for n_events in args.events:
        t0 = time.perf_counter()
        n_users = max(1000, n_events // 100)
        events, products = generate_frames(n_users=n_users, n_events=n_events)
        frames = tmp / f"frames-{n_events}.pkl"
        import pandas as pd

        pd.to_pickle((events, products), frames)
        print(f"\n{n_events:,} events ({n_users:,} users, {len(products):,} products) generated in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        del events, products
        runs = [(engine, [sys.executable, __file__, "--child", str(frames), engine]) for engine in args.engines]
        if args.db:
            runs.append(("(database load)", [sys.executable, __file__, "--db-child", str(frames)]))
        for engine, command in runs:
            started = time.perf_counter()
            proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - started
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if proc.returncode or line is None:
                error = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
                row = {"engine": engine, "events": n_events, "error": error[0], "process_wall_s": wall}
            else:
                row = {"events": n_events, **json.loads(line[7:]), "process_wall_s": wall}
                row.setdefault("engine", engine)
            results.append(row)
            _print_row(row)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Rows of earlier runs (other sizes or engines) are kept; a re-measured one is replaced.
    earlier = json.loads(out.read_text()) if out.exists() else {}
    fresh = {(r["events"], r["engine"]) for r in results}
    kept = [r for r in earlier.get("results", []) if (r.get("events"), r.get("engine")) not in fresh]
    commands = [c for c in earlier.get("commands", []) if c]
    commands.append(" ".join(["python", "bench/retrain.py", *sys.argv[1:]]))
    out.write_text(json.dumps({
        "commands": commands,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "threads": args.threads, "platform": platform.platform()},
        "results": sorted(kept + results, key=lambda r: (r["events"], r["engine"])),
    }, indent=2) + "\n")
    print(f"\nwrote {out}")


def _print_row(row: dict) -> None:
    if "error" in row:
        print(f"{row['events']:>9,}  {row['engine']:<16} FAILED: {row['error']}", flush=True)
    elif row["engine"] == "(database load)":
        print(f"{row['events']:>9,}  {row['engine']:<16} insert {row['insert_s']:7.1f} s   "
              f"load_frames {row['load_frames_s']:6.1f} s   peak RSS {row['peak_rss_mb']:7.0f} MB",
              flush=True)
    else:
        print(f"{row['events']:>9,}  {row['engine']:<16} retrain {row['retrain_s']:7.2f} s "
              f"(build {row['build_s']:.2f}, tune {row['tune_s']:.2f}, validate {row['validate_s']:.2f}, "
              f"fit {row['fit_s']:.2f}, "
              f"save {row['save_s']:.2f})   peak RSS {row['peak_rss_mb']:7.0f} MB   "
              f"artifact {row['artifact_mb']:.1f} MB   ndcg@10 {row['ndcg@10']:.4f}", flush=True)


if __name__ == "__main__":
    main()
