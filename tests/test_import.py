"""``manage.py recommendations_import``: CSV files, bad rows, idempotency, public data sets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from recommendations.conf import get_product_model
from recommendations.models import Event, Rating

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1].parent / "shared/data"
ML100K = DATA / "ml-100k"
COMPLETEJOURNEY = DATA / "completejourney"

PRODUCTS = """product_id,name,description,category,brand,price
1,Red Kettle,A stainless steel kettle,Kitchen,Acme,29.99
2,Blue Novel,A gripping novel,Books,Penguin,9.50
3,Garden Hose,,Garden,Hosy,
"""

EVENTS = """user_id,product_id,event,timestamp,value
7,1,view,1700000000,
7,1,cart,1700000010,1
7,1,purchase,2023-11-14T22:15:00Z,2
8,2,view,2023-11-14 22:20:00,1
8,2,rating,1700000100,4
9,3,view,1700000200.5,
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("recommendations_import", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> dict[str, int]:
    return {
        "products": get_product_model().objects.count(),
        "events": Event.objects.count(),
        "ratings": Rating.objects.count(),
        "users": get_user_model().objects.count(),
    }


def test_good_csv(tmp_path):
    products = write(tmp_path, "products.csv", PRODUCTS)
    events = write(tmp_path, "events.csv", EVENTS)
    out, err = run_import("--products", str(products), "--events", str(events))

    assert err == ""
    assert "products: 3 created, 0 updated" in out
    assert "events: 5 stored, 0 skipped as duplicates" in out
    assert "ratings: 1 upserted" in out
    assert "bad rows: 0" in out
    assert "users: 3 created" in out

    kettle = get_product_model().objects.get(pk=1)
    assert (kettle.name, kettle.category, kettle.brand, kettle.price) == (
        "Red Kettle", "Kitchen", "Acme", Decimal("29.99"))
    assert get_product_model().objects.get(pk=3).price is None

    purchase = Event.objects.get(kind=Event.Kind.PURCHASE)
    assert purchase.user_id == 7 and purchase.product_id == 1 and purchase.quantity == 2
    assert purchase.created_at == datetime(2023, 11, 14, 22, 15, tzinfo=UTC)
    view = Event.objects.get(user_id=7, kind=Event.Kind.VIEW)
    assert view.created_at == datetime.fromtimestamp(1700000000, UTC)
    assert Event.objects.get(user_id=9).created_at.microsecond == 500000
    assert Event.objects.get(user_id=8).created_at == datetime(2023, 11, 14, 22, 20, tzinfo=UTC)

    rating = Rating.objects.get()
    assert (rating.user_id, rating.product_id, rating.score) == (8, 2, 4)

    user = get_user_model().objects.get(pk=7)
    assert user.username == "imported-7"
    assert not user.has_usable_password()


def test_new_rows_after_import_get_fresh_keys(tmp_path):
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)),
               "--events", str(write(tmp_path, "events.csv", EVENTS)))
    product = get_product_model().objects.create(name="Made later")
    user = get_user_model().objects.create_user("later")
    assert product.pk > 3
    assert user.pk > 9


BAD_EVENTS = """user_id,product_id,event,timestamp,value
7,1,view,1700000000,
8,2,rating,1700000100,9
7,99,view,1700000000,
7,1,click,1700000000,
7,1,view,yesterday,
x,1,view,1700000000,
7,1,view
7,1,purchase,1700000300,-2
7,1,rating,1700000400,
8,1,rating,1700000500,5
7,2,cart,2023-11-14T22:15:00,3
"""


def test_bad_rows_are_reported_and_good_rows_kept(tmp_path):
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    out, err = run_import("--events", str(write(tmp_path, "events.csv", BAD_EVENTS)))

    expected = [
        "events.csv line 3: score must be 1-5, got '9'",
        "events.csv line 4: unknown product 99",
        "events.csv line 5: unknown event kind 'click'",
        "events.csv line 6: bad timestamp 'yesterday'",
        "events.csv line 7: bad user_id 'x'",
        "events.csv line 8: expected 5 fields, got 3",
        "events.csv line 9: quantity must be a positive whole number, got '-2'",
        "events.csv line 10: score must be 1-5, got ''",
    ]
    for message in expected:
        assert message in err, message
    assert "bad rows: 8" in out
    assert "events: 2 stored" in out and "ratings: 1 upserted" in out
    # Every good row is stored.
    assert set(Event.objects.values_list("user_id", "product_id", "kind", "quantity")) == {
        (7, 1, Event.Kind.VIEW, 1), (7, 2, Event.Kind.CART, 3)}
    assert list(Rating.objects.values_list("user_id", "product_id", "score")) == [(8, 1, 5)]


