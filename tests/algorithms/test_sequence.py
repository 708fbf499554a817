"""The ``sequence`` engine on small planted data (no Django). TensorFlow is needed to fit only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from recommendations.algorithms import get_engine, load_model  # noqa: E402
from recommendations.algorithms.base import NotFittedError  # noqa: E402
from recommendations.algorithms.dataset import VIEW, Dataset  # noqa: E402
from recommendations.algorithms.sequence import (  # noqa: E402
    SequenceRecommender,
    forward,
    keras_model,
    pad_left,
    user_sequences,
)

ROOT = Path(__file__).resolve().parents[2]
PAIRS = 6  # item 2k is always followed by item 2k + 1, never the other way round
N_ITEMS = 2 * PAIRS + 6  # and six filler items
PARAMS = {"dim": 32, "blocks": 1, "max_len": 12, "epochs": 40, "patience": 40, "dropout": 0.1,
          "learning_rate": 5e-3, "batch_size": 64, "max_seconds": None, "seed": 3}


def planted(n_users: int = 150, seed: int = 0) -> Dataset:
    """Shoppers who view 3 of the ordered pairs (first, then second), fillers in between."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        seq: list[int] = []
        for k in rng.choice(PAIRS, size=3, replace=False):
            seq += [2 * int(k), 2 * int(k) + 1, int(rng.integers(2 * PAIRS, N_ITEMS))]
        users += [u] * len(seq)
        items += seq
    n = len(users)
    return Dataset(user_ids=np.arange(n_users), item_ids=np.arange(N_ITEMS) + 100, user=np.array(users),
                   item=np.array(items), kind=np.full(n, VIEW), value=np.ones(n),
                   timestamp=np.arange(n, dtype=np.float64))


@pytest.fixture(scope="module")
def data() -> Dataset:
    return planted()


@pytest.fixture(scope="module")
def model(data) -> SequenceRecommender:
    return SequenceRecommender(**PARAMS).fit(data)


def test_learns_an_order_that_co_occurrence_cannot(model, data):
    cooccurrence = get_engine("item_cf").fit(data)
    for k in range(PAIRS):
        first, second = 2 * k, 2 * k + 1
        after_first = model.recommend(None, history={first: 1.0}, n=3)[0]
        assert after_first[0] == second, (k, after_first)
        after_second = model.recommend(None, history={second: 1.0}, n=3)[0]
        assert after_second[0] != first, (k, after_second)
        # co-occurrence is symmetric: it puts the pair's partner first in both directions
        assert cooccurrence.recommend(None, history={second: 1.0}, n=1)[0][0] == first
    # the order of a history is read: the same two items, in either order
    first_then_filler = model.recommend(None, history={0: 1.0, 12: 1.0}, n=1)[0]
    filler_then_first = model.recommend(None, history={12: 1.0, 0: 1.0}, n=1)[0]
    assert first_then_filler[0] != 1 and filler_then_first[0] == 1


def test_numpy_forward_pass_equals_the_keras_model():
    import tensorflow as tf

    tf.keras.utils.set_random_seed(7)
    for blocks, heads in ((1, 1), (2, 2)):
        net = keras_model(n_tokens=30, max_len=10, dim=16, blocks=blocks, heads=heads, dropout=0.3)
        for v in net.trainable_variables:  # away from the initial zeros / ones, so every weight counts
            v.assign(v + tf.random.normal(v.shape, stddev=0.1))
        rng = np.random.default_rng(1)
        tokens = pad_left([rng.integers(0, 29, size=n) for n in (0, 1, 4, 10, 15)], 10)
        expected = net(tf.constant(tokens), training=False).numpy()
        got = forward(net.weights_numpy(), tokens, heads)
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_fitted_models_numpy_scores_equal_keras_with_the_exported_weights(model, data):
    import tensorflow as tf

    net = keras_model(N_ITEMS + 1, PARAMS["max_len"], PARAMS["dim"], PARAMS["blocks"], 1, 0.0)
    for name, value in model.weights_.items():
        net.w[name].assign(value)
    seqs = [model.sequence_of(u) for u in range(5)]
    keras_scores = (net(tf.constant(pad_left(seqs, PARAMS["max_len"])))[:, -1].numpy()
                    @ model.weights_["item_emb"][1:].T + model.weights_["item_bias"])
    np.testing.assert_allclose(model.score_users(np.arange(5)), keras_scores, atol=1e-5)


