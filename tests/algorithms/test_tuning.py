"""Self-tuning picks the hyperparameter the data asks for (planted data sets)."""

import numpy as np
import pytest

from recommendations.algorithms import get_engine
from recommendations.algorithms.dataset import Dataset
from recommendations.tuning import search_space, tune


def planted(kind: str, n_users: int = 240, n_items: int = 60, seed: int = 0) -> Dataset:
    """``pairs``: items come in tied pairs (2j, 2j+1) beside a few items everyone has, so the
    partner of what a shopper holds is the answer and a small ridge (EASE's partial
    correlations) finds it. ``noisy``: twelve independent draws from a Zipf popularity curve:
    nothing to learn but popularity, so a large ridge (close to co-occurrence counts) is best."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        if kind == "pairs":
            chosen = set(range(int(rng.integers(2, 5))))
            for p in rng.choice(n_items // 2 - 5, size=4, replace=False) + 5:
                chosen |= {2 * int(p), 2 * int(p) + 1}
        else:
            weight = 1.0 / np.arange(1, n_items + 1)
            chosen = set(rng.choice(n_items, size=12, replace=False, p=weight / weight.sum()).tolist())
        users += [u] * len(chosen)
        items += sorted(chosen)
    n = len(users)
    return Dataset(user_ids=np.arange(n_users), item_ids=np.arange(n_items), user=np.array(users),
                   item=np.array(items), kind=np.full(n, 3), value=np.ones(n), timestamp=np.arange(n, dtype=float))


def test_self_tuning_picks_a_different_lambda_where_the_best_one_differs():
    make = lambda p: get_engine("item_cf", **p)  # noqa: E731
    sharp = tune("item_cf", planted("pairs"), {}, make, budget_seconds=600, folds=1)
    flat = tune("item_cf", planted("noisy"), {}, make, budget_seconds=600, folds=1)
    assert sharp.parameter == flat.parameter == "l2" and sharp.default == flat.default == 500.0
    assert sharp.chosen < 100 < 1000 <= flat.chosen
    for result in (sharp, flat):  # the chosen value is the best trial, and it beat the default
        best = max(result.trials, key=lambda t: t["ndcg@10"])
        assert best["value"] == result.chosen and result.trials[0]["value"] == 500.0
        assert best["ndcg@10"] > result.trials[0]["ndcg@10"]


def test_tuning_starts_from_the_configured_value_and_keeps_to_the_budget():
    make = lambda p: get_engine("item_cf", **p)  # noqa: E731
    # a budget smaller than one trial: the configured value is scored, nothing else is tried
    result = tune("item_cf", planted("pairs"), {"l2": 200.0}, make, budget_seconds=1e-6, folds=1)
    assert result.default == result.chosen == 200.0 and len(result.trials) == 1
    assert result.stopped == "budget"


def test_nothing_is_tuned_without_a_search_space_or_enough_shoppers():
    assert search_space("item_cf", {"method": "cosine"}) is None and search_space("popular", {}) is None
    assert search_space("item_cf", {"method": "adjacency"})[0] == "l2"  # EASE over a windowed Gram
    small = tune("item_cf", planted("pairs", n_users=50), {}, lambda p: get_engine("item_cf", **p))
    assert small.chosen == 500.0 and small.trials == [] and "fewer than 100 shoppers" in small.stopped


@pytest.mark.parametrize("engine", ["user_cf", "als"])
def test_every_tuned_parameter_is_a_constructor_argument(engine):
    name, grid = search_space(engine, {})
    model = get_engine(engine, **{name: grid[0]})
    assert getattr(model, name) == grid[0]


def test_temporal_folds_validate_on_later_windows_than_they_fit_on():
    """``validation="temporal"`` (what ``recommendations_evaluate --tune`` uses on the temporal
    protocol): each fold fits on the past only and validates on the window after it."""
    from recommendations.tuning import validation_folds

    ds = planted("pairs")  # timestamps 0..n-1 in the order shoppers are listed
    folds = validation_folds(ds, folds=2, validation="temporal")
    assert len(folds) == 2
    windows = []
    for fit, val in folds:
        assert val.any() and ds.timestamp[fit].max() < ds.timestamp[val].min()
        windows.append((ds.timestamp[val].min(), ds.timestamp[val].max()))
    assert windows[1][1] < windows[0][0]  # the second fold's window lies before the first's
