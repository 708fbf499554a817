#!/usr/bin/env python3
"""Schema-driven fuzzing of the API, with figures: schemathesis generates requests for every
operation of the app's own OpenAPI schema (valid and invalid input), sends them as an anonymous
visitor and as a signed-in shopper through Django's WSGI app, and checks each response (no server
error; status code, content type, headers and body as documented). Prints a table per operation
and writes JSON::

    .venv/bin/python bench/fuzz.py                      # 100 generated cases per operation
    .venv/bin/python bench/fuzz.py --examples 500

The same checks run in the suite with fewer cases (``tests/test_api_fuzz.py``). A temporary
SQLite database holds the few products and the shopper it needs. Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="generated cases per operation (default 100)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "fuzz.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rec-fuzz-"))
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    import django

    django.setup()
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = str(tmp / "db.sqlite3")
    # Thousands of reads from one address in a few minutes: lift the read limits (the write
    # limits stay, and their 429s are counted like any status).
    settings.RECOMMENDATIONS = {**getattr(settings, "RECOMMENDATIONS", {}), "THROTTLE_RATES": {
        "recommendations.reads": None, "recommendations.reads.address": None}}
    from django.core.cache import cache
    from django.core.management import call_command

    from tests.test_api_fuzz import CHECKS, SESSION, anonymous, make_fuzz_shop, signed_in

    call_command("migrate", verbosity=0)
    SESSION["key"] = make_fuzz_shop()

    rows = []
    for identity, schema in (("anonymous", anonymous), ("signed in", signed_in)):
        for result in schema.get_all_operations():
            operation = result.ok()
            cache.clear()  # the write limits' windows start empty for each operation
            statuses, failures = Counter(), Counter()
            _runner(operation, args.examples, statuses, failures, CHECKS)()
            rows.append({"operation": f"{operation.method.upper()} {operation.path}", "identity": identity,
                         "requests": sum(statuses.values()), "statuses": dict(sorted(statuses.items())),
                         "failures": dict(failures)})

    print(f"{'operation':<52} {'identity':<10} {'requests':>8}  statuses / failures")
    for row in rows:
        print(f"{row['operation']:<52} {row['identity']:<10} {row['requests']:>8}  {row['statuses']} "
              f"{row['failures'] or ''}")
    total = sum(r["requests"] for r in rows)
    failed = sum(sum(r["failures"].values()) for r in rows)
    server_errors = sum(n for r in rows for s, n in r["statuses"].items() if s.startswith("5"))
    print(f"{len(rows)} operation runs (operations x identities), {total} requests, {server_errors} server errors, "
          f"{failed} failed checks")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join(["bench/fuzz.py", *sys.argv[1:]]), "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples_per_operation": args.examples, "operations": len(rows), "requests": total,
        "server_errors": server_errors, "failed_checks": failed, "rows": rows,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }, indent=2) + "\n")
    print(f"wrote {out}")
    sys.exit(1 if failed or server_errors else 0)


def _runner(operation, examples: int, statuses: Counter, failures: Counter, checks):
    """A hypothesis test over one operation's generated cases (with the schema's identity),
    counting statuses and failed checks (every check of schemathesis, as in the suite)."""
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st
    from schemathesis.generation.modes import GenerationMode

    from tests.test_api_fuzz import CSRF, HEADERS

    @given(case=st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode)))
    @hsettings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        response = case.call(headers=HEADERS, cookies={"csrftoken": CSRF, **(case.cookies or {})})
        statuses[str(response.status_code)] += 1
        try:
            case.validate_response(response, checks=checks, headers=HEADERS)
        except Exception as exc:  # noqa: BLE001  (a check failed: count it by kind)
            failures[type(exc).__name__] += 1

    return run


if __name__ == "__main__":
    main()