def test_bad_product_rows(tmp_path):
    text = PRODUCTS + "x,Bad id,,Books,,1\n4,,No name,Books,,1\n5,Priced,,Books,,abc\n6,Cheap,,Books,,-1\n"
    out, err = run_import("--products", str(write(tmp_path, "products.csv", text)))
    assert "products.csv line 5: bad product_id 'x'" in err
    assert "products.csv line 6: name is required" in err
    assert "products.csv line 7: price: 'abc' is not a number" in err
    assert "products.csv line 8: price must not be negative" in err
    assert "products: 3 created" in out and "bad rows: 4" in out
    assert get_product_model().objects.count() == 3


def test_rerun_is_idempotent(tmp_path):
    products = str(write(tmp_path, "products.csv", PRODUCTS))
    events = str(write(tmp_path, "events.csv", EVENTS + "7,1,view,1700000000,\n"))
    out, _ = run_import("--products", products, "--events", events)
    assert "events: 5 stored, 1 skipped as duplicates" in out  # the repeated line
    before = counts()
    out, err = run_import("--products", products, "--events", events, "--batch-size", "2")
    assert counts() == before
    assert "products: 0 created, 3 updated" in out
    assert "events: 0 stored, 6 skipped as duplicates" in out
    assert "users: 0 created" in out
    assert err == ""


def test_ratings_are_upserted(tmp_path):
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    first = "user_id,product_id,event,timestamp,value\n8,2,rating,1700000000,2\n"
    run_import("--events", str(write(tmp_path, "first.csv", first)))
    later = ("user_id,product_id,event,timestamp,value\n"
             "8,2,rating,1700003600,3\n8,2,rating,1700007200,5\n8,1,rating,1700007200,1\n")
    out, _ = run_import("--events", str(write(tmp_path, "later.csv", later)))
    assert "ratings: 2 upserted" in out
    rating = Rating.objects.get(user_id=8, product_id=2)
    assert rating.score == 5
    assert rating.created_at == datetime.fromtimestamp(1700000000, UTC)
    assert rating.updated_at == datetime.fromtimestamp(1700007200, UTC)
    assert Rating.objects.count() == 2


def test_products_are_updated_by_id(tmp_path):
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    changed = "product_id,name,price\n1,Red Kettle Deluxe,31\n"
    out, _ = run_import("--products", str(write(tmp_path, "changed.csv", changed)))
    assert "products: 0 created, 1 updated" in out
    kettle = get_product_model().objects.get(pk=1)
    assert kettle.name == "Red Kettle Deluxe" and kettle.price == Decimal("31.00")
    assert kettle.category == "Kitchen"  # columns not in the file are left alone


def test_wrong_header_is_fatal(tmp_path):
    path = write(tmp_path, "events.csv", "user,item,what,when\n1,2,view,1700000000\n")
    with pytest.raises(CommandError, match=r"events\.csv: wrong column header"):
        run_import("--events", str(path))
    assert Event.objects.count() == 0


