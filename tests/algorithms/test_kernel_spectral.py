"""user_cf's kernel ridge method and item_cf's spectral filter: what makes them differ from the
neighbour and EASE variants, beyond the planted-structure checks shared in test_engines."""

import numpy as np
import pytest
from engine_fixtures import group_of_item, two_groups

from recommendations.algorithms import get_engine
from recommendations.algorithms.user_cf import ntk_kernel


@pytest.fixture(scope="module")
def groups():
    return two_groups()


def test_ntk_kernel_matches_its_closed_form_at_known_angles():
    # orthogonal unit vectors: arc-cosine part 1/(2 pi) * (sin 90 + 90 * 0) = 1/(2 pi), no dot term
    assert ntk_kernel(np.array([[0.0]]), np.array([1.0]), np.array([1.0]))[0, 0] == pytest.approx(1 / (2 * np.pi))
    # identical vectors of norm 2: (4 * (0 + pi) + 4 * pi) / (2 pi) = 4
    assert ntk_kernel(np.array([[4.0]]), np.array([2.0]), np.array([2.0]))[0, 0] == pytest.approx(4.0)
    # the kernel grows with the angle's cosine
    k = ntk_kernel(np.array([[0.0, 0.5, 1.0]]), np.array([1.0]), np.ones(3))
    assert k[0, 0] < k[0, 1] < k[0, 2]


def test_kernel_interpolates_its_support_users_as_the_penalty_vanishes(groups):
    exact = get_engine("user_cf", method="kernel", kernel_reg=1e-9).fit(groups)
    row = groups.matrix[7].toarray().ravel() > 0
    scores = exact.score_all(7)
    assert np.allclose(scores[row], 1.0, atol=1e-3)
    assert np.allclose(scores[~row], 0.0, atol=1e-3)
    # with the default penalty it generalises: unseen items of the user's group score above the
    # other group's
    scores = get_engine("user_cf", method="kernel").fit(groups).score_all(7)
    own = [i for i in np.flatnonzero(~row) if group_of_item(i) == group_of_item(0)]
    other = [i for i in range(groups.n_items) if group_of_item(i) != group_of_item(0)]
    assert scores[own].min() > scores[other].max()


def test_kernel_scores_a_known_user_like_the_same_history_folded_in(groups):
    model = get_engine("user_cf", method="kernel").fit(groups)
    row = groups.matrix[12]
    history = {int(i): 1.0 for i in row.indices}
    assert np.allclose(model.score_all(12), model.score_all(None, history=history), atol=1e-5)
    assert np.allclose(model.score_users(np.array([12, 45]))[0], model.score_all(12), atol=1e-5)


def test_kernel_sees_each_row_divided_by_its_norm_to_the_power(groups):
    """The fit and the scores equal kernel ridge on rows explicitly divided by norm ** 0.75."""
    model = get_engine("user_cf", method="kernel", kernel_norm_power=0.75).fit(groups)
    support = model.support_.toarray().astype(np.float64)

    def damped(rows):
        return rows / np.linalg.norm(rows, axis=1, keepdims=True) ** 0.75

    def kernel(a, b):
        return ntk_kernel(a @ b.T, np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))

    gram = kernel(damped(support), damped(support))
    gram[np.diag_indices_from(gram)] += model.kernel_reg * np.mean(np.diag(gram))
    assert np.allclose(model.coef_, np.linalg.solve(gram, support), atol=1e-4)
    profile = (groups.matrix[[7]].toarray() > 0).astype(np.float64)
    expected = kernel(damped(profile), damped(support)) @ np.linalg.solve(gram, support)
    assert np.allclose(model.score_all(7), expected.ravel(), atol=1e-4)
    # and it changes the model: raw rows give other coefficients
    raw = get_engine("user_cf", method="kernel", kernel_norm_power=0.0).fit(groups)
    assert not np.allclose(raw.coef_, model.coef_, atol=1e-4)


def test_kernel_saved_before_the_norm_power_existed_still_scores_on_raw_rows(groups):
    raw = get_engine("user_cf", method="kernel", kernel_norm_power=0.0).fit(groups)
    state = raw._state()
    del state["kernel_norm_power"]  # what an older release saved
    loaded = get_engine("user_cf", method="kernel")  # the new default power
    loaded._set_state(state)
    assert loaded.kernel_norm_power == 0.0
    assert np.allclose(loaded.score_all(7), raw.score_all(7))


def test_kernel_support_keeps_the_most_active_users():
    ds = two_groups(per_user=6)
    heavy = two_groups(n_users=4, per_user=15, seed=3)
    ds = type(ds)(
        user_ids=np.r_[ds.user_ids, heavy.user_ids + 10_000],
        item_ids=ds.item_ids,
        user=np.r_[ds.user, heavy.user + ds.n_users],
        item=np.r_[ds.item, heavy.item],
        kind=np.r_[ds.kind, heavy.kind],
        value=np.r_[ds.value, heavy.value],
        timestamp=np.r_[ds.timestamp, heavy.timestamp],
    )
    model = get_engine("user_cf", method="kernel", support_users=4).fit(ds)
    assert model.support_.shape == (4, ds.n_items)
    assert np.array_equal(model.support_.toarray(), ds.matrix[ds.n_users - 4:].toarray() > 0)


