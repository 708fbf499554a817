#!/usr/bin/env python
"""What capturing one product view adds to a request.

Serves the same product page twice through Django's full request path (middleware, session,
auth, template): once plain, once with ``TrackProductViewMixin``. Each request is a new
shopper-product pair, so every tracked request stores a row (the dedup query plus the insert);
a second pass repeats views so they hit the dedup window (query, no insert). Prints median and
p95 per variant and the difference, and writes JSON.

    python bench/capture_overhead.py                       # SQLite (temp file)
    python bench/capture_overhead.py --database-url postgres://postgres@127.0.0.1:5432/postgres
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "capture_overhead.json"))
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.capture_urls"
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from recommendations.models import Event, Product

        call_command("check")
        products = Product.objects.bulk_create(Product(name=f"P{i}", category="c") for i in range(200))
        agent = {"HTTP_USER_AGENT": "Mozilla/5.0 Chrome/156.0"}
        timings: dict[str, list[float]] = {"plain": [], "tracked (new view)": [], "tracked (repeat view)": []}
        clients = [Client() for _ in range(args.requests // len(products) + 1)]
        for c in clients:  # warm sessions and connections
            c.get(f"/plain/{products[0].pk}/", **agent)
        for n in range(args.requests):
            client, product = clients[n // len(products)], products[n % len(products)]
            for label, prefix in (("plain", "plain"), ("tracked (new view)", "tracked")):
                start = time.perf_counter()
                response = client.get(f"/{prefix}/{product.pk}/", **agent)
                timings[label].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
        stored = Event.objects.count()
        for n in range(args.requests):
            client, product = clients[n // len(products)], products[n % len(products)]
            start = time.perf_counter()
            client.get(f"/tracked/{product.pk}/", **agent)
            timings["tracked (repeat view)"].append((time.perf_counter() - start) * 1000)
        assert Event.objects.count() == stored == args.requests, (stored, args.requests)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    vendor = connection.vendor
    base_median, base_p95 = statistics.median(timings["plain"]), percentile(timings["plain"], 0.95)
    rows = []
    for label, values in timings.items():
        median, p95 = statistics.median(values), percentile(values, 0.95)
        rows.append({"database": vendor, "variant": label, "requests": len(values),
                     "median_ms": round(median, 3), "p95_ms": round(p95, 3),
                     "added_median_ms": round(median - base_median, 3),
                     "added_p95_ms": round(p95 - base_p95, 3)})
    print(f"{'database':<11}{'variant':<24}{'requests':>9}{'median ms':>11}{'p95 ms':>9}"
          f"{'added median':>14}{'added p95':>11}")
    for r in rows:
        print(f"{r['database']:<11}{r['variant']:<24}{r['requests']:>9}{r['median_ms']:>11.3f}"
              f"{r['p95_ms']:>9.3f}{r['added_median_ms']:>14.3f}{r['added_p95_ms']:>11.3f}")
    out = Path(args.json)
    out = out.with_name(f"{out.stem}-{vendor}{out.suffix}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
