#!/usr/bin/env python
"""What one cached list request costs in the process, beside its floor (``bench/floor.py``):
Python function calls per request (counted by cProfile: the same on a busy machine as on a quiet
one) and CPU time per request (``time.process_time``, without cProfile), through Django's test
client (no HTTP server, no queueing), rounds interleaved.

Runs against the database and Redis that ``bench/load.py`` filled (run that first), in a fresh
process per configuration, because the floor and the shop use different settings::

    python bench/request_cost.py --database-url postgres://postgres@127.0.0.1:5432/recs_bench
    python bench/request_cost.py --cache-backend recommendations.cache.RedisCache
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import require_database, write_results  # noqa: E402

ENDPOINTS = {  # label: (settings, path, signed in)
    "for-you/": ("bench.load_settings", "/api/recommendations/for-you/", True),
    "products/<pk>/similar/": ("bench.load_settings", "/api/recommendations/products/{pk}/similar/", False),
    "trending/": ("bench.load_settings", "/api/recommendations/trending/", False),
    "signed-in floor": ("bench.floor_settings", "/floor/signed-in/", True),
    "anonymous floor": ("bench.floor_settings", "/floor/anonymous/", False),
    # The same floor behind the shop's middleware (bench/load_urls.py): the shop's own stack.
    "anonymous floor in the shop": ("bench.load_settings", "/floor/anonymous/", False),
}
FLOORS = {"for-you/": "signed-in floor", "products/<pk>/similar/": "anonymous floor",
          "trending/": "anonymous floor"}

MEASURE = r"""
import json, os, sys, time, cProfile, pstats
import django
django.setup()
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.test import Client
from recommendations.models import Event

path, signed_in, n = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
store = import_module(settings.SESSION_ENGINE).SessionStore
clients = []
for user in get_user_model().objects.filter(username__startswith="shopper").order_by("pk")[:50]:
    client = Client(HTTP_USER_AGENT="bench-load/1 Mozilla/5.0", HTTP_HOST="127.0.0.1")
    if signed_in:
        s = store()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.save()
        client.cookies[settings.SESSION_COOKIE_NAME] = s.session_key
    clients.append(client)
products = list(Event.objects.values_list("product_id", flat=True).distinct().order_by("product_id")[:50])

def one(i):
    response = clients[i % 50].get(path.format(pk=products[i % 50]))
    assert response.status_code == 200, response.status_code

for i in range(200):  # warm: lists cached, products in the product cache
    one(i)
start = time.process_time()
for i in range(n):
    one(i)
cpu_ms = (time.process_time() - start) * 1000 / n
profile = cProfile.Profile()
profile.enable()
for i in range(n):
    one(i)
profile.disable()
calls = pstats.Stats(profile).total_calls / n
print(json.dumps({"cpu_ms": cpu_ms, "calls": calls}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/recs_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--session-engine", default="django.contrib.sessions.backends.cached_db")
    parser.add_argument("--cache-backend", default="django.core.cache.backends.redis.RedisCache")
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    require_database(args.database_url)
    env = {**os.environ, "DATABASE_URL": args.database_url, "BENCH_REDIS_URL": args.redis_url,
           "BENCH_SESSION_ENGINE": args.session_engine, "BENCH_CACHE_BACKEND": args.cache_backend,
           "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    rounds: dict[str, list[dict]] = {label: [] for label in ENDPOINTS}
    for _ in range(args.rounds):
        for label, (settings_module, path, signed_in) in ENDPOINTS.items():
            result = subprocess.run([sys.executable, "-c", MEASURE, path, "1" if signed_in else "0",
                                     str(args.requests)], cwd=ROOT, capture_output=True, text=True,
                                    env={**env, "DJANGO_SETTINGS_MODULE": settings_module})
            if result.returncode:
                sys.exit(f"{label}: {result.stderr[-2000:]}")
            rounds[label].append({**json.loads(result.stdout.strip().splitlines()[-1]),
                                  "loadavg_1min": os.getloadavg()[0]})
    table = {}
    for label, runs in rounds.items():
        row = {"cpu_ms": statistics.median(r["cpu_ms"] for r in runs),
               "calls": statistics.median(r["calls"] for r in runs),
               "loadavg": [round(r["loadavg_1min"], 1) for r in runs]}
        floor = FLOORS.get(label)
        if floor:
            row["floor"] = floor
            row["cpu_ratio"] = statistics.median(r["cpu_ms"] / f["cpu_ms"] for r, f in zip(runs, rounds[floor]))
            row["calls_ratio"] = row["calls"] / statistics.median(f["calls"] for f in rounds[floor])
        table[label] = row
    print(f"\nIn-process cost of a cached request ({args.requests} requests x {args.rounds} interleaved rounds; "
          f"cache {args.cache_backend}, sessions {args.session_engine})\n")
    print("| request | CPU ms/request | x floor | Python calls/request | x floor | load average per round |")
    print("|---|---|---|---|---|---|")
    for label, row in table.items():
        print(f"| {label} | {row['cpu_ms']:.2f} | {row.get('cpu_ratio', 0) and format(row['cpu_ratio'], '.2f')} | "
              f"{row['calls']:.0f} | {row.get('calls_ratio', 0) and format(row['calls_ratio'], '.2f')} | "
              f"{', '.join(map(str, row['loadavg']))} |")
    out = write_results({"config": vars(args), "rounds": rounds, "table": table}, args.json, "request-cost.json")
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
