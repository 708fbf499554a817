"""hybrid at scale: chunked ALS sweeps and validation folds on a sample of shoppers (issue #3)."""

import numpy as np
import scipy.sparse as sp
from engine_fixtures import two_groups

from recommendations.algorithms import get_engine
from recommendations.algorithms.hybrid import _cg_sweep, _pair_dots


def reference_sweep(conf, other, current, reg, steps):
    """The half-sweep written out with whole nnz x factors arrays (before the chunking)."""
    coo = conf.tocoo()
    rows, cols, c = coo.row, coo.col, coo.data.astype(np.float64)
    gram = other.T @ other + reg * np.eye(other.shape[1])

    def matvec(x):
        s = np.einsum("ij,ij->i", x[rows], other[cols]) * c
        return x @ gram + sp.csr_matrix((s, (rows, cols)), shape=conf.shape) @ other

    b = sp.csr_matrix((1.0 + c, (rows, cols)), shape=conf.shape) @ other
    x = current.copy()
    r = b - matvec(x)
    p = r.copy()
    rs = np.einsum("ij,ij->i", r, r)
    for _ in range(steps):
        ap = matvec(p)
        denom = np.einsum("ij,ij->i", p, ap)
        a = np.where(denom > 0, rs / np.maximum(denom, 1e-30), 0.0)
        x += a[:, None] * p
        r -= a[:, None] * ap
        rs_new = np.einsum("ij,ij->i", r, r)
        beta = np.where(rs > 0, rs_new / np.maximum(rs, 1e-30), 0.0)
        p = r + beta[:, None] * p
        rs = rs_new
    x[np.diff(conf.tocsr().indptr) == 0] = 0.0
    return x


def test_chunked_sweep_equals_the_whole_array_one():
    rng = np.random.default_rng(0)
    conf = sp.random(300, 120, density=0.05, random_state=2, format="csr") * 15.0
    conf.data[:] = 15.0
    other = rng.normal(0, 0.1, (120, 8))
    current = rng.normal(0, 0.1, (300, 8))
    rows, cols = conf.nonzero()
    np.testing.assert_allclose(_pair_dots(current, rows, other, cols, chunk=7),
                               np.einsum("ij,ij->i", current[rows], other[cols]), rtol=1e-12)
    got = _cg_sweep(conf, other, current, 2.0, 3)
    np.testing.assert_allclose(got, reference_sweep(conf, other, current, 2.0, 3), rtol=1e-10, atol=1e-12)
    assert not np.any(got[np.diff(conf.indptr) == 0])  # shoppers without interactions: 0
    # unsorted indices are sorted on a copy: the same result, the caller's matrix left alone
    unsorted = sp.csr_matrix((np.array([15.0, 15.0, 15.0]), np.array([4, 3, 5]), np.r_[0, 2, np.full(299, 3)]),
                             shape=(300, 120))
    assert not unsorted.has_sorted_indices
    np.testing.assert_allclose(_cg_sweep(unsorted, other, current, 2.0, 3),
                               reference_sweep(unsorted, other, current, 2.0, 3), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(unsorted.indices, [4, 3, 5])


HYBRID = {"components": {"item_cf": {}, "als": {"factors": 8, "reg": 1.0, "iterations": 6}, "user_cf": {}}}


def test_validation_sample_keeps_whole_shoppers_under_the_cap():
    ds = two_groups(n_users=80, per_user=10)  # 800 events
    model = get_engine("hybrid", **HYBRID, validation_max_events=None)
    assert model._validation_sample(ds, 1) is ds
    model.validation_max_events = 800
    assert model._validation_sample(ds, 1) is ds
    model.validation_max_events = 300
    part = model._validation_sample(ds, 1)
    assert 0 < part.n_events <= 300 and part.n_users == ds.n_users and part.n_items == ds.n_items
    users = np.unique(part.user)
    # every event of a chosen shopper, none of the others
    assert part.n_events == int(np.isin(ds.user, users).sum())
    np.testing.assert_array_equal(np.unique(model._validation_sample(ds, 1).user), users)  # seeded
    assert not np.array_equal(np.unique(model._validation_sample(ds, 2).user), users)


def test_hybrid_tuned_on_a_sample_still_stays_in_group():
    ds = two_groups(n_users=80, per_user=10)
    full = get_engine("hybrid", **HYBRID).fit(ds)
    sampled = get_engine("hybrid", **HYBRID, validation_max_events=400).fit(ds)
    assert sampled.validation_["users"] < full.validation_["users"]  # fewer shoppers validated
    assert abs(sampled.weights_.sum() - 1.0) < 1e-9
    for user in (0, 70):
        items, _ = sampled.recommend(user, n=5)
        assert all((i < 20) == (user < 40) for i in items)
    assert sampled.get_params()["validation_max_events"] == 400
