"""The ``content`` engine on small generated data (no Django)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.algorithms.base import NotFittedError
from recommendations.algorithms.content import ContentRecommender, build_item_features
from recommendations.algorithms.dataset import PURCHASE, VIEW, Dataset, ItemFeatures

CATS = ["Shoes", "Books", "Garden"]
WORDS = {
    "Shoes": ["running", "sneaker", "leather", "boot", "sole"],
    "Books": ["novel", "paperback", "story", "author", "chapter"],
    "Garden": ["hose", "shovel", "seeds", "planter", "soil"],
}


def make_catalogue(n_per_cat: int = 20, seed: int = 0) -> ItemFeatures:
    rng = np.random.default_rng(seed)
    names, descs, cats, brands, prices = [], [], [], [], []
    for c, cat in enumerate(CATS):
        for j in range(n_per_cat):
            words = rng.choice(WORDS[cat], size=3, replace=False)
            names.append(f"{words[0]} {words[1]} {j}")
            descs.append(f"A {words[2]} for {cat.lower()} lovers")
            cats.append(cat)
            brands.append(f"{cat}Co" if j % 2 else f"Generic{j % 3}")
            prices.append(10.0 * (c + 1) + rng.random() * 5)
    return ItemFeatures(names, descs, cats, brands, np.array(prices))


def make_dataset(n_users: int = 30, n_per_cat: int = 20, seed: int = 0, last_cold: int = 3) -> Dataset:
    """Users each shop in one category; the last ``last_cold`` items of every category are never touched."""
    rng = np.random.default_rng(seed)
    feats = make_catalogue(n_per_cat, seed)
    users, items, kinds = [], [], []
    for u in range(n_users):
        cat = u % len(CATS)
        pool = np.arange(cat * n_per_cat, (cat + 1) * n_per_cat - last_cold)
        for i in rng.choice(pool, size=6, replace=False):
            users.append(u)
            items.append(int(i))
            kinds.append(PURCHASE if rng.random() < 0.3 else VIEW)
    n = len(users)
    return Dataset(
        user_ids=np.arange(n_users) + 100,
        item_ids=np.arange(len(feats)) + 1000,
        user=np.array(users),
        item=np.array(items),
        kind=np.array(kinds),
        value=np.ones(n),
        timestamp=np.arange(n, dtype=np.float64) * 3600,
        item_features=feats,
    )


def category_of(item: int, n_per_cat: int = 20) -> int:
    return item // n_per_cat


def test_feature_matrix_is_l2_normalised_and_blocks_weighted():
    feats = make_catalogue()
    m = build_item_features(feats)
    assert sp.issparse(m) and m.shape[0] == len(feats)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    # only the category block: items of one category are identical, across categories orthogonal
    cat_only = build_item_features(feats, text_weight=0, brand_weight=0, price_weight=0)
    sims = (cat_only @ cat_only.T).toarray()
    assert np.allclose(sims[0, :20], 1.0) and np.allclose(sims[0, 20:], 0.0)


def test_multi_valued_categories_and_unknown_prices():
    feats = ItemFeatures(
        name=["", "", "", ""],
        description=["", "", "", ""],
        category=["Comedy|Drama", "Drama", "", "Horror"],
        brand=["", "", "", ""],
        price=np.array([1.0, np.nan, 3.0, np.nan]),
    )
    m = build_item_features(feats, text_weight=0, brand_weight=0, price_weight=0).toarray()
    assert (m[0] > 0).sum() == 2 and m[0] @ m[1] > 0 and m[2].sum() == 0
    assert build_item_features(feats).shape[0] == 4  # empty text does not break it


def test_recommends_the_shoppers_category_including_untouched_items():
    ds = make_dataset()
    model = ContentRecommender().fit(ds)
    for u in range(9):
        items, scores = model.recommend(u, n=10)
        assert len(items) == 10 and np.all(np.diff(scores) <= 1e-9)
        assert all(category_of(i) == u % 3 for i in items), (u, items)
        assert not set(items) & set(ds.matrix[u].indices)  # seen items excluded
    # never-touched items (last 3 of each category) still get recommended to the right shoppers
    never = {c * 20 + j for c in range(3) for j in range(17, 20)}
    recommended = {int(i) for u in range(ds.n_users) for i in model.recommend(u, n=14)[0]}
    assert never & recommended


def test_history_fold_in_matches_known_user_and_handles_new_shopper():
    ds = make_dataset()
    model = ContentRecommender().fit(ds)
    row = ds.matrix[4]
    hist = dict(zip(row.indices.tolist(), row.data.tolist()))
    a = model.recommend(4, n=10)
    b = model.recommend(history=hist, n=10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
    # a brand-new shopper who looked at two garden items
    items, _ = model.recommend(history={45: 1.0, 46: 1.0}, n=5)
    assert all(category_of(i) == 2 for i in items) and not {45, 46} & set(items)
    # no history at all: still answers (all-zero profile), without crashing
    items, _ = model.recommend(history={}, n=5)
    assert len(items) == 5


def test_score_items_ranks_cold_candidates_by_features():
    ds = make_dataset()
    model = ContentRecommender().fit(ds)
    cold = np.array([17, 18, 19, 37, 38, 39, 57, 58, 59])  # nobody touched these
    hist = {0: 1.0, 1: 5.0}  # a shoes shopper
    scores = model.score_items(hist, cold)
    assert scores.shape == (9,)
    assert scores[:3].min() > scores[3:].max()
    np.testing.assert_allclose(model.cold_start_scores(hist, cold), scores)
    np.testing.assert_allclose(scores, model.score_items(hist)[cold])


def test_prior_favours_items_that_look_like_what_sells():
    ds = make_dataset()
    model = ContentRecommender(prior_weight=1.0).fit(ds)
    assert model.prior_.shape == (ds.n_items,) and np.isfinite(model.prior_).all()
    # items of the same category share the category feature: the prior is finite and ranks
    # all items; with an empty history the ranking is the prior's
    items, _ = model.recommend(history={}, n=5)
    np.testing.assert_array_equal(items, np.argsort(-model.prior_, kind="stable")[:5])


def test_similar_items_share_category():
    model = ContentRecommender().fit(make_dataset())
    items, sims = model.similar_items(25, n=5)
    assert 25 not in items and all(category_of(i) == 1 for i in items)
    assert np.all(sims <= 1.0 + 1e-6)


def test_time_decay_weights_recent_history_more():
    ds = make_dataset()
    # one shopper: old shoes purchases, a recent garden view
    day = 86400.0
    ds2 = Dataset(
        user_ids=np.array([1]),
        item_ids=ds.item_ids,
        user=np.zeros(3, int),
        item=np.array([0, 1, 40]),
        kind=np.array([PURCHASE, PURCHASE, VIEW]),
        value=np.ones(3),
        timestamp=np.array([0.0, 0.0, 400 * day]),
        item_features=ds.item_features,
        decay_half_life_days=30.0,
    )
    items, _ = ContentRecommender().fit(ds2).recommend(0, n=3)
    assert all(category_of(i) == 2 for i in items)
    ds2.decay_half_life_days = None
    ds2.__dict__.pop("matrix", None)
    items, _ = ContentRecommender().fit(ds2).recommend(0, n=3)
    assert all(category_of(i) == 0 for i in items)


def test_save_load_round_trip(tmp_path):
    ds = make_dataset()
    model = ContentRecommender(prior_weight=0.1, brand_weight=0.2).fit(ds)
    path = tmp_path / "content.npz"
    model.save(path)
    loaded = ContentRecommender.load(path)
    assert loaded.get_params() == model.get_params()
    for u in range(ds.n_users):
        a, b = model.recommend(u, n=10), loaded.recommend(u, n=10)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
    np.testing.assert_array_equal(model.similar_items(3)[0], loaded.similar_items(3)[0])


def test_deterministic_and_not_fitted():
    ds = make_dataset()
    a = ContentRecommender().fit(ds).recommend(2, n=10)[0]
    b = ContentRecommender().fit(ds).recommend(2, n=10)[0]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(NotFittedError):
        ContentRecommender().recommend(0)


def test_without_item_features():
    ds = make_dataset()
    ds.item_features = None
    items, _ = ContentRecommender().fit(ds).recommend(0, n=5)
    assert len(items) == 5


def test_serving_needs_no_scikit_learn(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "content.npz"
    ContentRecommender().fit(make_dataset()).save(path)
    code = f"""
import json, sys
from recommendations.algorithms.content import ContentRecommender
m = ContentRecommender.load({str(path)!r})
m.recommend(1, n=5); m.recommend(history={{2: 1.0}}, n=5); m.cold_start_scores({{2: 1.0}}, [17, 37]); m.similar_items(3)
print(json.dumps({{"sklearn": "sklearn" in sys.modules}}))
"""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"sklearn": False}
