#!/usr/bin/env python3
"""The README's two commands, needing nothing but Python 3.11:

    python3 dev.py demo   # venv, install, migrate, demo data, trained models, serve on 127.0.0.1:8000
    python3 dev.py test   # venv, install, lint, the whole test suite

Embedded defaults unless ``DATABASE_URL`` / ``CELERY_BROKER_URL`` are set: SQLite, and a real
Celery worker (started and stopped with the server) on kombu's filesystem broker, so that the
admin's Retrain answers at once and training runs as in production. Only the tests run Celery tasks
eagerly. With ``CI=true`` the test command also runs every suite on
PostgreSQL (``DATABASE_URL`` or the local server) and the integration tests, which never skip,
and then the support matrix (``noxfile.py``): the app suite in every other (Python, Django) cell,
the host-shop suite against the built wheel, and mypy. ``python3 dev.py matrix`` runs that part
alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CI_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
FAST_DEMO_ENGINES = [arg for name in ("popular", "trending", "item_cf", "user_cf", "content")
                     for arg in ("--engine", name)]

# (label, settings module, paths): the product model is fixed per process, so each
# configuration is its own pytest run (tests/conftest.py picks the directories).
SUITES = [
    ("app", "tests.settings", ["tests"]),
    ("host-shop", "tests.hostshop.settings", ["tests"]),
    # a second host: UUID product keys, email-login users, many-to-many categories, its own adapter
    ("uuid-host-shop", "tests.uuidshop.settings", ["tests"]),
    # a django-oscar 4.2 shop with recommendations.contrib.oscar (docs/oscar.md)
    ("oscar-shop", "tests.oscarshop.settings", ["tests/oscarshop"]),
    ("demo-shop", "demo_shop.settings", ["tests"]),
]


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=True)


def ensure_venv() -> None:
    """Create .venv and install requirements.txt, again only when it changed."""
    if not PYTHON.exists():
        run(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".requirements.sha256"
    digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PYTHON, "-m", "pip", "install", "--quiet", "-r", "requirements.txt")
        stamp.write_text(digest)


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    run(PYTHON, "manage.py", *args, env=env)


def demo_environment() -> dict[str, str]:
    """The demo's processes share a broker: the one in CELERY_BROKER_URL, else a folder."""
    return {**os.environ, "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or "filesystem://"}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """One Celery worker for every queue of the demo, one task at a time (SQLite has one writer)."""
    with log.open("w") as out:
        return subprocess.Popen(
            [str(PYTHON), "-m", "celery", "-A", "demo_shop", "worker", "--pool=solo", "-n", "demo@%h",
             "-Q", "celery,recommendations.training,recommendations.precompute", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def demo() -> None:
    ensure_venv()
    env = demo_environment()
    manage("migrate", "--noinput", env=env)
    manage("generate_demo_data", env=env)
    # The fast engines train before the shop opens; the slow ones (rating, deep, hybrid) are queued
    # to the worker, and the shop serves fallbacks until each model is ready.
    manage("recommendations_train", "--sync", "--missing", *FAST_DEMO_ENGINES, env=env)
    log = ROOT / "demo-worker.log"
    print(f"+ a Celery worker trains in the background (log: {log.name})", flush=True)
    # A SIGTERM (a supervisor, `kill`) ends the demo like Ctrl-C does: the worker is stopped too,
    # instead of being left training on its own.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    worker = start_worker(env, log)
    try:
        manage("recommendations_train", "--missing", env=env)
        # its own process group: runserver's autoreloader child goes with it however dev.py ends
        address = f"127.0.0.1:{os.environ.get('DEMO_PORT', '8000')}"
        server = subprocess.Popen([str(PYTHON), "manage.py", "runserver", address], cwd=ROOT, env=env,
                                  start_new_session=True)
        try:
            server.wait()
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(10)
    finally:
        stop(worker)


REPORTS = ROOT / ".test-reports"
LINT = [PYTHON, "-m", "ruff", "check", "."]


def run_step(*args: str | Path, env: dict[str, str] | None = None) -> int:
    """Run one step of the test command and return its exit status (the next steps run anyway)."""
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, env=env).returncode


def pytest_suites(extra_env: dict[str, str], label: str) -> tuple[list[Path], list[str]]:
    """Run every suite, whatever the earlier ones did: (JUnit reports, suites whose pytest failed
    outside the tests: a usage error, a crash, no report)."""
    reports, broken = [], []
    for name, settings, paths in SUITES:
        if CI and label == "sqlite" and name == WHEEL_SUITE:
            print(f"\n=== {name} suite on {label}: runs against the built wheel (nox session wheel) ===")
            continue
        report = REPORTS / f"{label}-{name}.xml"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.unlink(missing_ok=True)
        env = {**os.environ, **extra_env, "DJANGO_SETTINGS_MODULE": settings}
        print(f"\n=== {name} suite on {label} ===", flush=True)
        # tests/integration (real Celery workers, Redis, a browser) needs PostgreSQL: it runs
        # in the PostgreSQL pass, never skipped under CI=true.
        # The engines' own tests (tests/algorithms) and this command's (tests/test_dev.py) touch no
        # database: the SQLite pass is enough.
        skip = (["--ignore=tests/algorithms", "--ignore=tests/test_dev.py"] if label == "postgresql"
                else ["--ignore=tests/integration"])
        code = run_step(PYTHON, "-m", "pytest", *paths, *skip, "--ds", settings, f"--junitxml={report}",
                        "-p", "no:cacheprovider", env=env)
        if report.exists():
            reports.append(report)
        if code not in (0, 1) or not report.exists():  # 1: tests failed; else pytest itself did
            broken.append(f"{name} suite on {label} (pytest exit status {code})")
    return reports, broken


def totals(reports: list[Path]) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for report in reports:
        for suite in ET.parse(report).getroot().iter("testsuite"):
            tests, skip = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
            fail = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            passed += tests - skip - fail
            failed += fail
            skipped += skip
    return passed, failed, skipped


NOX = [PYTHON, "-m", "nox", "--noxfile", ROOT / "noxfile.py"]
# Under CI=true this suite's SQLite pass runs against the installed wheel instead of the checkout
# (noxfile.py's wheel session: same Python, Django and tests), so CI does not run it twice.
WHEEL_SUITE = "host-shop"
# The full run above is this cell of the matrix (and much more), so the matrix leaves it out.
FULL_RUN_CELL = "tests(py3.11-django5.2)"


def nox_sessions() -> list[str]:
    """The sessions ``nox`` selects by default (the matrix's cells, wheel, mypy), in order."""
    listed = subprocess.run([*map(str, NOX), "--list", "--json"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    return [entry["session"] for entry in json.loads(listed)]


def matrix() -> tuple[list[Path], list[str], list[tuple[str, float, int]]]:
    """Run each nox session but the full run's cell, whatever the earlier ones did: (JUnit
    reports, failed steps, (session, seconds, exit status) for each)."""
    reports, broken, timings = [], [], []
    for session in nox_sessions():
        if session == FULL_RUN_CELL:
            continue
        print(f"\n=== {session} ===", flush=True)
        name = "".join(c if c.isalnum() or c in "-." else "-" for c in session).strip("-")
        report = REPORTS / f"nox-{name}.xml"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.unlink(missing_ok=True)
        pytest_args = ["--", f"--junitxml={report}"] if session.startswith(("tests", "wheel")) else []
        started = time.monotonic()
        code = run_step(*NOX, "--session", session, *pytest_args)
        timings.append((session, time.monotonic() - started, code))
        if report.exists():
            reports.append(report)
        if code != 0 and not (code == 1 and report.exists()):  # pytest's failures are counted already
            broken.append(f"nox session {session} (exit status {code})")
        print(f"=== {session}: exit status {code} in {timings[-1][1]:.0f} s ===", flush=True)
    return reports, broken, timings


def print_timings(timings: list[tuple[str, float, int]]) -> None:
    print("\nsteps' times (s) and exit statuses, load average now "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}:")
    for name, seconds, code in timings:
        print(f"  {name:<40} {seconds:6.0f}  {code}")


def finish(started: float, reports: list[Path], broken: list[str]) -> None:
    """Print the total line (always the last) and exit non-zero on any failure."""
    passed, failed, skipped = totals(reports)
    print(f"\nAll suites finished in {time.monotonic() - started:.0f} s")
    if broken:
        print(f"failed outside the test counts: {', '.join(broken)}")
    failed += len(broken)
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    if failed or (CI and skipped):
        sys.exit("skipped tests are failures in CI" if not failed else 1)


def test() -> None:
    """Lint, then every suite on SQLite (and PostgreSQL, and the matrix): each step runs even
    when an earlier one failed, and the last line is always the total; any failure makes the exit
    status non-zero."""
    ensure_venv()
    started = time.monotonic()
    timings: list[tuple[str, float, int]] = []
    step = time.monotonic()
    broken = [] if run_step(*LINT) == 0 else ["lint (ruff check)"]
    reports, crashed = pytest_suites({}, "sqlite")
    broken += crashed
    timings.append(("lint + SQLite suites", time.monotonic() - step, len(crashed)))
    database_url = os.environ.get("DATABASE_URL") or (CI_DATABASE_URL if CI else "")
    if database_url.startswith("postgres"):
        step = time.monotonic()
        more, crashed = pytest_suites({"DATABASE_URL": database_url}, "postgresql")
        reports += more
        broken += crashed
        timings.append(("PostgreSQL suites + integration", time.monotonic() - step, len(crashed)))
    if CI:
        more, crashed, steps = matrix()
        reports += more
        broken += crashed
        timings += steps
    print_timings(timings)
    finish(started, reports, broken)


def run_matrix() -> None:
    """The matrix part of the CI run alone (docs/development.md)."""
    ensure_venv()
    started = time.monotonic()
    reports, broken, timings = matrix()
    print_timings(timings)
    finish(started, reports, broken)


if __name__ == "__main__":
    commands = {"demo": demo, "test": test, "matrix": run_matrix}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(commands)}}}")
    try:
        commands[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
    except KeyboardInterrupt:
        sys.exit(130)
