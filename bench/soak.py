#!/usr/bin/env python3
"""Soak test of event capture: a fixed rate of ``POST events/`` for a fixed time from several
concurrent clients, then a count showing every accepted event stored exactly once.

Runs the demo shop under gunicorn (``--workers`` sync workers on 127.0.0.1) on a fresh PostgreSQL
database (created and dropped here) with Redis as cache, signed-in shoppers (sessions made
directly, CSRF token sent like a browser's JavaScript would). Request ``i`` is due at
``i / --rate`` seconds (open loop: a slow server does not slow the schedule) and carries a
(shopper, product) pair no other request uses, so stored rows can be matched one to one::

    .venv/bin/python bench/soak.py                         # 60 s at 100 req/s, 8 clients
    .venv/bin/python bench/soak.py --seconds 1800 --rate 100   # the long run (docs/reliability.md)
    .venv/bin/python bench/soak.py --seconds 8 --rate 30 --json /tmp/soak.json   # CI's short run

Prints a table and writes JSON; exits 1 if any accepted event is missing or stored twice, or any
request got a server error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.load import GUNICORN, PYTHON, percentile, stop, wait_port  # noqa: E402

CSRF = "soakcsrftoken" + "x" * 19  # any 32 letters: the cookie and the header must match
SETUP = r"""
import json, sys
import django
django.setup()
from decimal import Decimal
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore
from demo_shop.catalog.models import Category, Product
n_users, n_products = int(sys.argv[1]), int(sys.argv[2])
category = Category.objects.create(name="Soak", slug="soak")
products = Product.objects.bulk_create(
    Product(title=f"Soak product {i}", category=category, unit_price=Decimal("1.00")) for i in range(n_products))
User = get_user_model()
users = User.objects.bulk_create(User(username=f"soak{i}") for i in range(n_users))
users = list(User.objects.filter(username__startswith="soak").order_by("pk"))
sessions = []
for user in users:
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.save()
    sessions.append(s.session_key)
print(json.dumps({"users": [u.pk for u in users], "sessions": sessions,
                  "products": sorted(p.pk for p in Product.objects.filter(category=category))}))
"""
COUNT = r"""
import json
import django
django.setup()
from recommendations.models import Event
rows = list(Event.objects.filter(user__username__startswith="soak").values_list("user_id", "product_id", "quantity"))
print(json.dumps(rows))
"""


def run_python(code: str, env: dict[str, str], *args: str) -> object:
    result = subprocess.run([PYTHON, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def postgres(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=100, help="requests per second offered, in all")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8711)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL to create the soak database from")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "soak.json"))
    args = parser.parse_args()

    total = int(args.seconds * args.rate)
    n_products = max(1, -(-total // args.users))  # every request its own (shopper, product) pair
    db_name = f"rec_soak_{os.getpid()}"
    base = args.postgres.rsplit("/", 1)[0]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.load_settings", "DATABASE_URL": f"{base}/{db_name}",
           "BENCH_REDIS_URL": args.redis, "PYTHONPATH": str(ROOT)}
    env.pop("CELERY_BROKER_URL", None)
    postgres(args.postgres, f'CREATE DATABASE "{db_name}"')
    server = None
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        setup = run_python(SETUP, env, str(args.users), str(n_products))
        server = subprocess.Popen([GUNICORN, "demo_shop.wsgi", "--bind", f"127.0.0.1:{args.port}",
                                   "--workers", str(args.workers), "--log-level", "warning"],
                                  cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "bench.load_settings"},
                                  start_new_session=True)
        wait_port(args.port)
        for _ in range(4 * args.workers):  # warm each worker up (imports, connections)
            requests.get(f"http://127.0.0.1:{args.port}/api/recommendations/trending/", timeout=30)
        results = soak(args, total, setup)
        stored = run_python(COUNT, env)
    finally:
        if server is not None:
            stop(server)
        postgres(args.postgres, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    report(args, total, results, stored)


def soak(args, total: int, setup: dict) -> list[dict]:
    """Send ``total`` requests on schedule from ``--clients`` threads; one result per request."""
    users, sessions, products = setup["users"], setup["sessions"], setup["products"]
    due: queue.Queue[int | None] = queue.Queue()
    results: list[dict] = []
    lock = threading.Lock()
    url = f"http://127.0.0.1:{args.port}/api/recommendations/events/"
    start = time.monotonic() + 1.0

    def client() -> None:
        http = requests.Session()
        while (i := due.get()) is not None:
            shopper = i % len(users)
            pair = (users[shopper], products[i // len(users)])
            scheduled = start + i / args.rate
            time.sleep(max(0.0, scheduled - time.monotonic()))
            outcome: dict = {"i": i, "user": pair[0], "product": pair[1]}
            try:
                response = http.post(url, json={"product": pair[1], "event": "cart", "quantity": 1 + i % 3},
                                     cookies={"sessionid": sessions[shopper], "csrftoken": CSRF},
                                     headers={"X-CSRFToken": CSRF, "User-Agent": "Mozilla/5.0 soak"}, timeout=30)
                outcome["status"] = response.status_code
            except requests.RequestException as exc:
                outcome["status"] = f"connection: {type(exc).__name__}"
            outcome["latency_ms"] = (time.monotonic() - scheduled) * 1000
            outcome["quantity"] = 1 + i % 3
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for i in range(total):
        due.put(i)
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    return results


def report(args, total: int, results: list[dict], stored: list[list[int]]) -> None:
    statuses = Counter(str(r["status"]) for r in results)
    accepted = {(r["user"], r["product"], r["quantity"]) for r in results if r["status"] in (201, 202)}
    rows = Counter(tuple(row) for row in stored)
    missing = len(accepted - set(rows))
    duplicated = sum(n - 1 for n in rows.values() if n > 1)
    unexpected = len(set(rows) - accepted)
    server_errors = sum(n for s, n in statuses.items() if s.startswith("5") or s.startswith("connection"))
    latencies = [r["latency_ms"] for r in results]
    summary = {
        "command": " ".join(["bench/soak.py", *sys.argv[1:]]), "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": args.seconds, "offered_rate": args.rate, "clients": args.clients, "workers": args.workers,
        "sent": len(results), "scheduled": total, "statuses": dict(statuses), "accepted": len(accepted),
        "stored_rows": sum(rows.values()), "missing": missing, "duplicated": duplicated, "unexpected": unexpected,
        "server_errors": server_errors,
        "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
                       "p99": percentile(latencies, 0.99), "max": max(latencies, default=0.0)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
    }
    print(f"{'sent':>8} {'accepted':>9} {'stored':>8} {'missing':>8} {'twice':>6} {'unexpected':>11} "
          f"{'5xx/conn':>9} {'p50 ms':>8} {'p99 ms':>8}")
    lat = summary["latency_ms"]
    print(f"{len(results):>8} {len(accepted):>9} {summary['stored_rows']:>8} {missing:>8} {duplicated:>6} "
          f"{unexpected:>11} {server_errors:>9} {lat['p50']:>8.1f} {lat['p99']:>8.1f}")
    print("statuses:", dict(statuses))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}")
    if missing or duplicated or unexpected or server_errors or len(results) != total:
        sys.exit(1)


if __name__ == "__main__":
    main()
