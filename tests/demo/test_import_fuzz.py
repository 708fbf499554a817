"""Hostile CSVs (hypothesis) imported into the demo shop, then every page and API list rendered
for the shoppers involved: no server error, and every rejected value named with its line.

Products and events are drawn from values that break things somewhere: ids out of the key's
range or not integers, prices beyond the field's digits, NUL bytes, markup, very long and
non-ASCII text, timestamps from before 1970 or far in the future, unknown products and kinds.
Each generated file is imported with ``--errors-out``; every line is then either stored or
named in the errors (in line order). The cases are derandomized: the same in every run."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from demo_shop.catalog.models import Category, Product
from recommendations import serving
from recommendations.models import Event

pytestmark = pytest.mark.django_db
CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 Chrome/156.0"}
API = "/api/recommendations/"
#: Examples per run (each one imports two files and renders up to about 50 pages); a longer run:
#: ``RECOMMENDATIONS_FUZZ_EXAMPLES=200 RECOMMENDATIONS_FUZZ_REPORT=out.json pytest ... --ds demo_shop.settings``.
EXAMPLES = int(os.environ.get("RECOMMENDATIONS_FUZZ_EXAMPLES", "12"))
REPORT = os.environ.get("RECOMMENDATIONS_FUZZ_REPORT")
TOTALS: Counter = Counter()

HOSTILE_TEXT = ["<script>alert(1)</script>", "{{ request }}", "%s%s%n", "Ünïcödé ☕", "a" * 250, "x\x00y",
                "line\nbreak", '"quoted, with comma"', "   ", "", "\u202eevil", "-- ; DROP TABLE", "\\N"]
ids = st.one_of(st.integers(-5, 40).map(str), st.integers(-(2 ** 64), 2 ** 64).map(str),
                st.sampled_from(["", " 12 ", "1.0", "1.5", "1e3", "x", "0x1F", "٣", "9223372036854775807",
                                 "9223372036854775808", "-0", "+7"]))
texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
categories = st.one_of(st.sampled_from(["Books", "books", "Bo\x00oks", "---", "<b>Bold</b>", "Ünïcode",
                                        "c" * 101, "", " ", "1"]), st.text(max_size=12))
prices = st.one_of(st.sampled_from(["", "1e30", "-1", "nan", "inf", "-inf", "0", "0.001", "99999999.99",
                                    "100000000", "99999999.995", "1.005", "abc", "1_000", "1,5", " 3 "]),
                   st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str))
stamps = st.one_of(st.sampled_from(["-1", "0", "1700000000", "1700000000.5", "99999999999", "1e300", "nan",
                                    "2023-11-14T22:15:00Z", "1969-12-31T23:59:59Z", "2999-01-01",
                                    "2024-02-30", "yesterday", ""]),
                   st.integers(-(2 ** 40), 2 ** 40).map(str))
kinds = st.sampled_from(["view", "cart", "purchase", "rating", " View ", "click", ""])
values = st.sampled_from(["", "1", "3", "5", "0", "-2", "2.5", "6", "99999999999", "x"])
def mostly(plain, hostile):
    """``hostile`` one time in five, ``plain`` otherwise (so most rows are good, and pages have
    something to show)."""
    return st.integers(0, 4).flatmap(lambda n: hostile if n == 0 else plain)


words = st.from_regex(r"\A[A-Z][a-z]{2,8}( [a-z]{2,8}){0,2}\Z")


@st.composite
def shop_files(draw):
    """Products, then events that mostly name those products and a few shoppers."""
    products = draw(st.lists(st.tuples(mostly(st.integers(1, 60).map(str), ids), mostly(words, texts),
                                       mostly(words, texts), mostly(st.sampled_from(["Books", "Garden"]), categories),
                                       mostly(words, texts), mostly(st.sampled_from(["9.99", "120", ""]), prices)),
                             min_size=1, max_size=12))
    named = st.sampled_from([row[0] for row in products])
    events = draw(st.lists(st.tuples(mostly(st.integers(1, 5).map(str), ids), mostly(named, ids),
                                     mostly(st.sampled_from(["view", "cart", "purchase", "rating"]), kinds),
                                     mostly(st.integers(1_600_000_000, 1_700_000_000).map(str), stamps),
                                     mostly(st.sampled_from(["", "1", "4"]), values)),
                           min_size=1, max_size=20))
    return products, events


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def data_lines(path: Path) -> list[int]:
    """The line each data row starts on (a quoted field may span lines)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        starts, line = [], reader.line_num
        for _ in reader:
            starts.append(line + 1)
            line = reader.line_num
        return starts


