"""rating at scale: sparse, block-wise similarities and the user-neighbour cap (issue #3)."""

import numpy as np
import pytest
import scipy.sparse as sp
from engine_fixtures import latent_ratings

from recommendations.algorithms import get_engine, load_model
from recommendations.algorithms.dataset import Dataset
from recommendations.algorithms.rating import _pearson_baseline_pairs, _pearson_baseline_sims


def dense_reference(resid: sp.csr_matrix, shrink: float) -> np.ndarray:
    """Shrunk pearson-baseline similarity of every pair of columns, straight from the formula."""
    e = resid.toarray()
    m = (resid != 0).toarray().astype(float)
    num = e.T @ e
    a = (e * e).T @ m  # a[i, j]: sum over the common raters of e_ui^2
    b = m.T @ (e * e)
    n = m.T @ m
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(a * b > 0, num / np.sqrt(a * b), 0.0)
    sim *= np.maximum(n - 1, 0) / (np.maximum(n - 1, 0) + shrink)
    np.fill_diagonal(sim, 0.0)
    return sim


def residuals(n_rows: int = 70, n_cols: int = 50, density: float = 0.25, seed: int = 3) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    r = sp.random(n_rows, n_cols, density=density, random_state=seed, format="csr")
    r.data = rng.normal(0, 1, r.nnz)
    return r


@pytest.mark.parametrize("shape", [(70, 50), (50, 70)])
def test_sparse_similarities_equal_the_dense_formula(shape):
    resid = residuals(*shape)
    ref = dense_reference(resid, 10.0)
    sims = _pearson_baseline_sims(resid, 10.0)
    assert sims.dtype == np.float32 and sims.data.min() > 0  # positive entries only
    np.testing.assert_allclose(sims.toarray(), np.where(ref > 0, ref, 0.0).astype(np.float32), rtol=1e-6)
    # the sparse look-up path (forced) and tiny blocks give exactly the dense path's values
    dense_path = np.zeros_like(ref)
    for rows, cols, vals in _pearson_baseline_pairs(resid, 10.0):
        dense_path[rows, cols] = vals
    blocks = list(_pearson_baseline_pairs(resid, 10.0, max_entries=40, dense_above=2.0))
    assert len(blocks) > 5
    sparse_path = np.zeros_like(ref)
    for rows, cols, vals in blocks:
        assert not np.any(rows == cols)
        sparse_path[rows, cols] = vals
    np.testing.assert_array_equal(sparse_path, dense_path)
    np.testing.assert_allclose(dense_path, ref, rtol=1e-9, atol=1e-12)


def test_capped_neighbours_are_the_exact_top_k():
    resid = residuals(120, 60, density=0.3, seed=5)
    ref = dense_reference(resid, 5.0).astype(np.float32)
    k = 4
    capped = _pearson_baseline_sims(resid, 5.0, k)
    assert capped.nnz <= k * ref.shape[0]
    for j in range(ref.shape[0]):
        row = capped[j]
        positive = np.sort(ref[j][ref[j] > 0])[::-1][:k]
        np.testing.assert_allclose(np.sort(row.data)[::-1], positive, rtol=1e-6)
        # the kept neighbours are the most similar ones (ties aside)
        assert np.all(ref[j][row.indices] >= (positive[-1] if len(positive) else 0) - 1e-6)
    # a cap at least as large as the number of columns keeps everything
    full = _pearson_baseline_sims(resid, 5.0, ref.shape[0])
    np.testing.assert_array_equal(full.toarray(), _pearson_baseline_sims(resid, 5.0).toarray())


@pytest.fixture(scope="module")
def ratings_ds():
    return Dataset.from_frames(latent_ratings())


PARAMS = {"factors": 4, "mf_iters": 6}


def predictions(model, ds):
    return np.vstack([model.predict(u, np.arange(ds.n_items)) for u in range(ds.n_users)])


def test_user_cap_at_or_above_the_shoppers_changes_nothing(ratings_ds):
    uncapped = get_engine("rating", **PARAMS, user_neighbours=None).fit(ratings_ds)
    capped = get_engine("rating", **PARAMS, user_neighbours=ratings_ds.n_users).fit(ratings_ds)
    np.testing.assert_allclose(predictions(capped, ratings_ds), predictions(uncapped, ratings_ds), atol=1e-10)
    # a small cap bounds the stored neighbours and does change the user-KNN component
    small = get_engine("rating", **PARAMS, user_neighbours=3).fit(ratings_ds)
    assert np.diff(small.user_sims_.indptr).max() <= 3 < np.diff(uncapped.user_sims_.indptr).max()
    assert not np.allclose(predictions(small, ratings_ds), predictions(uncapped, ratings_ds))


def test_capped_model_round_trips_and_reads_dense_similarities(ratings_ds, tmp_path):
    model = get_engine("rating", **PARAMS, user_neighbours=10, item_neighbours=15).fit(ratings_ds)
    assert sp.issparse(model.sims_) and sp.issparse(model.user_sims_)
    assert np.diff(model.sims_.indptr).max() <= 15
    path = tmp_path / "rating.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(predictions(loaded, ratings_ds), predictions(model, ratings_ds))
    np.testing.assert_array_equal(loaded.recommend(3, n=8)[0], model.recommend(3, n=8)[0])
    np.testing.assert_array_equal(loaded.similar_items(2, 5)[0], model.similar_items(2, 5)[0])
    # a model saved when the similarities were dense matrices (negative entries included)
    state = model._state()
    rng = np.random.default_rng(0)
    for key in ("sims", "user_sims"):
        dense = state[key].toarray()
        dense[dense == 0] = -rng.random(int((dense == 0).sum()))  # negatives: ignored by the KNNs
        np.fill_diagonal(dense, 0.0)
        state[key] = dense
    old = get_engine("rating", **PARAMS)
    old._set_state(state)
    np.testing.assert_allclose(predictions(old, ratings_ds), predictions(model, ratings_ds), atol=1e-10)
