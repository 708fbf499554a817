"""Metric functions against hand-computed examples, and the split protocols."""

import math

import numpy as np
import pytest
from engine_fixtures import two_groups

from recommendations.evaluation import (
    average_precision_at_k,
    coverage,
    f1_score,
    hit_rate_at_k,
    mae,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    rmse,
    split_topn,
    summarise_topn,
)

RECS = [7, 3, 9, 1, 5]  # hits at ranks 2 and 4 for RELEVANT
RELEVANT = {3, 1, 8}


def test_precision_recall_hit():
    assert precision_at_k(RECS, RELEVANT, 5) == pytest.approx(2 / 5)
    assert precision_at_k(RECS, RELEVANT, 2) == pytest.approx(1 / 2)
    assert recall_at_k(RECS, RELEVANT, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RECS, RELEVANT, 1) == 0.0
    assert hit_rate_at_k(RECS, RELEVANT, 1) == 0.0
    assert hit_rate_at_k(RECS, RELEVANT, 2) == 1.0
    # precision divides by k even when the list is shorter
    assert precision_at_k([3], RELEVANT, 10) == pytest.approx(0.1)


def test_ndcg_hand_computed():
    # DCG = 1/log2(3) + 1/log2(5); IDCG (3 relevant, k=5) = 1 + 1/log2(3) + 1/2
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(RECS, RELEVANT, 5) == pytest.approx(dcg / idcg)
    assert ndcg_at_k([3, 1, 8], RELEVANT, 3) == pytest.approx(1.0)
    # IDCG is capped at k: two relevant, k=1, hit at rank 1 -> 1
    assert ndcg_at_k([1], {1, 2}, 1) == pytest.approx(1.0)
    assert ndcg_at_k([], RELEVANT, 5) == 0.0


def test_average_precision_hand_computed():
    # hits at ranks 2 and 4: (1/2 + 2/4) / min(3, 5)
    assert average_precision_at_k(RECS, RELEVANT, 5) == pytest.approx((0.5 + 0.5) / 3)
    # k=2: one hit at rank 2 -> (1/2) / min(3, 2)
    assert average_precision_at_k(RECS, RELEVANT, 2) == pytest.approx(0.25)
    assert average_precision_at_k([3, 1, 8], RELEVANT, 3) == pytest.approx(1.0)


def test_f1_coverage_errors():
    assert f1_score(0.5, 0.25) == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert f1_score(0.0, 0.0) == 0.0
    assert coverage([[1, 2], [2, 3]], 10) == pytest.approx(0.3)
    assert rmse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 4.0, 3.0])) == pytest.approx(math.sqrt(4 / 3))
    assert mae(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 3.0])) == pytest.approx(1.0)


def test_summarise_topn_means_over_users():
    lists = {0: [1, 2], 1: [5, 6]}
    relevant = {0: {1}, 1: {9, 10}}
    out = summarise_topn(lists, relevant, n_items=10, k=2)
    assert out["precision@2"] == pytest.approx((0.5 + 0.0) / 2)
    assert out["recall@2"] == pytest.approx(0.5)
    assert out["hit_rate@2"] == pytest.approx(0.5)
    assert out["ndcg@2"] == pytest.approx(0.5)
    assert out["coverage@2"] == pytest.approx(0.4)
    assert out["f1@2"] == pytest.approx(f1_score(0.25, 0.5))
    assert out["users"] == 2


def test_split_topn_holds_out_twenty_percent_of_pairs():
    ds = two_groups(n_users=40, per_user=10)
    train, test = split_topn(ds, seed=42)
    assert not (train & test).any() and (train | test).all()
    per_user = np.bincount(ds.user[test], minlength=ds.n_users)
    assert (per_user == 2).all()  # 20% of 10 distinct items
    again = split_topn(ds, seed=42)[1]
    assert (again == test).all()
    # a user with fewer than 5 distinct items keeps everything in train
    ds_small = two_groups(n_users=10, per_user=4)
    assert not split_topn(ds_small)[1].any()


def test_split_keeps_all_events_of_a_pair_together():
    ds = two_groups(n_users=20, per_user=10)
    dup = np.concatenate([np.arange(ds.n_events), np.arange(0, ds.n_events, 3)])
    ds2 = type(ds)(ds.user_ids, ds.item_ids, ds.user[dup], ds.item[dup], ds.kind[dup], ds.value[dup],
                   ds.timestamp[dup])
    train, test = split_topn(ds2)
    key = ds2.user.astype(np.int64) * ds2.n_items + ds2.item
    assert not np.intersect1d(key[train], key[test]).size


def test_paired_bootstrap_interval_separates_a_steady_gain_from_a_lucky_one():
    from recommendations.evaluation import paired_bootstrap

    rng = np.random.default_rng(1)
    base = rng.random(500)
    gain, low, high = paired_bootstrap(base + 0.05 + rng.normal(0, 0.01, 500), base)
    assert gain == pytest.approx(0.05, abs=0.002) and 0.04 < low < gain < high < 0.06
    # the same mean gain from 2 shoppers of 500: the interval reaches 0
    lucky = base.copy()
    lucky[:2] += 12.5
    gain, low, high = paired_bootstrap(lucky, base)
    assert gain == pytest.approx(0.05) and low <= 0.0 < high
    assert paired_bootstrap([], []) == (0.0, 0.0, 0.0)


def test_a_failed_baseline_leaves_the_other_rows_and_an_unknown_one_fails_before_any_fit():
    from recommendations.algorithms import get_engine
    from recommendations.evaluation import evaluate_topn

    def broken():
        raise RuntimeError("no model")

    ds = two_groups()
    rows = evaluate_topn(ds, {"broken": broken, "item_cf": lambda: get_engine("item_cf")}, progress=False,
                         on_error="record", beyond_accuracy=False, baseline="broken")
    assert rows[0]["error"] == "RuntimeError: no model"
    assert rows[1]["ndcg@10"] > 0 and "ndcg@10_gain" not in rows[1]

    fitted = []

    def spy():
        fitted.append(True)
        return get_engine("popular")

    with pytest.raises(ValueError, match="baseline 'user_cf' is not among"):
        evaluate_topn(ds, {"popular": spy}, progress=False, baseline="user_cf")
    assert not fitted
