"""``manage.py generate_demo_data``: fill the demo shop with a seeded catalogue, shoppers and
their history (the purchases among it stored as their orders, too).

    manage.py generate_demo_data                      # ~2,400 products, 1,000 shoppers, 100k events
    manage.py generate_demo_data --events 1000000     # a million events
    manage.py generate_demo_data --flush              # replace earlier demo data
    manage.py generate_demo_data --csv-out DIR        # only write products.csv / events.csv
    manage.py generate_demo_data --no-sequential-intent  # no accessories after devices (older data)

Named accounts (password ``demo12345``) with documented tastes: alice (Books, Kitchen),
bob (Sports, Outdoors), carol (Beauty, Fashion), dave (Electronics, Music), erin (Garden, Pets);
plus the staff superuser ``admin`` / ``admin12345``. See :mod:`demo_shop.catalog.generator`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max, ProtectedError, Q
from django.utils.text import slugify

from demo_shop.catalog import generator
from demo_shop.catalog.models import Category, Order, OrderLine, Product
from recommendations.conf import app_settings
from recommendations.models import Event, Rating
from recommendations.serving import products_changed

DEMO_PASSWORD = "demo12345"
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "admin12345"
KINDS = {"view": Event.Kind.VIEW, "cart": Event.Kind.CART, "purchase": Event.Kind.PURCHASE}


def _forget_queries(db: str) -> None:
    """Under DEBUG Django keeps every query's SQL; drop it so a big run keeps flat memory."""
    if connections[db].queries_logged:
        connections[db].queries_log.clear()