def test_missing_file_is_fatal(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_import("--events", str(tmp_path / "nope.csv"))


def test_nothing_to_import():
    with pytest.raises(CommandError, match="Nothing to import"):
        run_import()


def test_latin1_file(tmp_path):
    text = "product_id,name,description,category,brand,price\n1,Café crème,Crème brûlée,Grocery,,2\n"
    path = write(tmp_path, "products.csv", text, encoding="latin-1")
    with pytest.raises(CommandError) as info:
        run_import("--products", str(path))
    message = str(info.value)
    assert "products.csv is not valid utf-8" in message
    assert "line 2" in message and "--encoding latin-1" in message

    run_import("--products", str(path), "--encoding", "latin-1")
    assert get_product_model().objects.get(pk=1).name == "Café crème"


def test_utf8_with_bom(tmp_path):
    path = write(tmp_path, "products.csv", "\ufeff" + PRODUCTS)
    out, _ = run_import("--products", str(path))
    assert "products: 3 created" in out


def test_error_limit_and_errors_out(tmp_path):
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    rows = "".join(f"7,1,view,{1700000000 + i},\n7,1,rating,{1700000000 + i},{6 + i}\n"
                   for i in range(30))
    events = write(tmp_path, "events.csv", "user_id,product_id,event,timestamp,value\n" + rows)
    errors_out = tmp_path / "errors.csv"
    out, err = run_import("--events", str(events), "--errors-out", str(errors_out))
    shown = [line for line in err.splitlines() if line.startswith("events.csv line")]
    assert len(shown) == 20
    assert "and 10 more bad rows" in err
    assert "bad rows: 30" in out and "events: 30 stored" in out
    with open(errors_out, newline="") as f:
        written = list(csv.DictReader(f))
    assert len(written) == 30
    assert written[0] == {"file": "events.csv", "line": "3", "reason": "score must be 1-5, got '6'"}


def test_database_error_only_loses_its_row(tmp_path):
    """A row the database rejects rolls back its batch, which is then retried row by row."""
    get_user_model().objects.create_user("imported-50")  # taken: creating user 50 fails
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    text = ("user_id,product_id,event,timestamp,value\n"
            "7,1,view,1700000000,\n50,1,view,1700000001,\n8,2,view,1700000002,\n")
    out, err = run_import("--events", str(write(tmp_path, "events.csv", text)))
    assert "events.csv line 3: database error" in err
    assert "events: 2 stored" in out and "bad rows: 1" in out
    assert set(Event.objects.values_list("user_id", flat=True)) == {7, 8}


def test_csv_directory(tmp_path):
    write(tmp_path, "products.csv", PRODUCTS)
    write(tmp_path, "events.csv", EVENTS)
    out, _ = run_import("--path", str(tmp_path))
    assert "products: 3 created" in out and "events: 5 stored" in out


@override_settings(RECOMMENDATIONS={"PRODUCT_FIELDS": {"category": "category__name"}})
def test_unwritable_product_mapping_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="shop's own catalogue"):
        run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))


@pytest.mark.skipif(not (ML100K / "u.data").exists(), reason="MovieLens 100K not available")
def test_movielens100k(tmp_path):
    out, err = run_import("--format", "movielens100k", "--path", str(ML100K))
    assert "bad rows: 0" in out, err
    assert get_user_model().objects.count() == 943
    assert get_product_model().objects.count() == 1682
    assert Rating.objects.count() == 100_000
    assert get_product_model().objects.get(pk=1).name == "Toy Story (1995)"
    # u.item is Latin-1: accented titles survive.
    assert get_product_model().objects.filter(name__contains="é").exists()


@pytest.mark.skipif(not (ML100K / "u.data").exists(), reason="MovieLens 100K not available")
def test_movielens100k_rerun_subset(tmp_path):
    """A re-run of a data set changes nothing (a 2,000-rating subset keeps this quick)."""
    subset = tmp_path / "ml"
    subset.mkdir()
    for name in ("u.item", "u.genre"):
        (subset / name).write_bytes((ML100K / name).read_bytes())
    with open(ML100K / "u.data", "rb") as src:
        (subset / "u.data").write_bytes(b"".join(next(src) for _ in range(2000)))
    run_import("--format", "movielens100k", "--path", str(subset))
    before = counts()
    out, _ = run_import("--format", "movielens100k", "--path", str(subset))
    assert counts() == before
    assert before["ratings"] == 2000
    assert "products: 0 created, 1682 updated" in out and "users: 0 created" in out


@pytest.mark.skipif(not (COMPLETEJOURNEY / "transactions_sample.csv").exists(),
                    reason="Complete Journey sample not available")
