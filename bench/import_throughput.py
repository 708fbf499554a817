#!/usr/bin/env python
"""Throughput of ``manage.py recommendations_import`` on a fresh database.

Generates N events (default 1,000,000) with the demo generator, writes them as CSV
(products.csv, events.csv) into a temp folder, migrates a fresh database and times the import
command in its own process (so its peak RSS is its own). SQLite always (a file in the temp
folder); PostgreSQL too when ``--database-url`` is given - that database is created here and
dropped afterwards (it must not exist already unless ``--replace``).

    .venv/bin/python bench/import_throughput.py
    .venv/bin/python bench/import_throughput.py --events 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/rec_import_bench
    .venv/bin/python bench/import_throughput.py --events 100000 --no-sqlite \
        --database-url postgres://postgres@127.0.0.1:5432/rec_import_bench --rerun

``--rerun`` imports the same files a second time (everything is skipped as a duplicate or
upserted) and times that too. Results: a table on stdout and JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: events -> (shoppers, products), the same shapes as bench/scale.py.
SHAPES = {100_000: (1_000, 2_400), 1_000_000: (10_000, 10_000), 5_000_000: (50_000, 20_000)}
SUMMARY = re.compile(
    r"products: (?P<products_created>\d+) created, (?P<products_updated>\d+) updated; "
    r"events: (?P<events_stored>\d+) stored, (?P<events_skipped>\d+) skipped as duplicates; "
    r"ratings: (?P<ratings_upserted>\d+) upserted;.*bad rows: (?P<bad_rows>\d+); "
    r"users: (?P<users_created>\d+) created"
)


def run_measured(cmd: list[str], env: dict, log: Path) -> tuple[float, float, int, str, float]:
    """Run ``cmd``; return (seconds, peak RSS MiB of that process, exit status, stdout, CPU
    seconds of that process - on a shared machine wall time also measures the neighbours)."""
    with open(log, "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, rss, proc.returncode, log.read_text(errors="replace"), cpu


def manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlparse(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def bench_backend(label: str, url: str, files: tuple[Path, Path], work: Path, args) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": args.settings,
           "PYTHONUNBUFFERED": "1", "DJANGO_DEBUG": "1" if args.debug else "0"}
    env.pop("CELERY_BROKER_URL", None)
    seconds, _, rc, out, _ = run_measured(manage("migrate", "-v0"), env,
                                          work / f"{label}-migrate.log")
    if rc:
        raise SystemExit(f"{label}: migrate failed:\n{out}")
    products, events = files
    cmd = manage("recommendations_import", "--products", str(products), "--events", str(events),
                 "--no-progress")
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    runs = []
    for attempt in ("first", "rerun")[: 2 if args.rerun else 1]:
        seconds, rss, rc, out, cpu = run_measured(cmd, env, work / f"{label}-{attempt}.log")
        if rc:
            raise SystemExit(f"{label}: import failed:\n{out[-3000:]}")
        match = SUMMARY.search(out)
        counts = {k: int(v) for k, v in match.groupdict().items()} if match else {}
        rows = args.events
        runs.append({
            "run": attempt,
            "seconds": round(seconds, 2),
            "rows": rows,
            "events_per_s": round(rows / seconds),
            "cpu_seconds": round(cpu, 2),
            "peak_rss_mib": round(rss, 1),
            **counts,
        })
        print(f"  {label} {attempt}: {seconds:.1f}s ({cpu:.1f}s CPU), {rows / seconds:,.0f} events/s, "
              f"peak RSS {rss:.0f} MiB  [{match.group(0) if match else out[-300:]}]", flush=True)
    return {"backend": label, "runs": runs}


def generate_only(directory: Path, n_events: int, users: int, products: int, seed: int) -> None:
    from demo_shop.catalog.generator import generate_frames, write_import_csv

    started = time.perf_counter()
    events, catalogue = generate_frames(n_users=users, n_events=n_events, n_products=products,
                                        seed=seed)
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    write_import_csv(events, catalogue, directory)
    print(json.dumps({"generate_seconds": round(generate_s, 2),
                      "csv_write_seconds": round(time.perf_counter() - started, 2),
                      "events": len(events), "products": len(catalogue)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, help="shoppers (default: by size, see SHAPES)")
    parser.add_argument("--products", type=int, help="products (default: by size)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", help="postgres://user@host:port/NEW_DB_NAME to bench too")
    parser.add_argument("--replace", action="store_true", help="drop that database if it exists")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--rerun", action="store_true", help="also time a second, idempotent run")
    parser.add_argument("--batch-size", type=int, help="IMPORT_BATCH_SIZE override")
    parser.add_argument("--settings", default="demo_shop.settings")
    parser.add_argument("--debug", action="store_true",
                        help="run with DJANGO_DEBUG=1 (Django logs every query: slower)")
    parser.add_argument("--workdir", help="folder for CSVs and SQLite (default: a temp folder)")
    parser.add_argument("--out", default=str(ROOT / "bench/results/import_throughput.json"))
    parser.add_argument("--generate-only", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()

    users, n_products = SHAPES.get(args.events, (max(1000, args.events // 100), 10_000))
    users, n_products = args.users or users, args.products or n_products
    if args.generate_only:
        generate_only(Path(args.generate_only), args.events, users, n_products, args.seed)
        return

    tmp = None if args.workdir else tempfile.TemporaryDirectory(prefix="import-bench-")
    work = Path(args.workdir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    # Generate in a child process: this one stays small, so the import processes it starts
    # report their own peak RSS (Linux carries a forking parent's high-water mark over exec).
    gen = subprocess.run(
        [sys.executable, __file__, "--generate-only", str(work), "--events", str(args.events),
         "--users", str(users), "--products", str(n_products), "--seed", str(args.seed)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    generated = json.loads(gen.stdout.strip().splitlines()[-1])
    generate_s, csv_s = generated["generate_seconds"], generated["csv_write_seconds"]
    files = (work / "products.csv", work / "events.csv")
    size_mib = files[1].stat().st_size / 2**20
    print(f"generated {generated['events']:,} events / {generated['products']:,} products / "
          f"{users:,} shoppers in {generate_s:.1f}s; CSV written in {csv_s:.1f}s "
          f"({size_mib:.0f} MiB events.csv)", flush=True)

    results = []
    try:
        if not args.no_sqlite:
            db = work / "bench.sqlite3"
            db.unlink(missing_ok=True)
            results.append(bench_backend("sqlite", f"sqlite:///{db}", files, work, args))
        if args.database_url:
            name = urlparse(args.database_url).path.lstrip("/")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise SystemExit(f"not a plain database name: {name!r}")
            if args.replace:
                pg_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}"')
            pg_admin(args.database_url, f'CREATE DATABASE "{name}"')
            try:
                results.append(bench_backend("postgresql", args.database_url, files, work, args))
            finally:
                if not args.keep:
                    pg_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        if tmp is not None:
            tmp.cleanup()

    print()
    header = f"{'backend':<11} {'run':<6} {'rows':>10} {'seconds':>8} {'CPU s':>7} {'events/s':>9} " \
             f"{'peak RSS MiB':>12} {'stored':>9} {'skipped':>9} {'ratings':>8}"
    print(header)
    print("-" * len(header))
    for result in results:
        for run in result["runs"]:
            print(f"{result['backend']:<11} {run['run']:<6} {run['rows']:>10,} "
                  f"{run['seconds']:>8.1f} {run['cpu_seconds']:>7.1f} {run['events_per_s']:>9,} "
                  f"{run['peak_rss_mib']:>12.0f} "
                  f"{run.get('events_stored', 0):>9,} {run.get('events_skipped', 0):>9,} "
                  f"{run.get('ratings_upserted', 0):>8,}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    report = {
        "benchmark": "import_throughput",
        "events": args.events, "users": users, "products": n_products, "seed": args.seed,
        "generate_seconds": round(generate_s, 2), "csv_write_seconds": round(csv_s, 2),
        "events_csv_mib": round(size_mib, 1),
        "settings": args.settings, "django_debug": args.debug,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_average_at_end": load},
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
