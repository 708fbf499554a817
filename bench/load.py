#!/usr/bin/env python
"""Load test of the recommendations API served by gunicorn, each list against its floor.

Uses the demo shop on PostgreSQL with Redis as cache (``bench/load_settings.py``): generates the
demo data when the database has fewer events than ``--events`` (``generate_demo_data``), trains
popular, trending and item_cf when they have no active version, then starts gunicorn
(``--workers`` sync workers on 127.0.0.1) for the shop and for the floor (``bench/floor.py``: the
bare cached DRF list, anonymous and signed in through the same session engine, database and
cache), and measures, one at a time:

* the first, uncached request of each of ``--cold`` shoppers (and products), then the same
  requests again (cached), one at a time;
* ``--rounds`` interleaved rounds of wrk closed-loop (``-t THREADS -c CONNECTIONS -d DURATION
  --latency``) on ``for-you/`` (signed-in shoppers rotated through a Lua script),
  ``products/<pk>/similar/`` (products rotated), ``trending/`` and the floors: each
  endpoint's median ratio to its floor of the same round (``for-you/`` to the signed-in floor,
  the others to the anonymous one) in requests/s and in worker CPU per request (the gunicorn
  workers' user + system time from /proc before and after each run); the anonymous floor is
  also served by the shop's server behind the shop's middleware (``bench/load_urls.py``), and
  the anonymous lists are held to that too (what of their cost is the shop's own stack);
* with each run, the CPU outside the workers per request: PostgreSQL's and Redis's processes
  (read ``SETTLE_SECONDS`` after the run, when the shop's impressions are written) and wrk's;
* the spike check: the shop's three lists mixed, ``--windows`` consecutive wrk runs of
  ``--window-seconds``, worker CPU per request in each against the median, beside what the
  machine's speed does not change: Redis commands and SQL transactions per request, and a speed
  probe (``SpeedProbe``) that tells the machine's own slow windows from the app's;
* fixed offered rates (open loop, latency measured from each request's scheduled time, so queueing
  counts) with a small asyncio client, bounded by ``--fixed-seconds`` per rate.

Everything runs on loopback only and stops by itself. Prints a table and writes JSON to
``bench/results/``::

    python bench/load.py                                    # defaults: 1M events, 2 workers, wrk -t2 -c50 -d10s
    python bench/load.py --events 100000 --duration 5 --rates ""    # quicker
    mkdir /tmp/before && git archive HEAD~1 | tar -x -C /tmp/before
    python bench/load.py --code-root /tmp/before --rates ""  # the same load on an older checkout
    python bench/load.py --session-engine django.contrib.sessions.backends.cache   # sessions in Redis only
    python bench/load.py --cache-backend recommendations.cache.RedisCache          # one Redis client per process
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
API = "/api/recommendations/"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def summary(latencies_ms: list[float]) -> dict[str, float]:
    return {"n": len(latencies_ms), "p50_ms": percentile(latencies_ms, 0.5),
            "p90_ms": percentile(latencies_ms, 0.9), "p95_ms": percentile(latencies_ms, 0.95),
            "p99_ms": percentile(latencies_ms, 0.99),
            "mean_ms": statistics.fmean(latencies_ms) if latencies_ms else float("nan")}


# -- setup in a Django process ------------------------------------------------------------------
def require_database(url: str) -> None:
    """Stop with one line naming the database (and how to create it, when it is missing), not a
    traceback from the first Django process, when ``url``'s PostgreSQL database cannot be used."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        parts = conninfo_to_dict(url)
        hint = (f' (create it: psql -h {parts.get("host", "127.0.0.1")} -p {parts.get("port", 5432)} '
                f'-U {parts.get("user", "postgres")} -d postgres -c "create database {parts.get("dbname")}")'
                if "does not exist" in reason else "")
        sys.exit(f"{Path(sys.argv[0]).name}: cannot use the PostgreSQL database {url}: {reason}{hint}")


