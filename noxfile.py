"""The support matrix, the built package and its type information (docs/development.md).

    nox -l                                   # the sessions
    nox -s "tests(py3.13-django6.1)"     # one cell: the app suite on SQLite
    nox -s wheel                             # build, twine check, the host-shop suite on the wheel
    nox -s mypy                              # the public API against django-stubs

``python3 dev.py test`` runs them all under ``CI=true``. Each cell installs the versions pinned in
requirements.txt, less what the app suite does not use (TensorFlow, django-oscar, Playwright, the
tools), with the cell's Django instead of the pin. uv makes the environments and keeps one
download cache for every cell.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
REQUIREMENTS = ROOT / "requirements.txt"

# Every tested (Python, Django) pair; pyproject.toml's classifiers and Django range say the same
# (tests/test_packaging.py checks). Django 6.x needs Python >= 3.12.
DJANGO = {"5.2": "Django==5.2.19", "6.1": "Django==6.1.3"}
CELLS = [("3.11", "5.2"), ("3.12", "5.2"), ("3.13", "5.2"), ("3.12", "6.1"), ("3.13", "6.1")]
# The cell that also installs the deep extra (TensorFlow has wheels for 3.11-3.13 on Linux
# x86-64): deep is tested on the newest Python and Django as well as in the full run on 3.11.
DEEP_CELL = ("3.13", "6.1")
# Not needed by the app suite (the full run on 3.11 has them all); the deep extra is installed
# from pyproject.toml in DEEP_CELL.
NOT_IN_CELLS = {"django", "tensorflow-cpu", "django-oscar", "sorl-thumbnail", "playwright", "gunicorn",
                "nox", "uv", "build", "twine", "mypy", "django-stubs", "djangorestframework-stubs"}
# What mypy checks: the public API a shop imports (signals, template tags, the product adapter,
# the engine interface, the settings) and the package's entry points.
TYPED_API = ["recommendations/__init__.py", "recommendations/signals.py", "recommendations/conf.py",
             "recommendations/products.py", "recommendations/templatetags/recommendations.py",
             "recommendations/algorithms/__init__.py", "recommendations/algorithms/base.py"]

# What the cells leave to the full run (Python 3.11, Django 5.2, every suite): the integration
# tests (PostgreSQL, Redis, workers, Chromium), the browser test (Playwright), tests of dev.py,
# and the runs over the research data sets (ML-100K accuracy, importing MovieLens and Complete
# Journey: 6 of a cell's 23 minutes under load, NumPy/pandas at scale with nothing that differs
# between cells).
FULL_RUN_ONLY = ["--ignore=tests/integration", "--ignore=tests/test_dev.py", "--ignore=tests/algorithms/test_ml100k.py",
                 "--deselect=tests/test_import.py::test_movielens100k",
                 "--deselect=tests/test_import.py::test_completejourney",
                 "--deselect=tests/test_beyond_accuracy_dashboard.py::test_the_new_charts_in_a_browser"]

# Run once per Python, in the cell with ONCE_PER_PYTHON_WITH's Django (the full run has them on
# 3.11 with 5.2): the engines and their evaluation (NumPy and SciPy on the same pins; a few tests
# drive them through recommendations_evaluate, a plain management command), and the API fuzzing
# (25 examples a check; the other API tests run in every cell). 150 of a lean cell's 320 s.
ONCE_PER_PYTHON = ["tests/algorithms", "tests/test_api_fuzz.py"]
ONCE_PER_PYTHON_WITH = "6.1"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "wheel", "mypy"]


def _pyenv_on_path() -> None:
    """Find pyenv's interpreters (python3.12, python3.13) when the shell has no pyenv shims."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    extra = [str(path / "bin") for path in sorted(versions.glob("3.*"), reverse=True) if (path / "bin").is_dir()]
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *extra])


_pyenv_on_path()


def cell_requirements(django: str, *, also: tuple[str, ...] = ()) -> list[str]:
    """requirements.txt's pins for the app suite, with ``django``'s release instead of the pin
    (and the pins of ``also``, names NOT_IN_CELLS leaves out)."""
    pins = [DJANGO[django]]
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        name = line.split("==", 1)[0].split("[", 1)[0].strip().lower()
        if line and (name not in NOT_IN_CELLS or name in also):
            pins.append(line)
    return pins


