"""Offline evaluation: splits, metrics and protocols (pure: no Django).

Top-N protocol: every user with >= ``min_items`` distinct items has a random ``test_fraction``
of their distinct items held out (seed 42; all events of a held-out user-item pair go to
test); each engine recommends ``k`` items per user excluding the user's train items; binary
relevance; every user with a test item is scored. ``f1@k`` is the harmonic mean of the mean
precision and the mean recall; ``coverage@k`` is the share of the catalogue recommended to
anyone; ``map@k`` divides by ``min(|relevant|, k)``.

Beyond accuracy (same lists, same users; definitions in each function's docstring):
``ild_category@k`` and ``ild_content@k`` (intra-list diversity: share of pairs with different
categories; 1 - mean pairwise cosine of content feature rows), ``novelty@k`` (mean
``-log2`` of the share of training users who touched each recommended item), ``popularity_bias@k``
(share of all slots taken by the 10 % most popular items in training) and ``exposure_gini@k``
(Gini coefficient of how often each catalogue item is recommended). None where the data has no
categories / no item content.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .algorithms import rerank as reranking
from .algorithms.base import Recommender
from .algorithms.dataset import RATING, Dataset, category_label

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


# -- beyond accuracy: what the lists do besides hitting the test items -------------------------
def _pairs_mean(values: np.ndarray, eligible: np.ndarray) -> float | None:
    """Mean of the upper-triangle entries of ``values`` where ``eligible`` (None: no pair)."""
    upper = np.triu(np.ones(values.shape, dtype=bool), k=1) & eligible
    return float(values[upper].mean()) if upper.any() else None


def ild_category(lists: Iterable[Sequence[int]], categories: Sequence[str], k: int = 10) -> float | None:
    """Intra-list diversity by category: per list (its first ``k`` items), the share of item
    pairs whose categories differ; pairs with an item of unknown ('') category are left out.
    Averaged over the lists that have at least one pair; None when none has."""
    per_list = []
    for items in lists:
        labels = np.asarray([str(categories[int(i)] or "") for i in list(items)[:k]], dtype=object)
        if len(labels) < 2:
            continue
        known = labels != ""
        value = _pairs_mean((labels[:, None] != labels[None, :]).astype(np.float64),
                            known[:, None] & known[None, :])
        if value is not None:
            per_list.append(value)
    return float(np.mean(per_list)) if per_list else None


def ild_content(lists: Iterable[Sequence[int]], vectors: np.ndarray | sp.spmatrix, k: int = 10) -> float | None:
    """Intra-list diversity by content: per list, 1 - the mean pairwise cosine of the items'
    feature rows (pairs with an all-zero row left out), averaged over lists as ``ild_category``."""
    csr = sp.csr_matrix(vectors, dtype=np.float64)
    per_list = []
    for items in lists:
        idx = np.asarray(list(items)[:k], dtype=np.int64)
        if len(idx) < 2:
            continue
        rows = csr[idx]
        gram = (rows @ rows.T).toarray()
        norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))
        nonzero = norms > 0
        safe = np.where(nonzero, norms, 1.0)
        value = _pairs_mean(gram / safe[:, None] / safe[None, :], nonzero[:, None] & nonzero[None, :])
        if value is not None:
            per_list.append(1.0 - value)
    return float(np.mean(per_list)) if per_list else None


def item_popularity(dataset: Dataset) -> tuple[np.ndarray, int]:
    """(distinct users who interacted with each item, users with any interaction) in ``dataset``."""
    binary = dataset.matrix.copy()
    binary.data[:] = 1.0
    counts = np.asarray(binary.sum(axis=0)).ravel().astype(np.float64)
    return counts, int(np.count_nonzero(np.diff(binary.indptr)))


def novelty(lists: Iterable[Sequence[int]], popularity: np.ndarray, n_users: int, k: int = 10) -> float | None:
    """Mean self-information ``-log2(p_i)`` of the recommended items, ``p_i = popularity_i /
    n_users`` (the share of training users who interacted with item ``i``); an item nobody
    interacted with counts as one user's (``log2(n_users)`` bits, the most a seen item gets).
    Mean per list, then over the non-empty lists; None when there are none."""
    if n_users <= 0:
        return None
    bits = -np.log2(np.maximum(np.asarray(popularity, dtype=np.float64), 1.0) / n_users)
    per_list = [float(bits[np.asarray(list(items)[:k], dtype=np.int64)].mean()) for items in lists if len(items)]
    return float(np.mean(per_list)) if per_list else None


def popularity_head(popularity: np.ndarray, share: float = 0.1) -> np.ndarray:
    """The ``ceil(share * catalogue)`` most popular items (ties by index), less never-touched ones."""
    pop = np.asarray(popularity, dtype=np.float64)
    head = np.argsort(-pop, kind="stable")[: math.ceil(share * len(pop))]
    return head[pop[head] > 0]


def popularity_bias(lists: Iterable[Sequence[int]], popularity: np.ndarray, k: int = 10,
                    share: float = 0.1) -> float | None:
    """Share of all recommendation slots (every list's first ``k``, pooled) taken by the head:
    the top ``share`` (10 %) of the catalogue by training popularity (``popularity_head``)."""
    head = np.zeros(len(popularity), dtype=bool)
    head[popularity_head(popularity, share)] = True
    slots = [int(i) for items in lists for i in list(items)[:k]]
    return float(head[slots].mean()) if slots else None


def exposure_gini(lists: Iterable[Sequence[int]], n_items: int, k: int = 10) -> float | None:
    """Gini coefficient of how many lists (first ``k`` items) each catalogue item appears in,
    every item counted (never recommended = 0): ``sum_i (2i - n - 1) c_(i) / (n sum c)`` over the
    counts sorted ascending, ``i = 1..n``. 0: every item equally exposed; ``(n - 1) / n``: one
    item in every slot. None when nothing was recommended."""
    counts = np.zeros(n_items, dtype=np.float64)
    for items in lists:
        np.add.at(counts, np.asarray(list(items)[:k], dtype=np.int64), 1.0)
    total = counts.sum()
    if n_items <= 0 or total <= 0:
        return None
    ranks = np.arange(1, n_items + 1, dtype=np.float64)
    return float(np.sum((2 * ranks - n_items - 1) * np.sort(counts)) / (n_items * total))


@dataclass
class BeyondAccuracy:
    """What the beyond-accuracy metrics need from the training data (``for_dataset``)."""

    popularity: np.ndarray  # distinct training users per item
    n_users: int  # training users with any interaction
    categories: list[str] | None = None  # None: the data has no categories
    vectors: sp.csr_matrix | None = None  # content feature rows; None: no item content

    @classmethod
    def for_dataset(cls, train: Dataset) -> BeyondAccuracy:
        popularity, n_users = item_popularity(train)
        features = train.item_features
        categories = vectors = None
        if features is not None:
            if any(c for c in features.category):
                categories = [category_label(c) for c in features.category]
            try:
                from .algorithms.content import build_item_features  # scikit-learn, offline only

                built = build_item_features(features)
                vectors = built if built.nnz else None
            except ImportError:  # pragma: no cover
                vectors = None
        return cls(popularity, n_users, categories, vectors)

    def metrics(self, lists: Sequence[Sequence[int]], k: int = 10) -> dict[str, float | None]:
        return {
            f"ild_category@{k}": ild_category(lists, self.categories, k) if self.categories else None,
            f"ild_content@{k}": ild_content(lists, self.vectors, k) if self.vectors is not None else None,
            f"novelty@{k}": novelty(lists, self.popularity, self.n_users, k),
            f"popularity_bias@{k}": popularity_bias(lists, self.popularity, k),
            f"exposure_gini@{k}": exposure_gini(lists, len(self.popularity), k),
        }


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    d = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.sqrt(np.mean(d * d))) if len(d) else float("nan")


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    d = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.abs(d))) if len(d) else float("nan")


def summarise_topn(
    lists: Mapping[int, Sequence[int]], relevant: Mapping[int, Iterable[int]], n_items: int, k: int = 10,
    beyond: BeyondAccuracy | None = None,
) -> dict[str, Any]:
    """Mean per-user metrics over the users of ``relevant`` (missing lists count as empty);
    with ``beyond``, also the beyond-accuracy metrics of those users' lists (None where the data
    cannot say, e.g. ``ild_category`` without categories)."""
    users = [u for u in relevant if len(set(relevant[u]))]
    extra = beyond.metrics([list(lists.get(u, []))[:k] for u in users], k) if beyond is not None else {}
    if not users:
        return {f"{m}@{k}": 0.0 for m in TOPN_METRICS} | extra | {"users": 0}
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
        **extra,
        "users": len(users),
    }
    return out


def paired_bootstrap(a: Sequence[float], b: Sequence[float], n_boot: int = 2000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``a - b`` (the same users scored by two engines) and its percentile bootstrap
    interval: users are resampled, so a gain resting on a handful of shoppers gets a wide one."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if len(diff) == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 200):  # 200 resamples at a time bounds memory
        stop = min(start + 200, n_boot)
        means[start:stop] = diff[rng.integers(0, len(diff), size=(stop - start, len(diff)))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(diff.mean()), float(low), float(high)


def compare_with_baseline(results: list[dict[str, Any]], per_user: Mapping[str, Mapping[int, float]],
                          baseline: str, k: int = 10) -> None:
    """Add ``ndcg@k_gain`` over ``baseline`` with its 95 % interval (``_low``, ``_high``) to
    every other row: the gain is clear when the interval excludes 0. Nothing is added when the
    baseline has no per-user scores (its own row then carries the error that stopped it)."""
    base = per_user.get(baseline)
    if base is None:
        return
    for row in results:
        scores = per_user.get(row["engine"])
        if scores is None or row["engine"] == baseline:
            continue
        users = sorted(set(scores) & set(base))
        gain, low, high = paired_bootstrap([scores[u] for u in users], [base[u] for u in users])
        row.update({"baseline": baseline, f"ndcg@{k}_gain": gain, f"ndcg@{k}_gain_low": low,
                    f"ndcg@{k}_gain_high": high})


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


def next_item_split(dataset: Dataset, min_items: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Event masks (input, test) of the ``next-item`` protocol (leave the last one out).

    For every shopper with ``>= min_items`` distinct items, the last event by time (ties: the
    later in the data) names the test item; every event of that (shopper, item) pair goes to
    test, so the item is never already in the input, and everything else the shopper did is the
    input. Other shoppers' events stay in the input whatever their time (the usual
    leave-last-out; :func:`temporal_split` is the stricter protocol).
    """
    test = np.zeros(dataset.n_events, dtype=bool)
    if dataset.n_events == 0:
        return ~test, test
    # last event per user: sort by (user, timestamp, position) and take each user's final entry
    order = np.lexsort((np.arange(dataset.n_events), dataset.timestamp, dataset.user))
    users_sorted = dataset.user[order]
    last = order[np.r_[users_sorted[1:] != users_sorted[:-1], True]]
    key, _ = _pairs(dataset)
    distinct = np.bincount((np.unique(key) // dataset.n_items).astype(np.int64), minlength=dataset.n_users)
    last = last[distinct[dataset.user[last]] >= min_items]
    test = np.isin(key, key[last])
    return ~test, test


def temporal_split(dataset: Dataset, test_fraction: float = 0.2,
                   before: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Event masks (input, test) of the ``temporal`` protocol: one global time cut.

    The cut lies ``test_fraction`` of the observed time span before the last event; every event
    before it is the input, whoever made it. The test is what shoppers who have some input did
    from the cut on, less items they already had before the cut (those are excluded from their
    lists anyway); shoppers first seen after the cut are not scored (no history to start from).
    ``before`` (a fraction of the span) moves the test window back in time: the test is then
    what happened in ``[cut, end - before * span)``, and later events are in neither mask (a
    rolling-origin validation fold of the hybrid, which must not see that future either).
    """
    empty = np.zeros(dataset.n_events, dtype=bool)
    if dataset.n_events == 0:
        return ~empty, empty
    start, end = float(dataset.timestamp.min()), float(dataset.timestamp.max())
    span = end - start
    cut = end - (test_fraction + before) * span
    train = dataset.timestamp < cut
    window = ~train if before <= 0 else ~train & (dataset.timestamp < end - before * span)
    if not train.any() or not window.any():
        raise ValueError("the events span too little time for a temporal split")
    key, _ = _pairs(dataset)
    has_input = np.zeros(dataset.n_users, dtype=bool)
    has_input[dataset.user[train]] = True
    test = window & has_input[dataset.user] & ~np.isin(key, key[train])
    return train, test


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


Log = Callable[[str], None]


def _stderr_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(iterable, total: int, desc: str, enabled: bool, log: Log | None = None):
    """A tqdm bar on a terminal; elsewhere (a log file, CI) one plain line per quarter, so a
    log holds a handful of readable lines instead of hundreds of ``\\r`` updates."""
    if not enabled:
        return iterable
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover
            pass
        else:
            return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False)
    return _line_progress(iterable, total, desc, log or _stderr_line)


def _line_progress(iterable, total: int, desc: str, log: Log, parts: int = 4):
    step = max(1, math.ceil(total / parts))
    start = time.perf_counter()
    for done, item in enumerate(iterable, start=1):
        yield item
        if done % step == 0 or done == total:
            log(f"{desc}: {done}/{total} ({time.perf_counter() - start:.1f} s)")


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux ``clear_refs``), so the next
    :func:`peak_rss_mib` is the peak of what follows rather than of the whole run."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float | None:
    """Peak resident memory of this process in MiB (since the last reset, where possible)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit_measured(model: Recommender, train: Dataset, name: str, log: Log | None = None) -> dict[str, Any]:
    """Fit ``model``, telling ``log`` when it starts and ends; returns ``fit_seconds`` and
    ``fit_peak_rss_mib`` (the process's peak resident memory during the fit)."""
    say = log or (lambda message: None)
    say(f"{name}: fit started ({train.n_users} users, {train.n_items} items, {train.n_events} events)")
    _reset_peak_rss()
    t0 = time.perf_counter()
    try:
        model.fit(train)
    except Exception as exc:
        say(f"{name}: fit failed after {time.perf_counter() - t0:.1f} s: {type(exc).__name__}: {exc}")
        raise
    seconds = time.perf_counter() - t0
    peak = peak_rss_mib()
    say(f"{name}: fit done in {seconds:.1f} s" + (f", peak memory {peak:.0f} MiB" if peak else ""))
    return {"fit_seconds": seconds, "fit_peak_rss_mib": peak}


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
    beyond_accuracy: bool = True,
    rerank: Sequence[str | tuple[str, float]] = (),
    rerank_overfetch: int = 5,
    baseline: str | None = None,
    log: Log | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Top-N protocol for each engine; returns one dict per engine (``engine`` + metrics).

    Pass ``train_mask``/``test_mask`` for an explicit split (the temporal protocols do). If
    ``recommendations`` is a list, each engine's top-k lists are appended to it as ``user_id,
    engine, rank, product_id`` rows. ``beyond_accuracy`` adds diversity, novelty, popularity
    bias and exposure (popularity from the training split). Each ``rerank`` entry (``"mmr:0.3"``
    or ``("popularity", 0.5)``, see :mod:`~recommendations.algorithms.rerank`) adds a row
    ``"<engine>+<method>:<strength>"``: the same fitted engine's ``rerank_overfetch * k``
    candidates re-ranked to ``k``. With ``baseline`` (an engine name among ``engines``), every
    other row gets its ndcg@k gain over that engine with a paired bootstrap interval
    (:func:`compare_with_baseline`); the baseline is evaluated first so that each row is
    complete as soon as its engine is done. ``log`` hears each fit's start and end (time,
    peak memory); ``on_row`` gets each finished row at once (a long run killed half-way keeps
    what it measured). Rows are returned in the order of ``engines``.
    """
    if baseline is not None and baseline not in engines:
        raise ValueError(f"baseline {baseline!r} is not among the evaluated engines")
    if train_mask is None or test_mask is None:
        train_mask, test_mask = split_topn(dataset, seed=seed)
    train = dataset.subset(train_mask)
    relevant = relevant_by_user(dataset, test_mask)
    seen = train.matrix.tocsr()
    users = sorted(relevant)
    specs = [reranking.parse(r) if isinstance(r, str) else (r[0], float(r[1])) for r in rerank]
    beyond = BeyondAccuracy.for_dataset(train) if beyond_accuracy or specs else None
    results: list[dict[str, Any]] = []
    per_user: dict[str, dict[int, float]] = {}
    order = list(engines)
    if baseline is not None:
        order.remove(baseline)
        order.insert(0, baseline)

    def finish(row: dict[str, Any]) -> None:
        if baseline is not None and row["engine"] in per_user:
            compare_with_baseline([row], per_user, baseline, k)
        results.append(row)
        if on_row is not None:
            on_row(row)

    for name in order:
        spec = engines[name]
        row: dict[str, Any] = {"engine": name}
        variants: dict[str, dict[int, list[int]]] = {}
        try:
            model = _make(spec)
            row.update(fit_measured(model, train, name, log))
            lists: dict[int, list[int]] = {}
            t0 = time.perf_counter()
            for u in _progress(users, len(users), f"{name}: top-{k}", progress, log):
                items, _ = model.recommend(u, n=k, exclude=seen[u].indices, exclude_seen=True)
                lists[u] = [int(i) for i in items[:k]]
            row["recommend_seconds"] = time.perf_counter() - t0
            if specs:
                variants = _reranked_lists(model, users, seen, k, k * rerank_overfetch, specs, beyond,
                                           name, progress, log)
        except Exception as exc:  # noqa: BLE001
            if on_error == "raise":
                raise
            row["error"] = f"{type(exc).__name__}: {exc}"
            finish(row)
            continue
        if baseline is not None:
            per_user[name] = {u: ndcg_at_k(lists[u], relevant[u], k) for u in users}
        metrics = summarise_topn(lists, relevant, dataset.n_items, k, beyond if beyond_accuracy else None)
        finish({"engine": name, **metrics, **{k_: v for k_, v in row.items() if k_ != "engine"}})
        for label, reranked in variants.items():
            if baseline is not None:
                per_user[label] = {u: ndcg_at_k(reranked[u], relevant[u], k) for u in users}
            finish({"engine": label, **summarise_topn(reranked, relevant, dataset.n_items, k, beyond)})
        if recommendations is not None:
            for label, chosen in {name: lists, **variants}.items():
                for u in users:
                    for rank, i in enumerate(chosen[u], start=1):
                        recommendations.append(
                            {
                                "user_id": _plain(dataset.user_ids[u]),
                                "engine": label,
                                "rank": rank,
                                "product_id": _plain(dataset.item_ids[i]),
                            }
                        )
    position = {name: i for i, name in enumerate(engines)}
    results.sort(key=lambda r: position.get(r["engine"].split("+", 1)[0], len(position)))
    return results


def _reranked_lists(model: Recommender, users: list[int], seen, k: int, pool: int,
                    specs: list[tuple[str, float]], beyond: BeyondAccuracy, name: str,
                    progress: bool, log: Log | None = None) -> dict[str, dict[int, list[int]]]:
    """Each re-ranking's top-k per user, from one over-fetched candidate list per user."""
    out: dict[str, dict[int, list[int]]] = {f"{name}+{m}:{s:g}": {} for m, s in specs}
    for u in _progress(users, len(users), f"{name}: rerank", progress, log):
        items, scores = model.recommend(u, n=pool, exclude=seen[u].indices, exclude_seen=True)
        for (method, strength), label in zip(specs, out):
            chosen, _ = reranking.rerank(items, scores, k, method, strength, categories=beyond.categories,
                                         vectors=beyond.vectors, popularity=beyond.popularity)
            out[label][u] = [int(i) for i in chosen]
    return out


def evaluate_rating(
    dataset: Dataset,
    engines: Mapping[str, EngineSpec],
    *,
    folds: int = 5,
    seed: int = 42,
    progress: bool = True,
    on_error: str = "raise",
    log: Log | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """K-fold CV over rating pairs: mean ``rmse`` / ``mae`` (and per-fold lists) per engine;
    ``log`` and ``on_row`` as in :func:`evaluate_topn`."""
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
        peaks: list[float] = []
        try:
            for f in range(folds):
                test_pairs = rating_pairs[fold_of_pair == f]
                test_mask = is_rating & np.isin(key, test_pairs)
                train = dataset.subset(~test_mask)
                model = _make(spec)
                if not hasattr(model, "predict"):
                    raise TypeError(f"{name} has no predict()")
                fitted = fit_measured(model, train, f"{name} (fold {f + 1}/{folds})", log)
                fit_s += fitted["fit_seconds"]
                peaks.append(fitted["fit_peak_rss_mib"] or 0.0)
                test = dataset.subset(test_mask).ratings.tocoo()
                t0 = time.perf_counter()
                pred = predict_pairs(model, test.row, test.col)
                pred_s += time.perf_counter() - t0
                per_fold.append((rmse(test.data, pred), mae(test.data, pred)))
        except Exception as exc:  # noqa: BLE001
            if on_error == "raise":
                raise
            results.append({"engine": name, "error": f"{type(exc).__name__}: {exc}"})
            if on_row is not None:
                on_row(results[-1])
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
                "fit_peak_rss_mib": max(peaks) if peaks else None,
                "predict_seconds": pred_s,
            }
        )
        if on_row is not None:
            on_row(results[-1])
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
    log: Log | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Cold-start protocol: ``recall@k`` of cold items ranked among themselves only; ``log``
    and ``on_row`` as in :func:`evaluate_topn`."""
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
            row.update(fit_measured(model, train, name, log))
            lists = {}
            for u in _progress(users, len(users), f"{name}: cold start", progress, log):
                items, _ = model.recommend(u, n=k, exclude=warm, exclude_seen=False)
                lists[u] = [int(i) for i in items[:k]]
        except Exception as exc:  # noqa: BLE001
            if on_error == "raise":
                raise
            row["error"] = f"{type(exc).__name__}: {exc}"
            results.append(row)
            if on_row is not None:
                on_row(row)
            continue
        recalls = [recall_at_k(lists[u], relevant[u], k) for u in users]
        ndcgs = [ndcg_at_k(lists[u], relevant[u], k) for u in users]
        row[f"cold_recall@{k}"] = float(np.mean(recalls)) if users else 0.0
        row[f"cold_ndcg@{k}"] = float(np.mean(ndcgs)) if users else 0.0
        row["cold_items"] = n_cold
        row["cold_users"] = len(users)
        row[f"random_recall@{k}"] = random_recall
        results.append(row)
        if on_row is not None:
            on_row(row)
    return results


def session_split(dataset: Dataset, gap_seconds: float = 1800.0, test_fraction: float = 0.2,
                  min_length: int = 2) -> tuple[np.ndarray, list[np.ndarray]]:
    """(input event mask, test sessions) of the ``session`` protocol.

    A session is a shopper's run of events with no pause longer than ``gap_seconds``; its
    items are the distinct items in order of first touch. Sessions that start in the last
    ``test_fraction`` of the time span (with ``>= min_length`` distinct items) are the test;
    the input is every event before that cut, so no test session is in the input.
    """
    if dataset.n_events == 0:
        return np.ones(0, dtype=bool), []
    start, end = float(dataset.timestamp.min()), float(dataset.timestamp.max())
    cut = end - test_fraction * (end - start)
    order = np.lexsort((np.arange(dataset.n_events), dataset.timestamp, dataset.user))
    user, time_, item = dataset.user[order], dataset.timestamp[order], dataset.item[order]
    new = np.r_[True, (user[1:] != user[:-1]) | (np.diff(time_) > gap_seconds)]
    bounds = np.r_[np.flatnonzero(new), len(order)]
    sessions = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if time_[a] < cut:
            continue
        items = item[a:b]
        _, first = np.unique(items, return_index=True)
        distinct = items[np.sort(first)]
        if len(distinct) >= min_length:
            sessions.append(distinct)
    return dataset.timestamp < cut, sessions


def evaluate_sessions(
    dataset: Dataset,
    engines: Mapping[str, EngineSpec],
    *,
    k: int = 10,
    prefixes: Sequence[int] = (1, 2, 3),
    gap_seconds: float = 1800.0,
    progress: bool = True,
    on_error: str = "raise",
    baseline: str | None = None,
    log: Log | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Session protocol: how well an anonymous shopper's first views predict their next one.

    Engines fit on the input of :func:`session_split`; for every test session and every
    prefix length ``p`` in ``prefixes`` shorter than the session, the engine gets the session's
    first ``p`` items as an anonymous ``history`` (no user, nothing else known) and ranks the
    whole catalogue less those items; the session's item ``p + 1`` is the one relevant item.
    Rows: ``hit_rate@k`` and ``ndcg@k`` over all (session, prefix) cases, the same per prefix
    length (``ndcg@k_p1`` ...), ``cases`` and ``sessions``; ``baseline`` as in
    :func:`evaluate_topn`.
    """
    if baseline is not None and baseline not in engines:
        raise ValueError(f"baseline {baseline!r} is not among the evaluated engines")
    train_mask, sessions = session_split(dataset, gap_seconds)
    train = dataset.subset(train_mask)
    cases = [(s[:p], int(s[p]), p) for s in sessions for p in prefixes if len(s) > p]
    order = list(engines)
    if baseline is not None:
        order.remove(baseline)
        order.insert(0, baseline)
    per_case: dict[str, dict[int, float]] = {}
    results: list[dict[str, Any]] = []
    for name in order:
        row: dict[str, Any] = {"engine": name}
        try:
            model = _make(engines[name])
            row.update(fit_measured(model, train, name, log))
            hits, gains = np.zeros(len(cases)), np.zeros(len(cases))
            t0 = time.perf_counter()
            for c in _progress(range(len(cases)), len(cases), f"{name}: sessions", progress, log):
                prefix, target, _ = cases[c]
                items, _ = model.recommend(None, history={int(i): 1.0 for i in prefix}, n=k)
                ranked = [int(i) for i in items[:k]]
                if target in ranked:
                    hits[c], gains[c] = 1.0, 1.0 / math.log2(ranked.index(target) + 2)
            row["recommend_seconds"] = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001
            if on_error == "raise":
                raise
            row["error"] = f"{type(exc).__name__}: {exc}"
        else:
            lengths = np.array([p for _, _, p in cases])
            row = {"engine": name, f"ndcg@{k}": float(gains.mean()) if cases else 0.0,
                   f"hit_rate@{k}": float(hits.mean()) if cases else 0.0,
                   **{f"{m}@{k}_p{p}": float(v[lengths == p].mean())
                      for p in prefixes if (lengths == p).any()
                      for m, v in (("ndcg", gains), ("hit_rate", hits))},
                   "cases": len(cases), "sessions": len(sessions),
                   **{key: v for key, v in row.items() if key != "engine"}}
            per_case[name] = dict(enumerate(gains.tolist()))
            if baseline is not None and name != baseline:
                compare_with_baseline([row], per_case, baseline, k)
        results.append(row)
        if on_row is not None:
            on_row(row)
    position = {name: i for i, name in enumerate(engines)}
    results.sort(key=lambda r: position[r["engine"]])
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
    """``user_id, engine, rank, product_id`` rows, plus ``protocol`` when the rows name one."""
    rows = list(rows)
    fields = ["user_id", "engine", "rank", "product_id"]
    if any("protocol" in row for row in rows):
        fields.append("protocol")
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in fields})


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


