"""The shipped translations are complete and compiled: ``makemessages -l zh_Hans`` run on a copy
of the app (and of the demo shop) leaves no untranslated or fuzzy entry, and every entry of each
catalogue reads the same from the committed ``.mo`` as from its ``.po`` (tests/test_i18n.py reads
the installed package's catalogue in every suite, the wheel's included)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = {"recommendations": ROOT / "recommendations", "demo_shop": ROOT / "demo_shop"}
LOCALE = "zh_Hans"


def _po(folder: Path) -> Path:
    return folder / "locale" / LOCALE / "LC_MESSAGES" / "django.po"


def _entries(po: Path, *flags: str) -> list[str]:
    """The msgids that ``msgattrib`` selects with ``flags`` (the header is never one)."""
    out = subprocess.run(["msgattrib", *flags, "--no-obsolete", str(po)], check=True, capture_output=True,
                         text=True).stdout
    return [m for m in re.findall(r'^msgid "(.*)"$', out, flags=re.M) if m]


def _require_gettext_tools() -> None:
    for tool in ("msgattrib", "msgfmt", "xgettext", "msgmerge"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install gettext", pytrace=False)


@pytest.mark.parametrize("name", CATALOGUES)
def test_makemessages_leaves_nothing_untranslated_or_fuzzy(name, tmp_path, monkeypatch):
    """What a translator would get after the next ``makemessages``: run on a copy, so the
    checkout is never touched; a string added or changed since the catalogue was written shows
    up as untranslated or fuzzy here."""
    _require_gettext_tools()
    copy = tmp_path / name
    shutil.copytree(CATALOGUES[name], copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "models"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=[LOCALE], no_obsolete=True, no_location=True, verbosity=0)
    po = _po(copy)
    assert _entries(po, "--untranslated") == []
    assert _entries(po, "--only-fuzzy") == []
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], check=True)


@pytest.mark.parametrize("name", CATALOGUES)
def test_the_committed_mo_matches_its_po(name, tmp_path):
    """A .po edited without ``compilemessages`` would ship stale Chinese: compile the .po here
    and compare every message with the committed .mo."""
    _require_gettext_tools()
    po = _po(CATALOGUES[name])
    fresh = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)
    with fresh.open("rb") as expected, po.with_suffix(".mo").open("rb") as committed:
        expected_catalog, committed_catalog = gettext.GNUTranslations(expected)._catalog, \
            gettext.GNUTranslations(committed)._catalog
    assert committed_catalog == expected_catalog
    assert len(expected_catalog) > 100
