"""rating (explicit prediction) and hybrid (blend + cold start)."""

import numpy as np
import pytest
from engine_fixtures import group_of_item, latent_ratings, two_groups

from recommendations.algorithms import get_engine, load_model
from recommendations.algorithms.dataset import Dataset
from recommendations.algorithms.hybrid import normalise_scores
from recommendations.evaluation import evaluate_rating, evaluate_topn


@pytest.fixture(scope="module")
def ratings_ds():
    return Dataset.from_frames(latent_ratings())


def test_rating_beats_the_global_mean_and_round_trips(ratings_ds, tmp_path):
    params = {"factors": 4, "mf_iters": 8}
    [row] = evaluate_rating(ratings_ds, {"rating": lambda: get_engine("rating", **params)}, folds=3,
                            progress=False)
    r = ratings_ds.ratings.tocoo()
    assert row["rmse"] < 0.8 * np.std(r.data)
    assert row["mae"] < row["rmse"]
    model = get_engine("rating", **params).fit(ratings_ds)
    pred = model.predict(0, np.arange(10))
    assert pred.shape == (10,) and np.all((pred >= 1) & (pred <= 5))
    path = tmp_path / "rating.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(0, np.arange(10)), pred)
    items, scores = model.recommend(0, n=5)
    assert not set(items) & set(ratings_ds.ratings[0].indices)
    assert np.all(np.diff(scores) <= 1e-9)
    # unknown user: the item-bias baseline
    np.testing.assert_allclose(model.predict(None, [1, 2]), np.clip(model.mu_ + model.bi_[[1, 2]], 1, 5))


def test_rating_knows_who_likes_what():
    # users 0-19 rate items 0-9 high and 10-19 low; users 20-39 the opposite
    rows = []
    rng = np.random.default_rng(0)
    for u in range(40):
        for i in rng.choice(20, 14, replace=False):
            like = (u < 20) == (i < 10)
            rows.append((u, int(i), "rating", 0.0, 5.0 if like else 1.0))
    import pandas as pd

    ds = Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "product_id", "event", "timestamp", "value"]))
    model = get_engine("rating", factors=2, mf_iters=5).fit(ds)
    unrated_a = np.setdiff1d(np.arange(20), ds.ratings[0].indices)
    pred = model.predict(0, unrated_a)
    for i, p in zip(unrated_a, pred):
        assert (p > 3) == (i < 10), (i, p)


def test_normalisation():
    s = np.array([[1.0, 2.0, 3.0, -np.inf]])
    cand = np.array([[True, True, True, False]])
    z = normalise_scores(s, cand, "zscore")[0]
    assert z[:3] == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-4) and z[3] == 0
    assert normalise_scores(s, cand, "minmax")[0][:3] == pytest.approx([0, 0.5, 1])
    assert normalise_scores(s, cand, "rank")[0][:3] == pytest.approx([1 / 3, 2 / 3, 1])


HYBRID = {"components": {"item_cf": {}, "als": {"factors": 8, "reg": 1.0, "iterations": 6}, "user_cf": {}}}


def test_hybrid_stays_in_group_folds_in_and_round_trips(tmp_path):
    ds = two_groups()
    model = get_engine("hybrid", **HYBRID).fit(ds)
    assert model.weights_.sum() == pytest.approx(1.0)
    for user in (0, 45):
        items, _ = model.recommend(user, n=5)
        assert all(group_of_item(i) == (0 if user < 30 else 1) for i in items)
    items, _ = model.recommend(None, history={22: 1.0, 23: 1.0}, n=5)
    assert all(group_of_item(i) == 1 for i in items) and not {22, 23} & set(items)
    banned = model.recommend(0, n=3)[0]
    assert not set(model.recommend(0, n=5, exclude=banned)[0]) & set(banned)
    path = tmp_path / "hybrid.npz"
    model.save(path)
    loaded = load_model(path)
    for user in (0, 33):
        a, sa = model.recommend(user, n=6)
        b, sb = loaded.recommend(user, n=6)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(sa, sb, rtol=1e-5)
    np.testing.assert_array_equal(model.similar_items(4, 5)[0], loaded.similar_items(4, 5)[0])


def test_new_shopper_gets_trending():
    ds = two_groups()
    model = get_engine("hybrid", **HYBRID, tune=False).fit(ds)
    trending = get_engine("trending").fit(ds)
    np.testing.assert_array_equal(model.recommend(None, n=5)[0], trending.recommend(None, n=5)[0])
    np.testing.assert_array_equal(model.recommend(None, history={}, n=5)[0], trending.recommend(None, n=5)[0])


def test_hybrid_beats_popularity_on_generated_data():
    # popularity is global: with group A twice the size of group B it serves A's items to B
    ds = two_groups(n_users=80, per_user=12, seed=3)
    ds = ds.subset(~((ds.user >= 40) & (ds.user < 60)))
    engines = {"popular": lambda: get_engine("popular"), "hybrid": lambda: get_engine("hybrid", **HYBRID)}
    rows = {r["engine"]: r for r in evaluate_topn(ds, engines, progress=False)}
    assert rows["hybrid"]["ndcg@10"] > rows["popular"]["ndcg@10"] + 0.1


def test_hybrid_accepts_component_labels_and_fixed_weights():
    ds = two_groups()
    model = get_engine("hybrid", components={"item_cf": {}, "item_cf:cos": {"method": "cosine"}},
                       weights=[0.5, 0.5]).fit(ds)
    assert list(model.weights_) == [0.5, 0.5]
    assert len(model.recommend(1, n=4)[0]) == 4


def test_hybrid_scores_new_items_with_content_when_present():
    from recommendations.algorithms import engine_available

    if not engine_available("content"):
        pytest.skip("content engine not installed")
    ds = two_groups(features=True)
    # items 19 (group A) and 39 (group B) become brand new: drop their events
    ds = ds.subset(~np.isin(ds.item, [19, 39]))
    model = get_engine("hybrid", components={"item_cf": {}, "content": {}}, tune=False).fit(ds)
    assert "content" in model.names
    for user, new_item in ((0, 19), (45, 39)):
        cand = np.setdiff1d(np.arange(ds.n_items), [19, 39])
        items, _ = model.recommend(user, n=1, exclude=cand)  # rank the two new items only
        assert items[0] == new_item, (user, items)
    # without item features the content component is dropped, not fatal
    plain = get_engine("hybrid", components={"item_cf": {}, "content": {}}, tune=False).fit(two_groups())
    assert plain.names == ["item_cf"]
    assert len(plain.recommend(0, n=3)[0]) == 3


def test_short_history_blends_content():
    from recommendations.algorithms import engine_available

    if not engine_available("content"):
        pytest.skip("content engine not installed")
    ds = two_groups(features=True)
    model = get_engine("hybrid", components={"item_cf": {}, "content": {}}, weights=[1.0, 0.0],
                       short_history=5, short_history_content_weight=0.5).fit(ds)
    short = model.score_all(None, {1: 1.0})
    model.short_history_content_weight = 0.0
    assert not np.allclose(short, model.score_all(None, {1: 1.0}))
