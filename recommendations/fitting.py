"""What a training does with one engine once the data is loaded: tune -> validate -> fit.

No Django here: :mod:`.training` adds the lock, the version's stages and the artifact, and
``bench/retrain.py`` measures exactly these steps on generated data, so the benchmark's time
is the training's.

A training fits an engine twice (on the validation split, then on everything). An engine with
a wall-clock budget (``max_seconds``: ``deep``, ``sequence``) gets half of it for each fit, so
its ``max_seconds`` bounds the whole training's fitting, as the settings documentation says,
not each fit.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from .algorithms import ENGINES, get_engine
from .algorithms.base import Recommender
from .algorithms.dataset import RATING, Dataset
from .evaluation import evaluate_topn, predict_pairs, split_topn
from .tuning import search_space, tune

#: a training fits each engine this many times: the validation fit, then the final one
FITS_PER_TRAINING = 2


@dataclass
class FittedEngine:
    """A training's result before it is stored: the model and what the version records."""

    model: Recommender
    params: dict[str, Any]  # the configured parameters with the tuned value, as stored
    metrics: dict[str, Any]
    tuning: dict[str, Any] | None
    fit_seconds: float


def validation_masks(dataset: Dataset, max_users: int) -> tuple[np.ndarray, np.ndarray]:
    """The (fit, validation) event masks of a training: 20 % of every shopper's items held
    out, at most ``max_users`` shoppers scored; seeded, so two trainings compare."""
    train, test = split_topn(dataset, seed=42)
    users = np.unique(dataset.user[test])
    if len(users) > max_users:
        keep = np.random.default_rng(42).choice(users, size=max_users, replace=False)
        test = test & np.isin(dataset.user, keep)
    return train, test


def per_fit_params(engine: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the engine's ``max_seconds`` (configured or default) shared between the
    training's fits; unchanged for engines without a budget or with none set."""
    budget = inspect.signature(ENGINES[engine]).parameters.get("max_seconds")
    seconds = params.get("max_seconds", budget.default if budget else None)
    if not seconds:
        return params
    return {**params, "max_seconds": float(seconds) / FITS_PER_TRAINING}


def fit_for_training(
    engine: str,
    dataset: Dataset,
    params: dict[str, Any],
    *,
    tuning_seconds: float,
    validation_max_users: int,
    pinned: Collection[str] = (),
    stage: Callable[[str, int], None] = lambda name, percent: None,
) -> FittedEngine:
    """Tune the engine's main parameter (unless ``pinned`` by the version's own parameters),
    score it on the validation split, then fit it on all of ``dataset``."""
    train_mask, test_mask = validation_masks(dataset, validation_max_users)
    tuning = None
    space = search_space(engine, params)
    if space and tuning_seconds > 0 and space[0] not in pinned:
        stage("tuning", 10)  # on the training part only: the validation figure stays honest
        result = tune(engine, dataset.subset(train_mask), params, lambda p: get_engine(engine, **p),
                      budget_seconds=tuning_seconds)
        tuning = plain(result.as_dict())
        if result.parameter:
            params = {**params, result.parameter: result.chosen}

    fit_params = per_fit_params(engine, params)
    stage("validating", 20)
    metrics: dict[str, Any] = {}
    if test_mask.any():
        [row] = evaluate_topn(dataset, {engine: lambda: get_engine(engine, **fit_params)},
                              train_mask=train_mask, test_mask=test_mask, progress=False)
        metrics = {k: v for k, v in row.items() if k != "engine"}

    stage("fitting", 55)
    model = get_engine(engine, **fit_params)
    started = time.perf_counter()
    model.fit(dataset)
    fit_seconds = time.perf_counter() - started
    if engine == "rating" and test_mask.any():
        metrics.update(_rating_metrics(dataset, train_mask, test_mask, params))
    return FittedEngine(model, params, plain(metrics), tuning, fit_seconds)


def _rating_metrics(dataset: Dataset, train_mask: np.ndarray, test_mask: np.ndarray,
                    params: dict[str, Any]) -> dict[str, float]:
    rated = test_mask & (dataset.kind == RATING)
    if not rated.any():
        return {}
    model = get_engine("rating", **params).fit(dataset.subset(train_mask))
    predicted = predict_pairs(model, dataset.user[rated], dataset.item[rated])
    error = predicted - dataset.value[rated]
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """NumPy scalars as Python numbers, so the dict can be stored as JSON."""
    return {k: (v.item() if isinstance(v, (np.floating, np.integer)) else v) for k, v in values.items()}
