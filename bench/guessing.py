#!/usr/bin/env python3
"""Password guessing against the demo shop, counted: how many guesses reach the password hasher
and how many are refused (429), and what each costs the server.

The outside test's scenario (8 wrong passwords for one account, then the right one) through each
way the demo shop takes a password (its log-in page, the admin's, the token view, and HTTP Basic
on the API as a host that enables it would have it), then a long guess at one account and a spray
of one password over many accounts from one address. Django's test client in one process, the
demo's settings (Django's default PBKDF2 hasher) on a temporary SQLite database; prints a table
and writes JSON::

    .venv/bin/python bench/guessing.py
    .venv/bin/python bench/guessing.py --guesses 500 --accounts 200
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RIGHT = "the-right-one-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guesses", type=int, default=200, help="wrong passwords against one account")
    parser.add_argument("--accounts", type=int, default=100, help="accounts in the one-password spray")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "guessing.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rec-guessing-"))
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo_shop.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    basic_api = {**settings.REST_FRAMEWORK, "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication", "rest_framework.authentication.BasicAuthentication"]}

    def attempt(kind: str, client: Client, username: str, password: str) -> tuple[int, float]:
        started = time.process_time()
        if kind == "log-in page":
            status = client.post("/accounts/login/", {"username": username, "password": password}).status_code
        elif kind == "admin log-in":
            status = client.post("/admin/login/", {"username": username, "password": password}).status_code
        elif kind == "token view":
            status = client.post("/api/token/", {"username": username, "password": password},
                                 content_type="application/json").status_code
        else:  # HTTP Basic on the API, where a host enables it
            credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
            with override_settings(REST_FRAMEWORK=basic_api):
                status = client.get("/api/recommendations/ratings/",
                                    HTTP_AUTHORIZATION=f"Basic {credentials}").status_code
        return status, time.process_time() - started

    rows = []
    for n, kind in enumerate(["log-in page", "admin log-in", "token view", "HTTP Basic"]):
        cache.clear()
        users.create_user(f"victim{n}", password=RIGHT, is_staff=True)
        client = Client(REMOTE_ADDR=f"10.0.{n}.1")
        tries = [attempt(kind, client, f"victim{n}", f"guess-{i}") for i in range(8)]
        right = attempt(kind, client, f"victim{n}", RIGHT)
        rows.append({"scenario": f"outside test: 8 wrong + the right one ({kind})",
                     "statuses": [status for status, _ in tries] + [right[0]],
                     "checked": sum(status != 429 for status, _ in tries),
                     "refused": sum(status == 429 for status, _ in tries) + (right[0] == 429),
                     "cpu_ms_checked": _mean([cpu for status, cpu in tries if status != 429]),
                     "cpu_ms_refused": _mean([cpu for status, cpu in [*tries, right] if status == 429])})

    cache.clear()
    users.create_user("target", password=RIGHT)
    client = Client(REMOTE_ADDR="10.1.0.1")
    tries = [attempt("token view", client, "target", f"guess-{i}") for i in range(args.guesses)]
    rows.append(_summary(f"{args.guesses} wrong passwords for one account (token view)", tries))

    cache.clear()
    client = Client(REMOTE_ADDR="10.2.0.1")
    tries = [attempt("log-in page", client, f"user{i}", "Summer2026!") for i in range(args.accounts)]
    rows.append(_summary(f"one password over {args.accounts} accounts from one address (log-in page)", tries))

    print(f"{'scenario':<72} {'checked':>7} {'refused':>7} {'cpu ms/checked':>14} {'cpu ms/refused':>14}")
    for row in rows:
        print(f"{row['scenario']:<72} {row['checked']:>7} {row['refused']:>7} {row['cpu_ms_checked']:>14} "
              f"{row['cpu_ms_refused']:>14}")
        if "statuses" in row:
            print(f"    statuses: {row['statuses']}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join(["bench/guessing.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "hasher": settings.PASSWORD_HASHERS[0],
        "load_average": os.getloadavg(), "rows": rows,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }, indent=2) + "\n")
    print(f"wrote {out}")


def _mean(values: list[float]) -> float | None:
    return round(1000 * sum(values) / len(values), 2) if values else None


def _summary(scenario: str, tries: list[tuple[int, float]]) -> dict:
    return {"scenario": scenario, "statuses": dict(Counter(str(status) for status, _ in tries)),
            "checked": sum(status != 429 for status, _ in tries), "refused": sum(status == 429 for status, _ in tries),
            "cpu_ms_checked": _mean([cpu for status, cpu in tries if status != 429]),
            "cpu_ms_refused": _mean([cpu for status, cpu in tries if status == 429])}


if __name__ == "__main__":
    main()
