"""``python3 dev.py test`` (what CI runs) runs every suite even when one fails, and always ends
with its ``total:`` line; any failure still makes it exit non-zero. Under ``CI=true`` it also runs
every nox session but the cell the full run already is, and counts their tests and failures."""

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


NOXFILE = '''
import sys
import nox

nox.options.sessions = ["tests", "mypy"]
HERE = {here!r}


@nox.session(python=False)
@nox.parametrize("cell", ["py3.11-django5.2", "passes", "fails"], ids=["py3.11-django5.2", "passes", "fails"])
def tests(session, cell):
    if cell == "py3.11-django5.2":
        session.error("the full run's cell ran again")
    session.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:django", "--rootdir", HERE,
                f"{{HERE}}/cell_{{cell}}.py", *session.posargs)


@nox.session(python=False)
def mypy(session):
    session.error("types do not check")
'''


def test_ci_runs_every_matrix_session_but_the_full_runs_cell_and_counts_them(tmp_path, monkeypatch, capfd):
    (tmp_path / "cell_passes.py").write_text("def test_one():\n    pass\n\n\ndef test_two():\n    pass\n")
    (tmp_path / "cell_fails.py").write_text("def test_fails():\n    assert False\n")
    (tmp_path / "noxfile.py").write_text(NOXFILE.format(here=str(tmp_path)))
    (tmp_path / "test_suite.py").write_text("def test_suite():\n    pass\n")
    monkeypatch.setattr(dev, "ensure_venv", lambda: None)
    monkeypatch.setattr(dev, "REPORTS", tmp_path / "reports")
    monkeypatch.setattr(dev, "CI", True)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(dev, "CI_DATABASE_URL", "")  # no PostgreSQL pass
    monkeypatch.setattr(dev, "SUITES", [("app", "tests.settings", [str(tmp_path / "test_suite.py")])])
    monkeypatch.setattr(dev, "NOX", [dev.PYTHON, "-m", "nox", "--noxfile", tmp_path / "noxfile.py"])
    monkeypatch.setattr(dev, "LINT", [dev.PYTHON, "-c", "pass"])
    with pytest.raises(SystemExit) as exited:
        dev.test()
    assert exited.value.code not in (0, None)
    out = capfd.readouterr().out
    assert "=== tests(passes): exit status 0 in" in out
    assert "=== tests(fails): exit status 1 in" in out
    assert "=== mypy: exit status 1 in" in out
    assert "the full run's cell ran again" not in out and "=== tests(py3.11-django5.2)" not in out
    assert "2 passed" in out and "1 failed" in out  # each cell's own summary line
    lines = out.rstrip().splitlines()
    # the suite (1) and the passing cell (2) passed; the failing cell's test and mypy failed
    assert lines[-1] == "total: 3 passed, 2 failed, 0 skipped", lines[-3:]
    assert "nox session mypy" in lines[-2] and "tests(fails)" not in lines[-2], lines[-2]