def write_results(results: dict, path: str, default_name: str) -> Path:
    """The run's JSON at ``path``, or at bench/results/``default_name``."""
    out = Path(path or ROOT / "bench" / "results" / default_name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    return out


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


SETUP = r"""
import json, sys
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from importlib import import_module
from django.conf import settings
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
from recommendations.conf import get_product_model
from recommendations.models import Event, Impression, ModelVersion
n_shoppers = int(sys.argv[1])
users = list(get_user_model().objects.filter(username__startswith="shopper").order_by("pk")[:n_shoppers])
cookies = []
for user in users:
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.save()
    cookies.append(f"{settings.SESSION_COOKIE_NAME}={s.session_key}")
model = get_product_model()
products = list(model._default_manager.filter(pk__in=Event.objects.values("product_id")[:200000])
                .order_by("?").values_list("pk", flat=True)[:n_shoppers])
print(json.dumps({"cookies": cookies, "products": products,
                  "events": Event.objects.count(), "products_total": model._default_manager.count(),
                  "impressions": Impression.objects.count(),
                  "active": list(ModelVersion.objects.filter(is_active=True).values("engine", "pk", "n_events"))}))
"""


def django_setup(env: dict[str, str], n: int) -> dict:
    result = subprocess.run([PYTHON, "-c", SETUP, str(n)], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- servers -------------------------------------------------------------------------------------
def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def start_gunicorn(app: str, port: int, workers: int, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"bench-gunicorn-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([GUNICORN, app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                             "--log-level", "warning", "--graceful-timeout", "5"],
                            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_port(port)
    return proc


def cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU time (user + system) used so far by a gunicorn master's workers, from /proc: unlike
    req/s it barely depends on what else the shared machine is running."""
    total = 0.0
    for child in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
        try:
            total += stat_cpu_seconds(Path(f"/proc/{child}/stat").read_text())
        except FileNotFoundError:
            continue
    return total


def stat_cpu_seconds(stat: str) -> float:
    """User + system CPU seconds in the text of a ``/proc/<pid>/stat``."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# -- a small HTTP/1.1 client (loopback only) -------------------------------------------------
class Connection:
    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, path: str, cookie: str = "") -> int:
        for attempt in (0, 1):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench-load/1 Mozilla/5.0\r\n"
            if cookie:
                head += f"Cookie: {cookie}\r\n"
            try:
                self.writer.write((head + "\r\n").encode())
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionError("closed")
                length, close = 0, False
                while True:
                    line = await self.reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection" and "close" in value.lower():
                        close = True
                await self.reader.readexactly(length)
                if close:
                    self.close()
                return int(status_line.split()[1])
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        return 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def sequential(port: int, requests: list[tuple[str, str]]) -> tuple[list[float], list[int]]:
    conn, latencies, codes = Connection(port), [], []
    for path, cookie in requests:
        start = time.perf_counter()
        codes.append(await conn.request(path, cookie))
        latencies.append((time.perf_counter() - start) * 1000)
    conn.close()
    return latencies, codes


async def fixed_rate(port: int, requests: list[tuple[str, str]], rate: float, seconds: float,
                     max_connections: int = 64, timeout: float = 5.0) -> dict:
    """Open loop: request i is due at start + i / rate and its latency counts from then (waiting
    for one of ``max_connections`` connections included, so queueing shows). A request taking
    longer than ``timeout`` counts as an error; the run stops ``timeout`` after the last is due."""
    total = int(rate * seconds)
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(max_connections):
        pool.put_nowait(Connection(port))
    latencies: list[float] = []
    codes: list[int] = []
    start = time.perf_counter() + 0.05

    async def one(i: int) -> None:
        due = start + i / rate
        conn = await pool.get()
        path, cookie = requests[i % len(requests)]
        try:
            codes.append(await asyncio.wait_for(conn.request(path, cookie), timeout))
            latencies.append((time.perf_counter() - due) * 1000)
        except Exception:  # noqa: BLE001  (timeout or connection error)
            conn.close()
            codes.append(0)
        pool.put_nowait(conn)

    tasks = []
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    _, pending = await asyncio.wait(tasks, timeout=timeout + 1)
    for task in pending:
        task.cancel()
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    ok = sum(1 for c in codes if 200 <= c < 400)
    return {"offered_rps": rate, "achieved_rps": round(ok / elapsed, 1), "requests": total,
            "errors_or_timeouts": total - ok, **summary(latencies)}


# -- wrk ------------------------------------------------------------------------------------------
LUA = """
local entries = {%s}
local i = 0
request = function()
  i = i + 1
  local e = entries[(i %% #entries) + 1]
  local headers = {}
  headers["User-Agent"] = "bench-load/1 Mozilla/5.0"
  if e[2] ~= "" then headers["Cookie"] = e[2] end
  return wrk.format("GET", e[1], headers)
end
"""


def wrk(port: int, requests: list[tuple[str, str]], threads: int, connections: int, duration: int) -> dict:
    entries = ",".join(f'{{"{path}","{cookie}"}}' for path, cookie in requests)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % entries)
        script = fh.name
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script,
               f"http://127.0.0.1:{port}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    os.unlink(script)

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    result = {"command": " ".join(command[:6]) + f" http://127.0.0.1:{port}<path>",
              "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for q in ("50", "75", "90", "99"):
        found = re.search(rf"^\s+{q}%\s+(\S+)", out, re.M)
        result[f"p{q}_ms"] = round(ms(found.group(1)), 2) if found else None
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    result["socket_errors"] = socket_errors.group(1) if socket_errors else ""
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    return result


# -- main ------------------------------------------------------------------------------------------
#: Each shop endpoint under load and the floor it is held to (bench/floor.py).
FLOORS = {"for-you/": "signed-in floor", "products/<pk>/similar/": "anonymous floor",
          "trending/": "anonymous floor"}
#: The anonymous floor served by the shop's server, behind the shop's middleware: what of an
#: anonymous list's cost over the floor is the app's, and what is the shop's own stack.
SHOP_FLOOR = "anonymous floor in the shop"


# -- the machine's own speed, and the work counted by PostgreSQL and Redis -----------------------
PROBE = r"""
import time
while True:
    started = time.process_time()
    total = 0
    for i in range(25_000):
        total += i * i % 7
    print(f"{time.time():.3f} {(time.process_time() - started) * 1000:.4f}", flush=True)
    time.sleep(0.1)
"""


class SpeedProbe:
    """A fixed piece of pure-Python work, about 1 ms of CPU every 100 ms in a process of its own,
    timed by its own CPU clock: how fast this shared machine runs Python at each moment (in
    docs/benchmarks.md its window medians moved by up to 13 % within one run). Its time also
    depends on what runs beside it, so it compares windows of one load (the spike check), not
    one load with another: a window whose worker CPU per request rises with the probe's time is
    the machine's, one that rises alone is the app's."""

    def __init__(self) -> None:
        self.log = Path(tempfile.mkstemp(suffix=".probe")[1])
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([PYTHON, "-c", PROBE], stdout=out, start_new_session=True)

    def median_ms(self, start: float, end: float) -> float | None:
        """The probe's median time between two ``time.time()`` stamps."""
        values = [float(row[1]) for row in (line.split() for line in self.log.read_text().splitlines())
                  if len(row) == 2 and start <= float(row[0]) <= end]
        return round(statistics.median(values), 4) if values else None

    def close(self) -> None:
        stop(self.proc)
        self.log.unlink(missing_ok=True)


def work_counters(args) -> dict[str, int]:
    """Redis commands processed and PostgreSQL transactions of the shop's database so far: work
    that, unlike CPU time, does not depend on the machine's speed. A refill of a cache shows in
    them. (PostgreSQL publishes a backend's counts within about a second.)"""
    import psycopg
    import redis

    commands = redis.Redis.from_url(args.redis_url).info("stats")["total_commands_processed"]
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        (transactions,) = conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                       "WHERE datname = current_database()").fetchone()
    return {"redis_commands": commands, "sql_transactions": transactions}


def outside_cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) so far of every PostgreSQL and Redis process on the machine, and
    of this script's finished children (the wrk runs): what a request costs outside the workers."""
    totals = {"postgres": 0.0, "redis": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        key = "postgres" if name.startswith("postgres") else "redis" if name.startswith("redis-server") else None
        if key:
            totals[key] += stat_cpu_seconds(text)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals["wrk"] = children.ru_utime + children.ru_stime
    return totals


#: Seconds after a wrk run before the CPU outside the workers is read: the shop's buffered
#: impressions reach PostgreSQL within a second (``IMPRESSION_BUFFER_SECONDS``).
SETTLE_SECONDS = 1.2


def loaded_run(server: subprocess.Popen, port: int, reqs: list[tuple[str, str]], args, seconds: int,
               probe: SpeedProbe | None = None, count_work: bool = False) -> dict:
    """One wrk run, with its server's worker CPU per request, the load average at its end, the
    speed probe's median during it and (``count_work``) Redis commands and SQL transactions per
    request."""
    counted = work_counters(args) if count_work else {}
    outside, before, started = outside_cpu_seconds(), cpu_seconds(server), time.time()
    row = wrk(port, reqs, args.threads, args.connections, seconds)
    row["worker_cpu_ms_per_request"] = round((cpu_seconds(server) - before) * 1000 / max(1, row["requests"]), 3)
    row["loadavg_1min"] = os.getloadavg()[0]
    time.sleep(SETTLE_SECONDS)
    for name, spent in outside_cpu_seconds().items():
        row[f"{name}_cpu_ms_per_request"] = round((spent - outside[name]) * 1000 / max(1, row["requests"]), 3)
    if probe:
        row["probe_ms"] = probe.median_ms(started, time.time())
    if count_work:
        for name, value in work_counters(args).items():
            row[f"{name}_per_request"] = round((value - counted[name]) / max(1, row["requests"]), 3)
    return row


def interleaved(loads: dict[str, tuple[subprocess.Popen, int, list]], args) -> dict[str, list[dict]]:
    """``--rounds`` rounds of every load, one after another, the order rotated each round (the
    machine's other work drifts: each endpoint meets its floor in every round)."""
    rounds: dict[str, list[dict]] = {label: [] for label in loads}
    labels = list(loads)
    for number in range(args.rounds):
        shift = number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            server, port, reqs = loads[label]
            try:
                rounds[label].append(loaded_run(server, port, reqs, args, args.duration))
            except Exception as exc:  # noqa: BLE001
                rounds[label].append({"error": repr(exc)})
    return rounds


def against_floors(rounds: dict[str, list[dict]]) -> dict[str, dict]:
    """Per endpoint: the median of its per-round ratios to its floor (req/s and worker CPU per
    request), their range, and its own medians."""
    table = {}
    for label, runs in rounds.items():
        ok = [r for r in runs if "rps" in r]
        row = {"rounds": len(ok), "median_rps": statistics.median(r["rps"] for r in ok) if ok else None,
               "median_cpu_ms": statistics.median(r["worker_cpu_ms_per_request"] for r in ok) if ok else None,
               "median_p99_ms": statistics.median(r["p99_ms"] or 0 for r in ok) if ok else None,
               "outside_cpu_ms": {name: statistics.median(r[f"{name}_cpu_ms_per_request"] for r in ok)
                                  for name in ("postgres", "redis", "wrk")} if ok else None,
               "non_2xx": sum(r["non_2xx"] for r in ok), "loadavg": [r["loadavg_1min"] for r in ok]}
        floor = FLOORS.get(label)
        if floor:
            row.update(floor=floor, **_ratios(runs, rounds[floor]))
            if floor == "anonymous floor" and rounds.get(SHOP_FLOOR):
                row["in_the_shop"] = _ratios(runs, rounds[SHOP_FLOOR])
        table[label] = row
    return table


def _ratios(runs: list[dict], floor_runs: list[dict]) -> dict:
    """Median and range of the per-round ratios of ``runs`` to ``floor_runs``."""
    pairs = [(r, f) for r, f in zip(runs, floor_runs) if "rps" in r and "rps" in f]
    rps = [r["rps"] / f["rps"] for r, f in pairs]
    cpu = [r["worker_cpu_ms_per_request"] / f["worker_cpu_ms_per_request"] for r, f in pairs]
    return {"rps_ratio": round(statistics.median(rps), 3) if rps else None,
            "rps_ratio_range": [round(min(rps), 3), round(max(rps), 3)] if rps else None,
            "cpu_ratio": round(statistics.median(cpu), 3) if cpu else None,
            "cpu_ratio_range": [round(min(cpu), 3), round(max(cpu), 3)] if cpu else None}


def spike_windows(shop: subprocess.Popen, reqs: list[tuple[str, str]], args, probe: SpeedProbe | None = None) -> dict:
    """The shop under a mix of its lists for ``--windows`` consecutive windows of
    ``--window-seconds`` (one wrk run each): worker CPU per request in each window against the
    run's median (a periodic refill shows as windows above it), beside the speed probe's time and
    the Redis commands and SQL transactions per request of each window."""
    windows = [loaded_run(shop, args.port, reqs, args, args.window_seconds, probe, count_work=True)
               for _ in range(args.windows)]
    cpu = [w["worker_cpu_ms_per_request"] for w in windows]
    median = statistics.median(cpu) if cpu else float("nan")
    result = {"windows": windows, "cpu_ms_per_request": cpu, "median_cpu_ms": median,
              "max_to_median": round(max(cpu) / median, 3) if cpu else None,
              "min_to_median": round(min(cpu) / median, 3) if cpu else None}
    probed = [(c, w["probe_ms"]) for c, w in zip(cpu, windows) if w.get("probe_ms")]
    if len(probed) > 2:
        speed = statistics.median(ms for _, ms in probed)
        at_speed = [round(c / ms * speed, 3) for c, ms in probed]
        at_speed_median = statistics.median(at_speed)
        result["at_probe_speed"] = {
            "probe_ms": [ms for _, ms in probed], "cpu_ms_per_request": at_speed,
            "max_to_median": round(max(at_speed) / at_speed_median, 3),
            "min_to_median": round(min(at_speed) / at_speed_median, 3),
            "correlation_cpu_probe": round(statistics.correlation([c for c, _ in probed], [ms for _, ms in probed]), 3)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/recs_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every load (median)")
    parser.add_argument("--windows", type=int, default=7, help="windows of the spike check (0: none)")
    parser.add_argument("--window-seconds", type=int, default=10)
    parser.add_argument("--rates", default="50,100,200", help="fixed offered rates (req/s)")
    parser.add_argument("--fixed-seconds", type=float, default=10)
    parser.add_argument("--cold", type=int, default=200, help="shoppers/products for cold vs warm")
    parser.add_argument("--port", type=int, default=58000)
    parser.add_argument("--floor-port", type=int, default=58100)
    parser.add_argument("--session-engine", default="django.contrib.sessions.backends.cached_db",
                        help="SESSION_ENGINE of the shop and the signed-in floor (docs/deployment.md)")
    parser.add_argument("--cache-backend", default="django.core.cache.backends.redis.RedisCache",
                        help="CACHES backend of the shop and the floor, e.g. recommendations.cache.RedisCache")
    parser.add_argument("--json", default="")
    parser.add_argument("--code-root", default=str(ROOT),
                        help="serve the shop from another checkout (e.g. `git archive` of an older "
                             "commit) on the same database, cache and artifacts: a before/after")
    args = parser.parse_args()
    require_database(args.database_url)

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.load_settings", "DATABASE_URL": args.database_url,
           "BENCH_REDIS_URL": args.redis_url, "BENCH_SESSION_ENGINE": args.session_engine,
           "BENCH_CACHE_BACKEND": args.cache_backend, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    manage(env, "migrate", "--noinput")
    info = django_setup(env, 1)
    if info["events"] < args.events * 0.95:
        print(f"generating demo data with {args.events} events ...", flush=True)
        print(manage(env, "generate_demo_data", "--flush", "--events", str(args.events)))
    active = {row["engine"] for row in django_setup(env, 1)["active"]}
    for engine in ("popular", "trending", "item_cf"):
        if engine not in active:
            print(f"training {engine} ...", flush=True)
            print(manage(env, "recommendations_train", "--sync", "--engine", engine, "--force"))
    # A cold start: nothing cached (sessions are re-created below).
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    info = django_setup(env, args.cold)
    cookies, products = info["cookies"], info["products"]
    print(f"data: {info['events']} events, {info['products_total']} products, active: {info['active']}")

    code = Path(args.code_root).resolve()
    shop_env = {**env, "PYTHONPATH": str(code),
                "BENCH_MEDIA_ROOT": env.get("BENCH_MEDIA_ROOT", str(ROOT / "bench" / ".media" / "media"))}
    shop = start_gunicorn("demo_shop.wsgi:application", args.port, args.workers, shop_env, code)
    floor = start_gunicorn("demo_shop.wsgi:application", args.floor_port, args.workers,
                           {**env, "DJANGO_SETTINGS_MODULE": "bench.floor_settings"}, ROOT)
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "data": {"events": info["events"], "products": info["products_total"], "active": info["active"]},
        "config": vars(args), "gunicorn": f"{args.workers} sync workers, 127.0.0.1",
        "loadavg_at_start": os.getloadavg(), "cold_vs_cached": {}, "rounds": {}, "against_floors": {},
        "spikes": {}, "fixed_rate": {}}
    probe = SpeedProbe()
    try:
        for_you = [(API + "for-you/", c) for c in cookies]
        similar = [(API + f"products/{p}/similar/", "") for p in products]
        hot = [(API + "trending/", "")]
        # Warm the processes (imports, model load) with one request each, on another shopper.
        warm = [hot[0], (API + "for-you/", cookies[0]), (API + f"products/{products[0]}/similar/", "")]
        asyncio.run(sequential(args.port, warm * 4))
        _, floor_codes = asyncio.run(sequential(args.floor_port, [("/floor/anonymous/", ""),
                                                                  ("/floor/signed-in/", cookies[0])] * 4))
        assert set(floor_codes) == {200}, f"the floor answers {set(floor_codes)} (signed-in cookies refused?)"
        _, shop_floor_codes = asyncio.run(sequential(args.port, [("/floor/anonymous/", "")] * 4))
        assert set(shop_floor_codes) == {200}, f"the shop's floor answers {set(shop_floor_codes)}"
        cold = results["cold_vs_cached"]
        for label, reqs in (("for-you", for_you[1:]), ("similar", similar[1:])):
            first, codes = asyncio.run(sequential(args.port, reqs))
            again, codes2 = asyncio.run(sequential(args.port, reqs))
            assert all(c == 200 for c in codes + codes2), set(codes + codes2)
            cold[label] = {"first_uncached": summary(first), "cached": summary(again)}

        loads = {"for-you/": (shop, args.port, for_you), "products/<pk>/similar/": (shop, args.port, similar),
                 "trending/": (shop, args.port, hot),
                 "anonymous floor": (floor, args.floor_port, [("/floor/anonymous/", "")]),
                 "signed-in floor": (floor, args.floor_port, [("/floor/signed-in/", c) for c in cookies]),
                 SHOP_FLOOR: (shop, args.port, [("/floor/anonymous/", "")])}
        results["rounds"] = interleaved(loads, args)
        results["against_floors"] = against_floors(results["rounds"])
        if args.windows:
            mix = [request for trio in zip(for_you, similar, hot * len(for_you)) for request in trio]
            results["spikes"] = spike_windows(shop, mix, args, probe)

        fixed = results["fixed_rate"]
        for rate in [float(r) for r in args.rates.split(",") if r]:
            for label, (port, reqs) in (("for-you", (args.port, for_you)),
                                        ("similar", (args.port, similar)),
                                        ("anonymous floor", (args.floor_port, [("/floor/anonymous/", "")]))):
                fixed[f"{label} @ {rate:g}/s"] = asyncio.run(fixed_rate(port, reqs, rate, args.fixed_seconds))
                time.sleep(1)
    finally:
        probe.close()
        stop(shop)
        stop(floor)
        # Every list response must have left its impression in the database once the workers
        # have exited (they buffer impressions and write the rest on exit). wrk counts only the
        # responses it read before its deadline, so the server may have answered a few more.
        answered = 2 * sum(r["first_uncached"]["n"] for r in results["cold_vs_cached"].values())
        answered += 12  # the warm-up requests
        shop_runs = [run for label, runs in results["rounds"].items() if label in FLOORS for run in runs]
        shop_runs += results["spikes"].get("windows", [])
        answered += sum(r.get("requests", 0) - r.get("non_2xx", 0) for r in shop_runs)
        answered += sum(round(r["requests"] - r["errors_or_timeouts"]) for label, r in results["fixed_rate"].items()
                        if not label.startswith("anonymous floor"))
        written = django_setup(env, 0)["impressions"] - info["impressions"]
        results["impressions"] = {"list_responses_counted_by_clients": answered, "written": written}
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        results["loadavg_at_end"] = os.getloadavg()
        report(results, args)


def report(results: dict, args) -> None:
    print(f"\nLoad test, {results['data']['events']} events, {results['data']['products']} products; "
          f"gunicorn {args.workers} sync workers; wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"{args.rounds} interleaved rounds (medians)\n")
    print("| closed loop (wrk) | req/s | x floor req/s (range) | worker CPU ms/req | x floor CPU (range) "
          "| p99 ms | non-2xx | load average (1 min) per round |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in results["against_floors"].items():
        if not r["rounds"]:
            print(f"| {label} | failed: {results['rounds'][label]} |")
            continue
        versus = (f"{r['rps_ratio']:.2f} ({r['rps_ratio_range'][0]:.2f}-{r['rps_ratio_range'][1]:.2f}) of the "
                  f"{r['floor']}" if r.get("rps_ratio") is not None else "")
        cpu = (f"{r['cpu_ratio']:.2f} ({r['cpu_ratio_range'][0]:.2f}-{r['cpu_ratio_range'][1]:.2f})"
               if r.get("cpu_ratio") is not None else "")
        loads = ", ".join(f"{x:.1f}" for x in r["loadavg"])
        print(f"| {label} | {r['median_rps']:.0f} | {versus} | {r['median_cpu_ms']:.2f} | {cpu} | "
              f"{r['median_p99_ms']} | {r['non_2xx']} | {loads} |")
    shop_floor = {label: r["in_the_shop"] for label, r in results["against_floors"].items() if r.get("in_the_shop")}
    if shop_floor:
        print(f"\n| against the {SHOP_FLOOR} (its middleware) | x req/s (range) | x CPU (range) |")
        print("|---|---|---|")
        for label, r in shop_floor.items():
            if r["rps_ratio"] is not None:
                rps_low, rps_high = r["rps_ratio_range"]
                cpu_low, cpu_high = r["cpu_ratio_range"]
                print(f"| {label} | {r['rps_ratio']:.2f} ({rps_low:.2f}-{rps_high:.2f}) | "
                      f"{r['cpu_ratio']:.2f} ({cpu_low:.2f}-{cpu_high:.2f}) |")
    print("\n| CPU outside the workers, ms per request (medians) | PostgreSQL | Redis | wrk |")
    print("|---|---|---|---|")
    for label, r in results["against_floors"].items():
        if r.get("outside_cpu_ms"):
            outside = r["outside_cpu_ms"]
            print(f"| {label} | {outside['postgres']:.3f} | {outside['redis']:.3f} | {outside['wrk']:.3f} |")
    spikes = results.get("spikes")
    if spikes:
        window_loads = ", ".join(f"{w['loadavg_1min']:.1f}" for w in spikes["windows"])
        print(f"\nSpike check: the shop's lists mixed, {len(spikes['windows'])} windows of {args.window_seconds} s; "
              f"worker CPU ms/request per window {', '.join(f'{x:.2f}' for x in spikes['cpu_ms_per_request'])} "
              f"(median {spikes['median_cpu_ms']:.2f}; highest {spikes['max_to_median']:.2f}x, lowest "
              f"{spikes['min_to_median']:.2f}x the median; load average "
              f"{window_loads})")
        probed = spikes.get("at_probe_speed")
        if probed:
            print(f"  speed probe ms per window {', '.join(f'{x:.3f}' for x in probed['probe_ms'])} (correlation "
                  f"with worker CPU per request {probed['correlation_cpu_probe']:.2f}); worker CPU per request at "
                  f"the probe's median speed {', '.join(f'{x:.2f}' for x in probed['cpu_ms_per_request'])} "
                  f"(highest {probed['max_to_median']:.2f}x, lowest {probed['min_to_median']:.2f}x the median)")
        for name in ("redis_commands", "sql_transactions"):
            counts = [w.get(f"{name}_per_request") for w in spikes["windows"]]
            print(f"  {name.replace('_', ' ')} per request per window: {', '.join(f'{x:.3f}' for x in counts)}")
    if results["fixed_rate"]:
        print("\n| fixed offered rate (open loop) | achieved req/s | p50 ms | p95 ms | p99 ms | errors/timeouts |")
        print("|---|---|---|---|---|---|")
        for label, r in results["fixed_rate"].items():
            print(f"| {label} | {r['achieved_rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                  f"{r['p99_ms']:.1f} | {r['errors_or_timeouts']} |")
    print("\n| one request at a time | first (uncached) p50 / p95 ms | cached p50 / p95 ms |")
    print("|---|---|---|")
    for label, r in results["cold_vs_cached"].items():
        f, c = r["first_uncached"], r["cached"]
        print(f"| {label} ({f['n']} distinct) | {f['p50_ms']:.1f} / {f['p95_ms']:.1f} | "
              f"{c['p50_ms']:.1f} / {c['p95_ms']:.1f} |")
    imp = results.get("impressions")
    if imp:
        print(f"\nImpressions written to the database: {imp['written']} for "
              f"{imp['list_responses_counted_by_clients']} list responses counted by the clients "
              "(wrk leaves the last in-flight responses uncounted).")
    out = write_results(results, args.json, f"load-{results['data']['events']}.json")
    print(f"\nJSON: {out}  (load average at start {results['loadavg_at_start']}, "
          f"at end {results['loadavg_at_end']}: other processes share these cores)")


if __name__ == "__main__":
    main()
