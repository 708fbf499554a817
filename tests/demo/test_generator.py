"""The demo data generator and ``manage.py generate_demo_data`` (run with ``--ds demo_shop.settings``)."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from demo_shop.catalog import generator
from demo_shop.catalog.models import Category, Order, OrderLine, Product
from recommendations.models import Event, Rating

END = 1_760_000_000.0  # a fixed "now" so frames do not depend on the day the tests run


@pytest.fixture(scope="module")
def default_data() -> generator.DemoData:
    return generator.generate(end=END)


def test_same_seed_same_frames():
    a_events, a_products = generator.generate_frames(n_users=200, n_events=20_000, seed=7, end=END)
    b_events, b_products = generator.generate_frames(n_users=200, n_events=20_000, seed=7, end=END)
    pd.testing.assert_frame_equal(a_events, b_events)
    pd.testing.assert_frame_equal(a_products, b_products)
    c_events, _ = generator.generate_frames(n_users=200, n_events=20_000, seed=8, end=END)
    assert not a_events.equals(c_events)


def test_default_sizes_and_import_format(default_data):
    events, products = default_data.events, default_data.products
    assert list(events.columns) == ["user_id", "product_id", "event", "timestamp", "value"]
    assert list(products.columns) == ["product_id", "name", "description", "category", "brand",
                                      "price"]
    assert len(products) >= 2000 and products["product_id"].is_unique
    assert products["category"].nunique() >= 12
    assert events["user_id"].nunique() >= 1000
    assert len(events) == 100_000
    assert set(events["product_id"]) <= set(products["product_id"])
    assert events["timestamp"].between(END - 181 * 86400, END).all()
    assert events["timestamp"].is_monotonic_increasing
    kinds = events["event"].value_counts()
    assert kinds["view"] > kinds["cart"] > kinds["purchase"] > 0 and kinds["rating"] > 0
    ratings = events.loc[events["event"] == "rating", "value"]
    assert ratings.between(1, 5).all() and ratings.nunique() == 5
    assert not events.duplicated(["user_id", "product_id", "event", "timestamp"]).any()
    # Brands per category, lognormal-ish prices that differ by category.
    assert products.groupby("category")["brand"].nunique().min() >= 4
    medians = products.groupby("category")["price"].median()
    assert medians["Electronics"] > 3 * medians["Grocery"]
    assert (products["price"] > 0).all()


def test_product_names_make_sense_per_type_without_serial_numbers(default_data):
    """"Brand Adjective Type", the adjective one that fits the type (no "Noise-Cancelling
    Router"), a variant in brackets when that name is taken; unique, no trailing numbers."""
    products = default_data.products
    assert products["name"].is_unique
    for name, category, brand in zip(products["name"], products["category"], products["brand"]):
        kind = generator.product_type(category, name)
        assert kind in generator.CATEGORIES[category].types, name
        base, _, variant = name.partition(" (")
        assert not base[-1].isdigit(), name
        assert base in {f"{brand} {adjective} {kind.noun}" for adjective in kind.adjectives}, name
        assert not variant or variant.rstrip(")") in generator.CATEGORIES[category].variants, name
    noise_cancelling = products[products["name"].str.contains("Noise-Cancelling")]
    assert len(noise_cancelling) and noise_cancelling["name"].str.contains("Headphones").all()
    assert (products["name"].str.contains(r" \(")).mean() < 0.2  # most names need no variant
    # Every type of every category is on sale.
    types = {(c, generator.product_type(c, n).noun) for c, n in zip(products["category"], products["name"])}
    assert len(types) == sum(len(spec.types) for spec in generator.CATEGORIES.values())


def test_names_stay_unique_in_a_big_catalogue():
    """20,000 products (bench/scale.py's largest shop): unique; only a few need an edition."""
    products = generator.make_catalogue(20_000, np.random.default_rng(3))
    assert products["name"].is_unique
    assert products["name"].str.contains(", edition ").mean() < 0.05


def test_purchases_are_orders(default_data):
    """Every generated purchase is a line of one of the shopper's orders (one per session),
    at the product's price."""
    orders, events = default_data.orders, default_data.events
    bought = events[events["event"] == "purchase"].groupby(["user_id", "product_id"])["value"].sum()
    lines = orders.groupby(["user_id", "product_id"])["quantity"].sum()
    pd.testing.assert_series_equal(bought.astype(np.int64), lines, check_names=False)
    assert orders.groupby("order_id")["user_id"].nunique().max() == 1
    prices = default_data.products.set_index("product_id")["price"]
    np.testing.assert_allclose(orders["unit_price"], prices.reindex(orders["product_id"]).to_numpy())
    assert orders["order_id"].nunique() < len(orders)  # some orders hold several products
    assert orders["timestamp"].le(END).all()


def test_shoppers_have_names_emails_and_addresses(default_data):
    shoppers = default_data.shoppers
    alice = shoppers[shoppers["username"] == "alice"].iloc[0]
    assert (alice["first_name"], alice["email"]) == ("Alice", "alice@example.com")
    assert shoppers["email"].is_unique and shoppers["first_name"].str.len().gt(0).all()
    assert shoppers["address"].str.contains("\n").all()


def test_descriptions_carry_attributes(default_data):
    products = default_data.products
    kitchen = products[products["category"] == "Kitchen"]
    text = " ".join(kitchen["description"]).lower()
    assert any(attr in text for attr in generator.CATEGORIES["Kitchen"].attributes)
    books = " ".join(products.loc[products["category"] == "Books", "description"]).lower()
    assert "stainless steel" not in books  # content separates categories


def _with_categories(data: generator.DemoData) -> pd.DataFrame:
    return data.events.merge(data.products[["product_id", "category", "brand"]], on="product_id")


def test_planted_tastes_are_visible(default_data):
    events = _with_categories(default_data)
    tastes = default_data.shoppers.set_index("user_id")
    favourite = np.array([c in tastes.at[u, "categories"]
                          for u, c in zip(events["user_id"], events["category"])])
    assert favourite.mean() > 0.8
    # Per shopper: most of each one's events fall in their own favourite categories.
    share = pd.Series(favourite).groupby(events["user_id"].to_numpy()).mean()
    assert (share > 0.6).mean() > 0.9
    # The funnel and the ratings favour liked products.
    purchases = events["event"].to_numpy() == "purchase"
    assert favourite[purchases].mean() > favourite[events["event"].to_numpy() == "view"].mean()
    ratings = events["event"].to_numpy() == "rating"
    values = events["value"].to_numpy()
    assert values[ratings & favourite].mean() > values[ratings & ~favourite].mean() + 0.8


def test_named_shoppers_have_their_documented_tastes(default_data):
    events = _with_categories(default_data)
    for uid, named in enumerate(generator.NAMED_SHOPPERS, start=1):
        mine = events[events["user_id"] == uid]
        assert len(mine) >= 50
        top = set(mine["category"].value_counts().index[:2])
        assert top == set(named["categories"]), named["username"]


def test_a_taste_aware_recommender_beats_popularity(default_data):
    """Hold out each shopper's last purchase; a per-shopper category-aware popularity ranking
    hits it far more often than global popularity."""
    events = _with_categories(default_data)
    buys = events[events["event"] == "purchase"]
    last = buys.groupby("user_id").tail(1)
    train = events.drop(index=last.index)
    train = train[train["timestamp"] < last["timestamp"].max()]
    popularity = train["product_id"].value_counts()
    top10 = set(popularity.index[:10])
    by_cat = {c: list(g["product_id"].value_counts().index)
              for c, g in train.groupby("category")}
    pop_hits = taste_hits = 0
    for row in last.itertuples():
        pop_hits += row.product_id in top10
        mine = train[train["user_id"] == row.user_id]
        cats = mine["category"].value_counts()
        shares = (cats / cats.sum()).head(3)
        picks = []
        for cat, share in shares.items():
            picks += by_cat[cat][: max(1, round(10 * share))]
        taste_hits += row.product_id in set(picks[:10])
    assert taste_hits > 2 * max(pop_hits, 1)


def test_csv_export_round_trips(tmp_path):
    events, products = generator.generate_frames(n_users=50, n_events=2000, n_products=300,
                                                 end=END)
    products_csv, events_csv = generator.write_import_csv(events, products, tmp_path)
    assert products_csv.read_text().splitlines()[0] == "product_id,name,description,category,brand,price"
    back = pd.read_csv(events_csv)
    assert list(back.columns) == ["user_id", "product_id", "event", "timestamp", "value"]
    assert len(back) == 2000
    np.testing.assert_allclose(back["timestamp"], events["timestamp"], atol=1e-3)


@pytest.mark.django_db
def test_import_into_the_shops_own_catalogue(tmp_path):
    """Products imported through PRODUCT_FIELDS land in catalog.Product; categories are
    created by name with a slug."""
    events, products = generator.generate_frames(n_users=30, n_events=1500, n_products=300,
                                                 end=END)
    products_csv, events_csv = generator.write_import_csv(events, products, tmp_path)
    out = io.StringIO()
    call_command("recommendations_import", "--products", str(products_csv), "--events",
                 str(events_csv), "--no-progress", stdout=out, stderr=io.StringIO())
    assert "bad rows: 0" in out.getvalue()
    assert Product.objects.count() == 300
    assert Category.objects.count() == products["category"].nunique()
    assert Category.objects.get(name="Books").slug == "books"
    first = products.iloc[0]
    product = Product.objects.get(pk=int(first["product_id"]))
    assert (product.title, product.category.name, product.brand) == (
        first["name"], first["category"], first["brand"])
    stored = Event.objects.count() + Rating.objects.count()
    assert stored == 1500


SMALL = ["--users", "60", "--events", "4000", "--products", "300"]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_demo_data", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_command_creates_named_accounts_with_distinct_tastes():
    out = _run(*SMALL)
    User = get_user_model()
    assert "alice" in out and "demo12345" in out and "admin12345" in out
    assert Product.objects.count() == 300 and Category.objects.count() >= 12
    assert Event.objects.count() + Rating.objects.count() == 4000
    assert User.objects.filter(username__startswith="shopper").count() == 55
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password("admin12345")
    tops = {}
    for named in generator.NAMED_SHOPPERS:
        user = User.objects.get(username=named["username"])
        assert user.check_password("demo12345")
        seen = Counter(Event.objects.filter(user=user).values_list("product__category__name",
                                                                   flat=True))
        assert sum(seen.values()) >= 30
        tops[named["username"]] = {c for c, _ in seen.most_common(2)}
        assert tops[named["username"]] == set(named["categories"])
    assert len({frozenset(t) for t in tops.values()}) == len(tops)  # distinct tastes


@pytest.mark.django_db
def test_command_stores_the_purchases_as_orders_the_shopper_sees(client):
    """alice's Orders page lists what her purchase events say she bought, at the shop's
    prices, placed in the past; the shop's best sellers count the same units."""
    _run(*SMALL)
    alice = get_user_model().objects.get(username="alice")
    assert (alice.first_name, alice.email) == ("Alice", "alice@example.com")
    events = Counter()
    for product_id, quantity in Event.objects.filter(user=alice, kind=Event.Kind.PURCHASE).values_list(
            "product_id", "quantity"):
        events[product_id] += quantity
    lines = Counter()
    for product_id, quantity in OrderLine.objects.filter(order__user=alice).values_list("product_id", "quantity"):
        lines[product_id] += quantity
    assert events and lines == events
    for order in Order.objects.filter(user=alice).prefetch_related("lines__product"):
        assert order.total == sum(line.subtotal for line in order.lines.all())
        assert all(line.unit_price == line.product.unit_price for line in order.lines.all())
        assert order.created_at < timezone.now() and order.full_name.startswith("Alice")
    sold = Counter()
    for product_id, quantity in OrderLine.objects.values_list("product_id", "quantity"):
        sold[product_id] += quantity
    assert dict(Product.objects.filter(sales_count__gt=0).values_list("pk", "sales_count")) == dict(sold)
    client.force_login(alice)
    page = client.get("/orders/").content.decode()
    newest = Order.objects.filter(user=alice).first()
    assert f"Order #{newest.pk}" in page and newest.lines.first().product.title in page


@pytest.mark.django_db
def test_command_is_idempotent_and_flushes():
    _run(*SMALL)
    before = (Product.objects.count(), Event.objects.count(), Rating.objects.count(),
              get_user_model().objects.count())
    out = _run(*SMALL)
    assert "already holds data" in out and "--flush" in out
    after = (Product.objects.count(), Event.objects.count(), Rating.objects.count(),
             get_user_model().objects.count())
    assert after == before
    out = _run(*SMALL, "--flush")
    assert "Flushed" in out
    again = (Product.objects.count(), Event.objects.count(), Rating.objects.count(),
             get_user_model().objects.count())
    assert again == before  # same seed, same data; admin kept, shoppers recreated


@pytest.mark.django_db
def test_command_csv_out_leaves_the_database_alone(tmp_path):
    out = _run(*SMALL, "--csv-out", str(tmp_path))
    assert (tmp_path / "products.csv").exists() and (tmp_path / "events.csv").exists()
    assert "recommendations_import" in out
    assert Product.objects.count() == 0 and Event.objects.count() == 0


@pytest.mark.django_db
def test_partial_product_file_updates_but_cannot_add(tmp_path):
    """catalog.Product needs a category: a file without that column updates known products
    and reports new ones as bad rows."""
    full = tmp_path / "products.csv"
    full.write_text("product_id,name,description,category,brand,price\n"
                    "1,Red Kettle,Steel kettle,Kitchen & Dining,Acme,29.99\n"
                    "2,Blue Novel,,Books,Penguin,9.50\n")
    partial = tmp_path / "prices.csv"
    partial.write_text("product_id,name,price\n1,Red Kettle,24.99\n3,Brand New,5\n")
    err = io.StringIO()
    call_command("recommendations_import", "--products", str(full), "--no-progress",
                 stdout=io.StringIO(), stderr=err)
    assert Category.objects.get(name="Kitchen & Dining").slug == "kitchen-dining"
    out = io.StringIO()
    call_command("recommendations_import", "--products", str(partial), "--no-progress",
                 stdout=out, stderr=err)
    assert "products: 0 created, 1 updated" in out.getvalue(), err.getvalue()
    assert "prices.csv line 3: product 3 is new, and new products need the column(s) category" \
        in err.getvalue()
    kettle = Product.objects.get(pk=1)
    assert str(kettle.unit_price) == "24.99" and kettle.category.name == "Kitchen & Dining"
    assert Product.objects.create(title="Later", category=kettle.category).pk > 2


def test_every_product_type_has_its_own_picture():
    """A kettle, a chef's knife and a toaster are drawn differently; so is every type of every
    category; the pictures are well-formed SVG; a product the generator did not make gets
    its category's first drawing."""
    from xml.dom import minidom

    from demo_shop.catalog import images

    drawings = {}
    for category, spec in generator.CATEGORIES.items():
        for kind in spec.types:
            svg = images.product_svg(7, f"Acme {kind.adjectives[0]} {kind.noun}", category, "Acme")
            minidom.parseString(svg)
            drawings[kind.noun] = images.drawing_for(category, f"Acme {kind.adjectives[0]} {kind.noun}")
    assert len(set(drawings.values())) == len(drawings) == 140
    assert len({drawings["Kettle"], drawings["Chef's Knife"], drawings["Toaster"], drawings["Frying Pan"]}) == 4
    assert images.drawing_for("Kitchen", "Grandma's jam pot") == drawings["Kettle"]
    assert images.drawing_for("Unknown", "Thing") == images.DEFAULT_DRAWING


def _consecutive_views(events: pd.DataFrame) -> pd.DataFrame:
    """Each shopper's pairs of views one after the other, at most 30 minutes apart."""
    views = events[events["event"] == "view"].sort_values(["user_id", "timestamp"], kind="stable")
    user, product, at = (views[c].to_numpy() for c in ("user_id", "product_id", "timestamp"))
    close = (user[1:] == user[:-1]) & (at[1:] - at[:-1] < 1800)
    return pd.DataFrame({"first": product[:-1][close], "then": product[1:][close]})


def test_accessories_follow_their_devices_never_the_reverse():
    """The sequential intent: a shopper who views a device (a tablet) goes on to its
    accessories (its charger, then its power bank), in the same session or in their next one
    in that category. Co-occurrence is symmetric; the order is not: without the intent a
    device and its accessory follow each other as often one way as the other."""
    data = generator.generate(n_users=200, n_events=20_000, n_products=600, end=END)
    planted = data.intents
    assert len(planted) > 500 and planted["follow_up"].sum() > 50  # some in a later session
    assert (planted["accessory_time"] > planted["device_time"]).all()
    products = data.products.set_index("product_id")
    for device, accessory, step in planted[["device_id", "accessory_id", "step"]].drop_duplicates().itertuples(
            index=False):
        category = products.at[device, "category"]
        kind = generator.product_type(category, products.at[device, "name"]).noun
        accessory_kind = generator.product_type(category, products.at[accessory, "name"]).noun
        assert products.at[accessory, "category"] == category
        assert generator.ACCESSORIES[category, kind][step] == accessory_kind
    # Never the accessory first: no view of a planted accessory in the half hour before its device.
    views = data.events[data.events["event"] == "view"]
    earlier = planted.merge(views, left_on=["user_id", "accessory_id"], right_on=["user_id", "product_id"])
    before = earlier["timestamp"].between(earlier["device_time"] - 1800, earlier["device_time"],
                                          inclusive="left")
    assert not before.any()
    # What an engine sees: in the events alone, a device's view is followed by its accessory's
    # view many times more often than the other way round; without the intent, as often.
    pairs = set(zip(planted["device_id"], planted["accessory_id"]))
    for intent, ratio in ((True, 10.0), (False, None)):
        events = data.events if intent else generator.generate(
            n_users=200, n_events=20_000, n_products=600, end=END, sequential_intent=False).events
        steps = _consecutive_views(events)
        forward = sum(pair in pairs for pair in zip(steps["first"], steps["then"]))
        backward = sum(pair in pairs for pair in zip(steps["then"], steps["first"]))
        if intent:
            assert forward > ratio * max(backward, 1), (forward, backward)
        else:
            assert backward > 0.5 * forward and forward > 0.5 * backward, (forward, backward)
    assert generator.generate(n_users=50, n_events=2000, n_products=300, end=END,
                              sequential_intent=False).intents.empty
