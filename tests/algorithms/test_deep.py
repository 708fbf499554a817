"""The ``deep`` engine on tiny generated data (no Django). TensorFlow is needed to fit only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("tensorflow")

from recommendations.algorithms.base import NotFittedError  # noqa: E402
from recommendations.algorithms.dataset import PURCHASE, VIEW, Dataset, ItemFeatures  # noqa: E402
from recommendations.algorithms.deep import DeepRecommender, _ease_prior, _sampled_nll, blend_cold_scores  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CATS = ["Shoes", "Books", "Garden"]
WORDS = {
    "Shoes": ["running", "sneaker", "leather", "boot", "sole"],
    "Books": ["novel", "paperback", "story", "author", "chapter"],
    "Garden": ["hose", "shovel", "seeds", "planter", "soil"],
}
N_PER_CAT = 20
COLD = np.array([c * N_PER_CAT + j for c in range(3) for j in range(17, 20)])  # never touched


def make_dataset(n_users: int = 60, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    names, descs, cats, brands, prices = [], [], [], [], []
    for c, cat in enumerate(CATS):
        for _ in range(N_PER_CAT):
            words = rng.choice(WORDS[cat], size=3, replace=False)
            names.append(f"{words[0]} {words[1]}")
            descs.append(f"a {words[2]} thing")
            cats.append(cat)
            brands.append(f"{cat}Co")
            prices.append(10.0 * (c + 1) + rng.random())
    feats = ItemFeatures(names, descs, cats, brands, np.array(prices))
    users, items, kinds = [], [], []
    for u in range(n_users):
        cat = u % 3
        pool = np.arange(cat * N_PER_CAT, (cat + 1) * N_PER_CAT - 3)
        # a popular head inside each category, so the id part has something to learn too
        p = np.linspace(2.0, 1.0, len(pool))
        for i in rng.choice(pool, size=7, replace=False, p=p / p.sum()):
            users.append(u)
            items.append(int(i))
            kinds.append(PURCHASE if rng.random() < 0.3 else VIEW)
    n = len(users)
    return Dataset(
        user_ids=np.arange(n_users),
        item_ids=np.arange(len(names)) + 500,
        user=np.array(users),
        item=np.array(items),
        kind=np.array(kinds),
        value=np.ones(n),
        timestamp=np.arange(n, dtype=np.float64),
        item_features=feats,
    )


PARAMS = dict(dim=16, epochs=40, batch_size=16, learning_rate=1e-2, patience=40, val_fraction=0.2, seed=3)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return make_dataset()


@pytest.fixture(scope="module")
def model(data) -> DeepRecommender:
    return DeepRecommender(**PARAMS).fit(data)


def category_of(item) -> int:
    return int(item) // N_PER_CAT


def test_planted_categories_are_recovered(model, data):
    hits = total = 0
    for u in range(data.n_users):
        items, scores = model.recommend(u, n=5)
        assert len(items) == 5 and np.all(np.diff(scores) <= 1e-6)
        assert not set(items.tolist()) & set(data.matrix[u].indices.tolist())
        hits += sum(category_of(i) == u % 3 for i in items)
        total += len(items)
    assert hits / total > 0.9
    assert model.history_["epochs_run"] >= 1 and model.history_["fit_seconds"] > 0


def test_new_products_get_feature_embeddings(model, data):
    # items nobody touched: their serving embedding is the feature-only one
    np.testing.assert_allclose(model.item_out_[COLD], model.cold_out_[COLD])
    assert not model.seen_[COLD].any() and np.linalg.norm(model.item_out_[COLD], axis=1).min() > 0
    # a shoes shopper: new shoes rank above new books and garden tools
    hist = {0: 1.0, 1: 1.0, 2: 3.0}
    s = model.cold_start_scores(hist, COLD)
    assert s[:3].min() > s[3:].max()
    # a new product's nearest neighbours are products of its category
    items, _ = model.similar_items(int(COLD[-1]), n=5)
    assert sum(category_of(i) == 2 for i in items) >= 4
    b = blend_cold_scores([s, -s])
    np.testing.assert_allclose(b, 0.0, atol=1e-9)


def test_history_fold_in(model, data):
    row = data.matrix[7]
    hist = dict(zip(row.indices.tolist(), row.data.tolist()))
    a, b = model.recommend(7, n=10), model.recommend(history=hist, n=10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-5)
    # a brand-new shopper with two garden views (one of them a never-touched product)
    items, _ = model.recommend(history={45: 1.0, int(COLD[-1]): 1.0}, n=5)
    assert sum(category_of(i) == 2 for i in items) >= 4
    assert len(model.recommend(history={}, n=5)[0]) == 5


def test_save_load_round_trip_and_no_tensorflow_at_serving(model, data, tmp_path):
    path = tmp_path / "deep.npz"
    model.save(path)
    loaded = DeepRecommender.load(path)
    for u in range(data.n_users):
        a, b = model.recommend(u, n=10), loaded.recommend(u, n=10)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
    expected = model.recommend(3, n=10)[0].tolist()
    code = f"""
