#!/usr/bin/env python3
"""Server time of every storefront page on the demo data, and its query count.

Renders each page through Django's test client in one process (middleware, views, templates,
database and cache included; no network or WSGI server), signed in as the demo shopper alice
(the admin pages: as the staff user admin), after one warm-up request; prints a table (wall
time, and the process's CPU time, which other work on the machine inflates far less) and
writes JSON::

    .venv/bin/python bench/pages.py                          # builds the demo shop in a temp folder
    .venv/bin/python bench/pages.py --database db.sqlite3    # an existing demo database (read mostly)

The demo shop is what ``python3 dev.py demo`` builds: ``generate_demo_data`` defaults (2,400
products, 1,000 shoppers, 100k events) and every fast engine plus the hybrid it serves. Pages
record views and impressions as they would for a real visitor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ["popular", "trending", "item_cf", "user_cf", "content", "hybrid"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="an existing demo SQLite database (default: build one)")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page (default 30)")
    parser.add_argument("--only", help="only the pages whose name contains one of these (comma-separated)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "pages.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rec-pages-"))
    database = Path(args.database).resolve() if args.database else tmp / "db.sqlite3"
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo_shop.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.pop("CELERY_BROKER_URL", None)

    import django
    from django.conf import settings

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from demo_shop.catalog.models import Category, Product
    from recommendations.models import ModelVersion, ShopperProfile

    if not args.database:
        settings.MEDIA_ROOT = str(tmp / "media")
        call_command("migrate", verbosity=0)
        call_command("generate_demo_data", verbosity=0)
        call_command("recommendations_train", "--sync", *[a for e in ENGINES for a in ("--engine", e)])

    product = Product.objects.filter(in_stock=True, category__name="Books").order_by("-sales_count").first()
    category = Category.objects.get(name="Kitchen")
    shopper = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/156.0 (bench)")
    assert shopper.login(username="alice", password="demo12345")
    for p in Product.objects.filter(in_stock=True).order_by("pk")[:3]:
        shopper.post(f"/product/{p.pk}/add-to-cart/", {"quantity": 1})
    brand = category.products.order_by("-sales_count").values_list("brand", flat=True).first()
    pages = {
        "home": "/",
        "all products": "/products/",
        "category, by price": f"{category.get_absolute_url()}?sort=price",
        "category, brand and price": f"{category.get_absolute_url()}?brand={quote_plus(brand)}&price=25-50",
        "all, by rating": "/products/?sort=rating",
        "all, by popularity, page 5": "/products/?sort=popularity&page=5",
        "search": "/search/?q=stainless+kettle",
        "search, no results": "/search/?q=kettel+blendr",
        "product": product.get_absolute_url(),
        "product image": product.get_image_url(),
        "cart": "/cart/",
        "checkout": "/checkout/",
        "orders": "/orders/",
    }
    staff = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/156.0 (bench)")
    assert staff.login(username="admin", password="admin12345")
    alice = ShopperProfile.objects.get(user__username="alice")
    staff_pages = {
        "admin: shopper profiles": "/admin/recommendations/shopperprofile/",
        "admin: profiles, one stage": "/admin/recommendations/shopperprofile/?stage=Loyal+customer",
        "admin: profiles, search": "/admin/recommendations/shopperprofile/?q=alice",
        "admin: alice's profile": f"/admin/recommendations/shopperprofile/{alice.pk}/change/",
    }
    rows = []
    for name, url in [*pages.items(), *staff_pages.items()]:
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        client = staff if name in staff_pages else shopper
        assert client.get(url).status_code == 200, url  # warm-up
        times, cpu = [], []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, url
        times.sort()
        rows.append({"page": name, "url": url, "median_ms": round(statistics.median(times), 1),
                     "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "max_ms": round(times[-1], 1),
                     "median_cpu_ms": round(statistics.median(cpu), 1), "queries": len(queries.captured_queries)})

    engines = sorted(ModelVersion.objects.filter(is_active=True).values_list("engine", flat=True))
    print(f"active engines (the admin profile previews each): {', '.join(engines)}")
    print(f"{'page':<28} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'CPU ms':>8} {'queries':>8}")
    for row in rows:
        print(f"{row['page']:<28} {row['median_ms']:>10} {row['p95_ms']:>8} {row['max_ms']:>8} "
              f"{row['median_cpu_ms']:>8} {row['queries']:>8}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join(["bench/pages.py", *sys.argv[1:]]), "repeat": args.repeat,
        "products": Product.objects.count(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "active_engines": engines, "pages": rows,
    }, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
