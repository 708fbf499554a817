"""Self-tuning: choose an engine's main hyperparameter on the shop's own data, within a budget.

Fixed values tuned on MovieLens (EASE's ``l2`` 500, a neighbourhood of 120, ALS's ``reg``) are
wrong for another shop's data. :func:`tune` starts from the engine's configured value (its
documented default unless the shop set one), scores it by ndcg@10 averaged over validation
folds carved from the training data (each fold holds out a random 20 % of every shopper's
items, another seed per fold), then walks the engine's grid (:data:`SEARCH_SPACES`) one step
at a time in the direction that improves, and stops at a local best, at the grid's end, or
when the next trial would not fit in the time budget. Only a value that beats the default by
more than ``min_gain`` replaces it. Pure NumPy: knows nothing of Django.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .algorithms.dataset import Dataset
from .evaluation import evaluate_topn, split_topn, temporal_split

#: engine -> (parameter, ascending grid). A hybrid tunes its blend itself; ``deep`` and
#: ``content`` are left out: one deep fit per trial does not fit a default budget.
SEARCH_SPACES: dict[str, tuple[str, tuple[float, ...]]] = {
    "item_cf": ("l2", (1.0, 5.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)),
    "user_cf": ("k", (5, 10, 20, 40, 80, 120, 200, 400)),
    "als": ("reg", (1.0, 5.0, 20.0, 40.0, 80.0, 160.0, 320.0)),
}


def search_space(engine: str, params: dict[str, Any]) -> tuple[str, tuple[float, ...]] | None:
    """The parameter and grid tuned for ``engine`` with ``params``; None when nothing is tuned
    (e.g. ``item_cf`` with ``method="cosine"`` has no ``l2`` to choose)."""
    space = SEARCH_SPACES.get(engine)
    if space is None:
        return None
    if engine == "item_cf" and params.get("method", "ease") not in ("ease", "adjacency"):
        return None
    if engine == "user_cf" and params.get("method", "knn") != "knn":
        return None
    return space


@dataclass
class TuningResult:
    """What :func:`tune` chose and why: every trial's value and validation ndcg@10."""

    parameter: str | None = None
    default: Any = None
    chosen: Any = None
    trials: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "default": self.default, "chosen": self.chosen,
                "trials": self.trials, "seconds": round(self.seconds, 3), "stopped": self.stopped}


def validation_folds(dataset: Dataset, folds: int = 2, seed: int = 2024, max_users: int = 1000,
                     validation: str = "random") -> list[tuple[np.ndarray, np.ndarray]]:
    """``folds`` (fit, validation) event masks: each a random 20 % of every shopper's items
    held out with its own seed, or with ``validation="temporal"`` rolling time windows (fold f
    fits on everything before a cut and validates on the next 10 % of the time span, the
    newest window first, as the hybrid's temporal validation); at most ``max_users`` shoppers
    scored per fold."""
    out = []
    for f in range(folds):
        if validation == "temporal":
            try:
                fit, val = temporal_split(dataset, 0.1, before=0.1 * f)
            except ValueError:
                continue
        else:
            fit, val = split_topn(dataset, seed=seed + f)
        users = np.unique(dataset.user[val])
        if len(users) > max_users:
            keep = np.random.default_rng(seed + f).choice(users, size=max_users, replace=False)
            val = val & np.isin(dataset.user, keep)
        if val.any():
            out.append((fit, val))
    return out


