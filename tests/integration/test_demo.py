"""The README's demo setup in a browser: ``python3 dev.py demo``'s own processes (the demo shop's
settings, SQLite, the cache in files, a Celery worker on kombu's filesystem broker, started by
dev.py's own functions), on a small generated shop in a temporary folder. Staff click "Retrain
all": the page answers at once, the dashboard follows the runs without a reload, and it ends with
each engine's outcome in words.

It needs no PostgreSQL or Redis, but runs with the integration tests (real processes, a browser).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import dev
from tests.accessibility import axe_violations, describe

from .conftest import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = "/admin/recommendations/modelversion/dashboard/"
OUTCOME = re.compile(r"^\w+ v\d+ (trained in .+ (and is live|; kept v\d+: ndcg@10 .+)|failed .+)$")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo(tmp_path):
    """The demo's database, data, fast models, worker and web server, as dev.py demo makes them."""
    env = {key: value for key, value in dev.demo_environment().items()
           if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
    env = {**env, "CELERY_BROKER_URL": "filesystem://", "DJANGO_SETTINGS_MODULE": "demo_shop.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DJANGO_CACHE_DIR": str(tmp_path / "cache"),
           "CELERY_BROKER_FOLDER": str(tmp_path / "broker"), "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
           "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for key in ("DJANGO_DEBUG", "TEST_DATABASE_NAME", "RECOMMENDATIONS_TEST_SETTINGS"):
        env.pop(key, None)

    def manage(*args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=600)

    manage("migrate", "--noinput")
    manage("generate_demo_data", "--users", "150", "--events", "12000", "--products", "300")
    manage("recommendations_train", "--sync", "--missing", *dev.FAST_DEMO_ENGINES)
    worker = dev.start_worker(env, tmp_path / "worker.log")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=ROOT, env=env, stdout=(tmp_path / "server.log").open("wb"),
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        try:
            return urllib.request.urlopen(f"{url}/admin/login/", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(up, 60, "the demo's web server", interval=0.3)
        yield url, tmp_path
    finally:
        dev.stop(server)
        dev.stop(worker)
    assert worker.returncode is not None  # dev.py stops its worker with the server


def test_retrain_all_in_the_demo_answers_at_once_and_ends_with_each_engines_outcome(demo, browser, axe):
    url, tmp = demo
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(f"{url}/admin/login/?next={DASHBOARD}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin12345")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{DASHBOARD}")

    started = time.monotonic()
    with page.expect_response(lambda response: response.url.endswith("/retrain/")) as posted:
        page.click("#rec-retrain-all")
    assert posted.value.status == 302
    answered = time.monotonic() - started
    # the server's answer: from the request's start to the first byte of its response
    server_answer = posted.value.request.timing["responseStart"] / 1000
    page.wait_for_url(f"**{DASHBOARD}")
    page.wait_for_selector("#rec-training-summary")
    shown = time.monotonic() - started
    print(f"\n'Retrain all': the server answered in {server_answer:.2f} s, the click's response came after "
          f"{answered:.2f} s, the dashboard was shown after {shown:.2f} s (load average {os.getloadavg()[0]:.1f})")
    # The answer came before the trainings: the worker takes them one at a time.
    summary = page.locator("#rec-training-summary").inner_text()
    assert "waiting" in summary, summary
    messages = page.locator(".messagelist").inner_text()
    assert "is waiting for a worker" in messages and "its progress shows below" in messages

    # Progress advances on this page, without a reload (the marker would vanish with one).
    page.evaluate("window.recNotReloaded = true")
    first = page.locator("#rec-training-summary").inner_text()
    page.wait_for_function(
        "([first]) => window.recNotReloaded && document.getElementById('rec-training-summary').textContent !== first"
        " && document.querySelector('.rec-run-stage') !== null"
        " && /running|finished/.test(document.getElementById('rec-training-summary').textContent)",
        arg=[first], timeout=120_000)
    page.wait_for_function(
        "() => window.recNotReloaded && [...document.querySelectorAll('.rec-run-stage')]"
        ".some(s => /loading data|validating|fitting|saving/.test(s.textContent))", timeout=120_000)
    assert page.evaluate("window.recNotReloaded") is True

    # The end: every engine's outcome in words (the page reloads once when the last run ends, to
    # show the new versions' charts; the reloaded page says the same).
    page.wait_for_function(
        "() => !window.recNotReloaded && /^Latest runs: (\\d+) of \\1 finished/.test("
        "(document.getElementById('rec-training-summary') || {}).textContent || '')",
        timeout=900_000, polling=2000)
    page.wait_for_load_state()
    outcomes = page.locator("#rec-training-runs li").all_inner_texts()
    engines = {text.split(" ", 1)[0] for text in outcomes}
    assert {"popular", "trending", "item_cf", "user_cf", "content", "rating", "hybrid"} <= engines, outcomes
    for text in outcomes:
        assert OUTCOME.match(text.strip()), text
    assert page.locator("#rec-serving").is_visible()
    print("\n".join(outcomes))
    serious = axe_violations(page, axe)
    assert not serious, describe(serious)
    assert server_answer < 1.0, f"the server took {server_answer:.2f} s to answer the click"