class Command(BaseCommand):
    help = "Generate a seeded demo catalogue, shoppers with hidden tastes and their history."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--users", type=int, default=1000,
                            help="shoppers, the named accounts included (default 1000)")
        parser.add_argument("--events", type=int, default=100_000,
                            help="events incl. ratings (default 100000)")
        parser.add_argument("--products", type=int, default=2400, help="products (default 2400)")
        parser.add_argument("--flush", action="store_true",
                            help="delete the catalogue, events, ratings and demo shoppers first")
        parser.add_argument("--csv-out", metavar="DIR",
                            help="write products.csv and events.csv (import format) to DIR and "
                                 "leave the database alone")
        parser.add_argument("--no-sequential-intent", dest="sequential_intent", action="store_false",
                            help="no accessories after devices: the data of earlier versions for a seed")
        parser.add_argument("--batch-size", type=int, default=10_000,
                            help="rows per transaction (default 10000)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **o):
        if o["users"] < len(generator.NAMED_SHOPPERS):
            raise CommandError(f"--users must be at least {len(generator.NAMED_SHOPPERS)}")
        if o["events"] < 1 or o["products"] < 1:
            raise CommandError("--events and --products must be positive")
        if o["csv_out"]:
            started = time.perf_counter()
            events, products = generator.generate_frames(
                n_users=o["users"], n_events=o["events"], n_products=o["products"], seed=o["seed"],
                sequential_intent=o["sequential_intent"],
            )
            paths = generator.write_import_csv(events, products, o["csv_out"])
            self.stdout.write(
                f"Wrote {len(products)} products and {len(events)} events in "
                f"{time.perf_counter() - started:.1f}s: {paths[0]}, {paths[1]}\n"
                f"Load them with: manage.py recommendations_import --products {paths[0]} "
                f"--events {paths[1]}"
            )
            return
        if app_settings.product_model.lower() != "catalog.product":
            raise CommandError(
                "generate_demo_data fills the demo shop's catalog.Product; "
                f"RECOMMENDATIONS_PRODUCT_MODEL is {app_settings.product_model!r}."
            )
        db = o["database"]
        if o["flush"]:
            self.flush(db)
        else:
            n_products = Product.objects.using(db).count()
            n_events = Event.objects.using(db).count()
            if n_products or n_events:
                self.stdout.write(
                    f"The database already holds data ({n_products} products, {n_events} "
                    "events); nothing generated. Run with --flush to replace it."
                )
                return

        started = time.perf_counter()
        data = generator.generate(n_users=o["users"], n_events=o["events"], n_products=o["products"],
                                  seed=o["seed"], sequential_intent=o["sequential_intent"])
        generated = time.perf_counter() - started
        self.stdout.write(f"Generated {len(data.products)} products and {len(data.events)} "
                          f"events for {len(data.shoppers)} shoppers in {generated:.1f}s.")
        started = time.perf_counter()
        self.load(data, db, o["batch_size"])
        self.stdout.write(f"Stored them, and the purchases as {data.orders['order_id'].nunique()} orders, in "
                          f"{time.perf_counter() - started:.1f}s.")
        self.report(data)

    # ------------------------------------------------------------------------------------------

    def flush(self, db: str) -> None:
        User = get_user_model()
        named = [s["username"] for s in generator.NAMED_SHOPPERS]
        try:
            with transaction.atomic(using=db):
                counts = [
                    Event.objects.using(db).all()._raw_delete(db),
                    Rating.objects.using(db).all()._raw_delete(db),
                ]
                Order.objects.using(db).all().delete()
                counts.append(Product.objects.using(db).all().delete()[0])
                Category.objects.using(db).all().delete()
                User.objects.using(db).filter(
                    Q(username__in=named) | Q(username__startswith="shopper")
                ).delete()
        except ProtectedError as exc:
            raise CommandError(f"Cannot flush the catalogue: {exc}") from None
        self.stdout.write(f"Flushed {counts[0]} events, {counts[1]} ratings and the catalogue.")

    def load(self, data: generator.DemoData, db: str, batch_size: int) -> None:
        User = get_user_model()
        with transaction.atomic(using=db):
            categories = {}
            for name in sorted(data.products["category"].unique()):
                cat, _ = Category.objects.using(db).get_or_create(
                    name=name, defaults={"slug": slugify(name)}
                )
                categories[name] = cat.pk
            purchases = data.events[data.events["event"] == "purchase"]
            sales = purchases.groupby("product_id")["value"].sum().astype(int).to_dict()
            products = [
                Product(pk=int(pid), title=name, summary=desc, category_id=categories[cat],
                        brand=brand, unit_price=Decimal(f"{price:.2f}"), in_stock=int(pid) % 29 != 0,
                        sales_count=sales.get(pid, 0))
                for pid, name, desc, cat, brand, price in data.products.itertuples(index=False)
            ]
            Product.objects.using(db).bulk_create(products, batch_size=2000)

            demo_hash = make_password(DEMO_PASSWORD)
            unusable = make_password(None)
            usernames = data.shoppers["username"].tolist()
            existing = dict(User.objects.using(db).filter(username__in=[
                s["username"] for s in generator.NAMED_SHOPPERS]).values_list("username", "pk"))
            new_users = []
            for row in data.shoppers.itertuples(index=False):
                if row.username in existing:
                    continue
                new_users.append(User(username=row.username, first_name=row.first_name,
                                      last_name=row.last_name, email=row.email,
                                      password=demo_hash if row.named else unusable))
            User.objects.using(db).bulk_create(new_users, batch_size=2000)
            user_pk = dict(User.objects.using(db).filter(
                Q(username__startswith="shopper") | Q(username__in=list(existing) + [
                    s["username"] for s in generator.NAMED_SHOPPERS])
            ).values_list("username", "pk"))
            User.objects.using(db).filter(username__in=[
                s["username"] for s in generator.NAMED_SHOPPERS]).update(password=demo_hash)
            self._reset_sequences(db, [Product])
            products_changed()  # bulk_create sends no signals: running web processes re-read products
        uid_to_pk = {uid: user_pk[name] for uid, name in zip(data.shoppers["user_id"], usernames)}

        ev = data.events
        is_rating = (ev["event"] == "rating").to_numpy()
        columns = [ev[c].tolist() for c in ("user_id", "product_id", "event", "timestamp", "value")]
        rows = list(zip(*columns))
        event_rows = [r for r, rated in zip(rows, is_rating) if not rated]
        rating_rows = [r for r, rated in zip(rows, is_rating) if rated]
        price_of = dict(Product.objects.using(db).values_list("pk", "unit_price"))
        for start in range(0, len(event_rows), batch_size):
            chunk = event_rows[start : start + batch_size]
            objs = [
                Event(user_id=uid_to_pk[u], product_id=p, kind=KINDS[k], quantity=int(v),
                      unit_price=price_of.get(p) if KINDS[k] == Event.Kind.PURCHASE else None,
                      created_at=datetime.fromtimestamp(t, UTC))
                for u, p, k, t, v in chunk
            ]
            with transaction.atomic(using=db):
                Event.objects.using(db).bulk_create(objs)
            _forget_queries(db)
        for start in range(0, len(rating_rows), batch_size):
            chunk = rating_rows[start : start + batch_size]
            objs = []
            for u, p, _, t, v in chunk:
                moment = datetime.fromtimestamp(t, UTC)
                objs.append(Rating(user_id=uid_to_pk[u], product_id=p, score=int(v),
                                   created_at=moment, updated_at=moment))
            with transaction.atomic(using=db):
                Rating.objects.using(db).bulk_create(objs)
            _forget_queries(db)

        self.load_orders(data, db, uid_to_pk)
        admin = User.objects.using(db).filter(username=ADMIN_USERNAME).first()
        if admin is None:
            User.objects.db_manager(db).create_superuser(
                ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)
        else:
            admin.is_staff = admin.is_superuser = admin.is_active = True
            admin.set_password(ADMIN_PASSWORD)
            admin.save(using=db)

    def load_orders(self, data: generator.DemoData, db: str, uid_to_pk: dict) -> None:
        """The generated purchases as the shoppers' orders (the same purchases the events
        record), so "Because you bought…" matches what their Orders page shows."""
        names = {uid: (f"{first} {last}", address) for uid, first, last, address in zip(
            data.shoppers["user_id"], data.shoppers["first_name"], data.shoppers["last_name"],
            data.shoppers["address"])}
        offset = Order.objects.using(db).aggregate(top=Max("pk"))["top"] or 0
        orders: dict[int, Order] = {}
        lines = []
        columns = ("order_id", "user_id", "timestamp", "product_id", "quantity", "unit_price")
        for order_id, uid, placed, product_id, quantity, price in zip(*(data.orders[c].tolist() for c in columns)):
            order = orders.get(order_id)
            if order is None:
                full_name, address = names[uid]
                order = orders[order_id] = Order(
                    pk=offset + order_id, user_id=uid_to_pk[uid], created_at=datetime.fromtimestamp(placed, UTC),
                    full_name=full_name, address=address, card_last4="4242", total=Decimal(0))
            unit = Decimal(f"{price:.2f}")
            order.total += unit * quantity
            lines.append(OrderLine(order_id=order.pk, product_id=product_id, quantity=quantity, unit_price=unit))
        with transaction.atomic(using=db):
            Order.objects.using(db).bulk_create(orders.values(), batch_size=2000)
            OrderLine.objects.using(db).bulk_create(lines, batch_size=2000)
            self._reset_sequences(db, [Order, OrderLine])

    @staticmethod
    def _reset_sequences(db: str, models) -> None:
        connection = connections[db]
        statements = connection.ops.sequence_reset_sql(no_style(), models)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    def report(self, data: generator.DemoData) -> None:
        lines = ["", "Demo accounts (password demo12345 for each):"]
        for row in data.shoppers[data.shoppers["named"]].itertuples(index=False):
            brands = ", ".join(b for group in row.brands for b in group)
            band = "premium" if row.price_band > 0.4 else ("budget" if row.price_band < -0.4
                                                             else "mid-range")
            lines.append(f"  {row.username:<6} loves {' and '.join(row.categories)} "
                         f"(favourite brands: {brands}; {band} prices)")
        lines.append(f"Staff superuser: {ADMIN_USERNAME} / {ADMIN_PASSWORD}")
        self.stdout.write("\n".join(lines))
