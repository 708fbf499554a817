"""``manage.py recommendations_import``: load shopping history from CSV or a public data set.

    manage.py recommendations_import --products products.csv --events events.csv
    manage.py recommendations_import --format movielens100k --path ml-100k/
    manage.py recommendations_import --format completejourney --path completejourney/

See :mod:`recommendations.importers` for the file format and the rules (streaming, batches,
idempotent re-runs, bad-row reports).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from recommendations.importers import (
    ErrorLog,
    HistoryImporter,
    ImportFailed,
    import_completejourney,
    import_movielens100k,
)

FORMATS = ("csv", "movielens100k", "completejourney")


class Command(BaseCommand):
    help = (
        "Import products and shopper history (views, carts, purchases, ratings) from CSV files "
        "(products: product_id,name,description,category,brand,price; events: "
        "user_id,product_id,event,timestamp,value) or from MovieLens 100K / Complete Journey."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", metavar="CSV", help="products CSV file")
        parser.add_argument("--events", metavar="CSV", help="events CSV file")
        parser.add_argument("--format", choices=FORMATS, default="csv",
                            help="input format (default: csv)")
        parser.add_argument("--path", metavar="DIR",
                            help="data set directory (movielens100k, completejourney), or a "
                                 "directory holding products.csv and/or events.csv")
        parser.add_argument("--batch-size", type=int, metavar="N",
                            help="rows per transaction (default: IMPORT_BATCH_SIZE)")
        parser.add_argument("--encoding", default="utf-8",
                            help="text encoding of the CSV files (default: utf-8)")
        parser.add_argument("--errors-out", metavar="FILE",
                            help="write every bad row as CSV (file,line,reason) to FILE")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help="database alias (default: default)")

    def handle(self, *args, **options):
        fmt = options["format"]
        products, events = options["products"], options["events"]
        path = options["path"]
        if fmt == "csv":
            if path and not (products or events):
                base = Path(path)
                if not base.is_dir():
                    raise CommandError(f"{base}: no such directory")
                products = base / "products.csv" if (base / "products.csv").exists() else None
                events = base / "events.csv" if (base / "events.csv").exists() else None
                if not (products or events):
                    raise CommandError(f"{base} holds neither products.csv nor events.csv")
            if not (products or events):
                raise CommandError("Nothing to import: give --products and/or --events "
                                   "(or --format movielens100k|completejourney --path DIR).")
            for f in (products, events):
                if f and not Path(f).is_file():
                    raise CommandError(f"{f}: no such file")
        else:
            if not path:
                raise CommandError(f"--format {fmt} needs --path DIR")
            if products or events:
                raise CommandError(f"--format {fmt} reads its files from --path; "
                                   "--products/--events are for --format csv")
            if not Path(path).is_dir():
                raise CommandError(f"{path}: no such directory")
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")

        errors = ErrorLog(out_path=options["errors_out"], echo=self._echo_error)
        importer = HistoryImporter(
            batch_size=options["batch_size"],
            using=options["database"],
            progress=not options["no_progress"] and options["verbosity"] > 0,
            encoding=options["encoding"],
            errors=errors,
        )
        failure = None
        try:
            with importer:
                if fmt == "movielens100k":
                    import_movielens100k(importer, path)
                elif fmt == "completejourney":
                    import_completejourney(importer, path)
                else:
                    if products:
                        importer.import_products_csv(products)
                    if events:
                        importer.import_events_csv(events)
        except ImportFailed as exc:
            failure = exc
        except LookupError as exc:  # unknown --encoding
            failure = exc
        if errors.hidden:
            self.stderr.write(f"... and {errors.hidden} more bad rows"
                              + (f" (all in {options['errors_out']})"
                                 if options["errors_out"] else " (use --errors-out FILE)"))
        elif errors.count and options["errors_out"]:
            self.stderr.write(f"Bad rows written to {options['errors_out']}")
        self.stdout.write(importer.stats.summary())
        if failure is not None:
            raise CommandError(str(failure))
        self.stats = importer.stats

    def _echo_error(self, message: str) -> None:
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover
            self.stderr.write(message, style_func=self.style.WARNING)
            return
        with tqdm.external_write_mode(file=sys.stderr):  # keep the progress bar intact
            self.stderr.write(message, style_func=self.style.WARNING)

