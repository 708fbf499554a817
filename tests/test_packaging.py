"""What the package declares is what is tested: pyproject.toml's classifiers, Python and Django
ranges against noxfile.py's matrix; one version; every guide linked from the README; a changelog
entry. (That the wheel holds templates, static files, migrations and translations is the wheel
suite itself: noxfile.py's ``wheel`` session.)"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import recommendations

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def _noxfile_constant(name: str):
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"noxfile.py has no {name}")


CELLS = _noxfile_constant("CELLS")
DJANGO_PINS = _noxfile_constant("DJANGO")


def _classified(prefix: str) -> set[str]:
    return {c.removeprefix(prefix) for c in PROJECT["classifiers"] if c.startswith(prefix) and
            re.fullmatch(r"\d+\.\d+", c.removeprefix(prefix))}


def test_classifiers_name_exactly_the_tested_pythons_and_djangos():
    assert _classified("Programming Language :: Python :: ") == {py for py, _ in CELLS}
    assert _classified("Framework :: Django :: ") == {dj for _, dj in CELLS}


def test_requires_python_admits_every_tested_python_and_none_older():
    allowed = SpecifierSet(PROJECT["requires-python"])
    assert all(allowed.contains(f"{py}.0") for py, _ in CELLS)
    oldest = min((tuple(map(int, py.split("."))) for py, _ in CELLS))
    assert not allowed.contains(f"{oldest[0]}.{oldest[1] - 1}.99")


def test_django_range_admits_the_tested_releases_and_no_untested_series():
    [django] = [Requirement(d) for d in PROJECT["dependencies"] if Requirement(d).name.lower() == "django"]
    tested = {pin.split("==")[1] for pin in DJANGO_PINS.values()}
    for version in tested:
        assert django.specifier.contains(version), version
    for untested in ("5.1.9", "6.0.3", "6.2", "7.0"):
        assert not django.specifier.contains(untested), untested
    # every cell pins a release of its series
    assert all(pin.split("==")[1].startswith(f"{series}.") for series, pin in DJANGO_PINS.items())


def test_the_version_has_one_source_and_a_changelog_section():
    assert PROJECT["dynamic"] == ["version"] and "version" not in PROJECT
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "recommendations.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", recommendations.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, flags=re.M)
    assert "## [Unreleased]" in changelog
    assert all(tuple(map(int, v.split("."))) <= tuple(map(int, recommendations.__version__.split(".")))
               for v in released), "a released section newer than __version__"


def test_the_readme_links_every_guide_in_docs():
    readme = (ROOT / "README.md").read_text()
    index = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)\)", index))
    guides = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert linked == guides
    assert "(CHANGELOG.md)" in index


def test_the_package_ships_its_type_information():
    assert (Path(recommendations.__file__).parent / "py.typed").exists()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["recommendations"]


def test_the_declared_licence_ships_as_a_file():
    """pyproject.toml says BSD-3-Clause; the text itself must be in the repository and the
    distributions (``license-files``), or the declaration grants nothing a lawyer can read."""
    assert PROJECT["license"] == "BSD-3-Clause" and PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "Neither the name of the copyright holder" in text