import json, sys
from recommendations.algorithms.deep import DeepRecommender
from recommendations.algorithms import load_model
m = DeepRecommender.load({str(path)!r})
items, _ = m.recommend(3, n=10)
m.recommend(history={{1: 1.0}}, n=5); m.cold_start_scores({{1: 1.0}}, [57, 58]); m.similar_items(2)
load_model({str(path)!r}).recommend(3, n=10)
tf = any(k.split('.')[0] in ('tensorflow', 'keras') for k in sys.modules)
print(json.dumps({{"items": items.tolist(), "tf": tf}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["tf"] is False
    assert res["items"] == expected


def test_same_seed_same_top10(model, data):
    again = DeepRecommender(**PARAMS).fit(data)
    for u in (0, 1, 2, 10):
        np.testing.assert_array_equal(model.recommend(u, n=10)[0], again.recommend(u, n=10)[0])


def test_not_fitted():
    with pytest.raises(NotFittedError):
        DeepRecommender().recommend(0)


def test_small_data_without_validation_ensemble_and_refit():
    ds = make_dataset(n_users=12)  # too few users for a validation split: trains on the loss
    quick = dict(dim=8, epochs=3, batch_size=8, seed=1)
    single = DeepRecommender(val_fraction=0.0, **quick).fit(ds)
    assert single.history_["members"] == 1 and single.item_in_.shape == (ds.n_items, 8)
    pair = DeepRecommender(n_models=2, **quick).fit(ds)
    assert pair.item_in_.shape == (ds.n_items, 16) and pair.history_["members"] == 2
    assert len(pair.recommend(0, n=5)[0]) == 5
    refit = DeepRecommender(refit=True, val_fraction=0.5, **quick).fit(make_dataset(n_users=24))
    assert refit.history_["best_epoch"][0] >= 0 and len(refit.recommend(history={3: 1.0}, n=5)[0]) == 5


def test_params_round_trip():
    params = DeepRecommender(dim=12, activation="relu", n_models=2).get_params()
    assert params["dim"] == 12 and DeepRecommender(**params).get_params() == params
    json.dumps(params)


# -- large catalogues: sampled softmax, epochs scaled to the data, time budget ----------------
SAMPLED = dict(
    PARAMS, full_softmax_max_cells=1000, sampled_negatives=16, sampled_batch_size=16, sampled_learning_rate=1e-2
)


@pytest.fixture(scope="module")
def sampled_model(data) -> DeepRecommender:
    return DeepRecommender(**SAMPLED).fit(data)


def test_sampled_softmax_recovers_planted_categories(sampled_model, data):
    # the path every shop above ``full_softmax_max_cells`` takes (60 users x 60 products here)
    assert sampled_model.history_["softmax"] == "sampled"
    hits = total = 0
    for u in range(data.n_users):
        items, _ = sampled_model.recommend(u, n=5)
        assert not set(items.tolist()) & set(data.matrix[u].indices.tolist())
        hits += sum(category_of(i) == u % 3 for i in items)
        total += len(items)
    assert hits / total > 0.9
    # its feature tower is trained too: new shoes rank above new books and garden tools
    s = sampled_model.cold_start_scores({0: 1.0, 1: 1.0, 2: 3.0}, COLD)
    assert s[:3].min() > s[3:].max()
    # and it is served and saved like the full-softmax model
    np.testing.assert_allclose(sampled_model.item_out_[COLD], sampled_model.cold_out_[COLD])
    assert DeepRecommender(**PARAMS).fit(data).history_["softmax"] == "full"


def test_sampled_softmax_options_and_no_features(data):
    quick = dict(SAMPLED, epochs=2)
    options = {"feature_loss_weight": 0.5, "id_dropout": 0.2, "target_power": 1.0, "ema": 0.9}
    for extra in (options, {"use_features": False}):
        m = DeepRecommender(**quick, **extra).fit(data)
        assert m.history_["softmax"] == "sampled" and np.isfinite(m.item_out_).all()
        assert len(m.recommend(0, n=5)[0]) == 5


def test_epochs_and_patience_shrink_with_the_number_of_users(data):
    # 60 users for a model tuned on 20: a third of the epochs (each has three times the steps)
    m = DeepRecommender(**dict(PARAMS, epochs=30, patience=30, epoch_scale_users=20)).fit(data)
    assert m.history_["max_epochs"] == [10] and m.history_["epochs_run"] <= 10
    assert DeepRecommender(**dict(PARAMS, epochs=30, epoch_scale_users=None)).fit(data).history_["max_epochs"] == [30]


def test_time_budget_stops_and_keeps_a_usable_model(data):
    params = dict(SAMPLED, epochs=500, patience=500, max_seconds=1e-6)
    m = DeepRecommender(**params, n_models=3, refit=True).fit(data)
    # stopped after the first step, validated it, skipped the other members and the refit
    h = m.history_
    assert h["stopped_by_time"] and h["epochs_run"] == 1 and h["members"] == 1
    assert h["val_ndcg@10"] == max(h["curve"][0]) and h["best_epoch"] == [0]
    items, scores = m.recommend(4, n=5)
    assert len(items) == 5 and np.isfinite(scores).all()
    assert not set(items.tolist()) & set(data.matrix[4].indices.tolist())
    # a budget that is not reached changes nothing
    a = DeepRecommender(**dict(PARAMS, epochs=5, max_seconds=3600)).fit(data)
    b = DeepRecommender(**dict(PARAMS, epochs=5, max_seconds=None)).fit(data)
    assert not a.history_["stopped_by_time"] and a.history_["epochs_run"] == 5
    np.testing.assert_array_equal(a.recommend(0, n=10)[0], b.recommend(0, n=10)[0])


def test_sampled_loss_estimates_the_full_softmax_loss():
    rng = np.random.default_rng(0)
    n_users, n_items, d = 5, 40, 8
    u, out, bias = rng.normal(size=(n_users, d)), rng.normal(size=(n_items, d)), rng.normal(size=n_items)
    x = (rng.random((n_users, n_items)) < 0.2) * rng.integers(1, 5, (n_users, n_items)).astype(float)
    x[:, 0] = 1.0  # everyone has an item
    logits = u @ out.T + bias
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    exact = -(x * log_p).sum() / n_users
    rows, cols = x.nonzero()

    def loss(neg, neg_logq):
        return float(
            _sampled_nll(
                u,
                logits[rows, cols],
                out[neg],
                bias[neg],
                rows.astype(np.int32),
                x[rows, cols],
                neg_logq,
                x[:, neg] > 0,
            )
        )

    # every product a negative once (K q = 1): exactly the full softmax
    everything = np.arange(n_items)
    assert loss(everything, np.zeros(n_items)) == pytest.approx(exact, rel=1e-9)
    # many skewed (popularity-like) samples with the log-q correction: close to it; without, far off
    q = np.linspace(10.0, 1.0, n_items) ** 2
    q /= q.sum()
    neg = rng.choice(n_items, size=20_000, p=q)
    assert loss(neg, np.log(len(neg) * q[neg])) == pytest.approx(exact, rel=0.005)
    assert abs(loss(neg, np.full(len(neg), np.log(len(neg) / n_items))) - exact) > 0.03 * abs(exact)


# -- the wide term: a linear item-item model (EASE) under the same softmax --------------------
def test_ease_prior_solves_the_ease_equations(data):
    x = data.matrix.tocsr()[:, :15].astype(np.float32)
    b, scale = _ease_prior(x, 2.0)
    g = (x.T @ x).toarray().astype(np.float64)
    lhs = (g + 2.0 * np.eye(15)) @ b
    off = ~np.eye(15, dtype=bool)
    assert np.all(np.diag(b) == 0)
    np.testing.assert_allclose(lhs[off], g[off], atol=1e-4)  # EASE's normal equations off the diagonal
    assert 1.0 <= scale <= 300.0
WIDE = dict(PARAMS, wide_items=12, wide_lambda=1.0)


@pytest.fixture(scope="module")
def wide_model(data) -> DeepRecommender:
    # no validation users: EASE's scale is the one that fits the training rows best (> 0)
    return DeepRecommender(**dict(WIDE, val_fraction=0.0)).fit(data)


def test_wide_term_is_bounded_learnt_and_exported_exactly(wide_model, data, tmp_path):
    m = wide_model
    pop = np.diff(data.matrix.tocsc().indptr)
    # the 12 most popular products, a 12 x 12 matrix with a zero diagonal that has learnt something
    assert len(m.wide_items_) == 12 and pop[m.wide_items_].min() >= np.sort(pop)[-12]
    assert m.wide_.shape == (12, 12) and np.all(np.diag(m.wide_) == 0) and np.abs(m.wide_).max() > 1e-3
    # EASE's weights on all the training rows, at the scale that fits them best
    b, scale = _ease_prior(sp.csr_matrix(data.matrix.tocsr()[:, m.wide_items_] != 0, dtype=np.float32), 1.0)
    assert m.history_["wide_scale"] == [scale] and scale > 0
    np.testing.assert_allclose(m.wide_, b * scale, rtol=1e-5, atol=1e-6)
    # serving adds the wide term: scores equal the deep part plus x @ wide on the wide products
    row = data.matrix[5]
    deep_only = m.item_out_ @ m.user_vector(5) + m.item_bias_
    x = (row.toarray()[0] != 0).astype(float)  # the wide term reads the binary history
    expected = deep_only.copy()
    expected[m.wide_items_] += x[m.wide_items_] @ m.wide_
    np.testing.assert_allclose(m.score_items(None, user=5), expected, rtol=1e-5, atol=1e-6)
    hits = sum(category_of(i) == u % 3 for u in range(data.n_users) for i in m.recommend(u, n=5)[0])
    assert hits / (5 * data.n_users) > 0.9
    # saved and loaded like the rest of the model
    m.save(tmp_path / "wide.npz")
    loaded = DeepRecommender.load(tmp_path / "wide.npz")
    np.testing.assert_allclose(loaded.score_items({1: 1.0, 3: 1.0}), m.score_items({1: 1.0, 3: 1.0}), rtol=1e-6)


def test_wide_scale_is_chosen_on_validation(data):
    m = DeepRecommender(**WIDE).fit(data)
    h = m.history_
    # scale 0 (the network alone) is on the grid: the chosen one validates at least as well
    assert h["wide_scale"][0] >= 0 and h["val_ndcg@10_wide"][0] >= h["val_ndcg@10"] - 1e-9
    # the validated scale times EASE's weights on every training row (validation items included)
    b, _ = _ease_prior(sp.csr_matrix(data.matrix.tocsr()[:, m.wide_items_] != 0, dtype=np.float32), 1.0)
    np.testing.assert_allclose(m.wide_, b * h["wide_scale"][0], rtol=1e-5, atol=1e-6)


def test_export_gap_without_wide_term(model):
    assert model.history_["export_gap"] is not None and model.history_["export_gap"] < 1e-5


def test_jointly_trained_wide_term_is_exported_exactly(data):
    m = DeepRecommender(**dict(WIDE, epochs=10, wide_training="joint")).fit(data)
    # TensorFlow's logits (wide term included) equal the NumPy forward pass of the exported arrays
    assert m.history_["export_gap"] is not None and m.history_["export_gap"] < 1e-5
    assert m.wide_.shape == (12, 12) and np.all(np.diag(m.wide_) == 0) and np.abs(m.wide_).max() > 1e-3


def test_wide_term_in_sampled_softmax_and_ensembles(data):
    m = DeepRecommender(**dict(SAMPLED, wide_items=12, wide_lambda=1.0, wide_training="joint")).fit(data)
    assert m.history_["softmax"] == "sampled" and m.wide_.shape == (12, 12) and np.abs(m.wide_).max() > 1e-3
    hits = sum(category_of(i) == u % 3 for u in range(data.n_users) for i in m.recommend(u, n=5)[0])
    assert hits / (5 * data.n_users) > 0.9
    pair = DeepRecommender(**dict(WIDE, epochs=3, n_models=2)).fit(data)
    assert pair.wide_.shape == (12, 12) and len(pair.recommend(0, n=5)[0]) == 5


def test_model_saved_before_the_wide_term_still_loads(wide_model, tmp_path):
    wide_model.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz") as npz:
        old = {k: npz[k] for k in npz.files if k not in ("wide", "wide_items")}
    np.savez(tmp_path / "old.npz", **old)
    loaded = DeepRecommender.load(tmp_path / "old.npz")
    assert len(loaded.wide_items_) == 0
    deep_only = wide_model.item_out_ @ wide_model.user_vector(history={1: 1.0}) + wide_model.item_bias_
    np.testing.assert_allclose(loaded.score_items({1: 1.0}), deep_only, rtol=1e-6)
