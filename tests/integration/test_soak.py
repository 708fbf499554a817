"""CI's short variant of the capture soak (``bench/soak.py``): gunicorn, PostgreSQL and Redis
for real; every accepted event is stored exactly once and no request fails."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import REDIS_URL

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_short_capture_soak_stores_every_accepted_event_exactly_once(services, tmp_path):
    out = tmp_path / "soak.json"
    with socket.socket() as probe:  # a free port (other runs may share the machine)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = subprocess.run([sys.executable, "bench/soak.py", "--seconds", "8", "--rate", "30", "--clients", "4",
                          "--users", "60", "--port", str(port), "--redis", REDIS_URL, "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert result["sent"] == result["scheduled"] == 240
    assert result["statuses"] == {"201": 240}
    assert result["accepted"] == result["stored_rows"] == 240
    assert result["missing"] == result["duplicated"] == result["unexpected"] == result["server_errors"] == 0
