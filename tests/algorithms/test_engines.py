"""popular, trending, item_cf, user_cf, als: planted structure, fold-in, exclusion, persistence."""

import numpy as np
import pytest
from engine_fixtures import group_of_item, two_groups

from recommendations.algorithms import ENGINES, get_engine, load_model
from recommendations.algorithms.base import NotFittedError
from recommendations.algorithms.dataset import Dataset

CF_ENGINES = [
    ("item_cf", {}),
    ("item_cf", {"method": "cosine", "neighbours": 20}),
    ("item_cf", {"method": "rp3", "neighbours": 20}),
    ("item_cf", {"l2": 10.0, "max_items": 25}),
    ("item_cf", {"method": "spectral", "components": 4}),
    ("item_cf", {"method": "adjacency", "window": 3, "l2": 5.0}),
    ("user_cf", {}),
    ("user_cf", {"similarity": "cosine", "weighting": "bm25", "k": 10, "shrink": 5.0}),
    ("user_cf", {"method": "kernel"}),
    ("user_cf", {"method": "kernel", "support_users": 20}),
    ("user_cf", {"method": "kernel", "kernel_norm_power": 0.0}),
    ("als", {"factors": 8, "reg": 1.0, "iterations": 8}),
]


@pytest.fixture(scope="module")
def groups():
    return two_groups()


@pytest.mark.parametrize("name,params", CF_ENGINES)
def test_recommendations_stay_inside_the_users_group(groups, name, params):
    model = get_engine(name, **params).fit(groups)
    for user in (0, 5, 40, 59):
        items, scores = model.recommend(user, n=5)
        assert len(items) == 5
        assert np.all(np.diff(scores) <= 1e-9), "best first"
        own = group_of_item(0) if user < 30 else group_of_item(39)
        assert all(group_of_item(i) == own for i in items), (user, items)
        assert not set(items) & set(groups.matrix[user].indices), "seen items are excluded"


@pytest.mark.parametrize("name,params", CF_ENGINES)
def test_history_fold_in_steers_a_new_shopper(groups, name, params):
    model = get_engine(name, **params).fit(groups)
    for history, group in (({1: 1.0, 2: 1.0, 4: 1.0}, 0), ({21: 1.0, 22: 1.0, 25: 1.0}, 1)):
        items, _ = model.recommend(None, history=history, n=5)
        assert len(items) == 5
        assert all(group_of_item(i) == group for i in items)
        assert not set(items) & set(history)


@pytest.mark.parametrize("name,params", CF_ENGINES + [("popular", {}), ("trending", {})])
def test_exclude_and_save_load_round_trip(groups, tmp_path, name, params):
    model = get_engine(name, **params).fit(groups)
    items, scores = model.recommend(3, n=8)
    banned = items[:3]
    again, _ = model.recommend(3, n=8, exclude=banned)
    assert not set(again) & set(banned)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    items2, scores2 = loaded.recommend(3, n=8)
    np.testing.assert_array_equal(items, items2)
    np.testing.assert_allclose(scores, scores2, rtol=1e-5)
    h = {1: 1.0, 7: 3.0}
    np.testing.assert_array_equal(model.recommend(None, history=h, n=6)[0], loaded.recommend(None, history=h, n=6)[0])
    np.testing.assert_array_equal(model.similar_items(2, n=4)[0], loaded.similar_items(2, n=4)[0])


def test_popular_counts_and_trending_decay():
    # item 0: 3 old events; item 1: 2 recent events
    day = 86400.0
    ds = Dataset(
        user_ids=np.arange(5), item_ids=np.array([10, 11, 12]),
        user=np.array([0, 1, 2, 3, 4]), item=np.array([0, 0, 0, 1, 1]), kind=np.full(5, 3),
        value=np.ones(5), timestamp=np.array([0, 0, 0, 100 * day, 100 * day]),
    )
    pop = get_engine("popular").fit(ds)
    items, scores = pop.recommend(None, n=3)
    assert list(items) == [0, 1], "never-touched item 2 is not recommended"
    trend = get_engine("trending", half_life_days=7).fit(ds)
    assert list(trend.recommend(None, n=2)[0]) == [1, 0]
    # history only excludes
    assert list(pop.recommend(None, history={0: 1.0}, n=3)[0]) == [1]
    assert list(pop.recommend(3, n=3)[0]) == [0]
    assert list(pop.recommend(3, n=3, exclude_seen=False)[0]) == [0, 1]


def test_popular_weights_event_kinds():
    ds = Dataset(
        user_ids=np.arange(3), item_ids=np.array([1, 2]), user=np.array([0, 1, 2]), item=np.array([0, 0, 1]),
        kind=np.array([1, 1, 3]), value=np.ones(3), timestamp=np.zeros(3),
    )  # two views (1 + 1) < one purchase (5)
    assert list(get_engine("popular").fit(ds).recommend(None, n=2)[0]) == [1, 0]


def test_also_bought_uses_co_purchases_and_falls_back():
    # baskets: {0,1} bought together by many; {0,2} viewed together by many
    users, items, kinds = [], [], []
    for u in range(20):
        users += [u, u]
        items += [0, 1]
        kinds += [3, 3]
    for u in range(20, 50):
        users += [u, u]
        items += [0, 2]
        kinds += [1, 1]
    n = len(users)
    ds = Dataset(np.arange(50), np.arange(4), np.array(users), np.array(items), np.array(kinds),
                 np.ones(n), np.arange(n, dtype=float))
    model = get_engine("item_cf", method="cosine", neighbours=10).fit(ds)
    got, _ = model.also_bought(0, n=2)
    assert got[0] == 1
    # no purchase data at all: falls back to similar_items
    views = two_groups(kind=1)
    m2 = get_engine("item_cf").fit(views)
    np.testing.assert_array_equal(m2.also_bought(3, n=5)[0], m2.similar_items(3, n=5)[0])


def test_similar_items_within_group(groups):
    for name, params in CF_ENGINES[:3] + [("als", {"factors": 8, "reg": 1.0})]:
        model = get_engine(name, **params).fit(groups)
        items, _ = model.similar_items(3, n=5)
        assert len(items) and 3 not in items
        assert all(group_of_item(i) == 0 for i in items), name


def test_registry_is_lazy_and_complete():

    for name in ("popular", "trending", "user_cf", "item_cf", "content", "deep", "hybrid", "rating"):
        assert name in ENGINES
    get_engine("item_cf")
    with pytest.raises(KeyError):
        get_engine("nope")
    with pytest.raises(NotFittedError):
        get_engine("item_cf").recommend(0)


def test_loading_a_model_does_not_import_tensorflow(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "m.npz"
    get_engine("item_cf").fit(two_groups()).save(path)
    code = (
        "import sys; from recommendations.algorithms import load_model; "
        f"m = load_model(r'{path}'); m.recommend(0); assert 'tensorflow' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
