#!/usr/bin/env python3
"""What the API's read limits cost a cached list request: ``GET trending/`` and ``GET for-you/``
(signed in, cached) through Django's test client, with the read rates on (the defaults) and off,
alternating request by request; with the cache in process memory and with Redis. Prints medians
and writes JSON::

    .venv/bin/python bench/read_throttle.py
    .venv/bin/python bench/read_throttle.py --redis redis://127.0.0.1:6379/10 --requests 400 --rounds 5
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

ROOT = Path(__file__).resolve().parents[1]
OFF = {"recommendations.reads": None, "recommendations.reads.address": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per round and setting")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis", help="also measure with this Redis as the cache")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "read_throttle.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rec-throttle-"))
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import caches
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    from recommendations.models import Event
    from tests.conftest import make_product

    setup_test_environment()
    settings.DATABASES["default"]["NAME"] = str(tmp / "db.sqlite3")
    call_command("migrate", verbosity=0)
    products = [make_product(f"Product {i}") for i in range(40)]
    user = get_user_model().objects.create_user("reader")
    Event.objects.bulk_create(Event(user=user, product=p, kind=Event.Kind.VIEW) for p in products[:5])
    # No impression writes: what is measured is the request's own path, with and without the limits.
    base = {**getattr(settings, "RECOMMENDATIONS", {}), "RECORD_IMPRESSIONS": False}
    caches_to_try = {"process memory": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}
    if args.redis:
        caches_to_try["Redis"] = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                              "LOCATION": args.redis, "KEY_PREFIX": "bench-read-throttle"}}
    rows = []
    for cache_name, cache_setting in caches_to_try.items():
        with override_settings(CACHES=cache_setting):
            caches["default"].clear()
            client = Client(HTTP_USER_AGENT="Mozilla/5.0 bench")
            client.force_login(user)
            for path in ("trending/?limit=10", "for-you/?limit=10"):
                client.get("/api/recommendations/" + path)  # the list is computed and cached
                times: dict[str, list[float]] = {"on": [], "off": []}
                # Requests alternate between the two settings, so both see the same machine load.
                for i in range(2 * args.requests * args.rounds):
                    state = ("on", "off")[i % 2]
                    rates = {} if state == "on" else OFF
                    with override_settings(RECOMMENDATIONS={**base, "THROTTLE_RATES": rates}):
                        caches["default"].delete_many(_limit_keys(user))  # stay under the rate
                        started = time.perf_counter()
                        response = client.get("/api/recommendations/" + path)
                        times[state].append(time.perf_counter() - started)
                    assert response.status_code == 200, response.status_code
                on, off = statistics.median(times["on"]) * 1000, statistics.median(times["off"]) * 1000
                pairs = [a - b for a, b in zip(times["on"], times["off"])]
                rows.append({"cache": cache_name, "request": f"GET {path} (signed in, cached)",
                             "median_ms_limits_on": round(on, 3), "median_ms_limits_off": round(off, 3),
                             "median_pair_difference_ms": round(statistics.median(pairs) * 1000, 3),
                             "requests_each": len(times["on"])})
    print(f"{'cache':<15} {'request':<40} {'on ms':>7} {'off ms':>7} {'diff ms':>8}")
    for row in rows:
        print(f"{row['cache']:<15} {row['request']:<40} {row['median_ms_limits_on']:>7} "
              f"{row['median_ms_limits_off']:>7} {row['median_pair_difference_ms']:>8}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join(["bench/read_throttle.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "load_average": os.getloadavg(), "rows": rows,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }, indent=2) + "\n")
    print(f"wrote {out}")


def _limit_keys(user) -> list[str]:
    from recommendations import limits

    return [limits.Limit("recommendations.reads", str(user.pk), 1, 1).key,
            limits.Limit("recommendations.reads.address", "127.0.0.1", 1, 1).key]


if __name__ == "__main__":
    main()
