"""Offline evaluation: splits, metrics and protocols (pure: no Django).

Top-N protocol: every user with >= ``min_items`` distinct items has a random ``test_fraction``
of their distinct items held out (seed 42; all events of a held-out user-item pair go to
test); each engine recommends ``k`` items per user excluding the user's train items; binary
relevance; every user with a test item is scored. ``f1@k`` is the harmonic mean of the mean
precision and the mean recall; ``coverage@k`` is the share of the catalogue recommended to
anyone; ``map@k`` divides by ``min(|relevant|, k)``.

Rating protocol: k-fold cross-validation over (user, item) rating pairs, ``rmse`` / ``mae``
of engines that have ``predict(user, items)``.

Cold-start protocol: ``fraction`` of the items with interactions (seed 7) lose every
interaction in train; each user who interacted with them gets those items ranked among
themselves only (everything else excluded); ``recall@k`` over those users.
"""

from __future__ import annotations

import copy
import csv
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .algorithms.base import Recommender
from .algorithms.dataset import RATING, Dataset

EngineSpec = Recommender | Callable[[], Recommender]

TOPN_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "f1")


# -- metrics on one ranked list ---------------------------------------------------------------
def precision_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = 10) -> float:
    rel = set(relevant)
    return sum(1 for i in list(recommended)[:k] if i in rel) / k


def recall_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = 10) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    return sum(1 for i in list(recommended)[:k] if i in rel) / len(rel)


def ndcg_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = 10) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 2) for r, i in enumerate(list(recommended)[:k]) if i in rel)
    idcg = sum(1.0 / math.log2(r + 2) for r in range(min(len(rel), k)))
    return dcg / idcg


def average_precision_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = 10) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    hits, total = 0, 0.0
    for r, i in enumerate(list(recommended)[:k]):
        if i in rel:
            hits += 1
            total += hits / (r + 1)
    return total / min(len(rel), k)


def hit_rate_at_k(recommended: Sequence[int], relevant: Iterable[int], k: int = 10) -> float:
    rel = set(relevant)
    return 1.0 if any(i in rel for i in list(recommended)[:k]) else 0.0


def f1_score(precision: float, recall: float) -> float:
    return 0.0 if precision + recall <= 0 else 2 * precision * recall / (precision + recall)


def coverage(lists: Iterable[Sequence[int]], n_items: int) -> float:
    seen: set[int] = set()
    for items in lists:
        seen.update(int(i) for i in items)
    return len(seen) / n_items if n_items else 0.0


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    d = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.sqrt(np.mean(d * d))) if len(d) else float("nan")


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    d = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.abs(d))) if len(d) else float("nan")


def summarise_topn(
    lists: Mapping[int, Sequence[int]], relevant: Mapping[int, Iterable[int]], n_items: int, k: int = 10
) -> dict[str, float]:
    """Mean per-user metrics over the users of ``relevant`` (missing lists count as empty)."""
    users = [u for u in relevant if len(set(relevant[u]))]
    if not users:
        return {f"{m}@{k}": 0.0 for m in TOPN_METRICS} | {"users": 0}
    p = np.mean([precision_at_k(lists.get(u, []), relevant[u], k) for u in users])
    r = np.mean([recall_at_k(lists.get(u, []), relevant[u], k) for u in users])
    out = {
        f"precision@{k}": float(p),
        f"recall@{k}": float(r),
        f"ndcg@{k}": float(np.mean([ndcg_at_k(lists.get(u, []), relevant[u], k) for u in users])),
        f"map@{k}": float(np.mean([average_precision_at_k(lists.get(u, []), relevant[u], k) for u in users])),
        f"hit_rate@{k}": float(np.mean([hit_rate_at_k(lists.get(u, []), relevant[u], k) for u in users])),
        f"coverage@{k}": coverage((list(lists.get(u, []))[:k] for u in users), n_items),
        f"f1@{k}": f1_score(float(p), float(r)),
        "users": len(users),
    }
    return out