@nox.session
@nox.parametrize(("python", "django"), CELLS, ids=[f"py{py}-django{dj}" for py, dj in CELLS])
def tests(session: nox.Session, django: str) -> None:
    """The app suite (tests.settings) on SQLite in one cell of the matrix."""
    session.install(*cell_requirements(django))
    deep = (session.python, django) == DEEP_CELL
    session.install("-e", f"{ROOT}[deep]" if deep else str(ROOT))
    session.run("python", "-c", "import django, sys; print('cell: Python', sys.version.split()[0], "
                "'Django', django.get_version())")
    skip = [] if deep else [  # no TensorFlow here
        "--ignore=tests/algorithms/test_deep.py",
        "--ignore=tests/algorithms/test_sequence.py",
        "--ignore=tests/test_sequence_serving.py",
        "--deselect=tests/algorithms/test_fresh_history.py::"
        "test_fresh_views_add_to_a_known_shoppers_list_without_replacing_it[deep]"]
    if django != ONCE_PER_PYTHON_WITH and (session.python, ONCE_PER_PYTHON_WITH) in CELLS:
        skip += [f"--ignore={path}" for path in ONCE_PER_PYTHON]
    session.run("python", "-m", "pytest", "tests", "--ds", "tests.settings", "-p", "no:cacheprovider",
                *FULL_RUN_ONLY, *skip, *session.posargs, env={"DJANGO_SETTINGS_MODULE": "tests.settings"})


@nox.session(python="3.11")
def wheel(session: nox.Session) -> None:
    """Build the sdist and the wheel, check them with twine, install the wheel (not the checkout)
    and run the host-shop suite against it from a directory that holds only tests/."""
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build[uv]==1.6.1", "twine==7.0.0")
    session.run("python", "-m", "build", "--installer", "uv", "--outdir", str(dist), str(ROOT))
    built = sorted(dist.iterdir())
    session.run("python", "-m", "twine", "check", "--strict", *map(str, built))
    wheel_file = next(path for path in built if path.suffix == ".whl")
    # Playwright too: in CI this is the host-shop suite's SQLite pass, its browser test included.
    session.install(*cell_requirements("5.2", also=("playwright",)))
    session.install(str(wheel_file))  # its own dependency ranges must accept the pins
    # Outside the checkout: pytest-django puts the directory of the nearest manage.py on sys.path.
    work = Path(tempfile.mkdtemp(prefix="recommendations-wheel-suite-"))
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    shutil.copy(ROOT / "pytest.ini", work / "pytest.ini")
    shutil.copytree(ROOT / "docs", work / "docs")  # the host shop checks docs/integration.md's settings
    session.chdir(work)
    session.run("python", "-c", "import recommendations, sys; from pathlib import Path; "
                "here = Path(recommendations.__file__).resolve().parent; print('recommendations from', here); "
                f"sys.exit(0 if 'site-packages' in here.parts and here != Path({str(ROOT / 'recommendations')!r}) "
                "else 'the suite would test the checkout, not the wheel')")
    try:
        session.run("python", "-m", "pytest", "tests", "--ds", "tests.hostshop.settings", "-p", "no:cacheprovider",
                    "-o", "django_find_project=false", "--ignore=tests/integration", *session.posargs,
                    env={"DJANGO_SETTINGS_MODULE": "tests.hostshop.settings",
                         "RECOMMENDATIONS_TEST_INSTALLED_PACKAGE": "1"})  # tests/conftest.py checks
    finally:
        session.chdir(ROOT)
        shutil.rmtree(work, ignore_errors=True)


@nox.session(python="3.11")
def mypy(session: nox.Session) -> None:
    """Type-check the public API with django-stubs and djangorestframework-stubs."""
    session.install(*cell_requirements("5.2"), "mypy==2.4.1", "django-stubs==6.1.2",
                    "djangorestframework-stubs==3.18.1")
    session.run("python", "-m", "mypy", *TYPED_API, *session.posargs)


if __name__ == "__main__":  # ``python noxfile.py`` as well as ``nox``
    sys.exit(nox.main())
