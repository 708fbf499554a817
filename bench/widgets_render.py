#!/usr/bin/env python
"""What three recommendation widgets add to rendering a page (warm caches).

Renders the same product page template in-process for signed-in demo shoppers, once plain and
once with ``{% recommended_for_you %}``, ``{% similar_products product %}`` and
``{% trending_products %}``, after one warm-up render per shopper and product (model loaded,
lists cached). Impressions are recorded as in production (3 per page, buffered and written in
bulk by the process's writer thread; the script checks that every one reached the database); a
third variant switches them off to show their share. Uses the demo shop database of
``bench/load.py``::

    python bench/widgets_render.py                     # PostgreSQL recs_bench, Redis db 4
    python bench/widgets_render.py --pages 300
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = """<html><body><h1>{{ product.title }}</h1><p>{{ product.summary }}</p>
<ul>{% for p in others %}<li>{{ p.title }} {{ p.unit_price }}</li>{% endfor %}</ul>
{% block widgets %}{% endblock %}</body></html>"""
WIDGETS = """{% load recommendations %}""" + PAGE.replace(
    "{% block widgets %}{% endblock %}",
    "{% recommended_for_you limit=6 %}{% similar_products product limit=6 %}{% trending_products limit=6 %}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/recs_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "widgets_render.json"))
    args = parser.parse_args()
    os.environ.update(DJANGO_SETTINGS_MODULE="bench.load_settings", DATABASE_URL=args.database_url,
                      BENCH_REDIS_URL=args.redis_url)
    import django
    from django.conf import settings

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.template import engines
    from django.test import RequestFactory, override_settings

    from recommendations.conf import get_product_model
    from recommendations.feedback import flush_impressions
    from recommendations.models import Event, Impression

    users = list(get_user_model().objects.filter(username__startswith="shopper").order_by("pk")[: args.shoppers])
    model = get_product_model()
    products = list(model._default_manager.filter(pk__in=Event.objects.values("product_id")[:50000])
                    .select_related("category")[: args.shoppers])
    others = list(model._default_manager.all()[:12])
    engine = engines["django"]
    templates = {"plain page": engine.from_string(PAGE),
                 "page + 3 widgets": engine.from_string(WIDGETS),
                 "page + 3 widgets, impressions off": engine.from_string(WIDGETS)}
    factory = RequestFactory()

    def render(template, i: int) -> str:
        request = factory.get("/", HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0")
        request.user, request.session = users[i % len(users)], SessionStore()
        return template.render({"product": products[i % len(products)], "others": others}, request)

    for i in range(max(len(users), len(products))):  # warm: models loaded, every list cached
        assert "recommendations-item" in render(templates["page + 3 widgets"], i)
    flush_impressions()
    before = Impression.objects.count()
    timings: dict[str, list[float]] = {label: [] for label in templates}
    for i in range(args.pages):
        for label, template in templates.items():
            if label.endswith("impressions off"):
                with override_settings(RECOMMENDATIONS={**settings.RECOMMENDATIONS, "RECORD_IMPRESSIONS": False}):
                    start = time.perf_counter()
                    render(template, i)
            else:
                start = time.perf_counter()
                render(template, i)
            timings[label].append((time.perf_counter() - start) * 1000)
    flush_impressions()  # what the writer thread has not written yet
    stored = Impression.objects.count() - before
    assert stored == 3 * args.pages, stored

    rows = {label: {"median_ms": statistics.median(v), "p95_ms": pct(v, 0.95), "n": len(v)}
            for label, v in timings.items()}
    base = rows["plain page"]["median_ms"]
    print(f"\nRendering a product page in-process ({args.pages} pages each, warm caches, PostgreSQL + Redis)\n")
    print("| page | median ms | p95 ms | added (median) |")
    print("|---|---|---|---|")
    for label, row in rows.items():
        print(f"| {label} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} | {row['median_ms'] - base:+.2f} ms |")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"pages": args.pages, "results": rows}, indent=2))
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