def test_completejourney():
    import pandas as pd

    tx = pd.read_csv(COMPLETEJOURNEY / "transactions_sample.csv")
    products = pd.read_csv(COMPLETEJOURNEY / "products_in_sample.csv", usecols=["product_id"])
    sold = tx[(tx["quantity"] > 0) & (tx["sales_value"] > 0)]
    known = sold["product_id"].isin(products["product_id"])
    unique = sold[known].drop_duplicates(
        ["household_id", "product_id", "transaction_timestamp"])

    out, err = run_import("--format", "completejourney", "--path", str(COMPLETEJOURNEY))

    assert get_product_model().objects.count() == products["product_id"].nunique()
    assert f"returns: {len(tx) - len(sold)} skipped" in out
    assert f"bad rows: {int((~known).sum())}" in out
    assert "transactions_sample.csv line" in err and "unknown product" in err
    assert Event.objects.count() == len(unique)
    assert set(Event.objects.values_list("kind", flat=True)) == {Event.Kind.PURCHASE}
    assert get_user_model().objects.count() == sold.loc[known, "household_id"].nunique()
    first_bad = int(tx.index[tx["product_id"].isin(sold.loc[~known, "product_id"])
                             & (tx["quantity"] > 0) & (tx["sales_value"] > 0)][0]) + 2
    assert f"transactions_sample.csv line {first_bad}: unknown product" in err


