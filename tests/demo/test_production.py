"""The demo shop's production mode (``DJANGO_DEBUG=0``): ``check --deploy`` is clean, a secret
key is required, and whitenoise serves the collected, hashed static files (no CDN anywhere)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import django, re
django.setup()
from django.test import Client
from django.core.management import call_command
call_command("migrate", verbosity=0)
client = Client()
page = client.get("/", secure=True)
assert page.status_code == 200, page.status_code
assert "Strict-Transport-Security" in page.headers and "//cdn" not in page.content.decode()
css = re.search(r'href="(/static/catalog/shop\\.[0-9a-f]{12}\\.css)"', page.content.decode())[1]
served = client.get(css, secure=True)
assert served.status_code == 200 and b"Corner Shop" in b"".join(served.streaming_content)
assert client.get("/").status_code == 301  # plain HTTP is redirected to HTTPS
print("ok", css)
"""


def manage(*args: str, tmp_path: Path, secret: bool = True,
           extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "demo_shop.settings", "DJANGO_DEBUG": "0",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
           **(extra or {})}
    env.pop("DJANGO_SECRET_KEY", None)
    if secret:
        env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_check_deploy_is_clean_and_the_secret_key_is_required(tmp_path):
    checked = manage("manage.py", "check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # ... with a Redis broker and worker too: the demo's cache is shared (no recommendations.E040)
    with_worker = manage("manage.py", "check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path,
                         extra={"CELERY_BROKER_URL": "redis://127.0.0.1:6379/9"})
    assert with_worker.returncode == 0 and "E040" not in with_worker.stdout + with_worker.stderr
    missing = manage("manage.py", "check", tmp_path=tmp_path, secret=False)
    assert missing.returncode != 0 and "Set DJANGO_SECRET_KEY" in missing.stderr


def test_whitenoise_serves_the_collected_hashed_static_files(tmp_path):
    collected = manage("manage.py", "collectstatic", "--noinput", tmp_path=tmp_path)
    assert collected.returncode == 0, collected.stderr
    served = manage("-c", SERVE, tmp_path=tmp_path)
    assert served.returncode == 0 and served.stdout.startswith("ok"), served.stdout + served.stderr
