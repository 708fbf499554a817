"""The hybrid's ``temporal`` validation: time-window folds that give a recency component
(``trending``) the weight it earns, and none where recency says nothing."""

import numpy as np
import pytest

from recommendations.algorithms.dataset import Dataset
from recommendations.algorithms.hybrid import HybridRecommender
from recommendations.evaluation import temporal_split

DAY = 86400.0
COMPONENTS = {"item_cf": {"l2": 10.0}, "popular": {}, "trending": {"half_life_days": 3.0}}


def shop(fashion: bool, n_users: int = 300, n_items: int = 120, days: int = 100, seed: int = 0) -> Dataset:
    """Shoppers active over the whole span, 30 events each at random times.

    ``fashion``: what anyone buys is one of the items launched in the last week (item i is
    launched on day ``i * days / n_items``): taste says nothing, recency everything. Otherwise
    each shopper keeps to one of four groups of items whatever the date: taste is everything
    and the date says nothing.
    """
    rng = np.random.default_rng(seed)
    launch = np.arange(n_items) * days / n_items
    users, items, times = [], [], []
    for u in range(n_users):
        group = u % 4
        for t in np.sort(rng.uniform(7, days, 30)):
            if fashion:
                new = np.flatnonzero((launch <= t) & (launch > t - 7))
                i = rng.choice(new)
            else:
                i = group + 4 * rng.integers(n_items // 4)
            users.append(u)
            items.append(int(i))
            times.append(t * DAY)
    n = len(users)
    return Dataset(user_ids=np.arange(n_users), item_ids=np.arange(n_items), user=np.array(users),
                   item=np.array(items), kind=np.full(n, 3), value=np.ones(n), timestamp=np.array(times))


def weights(model: HybridRecommender) -> dict[str, float]:
    return dict(zip(model.names, model.weights_.round(3).tolist()))


def test_temporal_validation_weighs_trending_where_recency_is_what_matters():
    model = HybridRecommender(components=COMPONENTS, validation="temporal").fit(shop(fashion=True))
    w = weights(model)
    assert w["trending"] >= 0.5, w
    assert model.validation_["single"]["trending"] > model.validation_["single"]["popular"]


def test_temporal_validation_leaves_trending_out_where_taste_is_what_matters():
    model = HybridRecommender(components=COMPONENTS, validation="temporal").fit(shop(fashion=False))
    w = weights(model)
    assert w["trending"] <= 0.1 < w["item_cf"], w


def test_random_validation_has_no_trending_component():
    """A random hold-out scatters what it holds out over the whole time span: it cannot value
    recency, so the component is left out (and the default hybrid is the one it was)."""
    model = HybridRecommender(components=COMPONENTS).fit(shop(fashion=True))
    assert "trending" not in model.names
    assert "trending" in HybridRecommender(validation="temporal").names  # a default component


def test_temporal_folds_never_fit_on_their_own_future():
    ds = shop(fashion=True, n_users=40)
    end, span = ds.timestamp.max(), np.ptp(ds.timestamp)
    for fold in range(4):
        fit, val = temporal_split(ds, 0.1, before=fold * 0.1)
        assert ds.timestamp[fit].max() < end - (fold + 1) * 0.1 * span <= ds.timestamp[val].min()
        assert ds.timestamp[val].max() < end - fold * 0.1 * span or fold == 0
        assert not (fit & val).any()


def test_unknown_validation_is_refused():
    with pytest.raises(ValueError, match="temporal"):
        HybridRecommender(validation="future")