def tune(
    engine: str,
    dataset: Dataset,
    params: dict[str, Any],
    make: Callable[[dict[str, Any]], Any],
    *,
    budget_seconds: float = 60.0,
    folds: int = 2,
    min_gain: float = 0.001,
    max_users: int = 1000,
    min_users: int = 100,
    validation: str = "random",
) -> TuningResult:
    """Choose ``engine``'s main hyperparameter on validation folds of ``dataset``.

    ``params`` are the engine's configured parameters (the start); ``make(params)`` builds an
    unfitted engine. Returns the trials and the chosen value (the default when nothing beats
    it by ``min_gain``, nothing could be tried in ``budget_seconds``, or fewer than
    ``min_users`` shoppers can be scored: on less, fold noise would choose, not the data).
    ``validation``: ``random`` folds (training's) or ``temporal`` time windows (see
    :func:`validation_folds`).
    """
    started = time.perf_counter()
    space = search_space(engine, params)
    if space is None:
        return TuningResult(stopped="nothing to tune")
    name, grid = space
    default = params.get(name, getattr(make({}), name))
    result = TuningResult(parameter=name, default=default, chosen=default)
    splits = validation_folds(dataset, folds=folds, max_users=max_users, validation=validation)
    if budget_seconds <= 0:
        result.stopped = "no budget"
        return result
    if not splits or min(len(np.unique(dataset.user[val])) for _, val in splits) < min_users:
        result.stopped = f"fewer than {min_users} shoppers to validate on"
        return result
    scores: dict[Any, float] = {}
    trial_seconds = 0.0

    def score(value: Any) -> float | None:
        nonlocal trial_seconds
        elapsed = time.perf_counter() - started
        if trial_seconds and elapsed + trial_seconds > budget_seconds:
            return None
        t0 = time.perf_counter()
        values = []
        for fit, val in splits:
            [row] = evaluate_topn(dataset, {engine: lambda: make({**params, name: value})}, train_mask=fit,
                                  test_mask=val, progress=False, beyond_accuracy=False)
            values.append(row["ndcg@10"])
        trial_seconds = max(trial_seconds, time.perf_counter() - t0)
        scores[value] = float(np.mean(values))
        result.trials.append({"value": value, "ndcg@10": round(scores[value], 5)})
        return scores[value]

    base = score(default)
    if base is None:  # pragma: no cover - the first trial always runs
        result.stopped = "no budget"
        return result
    # the walk starts at the grid point nearest the default
    start = int(np.argmin([abs(np.log(float(g)) - np.log(max(float(default), 1e-9))) for g in grid]))
    best_value, best = default, base
    result.stopped = "local best"
    for step in (-1, 1):
        i = start + step
        moved = False
        while 0 <= i < len(grid):
            value = type(default)(grid[i]) if isinstance(default, int) else grid[i]
            got = scores.get(value)
            if got is None:
                got = score(value)
            if got is None:
                result.stopped = "budget"
                break
            if got > best + (min_gain if best_value == default else 0.0):
                best_value, best, moved = value, got, True
                i += step
            else:
                break
        if moved or result.stopped == "budget":  # improving one way: the other way is worse
            break
    result.chosen = best_value
    result.seconds = time.perf_counter() - started
    return result


class SelfTuned:
    """An engine that runs :func:`tune` on whatever data it is fitted on (the protocol's input,
    never its test), then fits with the chosen value: how ``recommendations_evaluate --tune``
    measures "tuned EASE" by the same protocol as every other engine, as training would tune it.

    Everything but ``fit`` is the fitted engine's own; ``tuning_`` is :func:`tune`'s result.
    """

    def __init__(self, engine: str, params: dict[str, Any], budget_seconds: float,
                 on_tuned: Callable[[TuningResult], None] | None = None, validation: str = "random") -> None:
        self.engine = engine
        self.validation = validation
        self.params = dict(params)
        self.budget_seconds = float(budget_seconds)
        self.on_tuned = on_tuned
        self.tuning_: TuningResult | None = None
        self.model_: Any = None

    def fit(self, dataset: Dataset) -> SelfTuned:
        from .algorithms import get_engine

        result = tune(self.engine, dataset, self.params, lambda p: get_engine(self.engine, **p),
                      budget_seconds=self.budget_seconds, validation=self.validation)
        self.tuning_ = result
        if self.on_tuned is not None:
            self.on_tuned(result)
        params = {**self.params, result.parameter: result.chosen} if result.parameter else self.params
        self.model_ = get_engine(self.engine, **params).fit(dataset)
        return self

    def __getattr__(self, name: str) -> Any:
        model = self.__dict__.get("model_")
        if model is None:
            raise AttributeError(name)
        return getattr(model, name)
