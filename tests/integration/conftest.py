"""Real Celery workers, Redis and PostgreSQL for the integration tests.

The workers are ``celery -A tests worker`` subprocesses using ``tests.settings``; what they must
share with the test process travels through the environment (see the end of tests/settings.py):
pytest-django's PostgreSQL test database (the tests use ``transactional_db`` so that what they
write is committed and visible to the workers), a dedicated Redis database as broker, result
backend and cache (one training lock for everyone), and a temporary MEDIA_ROOT for artifacts.

Locally these tests skip when PostgreSQL (``DATABASE_URL=postgres://...``) or Redis is missing;
with ``CI=true`` they fail instead, loudly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = os.environ.get("RECOMMENDATIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
QUEUES = "celery,recommendations.training,recommendations.precompute"
CACHE_PREFIX = "recommendations-tests"  # tests/settings.py uses the same

if os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings") != "tests.settings":
    collect_ignore_glob = ["test_*.py"]  # the workers run tests.settings only


def _unavailable(reason: str) -> None:
    if CI:
        pytest.fail(f"integration tests cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def services() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        _unavailable("needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable(f"needs Redis at {REDIS_URL}: {exc}")


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _configure_celery(broker: str, backend: str | None, eager: bool) -> None:
    """Point the test process's Celery app somewhere else (its config was read at import)."""
    from tests.celery import app

    app.conf.update(broker_url=broker, result_backend=backend, task_always_eager=eager)
    app._pool = None  # connections are made again from the new conf (old ones just dropped)
    for cached in ("amqp", "control"):
        app.__dict__.pop(cached, None)
    app._backend_cache = None
    app._local = threading.local()


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path

    @property
    def hostname(self) -> str:
        return f"{self.name}@integration"

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL to the worker's main process and its pool processes (its process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@dataclass
class Stack:
    env: dict[str, str]
    tmp: Path
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self, name: str, pool: str = "solo", **settings_overrides) -> Worker:
        env = dict(self.env)
        if settings_overrides:
            merged = {**json.loads(env["RECOMMENDATIONS_TEST_SETTINGS"]), **settings_overrides}
            env["RECOMMENDATIONS_TEST_SETTINGS"] = json.dumps(merged)
        log = self.tmp / f"worker-{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests", "worker", f"--pool={pool}", "--concurrency=1",
             "-n", f"{name}@integration", "-Q", QUEUES, "--prefetch-multiplier=1", "--without-gossip",
             "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        worker = Worker(name, process, log)
        self.workers.append(worker)
        return worker

    def wait_ready(self, *workers: Worker, timeout: float = 90) -> None:
        from tests.celery import app

        names = {w.hostname for w in workers}

        def ready():
            for worker in workers:
                if worker.process.poll() is not None:
                    raise AssertionError(f"worker {worker.name} exited:\n{worker.tail()}")
            replies = app.control.ping(destination=list(names), timeout=0.5) or []
            return names <= {name for reply in replies for name in reply}

        wait_for(ready, timeout, f"workers {sorted(names)} to answer a ping", interval=0.3)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in self.workers:
            try:
                worker.process.wait(15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(5)


@pytest.fixture
def stack(services, transactional_db, settings, tmp_path):
    """Redis flushed, this process wired to it, and a way to start workers (stopped at the end,
    before the database is flushed)."""
    import redis
    from django.db import connection

    from recommendations import serving

    redis.Redis.from_url(REDIS_URL).flushdb()
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": REDIS_URL, "KEY_PREFIX": CACHE_PREFIX}}
    settings.RECOMMENDATIONS = {"ACTIVE_VERSION_CHECK_SECONDS": 0}
    serving.active_models.clear()
    from tests.celery import app

    before = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    _configure_celery(REDIS_URL, REDIS_URL, eager=False)

    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "RECOMMENDATIONS_TEST_REDIS": REDIS_URL,
        "RECOMMENDATIONS_TEST_MEDIA_ROOT": str(media),
        "RECOMMENDATIONS_TEST_SETTINGS": json.dumps({"ACTIVE_VERSION_CHECK_SECONDS": 0}),
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    env.pop("TEST_DATABASE_NAME", None)
    stack = Stack(env=env, tmp=tmp_path)
    try:
        yield stack
    finally:
        stack.stop()
        _configure_celery(*before)
        serving.active_models.clear()
        redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def shop(django_user_model):
    """Sixty shoppers with one of two tastes (odd: books, even: garden), each with a rating."""
    from recommendations.models import Event, Rating
    from tests.conftest import make_product

    rng = np.random.default_rng(7)
    books = [make_product(f"Book {i}", category="Books") for i in range(15)]
    garden = [make_product(f"Tool {i}", category="Garden") for i in range(15)]
    events, ratings, users = [], [], []
    for u in range(60):
        user = django_user_model.objects.create_user(f"s{u}")
        users.append(user)
        liked = books if u % 2 else garden
        for p in rng.choice(len(liked), size=7, replace=False):
            events.append(Event(user=user, product=liked[p], kind=Event.Kind.VIEW))
            events.append(Event(user=user, product=liked[p], kind=Event.Kind.CART))
        ratings.append(Rating(user=user, product=liked[int(rng.integers(len(liked)))], score=5))
    Event.objects.bulk_create(events)
    Rating.objects.bulk_create(ratings)
    return books, garden, users


@pytest.fixture
def staff_client(client, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-1")
    client.login(username="boss", password="pw-boss-1")
    return client