def test_spectral_keeps_only_the_strongest_components(groups):
    """Two disconnected groups are the normalised graph's two strongest components (singular
    value 1 each): two components link items inside each group and never across."""
    half = groups.n_items // 2
    weights = get_engine("item_cf", method="spectral", components=2, neighbours=None).fit(groups).weights_.toarray()
    assert np.abs(weights[:half, half:]).max() < 1e-5 and np.abs(weights[half:, :half]).max() < 1e-5
    assert np.abs(weights[:half, :half]).max() > 1e-2 and np.abs(weights[half:, half:]).max() > 1e-2


def test_spectral_with_one_item_learns_nothing_instead_of_failing():
    ds = two_groups(n_users=4, n_items=2, per_user=1)
    ds = ds.subset(ds.item == 0)
    model = get_engine("item_cf", method="spectral").fit(ds)
    assert model.weights_.nnz == 0


def _sequences(histories: list[list[int]], n_items: int):
    """One event per step: shopper u takes histories[u] in that order, an hour apart."""
    from recommendations.algorithms.dataset import Dataset

    users = [u for u, h in enumerate(histories) for _ in h]
    items = [i for h in histories for i in h]
    n = len(users)
    return Dataset(user_ids=np.arange(len(histories)), item_ids=np.arange(n_items),
                   user=np.array(users), item=np.array(items), kind=np.full(n, 3), value=np.ones(n),
                   timestamp=np.arange(n, dtype=float) * 3600.0)


def test_adjacency_counts_pairs_within_the_window_of_each_shoppers_time_order():
    from recommendations.algorithms.item_cf import adjacency_counts

    # shopper 0 takes 0, 1, 2, 0 (a repeat counts at its first place), 3; shopper 1 takes 3, 4
    ds = _sequences([[0, 1, 2, 0, 3], [3, 4]], 5)
    one = adjacency_counts(ds, 1).toarray()
    expected = np.zeros((5, 5))
    for a, b in ((0, 1), (1, 2), (2, 3), (3, 4)):
        expected[a, b] = expected[b, a] = 0.5  # 1 - distance / (window + 1)
    assert np.allclose(one, expected)
    two = adjacency_counts(ds, 2).toarray()
    assert np.isclose(two[0, 1], 2 / 3) and np.isclose(two[0, 2], 1 / 3) and np.isclose(two[1, 3], 1 / 3)
    assert two[0, 3] == 0 and two[2, 4] == 0
    assert np.array_equal(two, two.T) and not np.diag(two).any()


def test_adjacency_gram_stays_positive_definite(groups):
    """Items' counts on the diagonal: the weights are a (scaled) Gram matrix of windows."""
    from recommendations.algorithms.item_cf import adjacency_counts

    for window in (1, 3, 10):
        gram = adjacency_counts(groups, window).toarray()
        gram[np.diag_indices_from(gram)] = np.diff(groups.matrix.tocsc().indptr)
        assert np.linalg.eigvalsh(gram).min() > -1e-9


def test_adjacency_with_a_window_spanning_every_history_is_ease(groups):
    """Every pair of a shopper's items then counts (nearly) once, as in EASE's Gram matrix."""
    wide = get_engine("item_cf", method="adjacency", window=100_000, l2=5.0, neighbours=None).fit(groups)
    ease = get_engine("item_cf", l2=5.0, neighbours=None).fit(groups)
    assert np.allclose(wide.weights_.toarray(), ease.weights_.toarray(), atol=1e-3)
    narrow = get_engine("item_cf", method="adjacency", window=1, l2=5.0, neighbours=None).fit(groups)
    assert not np.allclose(narrow.weights_.toarray(), ease.weights_.toarray(), atol=1e-3)


def test_adjacency_links_items_taken_one_after_the_other():
    # every shopper takes 0 then 1, and later 2 then 3: 0's neighbour is 1, 2's is 3
    ds = _sequences([[0, 1, 2, 3] if u % 2 else [2, 3, 0, 1] for u in range(20)], 4)
    model = get_engine("item_cf", method="adjacency", window=1, l2=1.0).fit(ds)
    assert model.similar_items(0, n=1)[0][0] == 1
    assert model.similar_items(2, n=1)[0][0] == 3
    # plain EASE sees every pair co-occur equally often and cannot tell
    ease = get_engine("item_cf", l2=1.0, neighbours=None).fit(ds).weights_.toarray()
    assert np.isclose(ease[0, 1], ease[0, 2])
    with pytest.raises(ValueError, match="window"):
        get_engine("item_cf", method="adjacency", window=0)
