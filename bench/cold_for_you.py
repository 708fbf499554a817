#!/usr/bin/env python
"""The first, uncached ``for-you/`` of a signed-in shopper, per serving engine, engines interleaved.

A shop's first visit after sign-in finds nothing cached: the list is computed (the shopper's
history read, the engine's scores, the rules, the reasons) and stored. ``bench/load.py`` measures
that request with item_cf serving only; the shop's default serving engine is the hybrid. This
script serves the same demo data (PostgreSQL, Redis; ``bench/load_settings.py``) from one
gunicorn per engine in ``--engines`` (one sync worker each, ``SERVING_ENGINE`` set to the engine:
the path a shop with that setting takes) and asks each shopper's ``for-you/`` once, one request at
a time, **interleaved**: shopper by shopper the engines take turns, the order rotated each turn,
so the machine's other work weighs on every engine alike. Two kinds of shopper, each seen by one
engine only (distinct shoppers, so nothing of one engine's request is cached for the other's):

* ``trained``: a demo shopper the models were trained on (their history is in the models'
  matrices; nothing new since training);
* ``new``: a shopper who signed up after training, with ``--history`` events (copied from a demo
  shopper, stamped now): unknown to the models, scored from the history read at request time.

Reported per engine and kind: p50 / p95 / mean latency (client side, loopback HTTP) and the
worker's CPU time per request (user + system from /proc, summed per engine: unlike latency it
barely depends on the machine's load), and the ratios of each engine to the first one. The JSON
goes to ``bench/results/``::

    python bench/cold_for_you.py --events 100000 --shoppers 100        # hybrid vs item_cf
    python bench/cold_for_you.py --events 1000000 --json bench/results/cold-for-you-1m.json
    python bench/cold_for_you.py --engines item_cf@2,hybrid@2,item_cf@1,hybrid@1  # BLAS threads per server
    python bench/cold_for_you.py --engines hybrid=/tmp/before,hybrid   # an older checkout (git archive) vs this one

Generates the demo data when the database has fewer events than ``--events`` and trains popular,
trending and the ``--engines`` that have no active version (``recommendations_train --sync``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import API, PYTHON, cpu_seconds, manage, require_database, start_gunicorn, stop, summary, write_results  # noqa: E402

SETUP = r"""
import json, random, sys
import django
django.setup()
from datetime import timedelta
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils import timezone
from recommendations.models import Event, ModelVersion
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
n_trained, n_new, history, prefix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
User = get_user_model()
User.objects.filter(username__startswith=prefix).delete()  # an earlier run's new shoppers, their events too
rng = random.Random(7)
demo = list(User.objects.filter(username__startswith="shopper", product_events__isnull=False).distinct()
            .order_by("pk").values_list("pk", flat=True))
rng.shuffle(demo)
trained = User.objects.in_bulk(demo[:n_trained])
trained = [trained[pk] for pk in demo[:n_trained]]
new, now = [], timezone.now()
for i, source in enumerate(demo[n_trained:n_trained + n_new]):
    user = User.objects.create_user(f"{prefix}{i}", password=None)
    rows = Event.objects.filter(user_id=source).order_by("-created_at")[:history]
    Event.objects.bulk_create([Event(user=user, product_id=e.product_id, kind=e.kind, quantity=e.quantity,
                                     unit_price=e.unit_price, created_at=now - timedelta(seconds=j))
                               for j, e in enumerate(rows)])
    new.append(user)

def cookie(user):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.save()
    return f"{settings.SESSION_COOKIE_NAME}={s.session_key}"

active = list(ModelVersion.objects.filter(is_active=True).values("engine", "pk", "n_events", "started_at"))
print(json.dumps({"trained": [cookie(u) for u in trained], "new": [cookie(u) for u in new],
                  "events": Event.objects.count(), "active": active}, default=str))
"""


PROFILE = r"""
import cProfile, io, json, pstats, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
n, kind = int(sys.argv[1]), sys.argv[2]
User = get_user_model()
prefix = "coldbench-" if kind == "new" else "shopper"
users = list(User.objects.filter(username__startswith=prefix, product_events__isnull=False).distinct()
             .order_by("-pk")[:n + 3])
cache.clear()  # nothing cached: every list is computed
client = Client(HTTP_USER_AGENT="bench-cold/1 Mozilla/5.0", HTTP_HOST="127.0.0.1")
for user in users[:3]:  # warm: models loaded, imports done
    client.force_login(user)
    assert client.get("/api/recommendations/for-you/").status_code == 200
