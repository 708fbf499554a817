#!/usr/bin/env python
"""What the ``RERANK`` setting adds to computing a personalised list (the uncached path;
cached lists are stored re-ranked and cost the same either way).

Builds the demo shop in a temporary SQLite database, trains ``popular``, ``content`` and the
timed engine (``item_cf``, or ``--engine``), then times ``serving.recommend_for(...,
use_cache=False)`` for signed-in shoppers with re-ranking off and with each method on. One
process, one thread of Python::

    python bench/rerank_latency.py
    python bench/rerank_latency.py --users 1000 --events 100000 --requests 300
    python bench/rerank_latency.py --engine hybrid --json bench/results/rerank_latency_hybrid.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SETTINGS = [None, {"method": "popularity", "strength": 1.0}, {"method": "mmr", "strength": 0.25},
            {"method": "mmr_content", "strength": 0.25}]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=2400)
    parser.add_argument("--requests", type=int, default=300, help="lists timed per setting")
    parser.add_argument("--engine", default="item_cf", help="the engine whose uncached lists are timed")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "rerank_latency.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rec-rerank-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo_shop.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    os.environ.pop("CELERY_BROKER_URL", None)

    import django
    from django.conf import settings

    django.setup()
    settings.MEDIA_ROOT = str(tmp / "media")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import override_settings

    from recommendations import serving, training

    call_command("migrate", verbosity=0)
    call_command("generate_demo_data", users=args.users, events=args.events, products=args.products,
                 verbosity=0)
    for engine in dict.fromkeys(("popular", "content", args.engine)):
        training.run_sync(engine, force=True)
    users = list(get_user_model().objects.filter(product_events__isnull=False).distinct()
                 .values_list("pk", flat=True)[: args.requests])
    rows, first_lists = [], {}
    for rerank in SETTINGS:
        with override_settings(RECOMMENDATIONS={**settings.RECOMMENDATIONS, "RERANK": rerank or {}}):
            for pk in users[:20]:  # warm-up: models loaded, popularity counted once per version
                serving.recommend_for(serving.Shopper(user_id=pk), 10, engine=args.engine, use_cache=False)
            times, lists = [], {}
            for i in range(args.requests):
                shopper = serving.Shopper(user_id=users[i % len(users)])
                started = time.perf_counter()
                recs = serving.recommend_for(shopper, 10, engine=args.engine, use_cache=False)
                times.append((time.perf_counter() - started) * 1000)
                assert len(recs) == 10
                assert {r.engine for r in recs} == {args.engine}, {r.engine for r in recs}  # no fallback
                lists[shopper.user_id] = [r.product_id for r in recs]
        label = "off" if rerank is None else f"{rerank['method']}:{rerank['strength']}"
        first_lists = first_lists or lists
        changed = sum(lists[u] != first_lists[u] for u in lists) / len(lists)
        rows.append({"rerank": label, "p50_ms": statistics.median(times), "p95_ms": pct(times, 0.95),
                     "max_ms": max(times), "requests": len(times), "lists_changed": changed})
    base = rows[0]["p50_ms"]
    print(f"{'RERANK':<20} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p50 added':>10} {'lists changed':>14}")
    for row in rows:
        print(f"{row['rerank']:<20} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['max_ms']:8.1f} "
              f"{row['p50_ms'] - base:+10.1f} {row['lists_changed']:14.0%}")
    load = os.getloadavg()[0]
    Path(args.json).write_text(json.dumps({
        "command": " ".join(sys.argv), "users": args.users, "events": args.events, "products": args.products,
        "engine": args.engine, "n": 10, "load_average_1min_at_end": load, "threads": "1 (Python), BLAS default",
        "results": rows}, indent=2) + "\n")
    print(f"load average at the end: {load:.2f}; wrote {args.json}")


if __name__ == "__main__":
    main()
