#!/usr/bin/env python3
"""Screenshots of the demo shop -> docs/screenshots/.

Desktop (1366 px wide, the whole page): the home page, a product page and the "Your profile"
page as the demo shopper alice sees them (home.png, product.png, profile.png), the staff
dashboard (dashboard.png) and alice's profile in the admin (admin-profile.png).
Phone (390 x 844, one screen each): alice's home page, a category, a product, her cart with two
products, and her orders (phone-home.png, phone-category.png, phone-product.png,
phone-cart.png, phone-orders.png).

    .venv/bin/python bench/screenshots.py                       # demo data, 3 trainings per engine
    .venv/bin/python bench/screenshots.py --events 100000 --out-dir /tmp/shots

Everything happens in a temporary folder (SQLite database, artifacts): the demo shop's own
database and media are left alone. Needs Debian's chromium (``apt-get install chromium``) and
the ``playwright`` package; it never downloads a browser.

The demo data holds no widget traffic, so before the dashboard screenshot the script plants
three weeks of it for the other shoppers (never alice): lists shown by each widget, an A/B test
of hybrid against item_cf, clicks, and add-to-carts and purchases after some of the clicks,
drawn with a fixed seed. The owner's section of dashboard.png shows that planted traffic.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ENGINES = ["popular", "trending", "item_cf", "user_cf", "content"]


def shoot(page, path: Path, *, full_page: bool = False) -> None:
    """Screenshot with every picture loaded (lazy ones below the fold too), then, when Pillow is
    installed, stored with a 256-colour palette: a third of the size, the same to the eye."""
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; })")
    page.wait_for_function("Array.from(document.images).every(img => img.complete)")
    page.screenshot(path=str(path), full_page=full_page)
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def log_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")


def plant_traffic(days: int = 21, per_day: int = 60, seed: int = 7) -> int:
    """Plant widget traffic for the owner's section of the dashboard; returns impressions planted."""
    import random
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from recommendations.models import Click, Event, Impression

    rng = random.Random(seed)
    shoppers = list(get_user_model().objects.exclude(username__in=["alice", "admin"])
                    .filter(is_staff=False).order_by("pk")[:300])
    items = list(Event._meta.get_field("product").related_model.objects.order_by("pk")[:400])
    # widget, engine, variant, click-through rate, share of clicks followed by a purchase
    widgets = [("for_you", "hybrid", "hybrid", 0.11, 0.22), ("for_you", "item_cf", "item_cf", 0.08, 0.18),
               ("similar", "content", "", 0.09, 0.15), ("also_bought", "item_cf", "", 0.07, 0.25),
               ("trending", "trending", "", 0.05, 0.10)]
    now = timezone.now()
    planted = 0
    for day in range(days, 0, -1):
        for _ in range(int(per_day * (1 + (days - day) / days))):  # traffic grows over the period
            widget, engine, variant, ctr, buy = rng.choice(widgets)
            user, shown = rng.choice(shoppers), rng.sample(items, 6)
            at = now - timedelta(days=day, minutes=rng.randrange(0, 24 * 60))
            impression = Impression.objects.create(user=user, widget=widget, engine=engine, variant=variant,
                                                   product_ids=[str(p.pk) for p in shown], created_at=at)
            planted += 1
            if rng.random() >= ctr:
                continue
            product = rng.choice(shown)
            clicked = at + timedelta(seconds=rng.randrange(5, 300))
            Click.objects.create(impression=impression, product_id=str(product.pk), created_at=clicked)
            if rng.random() < 2 * buy:
                Event.objects.create(user=user, product=product, kind=Event.Kind.CART,
                                     created_at=clicked + timedelta(minutes=2))
            if rng.random() < buy:
                Event.objects.create(user=user, product=product, kind=Event.Kind.PURCHASE,
                                     quantity=rng.choice([1, 1, 1, 2]), unit_price=getattr(product, "unit_price", None),
                                     created_at=clicked + timedelta(hours=rng.randrange(1, 48)))
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--products", type=int, default=800)
    parser.add_argument("--runs", type=int, default=3, help="trainings per engine (the history chart)")
    parser.add_argument("--engines", nargs="+", default=ENGINES)
    parser.add_argument("--out-dir", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rec-screenshot-"))
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo_shop.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    os.environ.pop("CELERY_BROKER_URL", None)  # tasks run in-process
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_CACHE_DIR"] = str(tmp / "cache")  # training locks and cached lists too
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

    import django
    from django.conf import settings

    django.setup()
    settings.MEDIA_ROOT = str(tmp / "media")
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread

    from recommendations import training

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("generate_demo_data", users=args.users, events=args.events, products=args.products,
                 verbosity=0)
    for run in range(args.runs):
        for engine in args.engines:
            version = training.run_sync(engine, triggered_by="screenshot")
            print(f"run {run + 1}: {engine} v{version.pk} ndcg@10={version.ndcg}", flush=True)
    version = training.run_sync("hybrid", triggered_by="screenshot")  # what the shop serves
    print(f"hybrid v{version.pk} ndcg@10={version.ndcg}", flush=True)
    print(f"planted {plant_traffic()} impressions of widget traffic", flush=True)
    print(f"data and trainings: {time.perf_counter() - started:.0f} s", flush=True)

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    url = f"http://127.0.0.1:{server.port}"

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True,
                                             args=CHROMIUM_ARGS)
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        shopper = browser.new_page(viewport={"width": 1366, "height": 900})
        log_in(shopper, url, "alice", "demo12345")
        shopper.wait_for_selector("[data-widget=for_you] .recommendations-item")
        shopper.click("[data-widget=for_you] .why summary")  # one explanation open
        shoot(shopper, out / "home.png", full_page=True)
        shopper.click("[data-widget=for_you] .recommendations-item a")
        shopper.wait_for_selector("[data-widget=similar] .recommendations-item")
        product_url = shopper.url
        shoot(shopper, out / "product.png", full_page=True)
        shopper.goto(f"{url}/accounts/profile/")
        shopper.wait_for_selector("#segment")
        shoot(shopper, out / "profile.png", full_page=True)

        phone = browser.new_page(viewport={"width": 390, "height": 844})
        log_in(phone, url, "alice", "demo12345")
        phone.wait_for_selector("[data-widget=for_you] .recommendations-item")
        shoot(phone, out / "phone-home.png")
        phone.goto(f"{url}/category/kitchen/")
        shoot(phone, out / "phone-category.png")
        phone.goto(product_url)
        shoot(phone, out / "phone-product.png")
        phone.goto(f"{url}/category/books/")
        in_stock = phone.locator(".card:not(:has(.out)) .card-link")
        for href in in_stock.evaluate_all("links => links.slice(0, 2).map(link => link.href)"):
            phone.goto(href)
            phone.click("form.add button[type=submit]")
            phone.wait_for_url("**/cart/")
        phone.evaluate("window.scrollTo(0, 0)")
        shoot(phone, out / "phone-cart.png")
        phone.goto(f"{url}/orders/")
        shoot(phone, out / "phone-orders.png")

        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/admin/login/?next=/admin/recommendations/modelversion/dashboard/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin12345")
        page.click("input[type=submit]")
        page.wait_for_url("**/modelversion/dashboard/")
        page.wait_for_selector("#rec-revenue")
        shoot(page, out / "dashboard.png", full_page=True)
        page.goto(f"{url}/admin/recommendations/shopperprofile/user/1/")  # alice
        page.wait_for_selector("#rec-previews")
        shoot(page, out / "admin-profile.png", full_page=True)
        browser.close()
    server.terminate()
    print(f"wrote home.png, product.png, profile.png, dashboard.png, admin-profile.png and phone-*.png in {out}")


if __name__ == "__main__":
    main()
