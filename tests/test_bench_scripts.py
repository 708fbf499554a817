"""Every benchmark script still starts: ``--help`` imports it whole, so a name it imports from
the app or from another script that was renamed fails here, not on the day someone measures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(path for path in (ROOT / "bench").glob("*.py") if "argparse" in path.read_text())


def test_the_scripts_are_found():
    assert len(SCRIPTS) >= 10 and ROOT / "bench" / "retrain.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_each_benchmark_script_imports_and_explains_itself(script):
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout


@pytest.mark.parametrize("script", ["load.py", "cold_for_you.py", "request_cost.py"])
def test_a_database_it_cannot_use_stops_it_with_one_line_naming_it(script):
    url = "postgres://postgres@127.0.0.1:1/no_such_bench_db"  # nothing listens on port 1
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--database-url", url], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and url in done.stderr and "Traceback" not in done.stderr