#: (key prefix before "@", header) of the table's columns, in display order
_TABLE_COLUMNS = (
    ("engine", "engine"), ("ndcg", "ndcg"), ("hit_rate", "hr"), ("recall", "recall"),
    ("precision", "prec"), ("map", "map"), ("coverage", "cov"), ("gain", "gain [95% CI]"),
    ("rmse", "rmse"), ("mae", "mae"), ("cold_recall", "cold rec"), ("cold_ndcg", "cold ndcg"),
    ("random_recall", "random rec"), ("ndcg_p1", "ndcg 1 view"), ("ndcg_p2", "2 views"),
    ("ndcg_p3", "3 views"), ("users", "users"), ("cases", "cases"), ("fit_seconds", "fit s"),
    ("fit_peak_rss_mib", "peak MiB"),
)
#: columns left out first when the table is wider than asked
_DROP_FIRST = ("map", "precision", "users", "cases", "coverage", "random_recall", "fit_peak_rss_mib", "mae",
               "recall", "cold_ndcg", "fit_seconds", "gain", "hit_rate")


def _metric_key(key: str) -> str | None:
    """``ndcg@10`` -> ``ndcg``, ``ndcg@10_p2`` -> ``ndcg_p2``; None for anything else
    (``ndcg@10_gain``, ``fit_seconds``)."""
    name, _, k = key.partition("@")
    k, _, prefix = k.partition("_p")
    if not k.isdigit() or (prefix and not prefix.isdigit()):
        return None
    return f"{name}_p{prefix}" if prefix else name


