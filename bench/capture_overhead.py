#!/usr/bin/env python
"""What capturing one product view adds to a request.

Serves the same product page through Django's full request path (middleware, session, auth,
template): plain, and with ``TrackProductViewMixin``, for anonymous and signed-in shoppers.
Each tracked request is a new shopper-product pair, so it stores a row (the dedup query plus
the insert); a repeat pass hits the dedup window (query, no insert). Prints median and
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
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # as demo_shop/settings.py
        settings.DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        settings.DATABASES["default"]["TEST"] = {"NAME": f"{tmp}/test.sqlite3"}  # a file, not memory
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
        from django.contrib.auth.models import User

        timings: dict[str, list[float]] = {}
        n_clients = args.requests // len(products) + 1
        anonymous = [Client() for _ in range(n_clients)]
        signed_in = [Client() for _ in range(n_clients)]
        for i, c in enumerate(signed_in):
            c.force_login(User.objects.create_user(f"bench{i}"))
        for c in anonymous + signed_in:  # warm sessions and connections
            c.get(f"/plain/{products[0].pk}/", **agent)

        def measure(label: str, clients: list, prefix: str) -> None:
            values = timings.setdefault(label, [])
            for n in range(args.requests):
                client, product = clients[n // len(products)], products[n % len(products)]
                start = time.perf_counter()
                response = client.get(f"/{prefix}/{product.pk}/", **agent)
                values.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200

        measure("plain, anonymous", anonymous, "plain")
        measure("tracked, anonymous", anonymous, "tracked")
        measure("tracked, anonymous repeat", anonymous, "tracked")
        measure("plain, signed in", signed_in, "plain")
        measure("tracked, signed in", signed_in, "tracked")
        assert Event.objects.count() == 2 * args.requests, Event.objects.count()
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    vendor = connection.vendor
    rows = []
    for label, values in timings.items():
        base = timings["plain, signed in" if "signed in" in label else "plain, anonymous"]
        base_median, base_p95 = statistics.median(base), percentile(base, 0.95)
        median, p95 = statistics.median(values), percentile(values, 0.95)
        rows.append({"database": vendor, "variant": label, "requests": len(values),
                     "median_ms": round(median, 3), "p95_ms": round(p95, 3),
                     "added_median_ms": round(median - base_median, 3),
                     "added_p95_ms": round(p95 - base_p95, 3)})
    print(f"{'database':<11}{'variant':<28}{'requests':>9}{'median ms':>11}{'p95 ms':>9}"
          f"{'added median':>14}{'added p95':>11}")
    for r in rows:
        print(f"{r['database']:<11}{r['variant']:<28}{r['requests']:>9}{r['median_ms']:>11.3f}"
              f"{r['p95_ms']:>9.3f}{r['added_median_ms']:>14.3f}{r['added_p95_ms']:>11.3f}")
    out = Path(args.json)
    out = out.with_name(f"{out.stem}-{vendor}{out.suffix}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
