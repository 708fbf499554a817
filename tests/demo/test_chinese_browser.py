"""The demo shop in Simplified Chinese, in a real browser (Debian's chromium driven by
Playwright): a shopper picks 简体中文 with the language switch, and the home page, a product page
and the staff's recommendations dashboard show no English UI string. What may stay English is
the shop's own data (product names, brands and categories as generated), the engines' and
metrics' names (identifiers staff type in settings), user names and a few technical words."""

from __future__ import annotations

import re

import pytest

from demo_shop.catalog.models import Category, Product
from recommendations.conf import ENGINE_NAMES

pytestmark = pytest.mark.django_db(transaction=True)

#: Identifiers and technical words that are the same in every language.
ALLOWED = {
    "English",  # the language switch names each language in itself
    "A", "B",  # "A/B"
    "MB", "ndcg", "ild", "Gini", "log",  # units, metric names (as the keys spell them) and maths
    "Django", "django", "shop", "recommendations",  # the admin's and the project's names
    "TensorFlow", "Python", "pip", "install", "deep", "Linux", "x",  # where deep cannot train here
}
#: Django 5.2's own zh_Hans catalogue lacks the admin sidebar's table headers: Django's strings,
#: not this project's.
DJANGO_UNTRANSLATED = re.compile(r"\b(Model name|Add link|Change or view list link)\b", re.I)
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


@pytest.fixture
def shop(trained_demo_shop):
    return trained_demo_shop(users=120, events=8000, products=200)


def shop_data() -> re.Pattern:
    """The shop's own data as generated (product names, brands, descriptions, categories, user
    names): a pattern that removes them, as whole strings, from a page's text before it is read."""
    from django.contrib.auth import get_user_model

    values = [*Product.objects.values_list("title", flat=True), *Product.objects.values_list("brand", flat=True),
              *Product.objects.values_list("summary", flat=True), *Category.objects.values_list("name", flat=True),
              *get_user_model().objects.values_list("username", flat=True)]
    return re.compile("|".join(map(re.escape, sorted({v for v in values if v}, key=len, reverse=True))), re.I)


def english_left(page, data: re.Pattern) -> list[str]:
    """The page's visible text and its labels for assistive technology (aria-label, alt,
    placeholder, title), less the shop's data and identifiers (metric keys such as ``ndcg@10``,
    ``fit_seconds`` or ``users`` in the metrics tables, engine names, versions such as ``v12``):
    every word of English still in it (compared in lower case: the admin's CSS upper-cases some)."""
    texts = [page.locator("body").inner_text()]
    texts += page.locator("[aria-label], [alt], [placeholder], [title]").evaluate_all(
        """nodes => nodes.flatMap(n => ['aria-label', 'alt', 'placeholder', 'title']
                 .map(a => n.getAttribute(a) || ''))""")
    text = DJANGO_UNTRANSLATED.sub(" ", "\n".join(texts))
    text = data.sub(" ", text)
    text = re.sub(r"\b\w+@\d+\b|\b\w+_\w+\b|\bv\d+\b", " ", text)
    allowed = {word.lower() for word in (*ALLOWED, *ENGINE_NAMES,
                                         *page.locator(".rec-metrics th").all_inner_texts())}
    return sorted({word for word in WORD.findall(text) if word.lower().strip("'’") not in allowed})


def test_home_product_page_and_dashboard_in_simplified_chinese(shop, browser):
    data = shop_data()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)

    # The language switch in the footer: English first (the default), then 简体中文.
    page.goto(shop)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Welcome to Corner Shop").is_visible()
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    page.wait_for_url(f"{shop}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", name="欢迎光临街角小店").is_visible()
    assert page.locator("[data-widget=trending] h2").inner_text() == "当前热门"
    left = english_left(page, data)
    assert not left, (page.url, " ".join(left))

    # A product page, its widgets' "why" panels open.
    page.locator("[data-widget=trending] .card-link").first.click()
    page.wait_for_url("**/product/**")
    page.locator(".why").evaluate_all("panels => panels.forEach(d => { d.open = true; })")
    assert page.get_by_role("button", name="加入购物车").first.is_visible()
    left = english_left(page, data)
    assert not left, (page.url, " ".join(left))
    product_url = page.url

    # On a phone, the Chinese pages fit the screen too (no sideways scroll).
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (f"{shop}/", product_url, f"{shop}/cart/"):
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        wide, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert wide <= window, f"{url} in zh-hans at 390 px is {wide} px wide"
    page.set_viewport_size({"width": 1280, "height": 900})

    # Staff: the admin's log-in page and the recommendations dashboard, its advanced section open.
    page.goto(f"{shop}/admin/recommendations/modelversion/dashboard/")
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill("admin12345")
    page.locator("#id_password").press("Enter")
    page.wait_for_url("**/modelversion/dashboard/")
    assert page.get_by_role("heading", name="推荐模型").is_visible()
    page.locator("#rec-advanced > summary").click()
    assert page.locator("#rec-comparison-heading").inner_text() == "引擎对比"
    page.locator("#content details").evaluate_all("panels => panels.forEach(d => { d.open = true; })")
    assert page.locator("#rec-training-summary").inner_text().startswith("最近的运行")
    left = english_left(page, data)
    assert not left, (page.url, " ".join(left))
