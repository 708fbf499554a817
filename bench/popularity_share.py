#!/usr/bin/env python
"""How much one popular product swamps shoppers' personal lists: for every signed-in shopper of
the demo shop, the "Recommended for you" list of the home page (8 products, at most 4 per
category, as ``demo_shop`` renders it), with re-ranking off and with the demo's popularity
penalty on; reports how many lists hold the most-recommended product, the share of all slots
the 10 most-recommended products take, how many distinct products are shown, and how many
lists name the most-named product in a reason.

Builds the demo shop in a temporary SQLite database and trains the engines the demo serves.
One process::

    python bench/popularity_share.py
    python bench/popularity_share.py --users 1000 --events 100000 --json bench/results/popularity_share.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
N, PER_CATEGORY = 8, 4


def concentration(lists: dict, reasons: dict) -> dict:
    counts = Counter(pid for items in lists.values() for pid in set(items))
    slots = sum(len(items) for items in lists.values())
    top_product, top_lists = counts.most_common(1)[0]
    named = Counter(reason.split(" ", 3)[3] for rs in reasons.values() for reason in set(rs)
                    if reason.startswith("Because you"))
    top_named = named.most_common(1)[0] if named else ("", 0)
    return {"lists": len(lists), "top_product": str(top_product),
            "top_product_share_of_lists": round(top_lists / len(lists), 4),
            "top10_share_of_slots": round(sum(c for _, c in counts.most_common(10)) / slots, 4),
            "distinct_products": len(counts),
            "top_reason_product": top_named[0], "top_reason_share_of_lists": round(top_named[1] / len(lists), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=2400)
    parser.add_argument("--engines", default="popular,trending,item_cf,user_cf,content,hybrid")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "popularity_share.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rec-popshare-"))
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

    started = time.time()
    call_command("migrate", verbosity=0)
    call_command("generate_demo_data", users=args.users, events=args.events, products=args.products,
                 verbosity=0)
    for engine in args.engines.split(","):
        training.run_sync(engine, force=True)
    users = list(get_user_model().objects.filter(product_events__isnull=False).distinct()
                 .values_list("pk", flat=True))
    demo_rerank = settings.RECOMMENDATIONS.get("RERANK") or {}
    results = {}
    for label, rerank in (("off", {}), (f"{demo_rerank.get('method')}:{demo_rerank.get('strength')}", demo_rerank)):
        with override_settings(RECOMMENDATIONS={**settings.RECOMMENDATIONS, "RERANK": rerank}):
            lists, reasons = {}, {}
            for pk in users:
                recs = serving.recommend_for(serving.Shopper(user_id=pk), N, max_per_category=PER_CATEGORY,
                                             use_cache=False)
                lists[pk] = [r.product_id for r in recs]
                reasons[pk] = [r.reason for r in recs]
        results[label] = concentration(lists, reasons)
        print(label, results[label])
    load = os.getloadavg()
    Path(args.json).write_text(json.dumps({
        "command": " ".join(sys.argv), "users": args.users, "events": args.events, "products": args.products,
        "engines": args.engines, "serving_engine": settings.RECOMMENDATIONS.get("SERVING_ENGINE", "hybrid"),
        "n": N, "max_per_category": PER_CATEGORY, "wall_seconds": round(time.time() - started, 1),
        "load_average_at_end": [round(x, 2) for x in load], "threads": "BLAS default (2)",
        "results": results}, indent=2) + "\n")
    print(f"load average at the end: {load[0]:.2f}; wrote {args.json}")


if __name__ == "__main__":
    main()