def test_sequences_are_time_ordered_with_repeats_collapsed():
    ds = Dataset(user_ids=np.arange(2), item_ids=np.arange(4), user=np.array([0, 0, 0, 1, 0, 1]),
                 item=np.array([2, 1, 1, 3, 0, 0]), kind=np.full(6, VIEW), value=np.ones(6),
                 timestamp=np.array([5.0, 1.0, 2.0, 0.0, 9.0, 1.0]))
    indptr, items = user_sequences(ds)
    assert items[indptr[0]:indptr[1]].tolist() == [1, 2, 0]
    assert items[indptr[1]:indptr[2]].tolist() == [3, 0]


def test_save_load_round_trip_without_tensorflow(model, data, tmp_path):
    path = tmp_path / "sequence.npz"
    model.save(path)
    loaded = SequenceRecommender.load(path)
    assert loaded.get_params() == model.get_params()
    for u in range(20):
        a, b = model.recommend(u, n=5), loaded.recommend(u, n=5)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
    expected = model.recommend(None, history={4: 1.0}, n=5)[0].tolist()
    code = f"""
import json, sys
from recommendations.algorithms import load_model
m = load_model({str(path)!r})
items, _ = m.recommend(None, history={{4: 1.0}}, n=5)
m.recommend(3, n=5); m.similar_items(2); m.score_users([0, 1])
tf = any(k.split('.')[0] in ('tensorflow', 'keras') for k in sys.modules)
print(json.dumps({{"items": items.tolist(), "tf": tf}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"items": expected, "tf": False}
    assert load_model(path).name == "sequence"


def test_no_history_no_list_and_not_fitted(model):
    items, scores = model.recommend(None, history=None, n=5)
    assert len(items) == 0 and len(scores) == 0
    with pytest.raises(NotFittedError):
        SequenceRecommender().recommend(0)


def test_the_hybrid_weighs_it_on_next_item_validation_only(data):
    from recommendations.algorithms.hybrid import HybridRecommender, default_components

    assert "sequence" in default_components()  # TensorFlow is installed here
    components = {"item_cf": {}, "sequence": PARAMS}
    # a random hold-out cannot value the order: the sequence engine is left out of it, as of
    # small shops (450 events < sequence_min_events)
    assert HybridRecommender(components=components, sequence_min_events=0).fit(data).names == ["item_cf"]
    assert HybridRecommender(components=components, validation="next-item").fit(data).names == ["item_cf"]
    ordered = HybridRecommender(components=components, sequence_min_events=0, validation="next-item").fit(data)
    assert ordered.names == ["item_cf", "sequence"]
    single = ordered.validation_["single"]
    assert single["sequence"] > single["item_cf"]  # holding out each shopper's last item rewards the order
    assert ordered.weights_[1] > 0.5 and np.isclose(ordered.weights_.sum(), 1.0)
    assert ordered.recommend(None, history={0: 1.0}, n=1)[0][0] == 1


def test_the_sampled_softmax_of_large_catalogues_learns_the_order_too(data):
    sampled = SequenceRecommender(**{**PARAMS, "full_softmax_max_items": 5, "sampled_negatives": 8}).fit(data)
    assert sampled.history_["softmax"] == "sampled"
    hits = sum(sampled.recommend(None, history={2 * k: 1.0}, n=1)[0][0] == 2 * k + 1 for k in range(PAIRS))
    assert hits >= PAIRS - 1, hits