def _cell(row: Mapping[str, Any], prefix: str) -> str:
    if prefix == "gain":
        gain = next((v for key, v in row.items() if key.endswith("_gain")), None)
        if gain is None:
            return ""
        low = next(v for key, v in row.items() if key.endswith("_gain_low"))
        high = next(v for key, v in row.items() if key.endswith("_gain_high"))
        return f"{gain:+.4f} [{low:+.3f},{high:+.3f}]"
    value = row.get(prefix)
    if value is None:
        value = next((v for key, v in row.items() if _metric_key(key) == prefix), None)
    if isinstance(value, float):
        if prefix == "fit_seconds":
            return f"{value:.1f}"
        if prefix == "fit_peak_rss_mib":
            return f"{value:.0f}"
        return f"{value:.4f}"
    return "" if value is None else str(value)


def format_table(results: Sequence[Mapping[str, Any]], width: int = 100) -> str:
    """A text table of the main figures of result rows that fits ``width`` characters: less
    telling columns are left out, long names cut, and a failed engine's error takes the rest of
    its line (the JSON has everything)."""
    if not results:
        return ""
    columns = [(p, h) for p, h in _TABLE_COLUMNS
               if p == "engine" or any(_cell(r, p) for r in results)]
    cells = {p: [_cell(r, p) for r in results] for p, _ in columns}
    cells["engine"] = [v if len(v) <= 26 else v[:25] + "…" for v in cells["engine"]]

    def widths() -> list[int]:
        return [max(len(h), *(len(v) for v in cells[p])) for p, h in columns]

    drop = list(_DROP_FIRST)
    while sum(widths()) + 2 * (len(columns) - 1) > width and drop:
        prefix = drop.pop(0)
        columns = [(p, h) for p, h in columns if p != prefix]
    sizes = widths()
    lines = ["  ".join(h.ljust(w) for (_, h), w in zip(columns, sizes)).rstrip()]
    lines.append("  ".join("-" * w for w in sizes))
    for j, row in enumerate(results):
        if row.get("error"):
            line = f"{cells['engine'][j].ljust(sizes[0])}  error: {row['error']}"
            lines.append(line if len(line) <= width else line[: width - 1] + "…")
            continue
        lines.append("  ".join(cells[p][j].ljust(w) for (p, _), w in zip(columns, sizes)).rstrip())
    return "\n".join(lines)
