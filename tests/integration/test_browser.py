"""The dashboard in a real browser (Debian's chromium driven by Playwright; never
``playwright install``): charts visible, Retrain clicked, progress updated by the page's polling.
"""

from __future__ import annotations

import os
from pathlib import Path

import django.contrib.admin
import pytest

from recommendations import training

pytestmark = pytest.mark.integration


def test_dashboard_in_a_browser_shows_charts_and_live_progress(stack, shop, live_server, browser,
                                                               django_user_model, settings):
    settings.STATIC_ROOT = str(Path(django.contrib.admin.__file__).parent / "static")  # admin CSS
    worker = stack.start_worker("browser", ENGINE_PARAMS={"rating": {"mf_iters": 250}})
    for _ in range(2):
        training.run_sync("item_cf", force=True)
    training.run_sync("popular")
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-1")
    stack.wait_ready(worker)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/recommendations/modelversion/dashboard/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/modelversion/dashboard/")

    page.locator("#rec-advanced summary").click()  # the offline scores sit under "Advanced"
    charts = page.locator("svg.rec-chart")
    assert charts.count() >= 3
    comparison = charts.first
    assert comparison.is_visible()
    box = comparison.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    assert comparison.locator("rect.bar").count() == 8  # item_cf and popular x 4 metrics
    assert "validation metrics" in comparison.locator("title").first.text_content()
    item_chart = page.locator("#engine-item_cf svg.rec-chart").first  # then beyond accuracy
    assert item_chart.is_visible() and item_chart.locator("polyline").count() == 3

    page.click("button.rec-retrain[data-engine=rating]")
    page.wait_for_url("**/modelversion/dashboard/")
    assert "rating v" in page.locator(".messagelist").inner_text()
    run = page.locator('.rec-run[data-engine="rating"]')
    # The page's own polling (not a reload) reports the run while it goes on ...
    page.wait_for_function(
        "document.getElementById('rec-poll-note').textContent.includes('Training in progress')")
    page.wait_for_function(
        "() => { const s = document.querySelector('.rec-run[data-engine=\"rating\"] .rec-run-stage');"
        " return s && /validating|fitting|saving/.test(s.textContent); }", timeout=60_000)
    assert run.locator("progress").is_visible()
    # ... and the end, after which the page reloads with the new version's chart.
    page.wait_for_function(
        "() => { const s = document.querySelector('.rec-run[data-engine=\"rating\"] .rec-run-status');"
        " return s && s.textContent.includes('succeeded'); }", timeout=90_000)
    page.wait_for_selector("#engine-rating svg.rec-chart circle", state="attached", timeout=30_000)
    page.evaluate("document.getElementById('rec-advanced').open = true")
    assert page.locator("#engine-rating svg.rec-chart").first.is_visible()
    assert "v" in page.locator("#engine-rating dd").first.inner_text()

    target = os.environ.get("RECOMMENDATIONS_SCREENSHOT")
    if target:
        page.screenshot(path=target, full_page=True)
