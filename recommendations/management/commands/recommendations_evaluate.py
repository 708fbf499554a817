"""Offline evaluation of the engines on a public data set, CSV files or the shop's database.

    manage.py recommendations_evaluate --format movielens100k --path ../shared/data/ml-100k
    manage.py recommendations_evaluate --format completejourney --path DIR --engines popular,item_cf
    manage.py recommendations_evaluate ... --engines item_cf --params '{"item_cf": {"method": "cosine"}}'
    manage.py recommendations_evaluate --events events.csv [--products products.csv]
    manage.py recommendations_evaluate --train train.csv --test test.csv [--products products.csv]
    manage.py recommendations_evaluate            # the database (recommendations.data)
    manage.py recommendations_evaluate ... --rerank mmr:0.1,mmr:0.25 --rerank popularity:0.5

Protocols: ``topn`` (default), ``rating`` (5-fold CV RMSE/MAE, engines with predict),
``coldstart`` (new items ranked among themselves) or ``all``. Top-N rows carry the
beyond-accuracy metrics too; each ``--rerank METHOD:STRENGTH`` adds a row per engine,
``<engine>+<method>:<strength>``, of the same fitted engine's lists re-ranked
(``recommendations.algorithms.rerank``: ``mmr``, ``mmr_content``, ``popularity``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError

ALL_ENGINES = ["popular", "trending", "user_cf", "item_cf", "als", "content", "deep", "rating", "hybrid"]


class Command(BaseCommand):
    help = "Evaluate recommendation engines offline (top-N, rating and cold-start protocols)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["movielens100k", "completejourney"],
                            help="a public data set read from --path")
        parser.add_argument("--path", help="folder of the --format data set")
        parser.add_argument("--events", help="events CSV in the import format")
        parser.add_argument("--products", help="products CSV in the import format")
        parser.add_argument("--train", help="train events CSV (explicit split)")
        parser.add_argument("--test", help="test events CSV (explicit split)")
        parser.add_argument("--engines", help="comma-separated engines (default: all that can run)")
        parser.add_argument("--params", help='JSON engine -> constructor params, over the settings\' '
                            'ENGINE_PARAMS, e.g. \'{"item_cf": {"method": "cosine"}}\'')
        parser.add_argument("--protocol", default="topn", choices=["topn", "rating", "coldstart", "all"])
        parser.add_argument("--json", dest="json_out", help="write the results as a JSON list")
        parser.add_argument("--recommendations-out", help="write every engine's top-10 lists (CSV)")
        parser.add_argument("--seed", type=int, default=42, help="seed of the top-N / rating split")
        parser.add_argument("--k", type=int, default=10, help="list length")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")
        parser.add_argument("--baseline", metavar="ENGINE",
                            help="add each engine's ndcg gain over ENGINE (one of --engines) with a "
                                 "95%% paired bootstrap interval (top-N protocol)")
        parser.add_argument("--rerank", action="append", default=[], metavar="METHOD:STRENGTH",
                            help="also rank each engine's top-N after re-ranking, e.g. mmr:0.3, "
                                 "mmr_content:0.3 or popularity:0.5 (repeatable, or comma-separated)")

    # -- input ------------------------------------------------------------------------------
    def _frames(self, opts: dict[str, Any]):
        from recommendations import sources

        if opts["format"]:
            if not opts["path"]:
                raise CommandError("--format needs --path")
            reader = {"movielens100k": sources.read_movielens100k,
                      "completejourney": sources.read_completejourney}[opts["format"]]
            events, products = reader(opts["path"])
            return events, products, None
        products = sources.read_products_csv(opts["products"]) if opts["products"] else None
        if opts["train"] or opts["test"]:
            if not (opts["train"] and opts["test"]):
                raise CommandError("--train and --test go together")
            return sources.read_events_csv(opts["train"]), products, sources.read_events_csv(opts["test"])
        if opts["events"]:
            return sources.read_events_csv(opts["events"]), products, None
        try:
            from recommendations.data import load_frames
        except ImportError as exc:  # pragma: no cover
            raise CommandError(f"no input given and the database reader is unavailable: {exc}") from exc
        events, products = load_frames()
        return events, products, None

    def _dataset(self, events, products, test):
        from recommendations.algorithms.dataset import Dataset
        from recommendations.evaluation import explicit_split_dataset

        kwargs = {}
        try:
            from recommendations.conf import app_settings

            kwargs = {"event_weights": app_settings.EVENT_WEIGHTS,
                      "decay_half_life_days": app_settings.TIME_DECAY_HALF_LIFE_DAYS}
        except Exception:  # noqa: BLE001 - settings are optional for offline runs
            kwargs = {}
        if test is not None:
            return explicit_split_dataset(events, test, products, **kwargs)
        if events is None or not len(events):
            raise CommandError("there are no events to evaluate on")
        return Dataset.from_frames(events, products, **kwargs), None, None

    def _engine_params(self, override: str | None) -> dict[str, dict[str, Any]]:
        """Settings' ENGINE_PARAMS, then ``--params`` per engine (so a peer's configuration,
        e.g. item-KNN cosine, runs through the same protocol without editing settings)."""
        try:
            from recommendations.conf import app_settings

            params = dict(getattr(app_settings, "ENGINE_PARAMS", {}) or {})
        except Exception:  # noqa: BLE001
            params = {}
        if override:
            try:
                extra = json.loads(override)
            except json.JSONDecodeError as exc:
                raise CommandError(f"--params is not JSON: {exc}") from exc
            if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
                raise CommandError('--params must map engine names to objects: {"item_cf": {...}}')
            params.update(extra)
        return params

    # -- run --------------------------------------------------------------------------------
    def handle(self, *args, **opts) -> None:
        from recommendations.algorithms import engine_available, get_engine
        from recommendations.algorithms.dataset import RATING
        from recommendations.algorithms.rerank import parse as parse_rerank
        from recommendations.evaluation import (
            evaluate_coldstart,
            evaluate_rating,
            evaluate_topn,
            format_table,
            write_recommendations_csv,
        )

        events, products, test = self._frames(opts)
        dataset, train_mask, test_mask = self._dataset(events, products, test)
        self.stdout.write(f"{dataset.n_users} users, {dataset.n_items} items, {dataset.n_events} events")

        has_ratings = bool((dataset.kind == RATING).any())
        has_features = dataset.item_features is not None
        if opts["engines"]:
            names = [n.strip() for n in opts["engines"].split(",") if n.strip()]
            unknown = [n for n in names if n not in ALL_ENGINES and not engine_available(n)]
            if unknown:
                raise CommandError(f"unknown engines: {unknown}")
        else:
            names = [n for n in ALL_ENGINES if engine_available(n)]
            if not has_ratings:
                names = [n for n in names if n != "rating"]
            if not has_features:
                names = [n for n in names if n not in ("content", "deep")]
        if opts["baseline"] and opts["baseline"] not in names:
            raise CommandError(f"--baseline {opts['baseline']} is not among the engines evaluated: {names}")
        params = self._engine_params(opts["params"])
        try:
            rerank = [parse_rerank(part) for value in opts["rerank"] for part in value.split(",") if part.strip()]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        def spec(name: str):
            return lambda: get_engine(name, **params.get(name, {}))

        progress = not opts["no_progress"]
        results: list[tuple[str, list[dict[str, Any]]]] = []
        protocols = ["topn", "rating", "coldstart"] if opts["protocol"] == "all" else [opts["protocol"]]
        rec_rows: list[dict[str, Any]] | None = [] if opts["recommendations_out"] else None
        for protocol in protocols:
            if protocol == "topn":
                engines = {n: spec(n) for n in names}
                rows = evaluate_topn(dataset, engines, k=opts["k"], seed=opts["seed"], train_mask=train_mask,
                                     test_mask=test_mask, progress=progress, recommendations=rec_rows,
                                     on_error="record", rerank=rerank, baseline=opts["baseline"])
            elif protocol == "rating":
                if not has_ratings:
                    self.stderr.write("rating protocol skipped: the data has no ratings")
                    continue
                engines = {n: spec(n) for n in names if n == "rating"}
                if not engines and opts["protocol"] == "rating" and not opts["engines"]:
                    engines = {"rating": spec("rating")}
                if not engines:
                    continue
                rows = evaluate_rating(dataset, engines, seed=opts["seed"], progress=progress, on_error="record")
            else:
                engines = {n: spec(n) for n in names if n != "rating"}
                rows = evaluate_coldstart(dataset, engines, k=opts["k"], progress=progress, on_error="record")
            results.append((protocol, rows))
            self.stdout.write(f"\n[{protocol}]")
            self.stdout.write(format_table(rows))
        merged = merge_results(results)

        if opts["json_out"]:
            with open(opts["json_out"], "w") as fh:
                json.dump(_clean(merged), fh, indent=2)
            self.stdout.write(f"\nresults written to {opts['json_out']}")
        if rec_rows is not None:
            write_recommendations_csv(rec_rows, opts["recommendations_out"])
            self.stdout.write(f"recommendations written to {opts['recommendations_out']}")


def merge_results(results: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """One object per engine: top-N keys as they are, other protocols' timing/error keys prefixed."""
    merged: dict[str, dict[str, Any]] = {}
    shared = {"fit_seconds", "predict_seconds", "recommend_seconds", "error", "users"}
    for protocol, rows in results:
        for row in rows:
            out = merged.setdefault(row["engine"], {"engine": row["engine"]})
            for key, value in row.items():
                if key == "engine":
                    continue
                name = f"{protocol}_{key}" if protocol != "topn" and key in shared else key
                out[name] = value
    return list(merged.values())


def _clean(value: Any) -> Any:
    """JSON-safe: NumPy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
