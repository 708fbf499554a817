"""axe-core in the browser tests: the script comes from the npm registry, pinned in
``tests/axe/package.json`` and its lock file, and is installed there (``npm ci``, into the
ignored ``tests/axe/node_modules``) the first time a test asks for it; pages never load it
from a CDN. Under CI a missing npm fails the test; elsewhere it skips."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.0, 2.1 and 2.2 A and AA rules (2.2 AA brings target-size: 24 x 24 px).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


def axe_source(ci: bool) -> str:
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        if npm is None:
            message = "npm is not installed, so axe-core cannot be installed (apt-get install npm)"
            pytest.fail(message, pytrace=False) if ci else pytest.skip(message)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=AXE_DIR, check=True,
                       timeout=600)
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(page, source: str) -> list[dict]:
    """The page's serious and critical violations of the WCAG A/AA rules, as axe reports them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=source)
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                      resultTypes: ['violations', 'passes', 'incomplete']})""", WCAG_TAGS)
    ran = {rule["id"] for kind in ("violations", "passes", "incomplete", "inapplicable") for rule in result[kind]}
    assert "target-size" in ran, "axe did not run the WCAG 2.2 target-size rule"
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {v['nodes'][0]['target']} "
                     f"{v['nodes'][0]['failureSummary'].splitlines()[-1].strip()}" for v in violations)
