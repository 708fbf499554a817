"""Offline evaluation of the engines on a public data set, CSV files or the shop's database.

    manage.py recommendations_evaluate --format movielens100k --path ../shared/data/ml-100k
    manage.py recommendations_evaluate --format completejourney --path DIR --engines popular,item_cf
    manage.py recommendations_evaluate ... --engines item_cf --params '{"item_cf": {"method": "cosine"}}'
    manage.py recommendations_evaluate --events events.csv [--products products.csv]
    manage.py recommendations_evaluate --train train.csv --test test.csv [--products products.csv]
    manage.py recommendations_evaluate            # the database (recommendations.data)
    manage.py recommendations_evaluate ... --rerank mmr:0.1,mmr:0.25 --rerank popularity:0.5
    manage.py recommendations_evaluate ... --protocol next-item,temporal --fit-budget 300

Protocols (``--protocol``, comma-separated): ``topn`` (default; a random 20 % of each
shopper's items held out), ``next-item`` (each shopper's last item by time is the test),
``temporal`` (the last 20 % of the time span is the test), ``session`` (an anonymous
shopper's first 1-3 views of a late session predict the next one), ``rating`` (5-fold CV RMSE/MAE,
engines with predict), ``coldstart`` (new items ranked among themselves) or ``all`` (topn,
rating and coldstart). Top-N rows carry the beyond-accuracy metrics too; each ``--rerank
METHOD:STRENGTH`` adds a row per engine, ``<engine>+<method>:<strength>``, of the same
fitted engine's lists re-ranked (``recommendations.algorithms.rerank``).

Every argument is checked before any data is read. Each fit is reported as it starts and
ends (time, peak memory) on stderr, with plain progress lines when stderr is not a terminal;
each engine's row is written to ``--json`` as soon as it is known. ``--fit-budget`` bounds
the fit of engines that can stop early (``deep``, alone or inside ``hybrid``), whatever the
settings module says. ``--tune SECONDS`` runs the training's self-tuning
(:mod:`recommendations.tuning`) on each protocol's input before the fit (time-window folds on
``temporal``, random folds elsewhere), so a tuned engine is measured like the others.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

ALL_ENGINES = ["popular", "trending", "user_cf", "item_cf", "als", "content", "deep", "sequence", "rating", "hybrid"]
#: protocols that rank each shopper's list (top-N metrics, --baseline, --recommendations-out)
LIST_PROTOCOLS = ("topn", "next-item", "temporal")
PROTOCOLS = (*LIST_PROTOCOLS, "session", "rating", "coldstart")
#: protocols whose rows stand apart in --json (one object per engine and protocol)
OWN_ROWS = ("next-item", "temporal", "session")
#: --fit-budget's default, the deep engine's documented ``max_seconds``
DEFAULT_FIT_BUDGET = 480.0
#: files each --format reads from --path
FORMAT_FILES = {"movielens100k": ("u.data", "u.item"),
                "completejourney": ("transactions_sample.csv", "products_in_sample.csv")}


class Command(BaseCommand):
    help = "Evaluate recommendation engines offline (top-N, next-item, temporal, rating, cold-start)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=sorted(FORMAT_FILES), help="a public data set read from --path")
        parser.add_argument("--path", help="folder of the --format data set")
        parser.add_argument("--events", help="events CSV in the import format")
        parser.add_argument("--products", help="products CSV in the import format")
        parser.add_argument("--train", help="train events CSV (explicit split)")
        parser.add_argument("--test", help="test events CSV (explicit split)")
        parser.add_argument("--engines", help="comma-separated engines (default: every one that can run; "
                            "`rating` only in the rating protocol)")
        parser.add_argument("--params", help='JSON engine -> constructor params, over the settings\' '
                            'ENGINE_PARAMS, e.g. \'{"item_cf": {"method": "cosine"}}\'')
        parser.add_argument("--protocol", default="topn",
                            help=f"comma-separated, among {', '.join(PROTOCOLS)}, or all (topn,rating,coldstart)")
        parser.add_argument("--json", dest="json_out",
                            help="write the results as a JSON list, rewritten as each engine finishes")
        parser.add_argument("--recommendations-out", help="write every engine's top-k lists (CSV)")
        parser.add_argument("--seed", type=int, default=42, help="seed of the top-N / rating split")
        parser.add_argument("--k", type=int, default=10, help="list length (>= 1)")
        parser.add_argument("--fit-budget", type=float, default=DEFAULT_FIT_BUDGET, metavar="SECONDS",
                            help="wall-clock bound of each fit for engines that can stop early (deep, also "
                                 "inside hybrid), over the settings; 0: none (default %(default)s)")
        parser.add_argument("--tune", type=float, metavar="SECONDS",
                            help="before each fit, choose the engine's main hyperparameter (item_cf's l2, "
                                 "user_cf's k, als's reg) on validation folds of the protocol's input (random "
                                 "folds as training's; time windows for temporal), within SECONDS per engine "
                                 "(default: no tuning)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars or lines")
        parser.add_argument("--baseline", metavar="ENGINE",
                            help="add each engine's ndcg gain over ENGINE (one of --engines) with a "
                                 "95%% paired bootstrap interval (list protocols)")
        parser.add_argument("--rerank", action="append", default=[], metavar="METHOD:STRENGTH",
                            help="also rank each engine's top-N after re-ranking, e.g. mmr:0.3, "
                                 "mmr_content:0.3 or popularity:0.5 (repeatable, or comma-separated)")

    # -- arguments, all checked before any data is read ------------------------------------------
    def _validate(self, opts: dict[str, Any]) -> dict[str, Any]:
        """Everything that can be wrong with the arguments, as one clear CommandError each."""
        from recommendations.algorithms import ENGINE_PATHS, engine_available
        from recommendations.algorithms.rerank import parse as parse_rerank

        if opts["k"] < 1:
            raise CommandError(f"--k must be at least 1, not {opts['k']}")
        budget = opts["fit_budget"]
        if not math.isfinite(budget) or budget < 0:
            raise CommandError(f"--fit-budget must be a number of seconds >= 0, not {budget}")
        if opts["tune"] is not None and (not math.isfinite(opts["tune"]) or opts["tune"] <= 0):
            raise CommandError(f"--tune must be a number of seconds > 0, not {opts['tune']}")
        sources = [name for name, given in (("--format", opts["format"]), ("--events", opts["events"]),
                                            ("--train/--test", opts["train"] or opts["test"])) if given]
        if len(sources) > 1:
            raise CommandError(f"give one input, not {' and '.join(sources)}")
        if opts["format"]:
            if not opts["path"]:
                raise CommandError("--format needs --path")
            folder = Path(opts["path"])
            if not folder.is_dir():
                raise CommandError(f"--path {folder}: no such folder")
            for name in FORMAT_FILES[opts["format"]]:
                if not (folder / name).is_file():
                    raise CommandError(f"--path {folder}: {name} is missing (the {opts['format']} format reads it)")
        elif opts["path"]:
            raise CommandError("--path goes with --format")
        if bool(opts["train"]) != bool(opts["test"]):
            raise CommandError("--train and --test go together")
        for flag in ("events", "products", "train", "test"):
            if opts[flag] and not Path(opts[flag]).is_file():
                raise CommandError(f"--{flag} {opts[flag]}: no such file")
        for flag, value in (("--json", opts["json_out"]), ("--recommendations-out", opts["recommendations_out"])):
            if value:
                parent = Path(value).resolve().parent
                if not parent.is_dir() or not os.access(parent, os.W_OK):
                    raise CommandError(f"{flag} {value}: cannot write in {parent}")

        wanted = [p.strip() for p in opts["protocol"].split(",") if p.strip()]
        protocols: list[str] = []
        for name in wanted:
            for expanded in (["topn", "rating", "coldstart"] if name == "all" else [name]):
                if expanded not in PROTOCOLS:
                    raise CommandError(f"--protocol {name}: unknown; choose among {', '.join(PROTOCOLS)} or all")
                if expanded not in protocols:
                    protocols.append(expanded)
        if not protocols:
            raise CommandError("--protocol is empty")
        if (opts["train"] or opts["test"]) and set(protocols) & set(OWN_ROWS):
            raise CommandError("--train/--test is a split already; next-item, temporal and session make their own")

        names = None
        if opts["engines"]:
            names = [n.strip() for n in opts["engines"].split(",") if n.strip()]
            unknown = [n for n in names if n not in ENGINE_PATHS]
            if unknown or not names:
                raise CommandError(f"--engines: unknown {unknown}; known: {', '.join(ENGINE_PATHS)}")
            missing = [n for n in names if not engine_available(n)]
            if missing:
                raise CommandError(f"--engines: {missing} cannot run here (a package is missing)")
        params = self._engine_params(opts["params"])
        if opts["baseline"]:
            if opts["baseline"] not in ENGINE_PATHS:
                raise CommandError(f"--baseline {opts['baseline']}: unknown engine")
            if names is not None and opts["baseline"] not in names:
                raise CommandError(f"--baseline {opts['baseline']} is not among the engines evaluated: {names}")
            if not set(protocols) & {*LIST_PROTOCOLS, "session"}:
                raise CommandError("--baseline needs a list protocol (topn, next-item, temporal or session)")
        try:
            rerank = [parse_rerank(part) for value in opts["rerank"] for part in value.split(",") if part.strip()]
        except ValueError as exc:
            raise CommandError(f"--rerank: {exc}") from exc
        return {"protocols": protocols, "names": names, "params": params, "rerank": rerank,
                "budget": budget or None}

    def _engine_params(self, override: str | None) -> dict[str, dict[str, Any]]:
        """Settings' ENGINE_PARAMS, then ``--params`` per engine (so a peer's configuration,
        e.g. item-KNN cosine, runs through the same protocol without editing settings)."""
        from recommendations.algorithms import ENGINE_PATHS

        try:
            from recommendations.conf import app_settings

            params = {k: dict(v) for k, v in (getattr(app_settings, "ENGINE_PARAMS", {}) or {}).items()}
        except Exception:  # noqa: BLE001
            params = {}
        if override:
            try:
                extra = json.loads(override)
            except json.JSONDecodeError as exc:
                raise CommandError(f"--params is not JSON: {exc}") from exc
            if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
                raise CommandError('--params must map engine names to objects: {"item_cf": {...}}')
            unknown = sorted(set(extra) - set(ENGINE_PATHS))
            if unknown:
                raise CommandError(f"--params names unknown engines {unknown}")
            for name, values in extra.items():
                params[name] = {**params.get(name, {}), **values}
        return params

    # -- input ------------------------------------------------------------------------------
    def _frames(self, opts: dict[str, Any]):
        from recommendations import sources

        def read(reader, path, flag):
            try:
                return reader(path)
            except (OSError, ValueError, KeyError) as exc:  # pandas' parser errors are ValueErrors
                raise CommandError(f"{flag} {path}: {type(exc).__name__}: {exc}") from exc

        if opts["format"]:
            events, products = read(sources.RESEARCH_READERS[opts["format"]], opts["path"], "--path")
            return events, products, None
        products = read(sources.read_products_csv, opts["products"], "--products") if opts["products"] else None
        if opts["train"]:
            return (read(sources.read_events_csv, opts["train"], "--train"), products,
                    read(sources.read_events_csv, opts["test"], "--test"))
        if opts["events"]:
            return read(sources.read_events_csv, opts["events"], "--events"), products, None
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

    # -- run --------------------------------------------------------------------------------
    def handle(self, *args, **opts) -> None:
        from recommendations.algorithms import get_engine
        from recommendations.algorithms.dataset import RATING
        from recommendations.evaluation import (
            evaluate_coldstart,
            evaluate_rating,
            evaluate_sessions,
            evaluate_topn,
            format_table,
            next_item_split,
            temporal_split,
            write_recommendations_csv,
        )
        from recommendations.tuning import SelfTuned, search_space

        checked = self._validate(opts)
        protocols, params, budget = checked["protocols"], checked["params"], checked["budget"]
        events, products, test = self._frames(opts)
        dataset, train_mask, test_mask = self._dataset(events, products, test)
        budget_text = f"fit budget {budget:g} s" if budget else "no fit budget"
        self.stdout.write(f"{dataset.n_users} users, {dataset.n_items} items, {dataset.n_events} events; "
                          f"{budget_text}")

        has_ratings = bool((dataset.kind == RATING).any())
        has_features = dataset.item_features is not None
        names = checked["names"]
        if names is None:
            from recommendations.algorithms import engine_available

            names = [n for n in ALL_ENGINES if engine_available(n)]
            if not has_features:
                names = [n for n in names if n not in ("content", "deep")]
            if not has_ratings or set(protocols) & set(LIST_PROTOCOLS):
                # the rating engine ranks worst of all: it runs where it is the point (rating CV)
                names = [n for n in names if n != "rating"]
        if opts["baseline"] and opts["baseline"] not in names:
            raise CommandError(f"--baseline {opts['baseline']} is not among the engines evaluated: {names}")

        tuned: dict[str, dict[str, Any]] = {}  # engine -> what --tune chose on the latest input

        def spec(name: str, protocol: str = "topn"):
            if opts["tune"] and search_space(name, params.get(name, {})):
                def report(result, name=name) -> None:
                    tuned[name] = result.as_dict()
                    log(f"{name}: tuned {result.parameter} = {result.chosen} (default {result.default}, "
                        f"{len(result.trials)} trials in {result.seconds:.0f} s, stopped: {result.stopped})")
                validation = "temporal" if protocol == "temporal" else "random"
                return lambda: SelfTuned(name, params.get(name, {}), opts["tune"], report, validation)
            return lambda: with_fit_budget(get_engine(name, **params.get(name, {})), budget)

        verbose = opts["verbosity"] > 0
        progress = not opts["no_progress"] and verbose

        def log(message: str) -> None:
            if verbose:
                self.stderr.write(message, style_func=str)  # progress, not an error: no red
                self.stderr.flush()

        results: list[tuple[str, list[dict[str, Any]]]] = []
        rec_rows: list[dict[str, Any]] | None = [] if opts["recommendations_out"] else None

        def on_row(protocol: str, rows: list[dict[str, Any]]):
            def record(row: dict[str, Any]) -> None:
                row.setdefault("fit_budget_seconds", budget)
                if row["engine"] in tuned:
                    row["tuning"] = tuned[row["engine"]]
                rows.append(row)
                log(f"{row['engine']}: {summary(row, opts['k'])}")
                if opts["json_out"]:
                    write_json(opts["json_out"], merge_results([*results, (protocol, rows)]))
            return record

        common = {"progress": progress, "on_error": "record", "log": log}
        for protocol in protocols:
            rows: list[dict[str, Any]] = []
            if protocol in LIST_PROTOCOLS:
                masks = {"topn": (train_mask, test_mask)}.get(protocol)
                if protocol == "next-item":
                    masks = next_item_split(dataset)
                elif protocol == "temporal":
                    try:
                        masks = temporal_split(dataset)
                    except ValueError as exc:
                        raise CommandError(f"--protocol temporal: {exc}") from exc
                protocol_recs: list[dict[str, Any]] | None = [] if rec_rows is not None else None
                engines = {n: spec(n, protocol) for n in names}
                log(f"[{protocol}] {len(engines)} engines: {', '.join(engines)}")
                evaluate_topn(dataset, engines, k=opts["k"], seed=opts["seed"], train_mask=masks[0],
                              test_mask=masks[1], recommendations=protocol_recs, rerank=checked["rerank"],
                              baseline=opts["baseline"], on_row=on_row(protocol, rows), **common)
                if rec_rows is not None:
                    rec_rows.extend({**r, "protocol": protocol} for r in protocol_recs or [])
            elif protocol == "session":
                engines = {n: spec(n) for n in names}
                log(f"[{protocol}] {len(engines)} engines: {', '.join(engines)}")
                evaluate_sessions(dataset, engines, k=opts["k"], baseline=opts["baseline"],
                                  on_row=on_row(protocol, rows), **common)
            elif protocol == "rating":
                if not has_ratings:
                    self.stderr.write("rating protocol skipped: the data has no ratings")
                    continue
                engines = {n: spec(n) for n in (checked["names"] or ["rating"]) if n == "rating"}
                if not engines:
                    self.stderr.write("rating protocol skipped: --engines has no engine that predicts ratings")
                    continue
                log(f"[{protocol}] {', '.join(engines)}")
                evaluate_rating(dataset, engines, seed=opts["seed"], on_row=on_row(protocol, rows), **common)
            else:
                engines = {n: spec(n) for n in names if n != "rating"}
                log(f"[{protocol}] {len(engines)} engines: {', '.join(engines)}")
                evaluate_coldstart(dataset, engines, k=opts["k"], on_row=on_row(protocol, rows), **common)
            order = {name: i for i, name in enumerate(engines)}
            rows.sort(key=lambda r: order.get(r["engine"].split("+", 1)[0], len(order)))
            results.append((protocol, rows))
            self.stdout.write(f"\n[{protocol}]")
            self.stdout.write(format_table(rows))
        merged = merge_results(results)

        if opts["json_out"]:
            write_json(opts["json_out"], merged)
            self.stdout.write(f"\nresults written to {opts['json_out']}")
        if rec_rows is not None:
            write_recommendations_csv(rec_rows, opts["recommendations_out"])
            self.stdout.write(f"recommendations written to {opts['recommendations_out']}")


def with_fit_budget(model, seconds: float | None):
    """Give ``model`` (and a hybrid's components) the wall-clock bound ``seconds`` where the
    engine has one (``max_seconds``), so the budget is the command's argument, not a setting."""
    import inspect

    from recommendations.algorithms import ENGINES

    if hasattr(model, "max_seconds"):
        model.max_seconds = seconds
    components = getattr(model, "components", None)  # a hybrid's {engine: params}
    for key, component in (components.items() if isinstance(components, dict) else ()):
        engine = key.split(":", 1)[0]
        if engine in ENGINES and "max_seconds" in inspect.signature(ENGINES[engine]).parameters:
            component["max_seconds"] = seconds
    return model


def summary(row: dict[str, Any], k: int) -> str:
    """One line of a finished row's headline figures."""
    if "error" in row:
        return f"error: {row['error']}"
    keys = [f"ndcg@{k}", f"hit_rate@{k}", "rmse", "mae", f"cold_recall@{k}", f"ndcg@{k}_gain"]
    figures = [f"{key} {row[key]:.4f}" for key in keys if isinstance(row.get(key), float)]
    if isinstance(row.get("fit_seconds"), float):
        figures.append(f"fit {row['fit_seconds']:.1f} s")
    return ", ".join(figures)


def write_json(path: str, rows: list[dict[str, Any]]) -> None:
    """Replace ``path`` atomically, so a reader (or a kill) never sees half a file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump(_clean(rows), fh, indent=2)
    os.replace(tmp, path)


def merge_results(results: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """One object per engine for the random split's protocols (top-N keys as they are, rating
    and cold-start timing/error keys prefixed), and one object per engine and time-ordered
    protocol with its ``protocol`` named (``next-item``, ``temporal``, ``session``)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    shared = {"fit_seconds", "fit_peak_rss_mib", "predict_seconds", "recommend_seconds", "error", "users"}
    for protocol, rows in results:
        for row in rows:
            if protocol in OWN_ROWS:
                merged[(row["engine"], protocol)] = {"engine": row["engine"], "protocol": protocol,
                                                     **{k: v for k, v in row.items() if k != "engine"}}
                continue
            out = merged.setdefault((row["engine"], ""), {"engine": row["engine"]})
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
