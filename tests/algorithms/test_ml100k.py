"""Top-N protocol on MovieLens 100K (read in place from ../shared/data; never copied)."""

from pathlib import Path

import pytest

from recommendations.algorithms import get_engine
from recommendations.algorithms.dataset import Dataset
from recommendations.evaluation import evaluate_topn
from recommendations.sources import read_movielens100k

ML100K = Path(__file__).resolve().parents[2].parent / "shared/data/ml-100k"


@pytest.mark.skipif(not (ML100K / "u.data").exists(), reason="ml-100k not available")
def test_item_cf_ndcg_on_ml100k():
    events, products = read_movielens100k(ML100K)
    ds = Dataset.from_frames(events, products)
    [row] = evaluate_topn(ds, {"item_cf": lambda: get_engine("item_cf")}, progress=False)
    assert row["users"] == 943
    assert row["ndcg@10"] >= 0.44, row


@pytest.mark.skipif(not (ML100K / "u.data").exists(), reason="ml-100k not available")
def test_hybrid_is_ahead_of_every_peer_on_ml100k():
    """The issue's target, 0.46: docs/benchmarks.md records 0.4619 (0.4607-0.4630 over five
    validation seeds), ahead of the peers' best (implicit ALS, 0.449)."""
    events, products = read_movielens100k(ML100K)
    ds = Dataset.from_frames(events, products)
    [row] = evaluate_topn(ds, {"hybrid": lambda: get_engine("hybrid")}, progress=False,
                          beyond_accuracy=False)
    assert row["ndcg@10"] >= 0.46, row