def import_files(products: Path, events: Path, errors: Path) -> dict[str, list[int]]:
    out, err = io.StringIO(), io.StringIO()
    call_command("recommendations_import", "--products", str(products), "--events", str(events),
                 "--errors-out", str(errors), "--no-progress", "--batch-size", "4", stdout=out, stderr=err)
    assert "Traceback" not in err.getvalue()
    reported: dict[str, list[int]] = {products.name: [], events.name: []}
    with open(errors, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert row["line"], row  # every rejected value is named with its line
            assert row["reason"], row
            reported[row["file"]].append(int(row["line"]))
    bad = int(re.search(r"bad rows: (\d+)", out.getvalue()).group(1))
    assert bad == sum(len(lines) for lines in reported.values())
    return reported


def status_of(client: Client, url: str) -> int:
    return client.get(url, **CHROME).status_code


def render_everything(products: list[Product], users) -> list[tuple[str, int]]:
    """Status of every page and API list the shoppers involved can reach."""
    seen: list[tuple[str, int]] = []
    anonymous = Client()
    urls = ["/", "/products/", "/cart/", "/accounts/profile/"]
    urls += [f"/products/?sort={sort}" for sort in ("name", "price", "-price", "popularity", "rating")]
    urls += [category.get_absolute_url() for category in Category.objects.all()]
    urls += [f"/search/?q={word}" for p in products[:4] for word in p.title.split()[:1] if "\x00" not in word]
    for product in products[:6]:
        urls += [product.get_absolute_url(), product.get_image_url(),
                 API + f"products/{product.pk}/similar/", API + f"products/{product.pk}/also-bought/"]
    urls += [API + "trending/", API + "for-you/"]
    session = anonymous.session
    session["cart"] = {str(p.pk): 1 for p in products[:6]}
    session.save()
    seen += [(url, status_of(anonymous, url)) for url in urls]
    for user in users[:3]:
        shopper = Client()
        shopper.force_login(user)
        for url in ["/", "/accounts/profile/", "/orders/", "/accounts/data/", API + "for-you/", API + "me/history/",
                    API + "me/profile/", API + "ratings/", API + "me/not-interested/", API + "me/data/",
                    *(p.get_absolute_url() for p in products[:2])]:
            seen.append((f"{user.username} {url}", status_of(shopper, url)))
    staff = Client()
    staff.force_login(get_user_model().objects.get_or_create(
        username="fuzz-staff", defaults={"is_staff": True, "is_superuser": True})[0])
    for url in ["/admin/catalog/product/", "/admin/recommendations/event/", "/admin/recommendations/rating/",
                "/admin/recommendations/shopperprofile/", "/admin/recommendations/modelversion/dashboard/",
                *(f"/admin/recommendations/shopperprofile/user/{u.pk}/" for u in users[:3])]:
        response = staff.get(url, follow=True)
        seen.append((f"staff {url}", response.status_code))
    return seen


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])  # no shrinking: a failing run is as short as a passing one
@given(files=shop_files())
def test_hostile_imports_never_make_a_page_fail(tmp_path_factory, settings, files):
    products, events = files
    folder = tmp_path_factory.mktemp("fuzz")
    settings.MEDIA_ROOT = folder
    products_csv, events_csv = folder / "products.csv", folder / "events.csv"
    write_csv(products_csv, ["product_id", "name", "description", "category", "brand", "price"], products)
    write_csv(events_csv, ["user_id", "product_id", "event", "timestamp", "value"], events)
    cache.clear()
    serving.active_models.clear()
    serving.product_cache.clear()
    with transaction.atomic():
        reported = import_files(products_csv, events_csv, folder / "errors.csv")
        for name, path in (("products.csv", products_csv), ("events.csv", events_csv)):
            lines = reported[name]
            assert lines == sorted(set(lines)), (name, lines)  # in line order, each line once
            assert set(lines) <= set(data_lines(path))
        # Every product row not reported is stored under its id.
        for line, row in zip(data_lines(products_csv), products):
            if line not in reported["products.csv"]:
                assert Product.objects.filter(pk=int(row[0].strip())).exists(), (line, row)
        stored = list(Product.objects.order_by("pk"))
        users = list(get_user_model().objects.filter(
            pk__in=Event.objects.exclude(user=None).values("user")).order_by("pk"))
        statuses = render_everything(stored, users)
        event(f"products stored: {min(len(stored), 3)}+, shoppers: {min(len(users), 3)}+")
        transaction.set_rollback(True)
    failures = [(url, status) for url, status in statuses if status >= 500]
    TOTALS.update(examples=1, product_rows=len(products), event_rows=len(events),
                  rows_rejected=sum(len(lines) for lines in reported.values()), pages=len(statuses),
                  server_errors=len(failures))
    if REPORT:
        Path(REPORT).write_text(json.dumps(dict(TOTALS), indent=2) + "\n")
    assert not failures, failures