profile, total = cProfile.Profile(), 0.0
for user in users[3:]:
    client.force_login(user)
    start = time.perf_counter()
    profile.enable()
    response = client.get("/api/recommendations/for-you/")
    profile.disable()
    total += time.perf_counter() - start
    assert response.status_code == 200
out = io.StringIO()
pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(r"recommendations|numpy|scipy|django/db", 40)
done = max(1, len(users) - 3)
print(json.dumps({"requests": done, "ms_per_request_profiled": round(1000 * total / done, 2), "stats": out.getvalue()}))
"""


def server_env(env: dict[str, str], spec: str) -> dict[str, str]:
    """The environment of a server for ``ENGINE[@BLAS_THREADS][=CODE_ROOT]``."""
    spec, _, code = spec.partition("=")
    engine, _, threads = spec.partition("@")
    blas = {name: threads for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")} if threads else {}
    root = str(Path(code).resolve()) if code else str(ROOT)
    return {**env, "BENCH_SERVING_ENGINE": engine, **blas, "PYTHONPATH": root}


def profile(env: dict[str, str], kind: str, n: int) -> dict:
    """cProfile of ``n`` uncached for-you requests in one process (Django's test client)."""
    result = subprocess.run([PYTHON, "-c", PROFILE, str(n), kind], cwd=ROOT, capture_output=True, text=True,
                            env=env)
    if result.returncode:
        return {"error": result.stderr[-2000:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def setup(env: dict[str, str], n_trained: int, n_new: int, history: int) -> dict:
    result = subprocess.run([PYTHON, "-c", SETUP, str(n_trained), str(n_new), str(history), "coldbench-"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def get(conn: http.client.HTTPConnection, cookie: str) -> tuple[float, int, str]:
    """One ``for-you/`` request: (milliseconds to the last byte, status, the list's engine)."""
    start = time.perf_counter()
    conn.request("GET", API + "for-you/", headers={"Cookie": cookie, "User-Agent": "bench-cold/1 Mozilla/5.0"})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    engine = json.loads(body).get("engine", "") if response.status == 200 else ""
    return elapsed, response.status, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/recs_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engines", default="item_cf,hybrid",
                        help="serving engines, the first the yardstick; ENGINE@N serves it with N BLAS threads "
                             "(OPENBLAS/OMP/MKL_NUM_THREADS), e.g. hybrid@1,hybrid@2; ENGINE=DIR serves it from "
                             "another checkout (e.g. `git archive` of an older commit), e.g. hybrid=/tmp/before,hybrid")
    parser.add_argument("--shoppers", type=int, default=100, help="shoppers per engine and kind")
    parser.add_argument("--kinds", default="trained,new", help="trained and/or new shoppers")
    parser.add_argument("--history", type=int, default=10, help="events of each new shopper")
    parser.add_argument("--warm", type=int, default=5, help="warm-up requests per server and kind (not counted)")
    parser.add_argument("--port", type=int, default=58200, help="the first engine's port; the next ones follow")
    parser.add_argument("--profile", type=int, default=0,
                        help="then cProfile this many uncached requests per engine and kind in one process")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    require_database(args.database_url)
    engines = [e for e in args.engines.split(",") if e]
    kinds = [k for k in args.kinds.split(",") if k]

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.load_settings", "DATABASE_URL": args.database_url,
           "BENCH_REDIS_URL": args.redis_url, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    manage(env, "migrate", "--noinput")
    info = setup(env, 0, 0, 0)
    if info["events"] < args.events * 0.95:
        print(f"generating demo data with {args.events} events ...", flush=True)
        print(manage(env, "generate_demo_data", "--flush", "--events", str(args.events)))
    active = {row["engine"] for row in setup(env, 0, 0, 0)["active"]}
    served = [server_env(env, spec)["BENCH_SERVING_ENGINE"] for spec in engines]
    for engine in dict.fromkeys(["popular", "trending", *served]):
        if engine not in active:
            print(f"training {engine} ...", flush=True)
            print(manage(env, "recommendations_train", "--sync", "--engine", engine, "--force"))
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # nothing cached: every list below is computed
    per_kind = (args.shoppers + args.warm) * len(engines)
    info = setup(env, per_kind if "trained" in kinds else 0, per_kind if "new" in kinds else 0, args.history)
    print(f"data: {info['events']} events; active: {[(a['engine'], a['pk']) for a in info['active']]}", flush=True)

    servers = {engine: start_gunicorn("demo_shop.wsgi:application", args.port + j, 1, server_env(env, engine),
                                      Path(server_env(env, engine)["PYTHONPATH"]))
               for j, engine in enumerate(engines)}
    conns = {engine: http.client.HTTPConnection("127.0.0.1", args.port + j, timeout=60)
             for j, engine in enumerate(engines)}
    results: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "data": {"events": info["events"], "active": info["active"]}, "config": vars(args),
        "gunicorn": "1 sync worker per engine, 127.0.0.1",
        "blas_threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        "loadavg_at_start": os.getloadavg(), "requests": [], "table": {}}
    try:
        # Each kind's shoppers, split among the engines; the first --warm of each share load the
        # models and warm the process (not counted).
        shares = {(kind, engine): info[kind][j::len(engines)] for kind in kinds for j, engine in enumerate(engines)}
        for (_kind, engine), cookies in shares.items():
            for cookie in cookies[:args.warm]:
                _, status, served = get(conns[engine], cookie)
                assert status == 200, f"{engine} answered {status} during warm-up"
        cpu: dict[tuple[str, str], float] = {key: 0.0 for key in shares}
        for i in range(args.shoppers):
            for kind in kinds:
                order = engines[i % len(engines):] + engines[:i % len(engines)]
                for engine in order:
                    cookie = shares[kind, engine][args.warm + i]
                    before = cpu_seconds(servers[engine])
                    ms, status, served = get(conns[engine], cookie)
                    cpu[kind, engine] += cpu_seconds(servers[engine]) - before
                    results["requests"].append({"kind": kind, "engine": engine, "ms": round(ms, 3),
                                                "status": status, "list_engine": served})
        for kind in kinds:
            for engine in engines:
                rows = [r for r in results["requests"] if r["kind"] == kind and r["engine"] == engine]
                row = summary([r["ms"] for r in rows])
                row["worker_cpu_ms_per_request"] = round(cpu[kind, engine] * 1000 / max(1, len(rows)), 2)
                row["non_200"] = sum(r["status"] != 200 for r in rows)
                row["list_engines"] = {e: sum(r["list_engine"] == e for r in rows)
                                       for e in sorted({r["list_engine"] for r in rows})}
                results["table"][f"{kind} / {engine}"] = row
            base = results["table"][f"{kind} / {engines[0]}"]
            for engine in engines[1:]:
                row = results["table"][f"{kind} / {engine}"]
                row["x_" + engines[0]] = {q: round(row[q] / base[q], 2)
                                          for q in ("p50_ms", "p95_ms", "mean_ms", "worker_cpu_ms_per_request")}
    finally:
        for conn in conns.values():
            conn.close()
        for server in servers.values():
            stop(server)
        results["loadavg_at_end"] = os.getloadavg()
        if args.profile:
            results["profiles"] = {f"{kind} / {engine}": profile(server_env(env, engine), kind, args.profile)
                                   for kind in kinds for engine in engines}
        results["total_seconds"] = round(time.perf_counter() - started, 1)
    report(results, args)


def report(results: dict, args) -> None:
    print(f"\nFirst, uncached for-you/, one request at a time, {results['data']['events']} events; "
          f"{args.shoppers} shoppers per engine and kind, engines interleaved\n")
    print("| shopper / engine | p50 ms | p95 ms | mean ms | worker CPU ms/req | x first engine (p50, p95, CPU) "
          "| lists by engine |")
    print("|---|---|---|---|---|---|---|")
    for label, r in results["table"].items():
        ratio = next((v for k, v in r.items() if k.startswith("x_")), None)
        versus = f"{ratio['p50_ms']:.2f}, {ratio['p95_ms']:.2f}, {ratio['worker_cpu_ms_per_request']:.2f}" \
            if ratio else ""
        print(f"| {label} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['mean_ms']:.1f} | "
              f"{r['worker_cpu_ms_per_request']:.2f} | {versus} | {r['list_engines']} |")
    for label, found in results.get("profiles", {}).items():
        print(f"\nProfile, {label}: {found.get('ms_per_request_profiled')} ms per request under cProfile\n"
              f"{found.get('stats') or found.get('error')}")
    out = write_results(results, args.json, f"cold-for-you-{results['data']['events']}.json")
    print(f"\nJSON: {out}  (load average at start {results['loadavg_at_start']}, at end "
          f"{results['loadavg_at_end']}; {results['total_seconds']} s)")


if __name__ == "__main__":
    main()