# -- splits -----------------------------------------------------------------------------------
def _pairs(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(pair id per event, unique pair ids) where pair id = user * n_items + item."""
    key = dataset.user.astype(np.int64) * dataset.n_items + dataset.item.astype(np.int64)
    return key, np.unique(key)


def split_topn(
    dataset: Dataset, test_fraction: float = 0.2, min_items: int = 5, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Event masks (train, test) of the top-N protocol (per-user holdout of distinct items).

    A user with ``n >= min_items`` distinct items loses ``max(1, round(test_fraction * n))``
    of them, chosen at random; every event of a held-out pair goes to test.
    """
    key, pairs = _pairs(dataset)
    if len(pairs) == 0:
        empty = np.zeros(dataset.n_events, dtype=bool)
        return ~empty, empty
    pair_user = pairs // dataset.n_items
    rng = np.random.default_rng(seed)
    rand = rng.random(len(pairs))
    order = np.lexsort((rand, pair_user))
    sorted_users = pair_user[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, counts)
    n_items_user = np.repeat(counts, counts)
    n_hold = np.where(
        n_items_user >= min_items, np.maximum(1, np.round(test_fraction * n_items_user)), 0
    )
    held = np.zeros(len(pairs), dtype=bool)
    held[order] = rank < n_hold
    test = np.isin(key, pairs[held])
    return ~test, test


def split_validation(dataset: Dataset, train_mask: np.ndarray, seed: int = 1234,
                     test_fraction: float = 0.2, min_items: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Carve a (fit, validation) pair of event masks out of ``train_mask`` (same protocol)."""
    sub = dataset.subset(train_mask)
    fit_sub, val_sub = split_topn(sub, test_fraction, min_items, seed)
    idx = np.flatnonzero(train_mask)
    fit, val = np.zeros(dataset.n_events, bool), np.zeros(dataset.n_events, bool)
    fit[idx[fit_sub]] = True
    val[idx[val_sub]] = True
    return fit, val


def coldstart_split(dataset: Dataset, fraction: float = 0.1, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """(train event mask, cold item indices): the cold items lose all their events in train."""
    items = np.unique(dataset.item)
    rng = np.random.default_rng(seed)
    n_cold = max(1, int(round(fraction * len(items))))
    cold = np.sort(rng.choice(items, size=n_cold, replace=False))
    return ~np.isin(dataset.item, cold), cold


def relevant_by_user(dataset: Dataset, mask: np.ndarray) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for u, i in zip(dataset.user[mask].tolist(), dataset.item[mask].tolist()):
        out.setdefault(u, set()).add(i)
    return out


# -- protocols --------------------------------------------------------------------------------
def _make(spec: EngineSpec) -> Recommender:
    return copy.deepcopy(spec) if isinstance(spec, Recommender) else spec()


def _progress(iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return iterable
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False)


def evaluate_topn(
    dataset: Dataset,
    engines: Mapping[str, EngineSpec],
    *,
    k: int = 10,
    seed: int = 42,
    train_mask: np.ndarray | None = None,
    test_mask: np.ndarray | None = None,
    progress: bool = True,
    recommendations: list[dict[str, Any]] | None = None,
    on_error: str = "raise",
) -> list[dict[str, Any]]:
    """Top-N protocol for each engine; returns one dict per engine (``engine`` + metrics).

    Pass ``train_mask``/``test_mask`` for an explicit split. If ``recommendations`` is a list,
    each engine's top-k lists are appended to it as ``user_id, engine, rank, product_id`` rows.
    """
    if train_mask is None or test_mask is None:
        train_mask, test_mask = split_topn(dataset, seed=seed)
    train = dataset.subset(train_mask)
    relevant = relevant_by_user(dataset, test_mask)
    seen = train.matrix.tocsr()
    users = sorted(relevant)
    results = []
    for name, spec in engines.items():
        row: dict[str, Any] = {"engine": name}
        try:
            model = _make(spec)
            t0 = time.perf_counter()
            model.fit(train)
            row["fit_seconds"] = time.perf_counter() - t0
            lists: dict[int, list[int]] = {}
            t0 = time.perf_counter()
            for u in _progress(users, len(users), f"top-{k} {name}", progress):
                items, _ = model.recommend(u, n=k, exclude=seen[u].indices, exclude_seen=True)
                lists[u] = [int(i) for i in items[:k]]
            row["recommend_seconds"] = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001
            if on_error == "raise":
                raise
            row["error"] = f"{type(exc).__name__}: {exc}"
            results.append(row)
            continue
        metrics = summarise_topn(lists, relevant, dataset.n_items, k)
        results.append({"engine": name, **metrics, **{k_: v for k_, v in row.items() if k_ != "engine"}})
        if recommendations is not None:
            for u in users:
                for rank, i in enumerate(lists[u], start=1):
                    recommendations.append(
                        {
                            "user_id": _plain(dataset.user_ids[u]),
                            "engine": name,
                            "rank": rank,
                            "product_id": _plain(dataset.item_ids[i]),
                        }
                    )
    return results


def evaluate_rating(
    dataset: Dataset,
    engines: Mapping[str, EngineSpec],
    *,
    folds: int = 5,
    seed: int = 42,
    progress: bool = True,
    on_error: str = "raise",
) -> list[dict[str, Any]]:
    """K-fold CV over rating pairs: mean ``rmse`` / ``mae`` (and per-fold lists) per engine."""
    key, _ = _pairs(dataset)
    is_rating = dataset.kind == RATING
    rating_pairs = np.unique(key[is_rating])
    if len(rating_pairs) < folds:
        raise ValueError("not enough ratings for cross-validation")
    rng = np.random.default_rng(seed)
    fold_of_pair = np.empty(len(rating_pairs), dtype=np.int64)
    fold_of_pair[rng.permutation(len(rating_pairs))] = np.arange(len(rating_pairs)) % folds
    results = []
    for name, spec in engines.items():
        per_fold: list[tuple[float, float]] = []
        fit_s = pred_s = 0.0
        try:
            for f in _progress(range(folds), folds, f"cv {name}", progress):
                test_pairs = rating_pairs[fold_of_pair == f]
                test_mask = is_rating & np.isin(key, test_pairs)
                train = dataset.subset(~test_mask)
                model = _make(spec)
                if not hasattr(model, "predict"):
                    raise TypeError(f"{name} has no predict()")
                t0 = time.perf_counter()
                model.fit(train)
                fit_s += time.perf_counter() - t0
                test = dataset.subset(test_mask).ratings.tocoo()
                t0 = time.perf_counter()
                pred = predict_pairs(model, test.row, test.col)
                pred_s += time.perf_counter() - t0
                per_fold.append((rmse(test.data, pred), mae(test.data, pred)))
        except Exception as exc:  # noqa: BLE001
            if on_error == "raise":
                raise
            results.append({"engine": name, "error": f"{type(exc).__name__}: {exc}"})
            continue
        arr = np.array(per_fold)
        results.append(
            {
                "engine": name,
                "rmse": float(arr[:, 0].mean()),
                "mae": float(arr[:, 1].mean()),
                "rmse_folds": arr[:, 0].tolist(),
                "mae_folds": arr[:, 1].tolist(),
                "fit_seconds": fit_s,
                "predict_seconds": pred_s,
            }
        )
    return results


def predict_pairs(model: Any, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Predictions for (user, item) pairs, grouped by user through ``model.predict``."""
    users = np.asarray(users)
    items = np.asarray(items)
    out = np.empty(len(users), dtype=np.float64)
    order = np.argsort(users, kind="stable")
    su = users[order]
    bounds = np.flatnonzero(np.r_[True, su[1:] != su[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        idx = order[a:b]
        out[idx] = model.predict(int(su[a]), items[idx])
    return out


def evaluate_coldstart(
    dataset: Dataset,
    engines: Mapping[str, EngineSpec],
    *,
    k: int = 10,
    fraction: float = 0.1,
    seed: int = 7,
    progress: bool = True,
    on_error: str = "raise",
) -> list[dict[str, Any]]:
    """Cold-start protocol: ``recall@k`` of cold items ranked among themselves only."""
    train_mask, cold = coldstart_split(dataset, fraction, seed)
    train = dataset.subset(train_mask)
    relevant = relevant_by_user(dataset, ~train_mask)
    users = sorted(relevant)
    warm = np.setdiff1d(np.arange(dataset.n_items), cold)
    n_cold = len(cold)
    random_recall = float(np.mean([min(k, n_cold) / n_cold for _ in users])) if users else 0.0
    results = []
    for name, spec in engines.items():
        row: dict[str, Any] = {"engine": name}
        try:
            model = _make(spec)
            t0 = time.perf_counter()
            model.fit(train)
            row["fit_seconds"] = time.perf_counter() - t0
            lists = {}
            for u in _progress(users, len(users), f"cold {name}", progress):
                items, _ = model.recommend(u, n=k, exclude=warm, exclude_seen=False)
                lists[u] = [int(i) for i in items[:k]]
        except Exception as exc:  # noqa: BLE001
            if on_error == "raise":
                raise
            row["error"] = f"{type(exc).__name__}: {exc}"
            results.append(row)
            continue
        recalls = [recall_at_k(lists[u], relevant[u], k) for u in users]
        ndcgs = [ndcg_at_k(lists[u], relevant[u], k) for u in users]
        row[f"cold_recall@{k}"] = float(np.mean(recalls)) if users else 0.0
        row[f"cold_ndcg@{k}"] = float(np.mean(ndcgs)) if users else 0.0
        row["cold_items"] = n_cold
        row["cold_users"] = len(users)
        row[f"random_recall@{k}"] = random_recall
        results.append(row)
    return results


def explicit_split_dataset(train_events, test_events, products=None, **dataset_kwargs):
    """(dataset, train_mask, test_mask) from a given train frame and test frame."""
    import pandas as pd

    both = pd.concat([train_events, test_events], ignore_index=True)
    ds = Dataset.from_frames(both, products, **dataset_kwargs)
    train_mask = np.zeros(ds.n_events, dtype=bool)
    train_mask[: len(train_events)] = True
    return ds, train_mask, ~train_mask


def write_recommendations_csv(rows: Iterable[Mapping[str, Any]], path: str | Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["user_id", "engine", "rank", "product_id"])
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row[key] for key in ("user_id", "engine", "rank", "product_id")})


def top_lists(dataset: Dataset, model: Recommender, name: str, users: Iterable[int] | None = None,
              k: int = 10) -> list[dict[str, Any]]:
    """A fitted engine's top-k for ``users`` (default all) as ``user_id, engine, rank, product_id``."""
    rows = []
    for u in range(dataset.n_users) if users is None else users:
        items, _ = model.recommend(int(u), n=k)
        for rank, i in enumerate(items, start=1):
            rows.append({"user_id": _plain(dataset.user_ids[u]), "engine": name, "rank": rank,
                         "product_id": _plain(dataset.item_ids[i])})
    return rows


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def format_table(results: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width text table of result dicts (floats to 4 decimals)."""
    if not results:
        return ""
    cols: list[str] = []
    for r in results:
        for key in r:
            if key not in cols and not isinstance(r[key], (list, dict)):
                cols.append(key)

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        return "" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in cols] for r in results]
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
