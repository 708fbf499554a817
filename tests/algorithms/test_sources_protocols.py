"""Readers (import format), Dataset.from_frames and the evaluation protocols end to end."""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_fixtures import two_groups

from recommendations import sources
from recommendations.algorithms import get_engine
from recommendations.algorithms.dataset import PURCHASE, RATING, VIEW, Dataset
from recommendations.evaluation import (
    coldstart_split,
    evaluate_coldstart,
    evaluate_topn,
    explicit_split_dataset,
    write_recommendations_csv,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared/data"


def test_events_csv_accepts_unix_and_iso_timestamps(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,product_id,event,timestamp,value\n"
        "u1,p1,view,1700000000,\n"
        "u1,p2,Purchase,2023-11-14T22:13:20Z,2\n"
        "u2,p1,rating,2023-11-14 22:13:20+00:00,4\n"
    )
    events = sources.read_events_csv(path)
    assert list(events.columns) == ["user_id", "product_id", "event", "timestamp", "value"]
    assert events["timestamp"].tolist() == [1700000000.0] * 3
    assert events["event"].tolist() == ["view", "purchase", "rating"]
    assert events["value"].tolist() == [1.0, 2.0, 4.0]
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,product_id,event,timestamp\nu,p,wishlist,0\n")
    with pytest.raises(ValueError):
        sources.read_events_csv(bad)


def test_from_frames_keeps_products_without_events():
    events = pd.DataFrame({"user_id": [2, 1, 1], "product_id": ["b", "a", "b"], "event": ["view", "purchase", "rating"],
                           "timestamp": [3.0, 1.0, 2.0], "value": [1, 2, 5]})
    products = pd.DataFrame({"product_id": ["c", "a"], "name": ["C", "A"], "description": ["", ""],
                             "category": ["x", "y"], "brand": ["", ""], "price": [1.5, None]})
    ds = Dataset.from_frames(events, products, event_weights={"view": 1, "purchase": 7, "rating": 2})
    assert list(ds.user_ids) == [1, 2]
    assert list(ds.item_ids) == ["c", "a", "b"]  # products first, then event-only ids
    assert ds.item_features.name == ["C", "A", ""]
    assert np.isnan(ds.item_features.price[1])
    m = ds.matrix.toarray()
    assert m[0, 1] == 7 and m[0, 2] == 2 and m[1, 2] == 1 and m[:, 0].sum() == 0
    assert set(ds.kind.tolist()) == {VIEW, PURCHASE, RATING}


@pytest.mark.skipif(not (DATA / "ml-100k/u.data").exists(), reason="ml-100k not available")
def test_read_movielens100k():
    events, products = sources.read_movielens100k(DATA / "ml-100k")
    assert len(events) == 100_000 and set(events["event"]) == {"rating"}
    assert events["value"].between(1, 5).all()
    assert len(products) == 1682
    toy = products.set_index("product_id").loc[1]
    assert toy["name"].startswith("Toy Story") and toy["category"] == "Animation"
    assert "Children's" in toy["description"] and "1995" in toy["description"]
    assert products["price"].isna().all()


@pytest.mark.skipif(not (DATA / "completejourney/transactions_sample.csv").exists(), reason="no completejourney")
def test_read_completejourney():
    events, products = sources.read_completejourney(DATA / "completejourney")
    assert set(events["event"]) == {"purchase"} and (events["value"] > 0).all()
    assert events["timestamp"].between(1.4e9, 1.6e9).all()
    assert {"product_id", "name", "description", "category", "brand", "price"} <= set(products.columns)
    priced = products.dropna(subset=["price"])
    assert len(priced) > 0.5 * len(products) and (priced["price"] > 0).all()


def test_topn_protocol_and_recommendation_dump(tmp_path):
    ds = two_groups()
    rows = []
    results = evaluate_topn(ds, {"item_cf": lambda: get_engine("item_cf"), "popular": lambda: get_engine("popular")},
                            progress=False, recommendations=rows)
    by = {r["engine"]: r for r in results}
    assert by["item_cf"]["ndcg@10"] > by["popular"]["ndcg@10"]
    for key in ("precision@10", "recall@10", "ndcg@10", "map@10", "hit_rate@10", "coverage@10", "f1@10",
                "fit_seconds", "recommend_seconds"):
        assert key in by["item_cf"]
    assert {r["engine"] for r in rows} == {"item_cf", "popular"}
    assert rows[0]["rank"] == 1 and rows[0]["user_id"] in set(ds.user_ids.tolist())
    out = tmp_path / "recs.csv"
    write_recommendations_csv(rows, out)
    with out.open() as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == ["user_id", "engine", "rank", "product_id"] and len(got) == len(rows)


def test_explicit_split():
    events = pd.DataFrame({"user_id": [1, 1, 1, 2, 2], "product_id": [1, 2, 3, 1, 3],
                           "event": "purchase", "timestamp": [0, 1, 2, 3, 4], "value": 1})
    ds, train, test = explicit_split_dataset(events.iloc[:4], events.iloc[4:])
    assert train.sum() == 4 and test.sum() == 1
    [row] = evaluate_topn(ds, {"popular": lambda: get_engine("popular")}, train_mask=train, test_mask=test,
                          progress=False)
    assert row["users"] == 1 and row["hit_rate@10"] == 1.0  # item 3 is the popular unseen one


def test_coldstart_protocol():
    ds = two_groups(n_users=60, n_items=40)
    train, cold = coldstart_split(ds, 0.1, seed=7)
    assert len(cold) == 4 and not np.isin(ds.item[train], cold).any()
    [row] = evaluate_coldstart(ds, {"item_cf": lambda: get_engine("item_cf")}, progress=False)
    assert row["cold_items"] == 4 and 0 <= row["cold_recall@10"] <= 1
    # only 4 candidates: every list holds all of them
    assert row["cold_recall@10"] == pytest.approx(1.0)
