"""``python3 dev.py test`` (what CI runs) runs every suite even when one fails, and always ends
with its ``total:`` line; any failure still makes it exit non-zero."""

from __future__ import annotations

import pytest

import dev


def test_every_suite_runs_and_the_total_is_printed_after_a_failure(tmp_path, monkeypatch, capfd):
    (tmp_path / "test_fails.py").write_text("def test_fails():\n    assert False\n")
    (tmp_path / "test_passes.py").write_text("def test_passes():\n    pass\n\n\ndef test_too():\n    pass\n")
    monkeypatch.setattr(dev, "ensure_venv", lambda: None)
    monkeypatch.setattr(dev, "REPORTS", tmp_path / "reports")
    monkeypatch.setattr(dev, "CI", False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(dev, "SUITES", [
        ("first", "tests.settings", [str(tmp_path / "test_fails.py")]),
        ("crashes", "tests.settings", [str(tmp_path / "no_such_file.py")]),
        ("last", "tests.settings", [str(tmp_path / "test_passes.py")]),
    ])
    monkeypatch.setattr(dev, "LINT", [dev.PYTHON, "-c", "raise SystemExit(1)"])  # the lint step fails too
    with pytest.raises(SystemExit) as exited:
        dev.test()
    assert exited.value.code not in (0, None)
    out = capfd.readouterr().out
    assert "=== first suite on sqlite ===" in out and "=== last suite on sqlite ===" in out
    lines = out.rstrip().splitlines()
    assert lines[-1] == "total: 2 passed, 3 failed, 0 skipped", lines[-3:]
    assert "lint" in lines[-2] and "crashes" in lines[-2], lines[-2]