@pytest.mark.parametrize("raw_event_insert", [True, False])
def test_importer_api_both_insert_paths(tmp_path, raw_event_insert):
    from recommendations.importers import HistoryImporter

    products = write(tmp_path, "products.csv", PRODUCTS)
    events = write(tmp_path, "events.csv", EVENTS)
    with HistoryImporter(progress=False, batch_size=2, raw_event_insert=raw_event_insert) as imp:
        imp.import_products_csv(products)
        imp.import_events_csv(events)
    assert (imp.stats.events_stored, imp.stats.ratings_upserted, imp.stats.users_created) == (5, 1, 3)
    assert set(Event.objects.values_list("user_id", "product_id", "kind", "quantity", "created_at")) == {
        (7, 1, 1, 1, datetime.fromtimestamp(1700000000, UTC)),
        (7, 1, 2, 1, datetime.fromtimestamp(1700000010, UTC)),
        (7, 1, 3, 2, datetime(2023, 11, 14, 22, 15, tzinfo=UTC)),
        (8, 2, 1, 1, datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        (9, 3, 1, 1, datetime.fromtimestamp(1700000200.5, UTC)),
    }
    assert all(key == "" for key in Event.objects.values_list("session_key", flat=True))


# -- values that fit the file format but not the app (issue 17) --------------------------------
def error_lines(err: str, name: str) -> list[int]:
    return [int(line.split(" line ")[1].split(":")[0]) for line in err.splitlines()
            if line.startswith(f"{name} line ")]


def test_a_price_the_field_cannot_hold_is_reported_and_the_batch_kept(tmp_path):
    """The outside test: ``990005,Huge price,x,Kitchen,B,1e30`` ended the import with a
    decimal.InvalidOperation traceback, no line number, and the good rows of its batch lost."""
    text = PRODUCTS + ("990005,Huge price,x,Kitchen,B,1e30\n990006,Many digits,x,Kitchen,B,12345678901234.5\n"
                       "990007,Fine,x,Kitchen,B,1234567890.125\n990008,Not a number,x,Kitchen,B,nan\n")
    out, err = run_import("--products", str(write(tmp_path, "products.csv", text)))
    assert "products.csv line 5: price: '1e30'" in err and "digits" in err
    assert "products.csv line 6: price: '12345678901234.5'" in err
    assert "products.csv line 8: price: 'nan' is not a number" in err
    assert "products: 4 created" in out and "bad rows: 3" in out
    assert get_product_model().objects.get(pk=990007).price == Decimal("1234567890.13")
    assert set(get_product_model().objects.values_list("pk", flat=True)) == {1, 2, 3, 990007}


@pytest.mark.parametrize("bad_id", ["-5", "0", "9223372036854775808", "1.5", "1e3"])
def test_a_product_id_outside_the_keys_range_is_refused(tmp_path, bad_id):
    text = PRODUCTS + f"{bad_id},Odd id,x,Kitchen,B,1\n"
    out, err = run_import("--products", str(write(tmp_path, "products.csv", text)))
    assert f"products.csv line 5: bad product_id {bad_id!r}" in err, err
    assert "products: 3 created" in out and "bad rows: 1" in out


@pytest.mark.parametrize("bad_user", ["-7", "0", "9223372036854775808"])
def test_a_user_id_outside_the_user_keys_range_is_refused(tmp_path, bad_user):
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    text = f"user_id,product_id,event,timestamp,value\n7,1,view,1700000000,\n{bad_user},1,view,1700000000,\n"
    out, err = run_import("--events", str(write(tmp_path, "events.csv", text)))
    assert f"events.csv line 3: bad user_id {bad_user!r}" in err, err
    assert "events: 1 stored" in out and "bad rows: 1" in out


@pytest.mark.parametrize("stamp", ["-1", "0", "631151999", "99999999999", "1969-12-31T23:59:59Z",
                                   "2999-01-01T00:00:00", "inf"])
def test_a_timestamp_outside_a_sane_range_is_refused(tmp_path, stamp):
    """The outside test: timestamp -1 was stored as 1969-12-31 without a word."""
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    text = f"user_id,product_id,event,timestamp,value\n7,1,view,1700000000,\n7,1,cart,{stamp},1\n"
    out, err = run_import("--events", str(write(tmp_path, "events.csv", text)))
    assert f"events.csv line 3: timestamp {stamp!r}" in err or f"events.csv line 3: bad timestamp {stamp!r}" in err, err
    assert "events: 1 stored" in out and "bad rows: 1" in out
    assert not Event.objects.filter(kind=Event.Kind.CART).exists()


def test_a_product_id_repeated_in_one_file_is_reported(tmp_path):
    """The outside test: the last of two rows with one id won silently."""
    text = PRODUCTS + "2,Blue Novel (again),,Books,Penguin,8\n4,Lamp,,Home,,5\n1,Red Kettle (again),,Kitchen,,1\n"
    out, err = run_import("--products", str(write(tmp_path, "products.csv", text)), "--batch-size", "2")
    assert "products.csv line 5: product_id 2 repeats line 3" in err, err
    assert "products.csv line 7: product_id 1 repeats line 2" in err, err
    assert "products: 4 created" in out and "bad rows: 2" in out
    assert get_product_model().objects.get(pk=2).name == "Blue Novel"  # the first row stands


def test_bad_rows_are_reported_in_line_order(tmp_path):
    """The outside test: unknown-product errors came out of line order (found at the batch's end)."""
    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    rows = ["7,99,view,1700000000,", "7,1,click,1700000001,", "7,98,view,1700000002,", "7,1,view,1700000003,",
            "x,1,view,1700000004,", "7,97,view,1700000005,", "7,1,rating,1700000006,9"]
    text = "user_id,product_id,event,timestamp,value\n" + "\n".join(rows) + "\n"
    for batch in ("2", "3", "100"):
        Event.objects.all().delete()
        out, err = run_import("--events", str(write(tmp_path, "events.csv", text)), "--batch-size", batch)
        assert error_lines(err, "events.csv") == [2, 3, 4, 6, 7, 8], (batch, err)
        assert "events: 1 stored" in out


def test_text_the_database_cannot_store_is_refused(tmp_path):
    text = PRODUCTS + "4,Nul\x00name,,Kitchen,,1\n5,Fine,,Kit\x00chen,,1\n"
    out, err = run_import("--products", str(write(tmp_path, "products.csv", text)))
    assert "products.csv line 5: name" in err and "products.csv line 6: category" in err, err
    assert "products: 3 created" in out and "bad rows: 2" in out


def test_an_import_reaches_the_product_cache_of_every_serving_process(tmp_path):
    """Bulk writes send no signals, and the product cache has no timer: the importer itself
    replaces the catalogue token (other processes) and empties this process's cache."""
    from django.core.cache import cache

    from recommendations import serving
    from recommendations.products import info

    run_import("--products", str(write(tmp_path, "products.csv", PRODUCTS)))
    assert info(serving.product_cache.get(1)).name == "Red Kettle"
    cache.set(serving.CATALOG_KEY, "before the import", None)
    run_import("--products", str(write(tmp_path, "renamed.csv", PRODUCTS.replace("Red Kettle", "Copper Kettle"))))
    assert cache.get(serving.CATALOG_KEY) != "before the import"
    assert info(serving.product_cache.get(1)).name == "Copper Kettle"
