"""Beyond-accuracy metrics against hand-computed examples, and the re-ranking module.

The worked example: a catalogue of 4 items with categories A, A, B, B, trained on by 4 users
(item 0 by all 4, item 1 by 2, item 2 by 1, item 3 by nobody), and two lists: [0, 1, 2] and [0, 3].
"""

import math

import numpy as np
import pytest
from engine_fixtures import two_groups

from recommendations.algorithms import get_engine
from recommendations.algorithms.dataset import Dataset
from recommendations.algorithms.rerank import (
    category_similarity,
    cosine_similarity,
    mmr,
    parse,
    popularity_penalty,
    rerank,
)
from recommendations.evaluation import (
    BeyondAccuracy,
    evaluate_topn,
    exposure_gini,
    ild_category,
    ild_content,
    item_popularity,
    novelty,
    popularity_bias,
    popularity_head,
    summarise_topn,
)

LISTS = [[0, 1, 2], [0, 3]]
CATEGORIES = ["A", "A", "B", "B"]
POPULARITY = np.array([4.0, 2.0, 1.0, 0.0])
VECTORS = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_ild_category_by_hand():
    # list 1: pairs (0,1) same, (0,2) and (1,2) differ -> 2/3; list 2: (0,3) differ -> 1
    assert ild_category(LISTS, CATEGORIES) == pytest.approx((2 / 3 + 1) / 2)
    # k cuts the lists first: [0, 1] and [0, 3] -> 0 and 1
    assert ild_category(LISTS, CATEGORIES, k=2) == pytest.approx(0.5)
    # a pair with an unknown category is left out; a list with no pair left is skipped
    assert ild_category([[0, 1, 2], [0, 3]], ["A", "A", "", "B"]) == pytest.approx((0 + 1) / 2)
    assert ild_category([[0], [2, 3]], ["A", "A", "", ""]) is None


def test_ild_content_by_hand():
    # list 1: cosines 1, 0, 0 -> 1 - 1/3; list 2: cos(0, 3) = 1/sqrt(2)
    expected = ((1 - 1 / 3) + (1 - 1 / math.sqrt(2))) / 2
    assert ild_content(LISTS, VECTORS) == pytest.approx(expected)
    # pairs with an all-zero row are left out
    zero = VECTORS.copy()
    zero[3] = 0
    assert ild_content(LISTS, zero) == pytest.approx(2 / 3)


def test_novelty_by_hand():
    # p = 4/4, 2/4, 1/4 and (never touched: counted as one user's) 1/4 -> 0, 1, 2, 2 bits
    assert novelty(LISTS, POPULARITY, 4) == pytest.approx(((0 + 1 + 2) / 3 + (0 + 2) / 2) / 2)
    assert novelty([[1, 2]], POPULARITY, 4) == pytest.approx(1.5)
    assert novelty([[], []], POPULARITY, 4) is None


def test_popularity_bias_by_hand():
    # the head is ceil(10 % of 4) = 1 item, item 0: 2 of the 5 slots
    assert popularity_head(POPULARITY).tolist() == [0]
    assert popularity_bias(LISTS, POPULARITY) == pytest.approx(2 / 5)
    # ties by index; never-touched items are never "head"
    assert popularity_head(np.array([1.0, 3.0, 3.0, 0.0]), share=0.5).tolist() == [1, 2]
    assert popularity_head(np.array([0.0, 0.0]), share=0.5).tolist() == []
    assert popularity_bias([[]], POPULARITY) is None


def test_exposure_gini_by_hand():
    # counts 2, 1, 1, 1 -> sorted 1, 1, 1, 2: (-3 - 1 + 1 + 6) / (4 * 5)
    assert exposure_gini(LISTS, 4) == pytest.approx(3 / 20)
    # equal exposure -> 0; one item in every slot -> (n - 1) / n; never-recommended items count
    assert exposure_gini([[0, 1], [2, 3]], 4) == pytest.approx(0.0)
    assert exposure_gini([[0], [0]], 4) == pytest.approx(3 / 4)
    assert exposure_gini([[0, 1], [2, 3]], 8) == pytest.approx(0.5)
    assert exposure_gini([[]], 4) is None


def test_item_popularity_counts_distinct_users():
    ds = Dataset(user_ids=np.array(["a", "b", "c"]), item_ids=np.array([1, 2, 3]),
                 user=np.array([0, 0, 0, 1, 2]), item=np.array([0, 0, 1, 0, 1]),
                 kind=np.array([1, 3, 1, 1, 1]), value=np.ones(5), timestamp=np.arange(5.0))
    counts, users = item_popularity(ds)
    assert counts.tolist() == [2.0, 2.0, 0.0] and users == 3


def test_summarise_topn_reports_them_and_none_without_categories():
    beyond = BeyondAccuracy(POPULARITY, 4, CATEGORIES, None)
    lists = {10: LISTS[0], 11: LISTS[1]}
    relevant = {10: {1}, 11: {3}}
    out = summarise_topn(lists, relevant, 4, k=10, beyond=beyond)
    assert out["ild_category@10"] == pytest.approx(5 / 6)
    assert out["ild_content@10"] is None
    assert out["novelty@10"] == pytest.approx(1.0)
    assert out["popularity_bias@10"] == pytest.approx(0.4)
    assert out["exposure_gini@10"] == pytest.approx(0.15)
    assert "novelty@10" not in summarise_topn(lists, relevant, 4)


def test_evaluate_topn_rows_carry_them_with_and_without_features():
    [row] = evaluate_topn(two_groups(features=True), {"item_cf": lambda: get_engine("item_cf")}, progress=False)
    for key in ("ild_category@10", "ild_content@10", "novelty@10", "popularity_bias@10", "exposure_gini@10"):
        assert isinstance(row[key], float) and row[key] >= 0, key
    assert row["ild_category@10"] == pytest.approx(0.0)  # every user stays in their group
    assert 0 < row["exposure_gini@10"] < 1 and 0 < row["popularity_bias@10"] <= 1
    [bare] = evaluate_topn(two_groups(), {"item_cf": lambda: get_engine("item_cf")}, progress=False)
    assert bare["ild_category@10"] is None and bare["ild_content@10"] is None
    assert bare["novelty@10"] == pytest.approx(row["novelty@10"])


def test_evaluate_topn_rerank_rows():
    ds = two_groups(features=True)
    rows = evaluate_topn(ds, {"item_cf": lambda: get_engine("item_cf")}, progress=False,
                         rerank=["mmr:0", "mmr:0.9", ("popularity", 2.0)])
    assert [r["engine"] for r in rows] == ["item_cf", "item_cf+mmr:0", "item_cf+mmr:0.9", "item_cf+popularity:2"]
    base, zero, diverse, penalised = rows
    assert zero["ndcg@10"] == pytest.approx(base["ndcg@10"])
    # MMR brings the other group's items in: diversity up, accuracy down. With two categories
    # the max-similarity term saturates once both are in a list, so one item of the other group
    # per list: 9 of 45 pairs differ.
    assert base["ild_category@10"] == pytest.approx(0.0)
    assert diverse["ild_category@10"] == pytest.approx(0.2)
    assert diverse["ndcg@10"] < base["ndcg@10"]
    assert penalised["popularity_bias@10"] < base["popularity_bias@10"]


# -- re-ranking -------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["mmr", "mmr_content", "popularity"])
def test_strength_zero_keeps_the_order_exactly(method):
    rng = np.random.default_rng(0)
    items = rng.permutation(40)[:25]
    scores = np.sort(np.round(rng.random(25), 1))[::-1]  # with ties
    cats = [f"c{i % 3}" for i in range(40)]
    out, out_scores = rerank(items, scores, 10, method, 0.0, categories=cats, vectors=rng.random((40, 5)),
                             popularity=rng.random(40) * 100)
    assert out.tolist() == items[:10].tolist() and out_scores.tolist() == scores[:10].tolist()


def test_mmr_by_category_by_hand():
    items, scores = np.array([0, 1, 2, 3]), np.array([1.0, 0.9, 0.8, 0.1])
    # relevance 1, 0.889, 0.778, 0; after item 0: item 1 = 0.5*0.889 - 0.5*1 < item 2 = 0.5*0.778
    assert rerank(items, scores, 2, "mmr", 0.5, categories=CATEGORIES)[0].tolist() == [0, 2]
    assert rerank(items, scores, 4, "mmr", 0.5, categories=CATEGORIES)[0].tolist() == [0, 2, 1, 3]
    assert rerank(items, scores, 2, "mmr", 0.05, categories=CATEGORIES)[0].tolist() == [0, 1]
    # scores come back with their items
    assert rerank(items, scores, 2, "mmr", 0.5, categories=CATEGORIES)[1].tolist() == [1.0, 0.8]
    # nothing to compare with: the order stays
    assert rerank(items, scores, 2, "mmr", 0.5)[0].tolist() == [0, 1]


def test_mmr_by_content_by_hand():
    items, scores = np.array([0, 1, 3, 2]), np.array([1.0, 0.95, 0.9, 0.5])
    # relevance 1, 0.9, 0.8, 0; after item 0 the similarities are 1, 0.707, 0:
    # strength 0.5: item 1 0.45 - 0.5 = -0.05, item 3 0.4 - 0.354 = 0.046, item 2 0 -> item 3
    assert rerank(items, scores, 2, "mmr_content", 0.5, vectors=VECTORS)[0].tolist() == [0, 3]
    # strength 0.8: item 1 0.18 - 0.8, item 3 0.16 - 0.566, item 2 0 -> item 2
    assert rerank(items, scores, 2, "mmr_content", 0.8, vectors=VECTORS)[0].tolist() == [0, 2]
    assert cosine_similarity(VECTORS)[0, 3] == pytest.approx(1 / math.sqrt(2))
    assert category_similarity(["A", "", ""]).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert mmr(items, scores, 3, 1.0, np.eye(4))[0].tolist() == [0, 1, 3]  # no similar pairs: order


def test_popularity_penalty_by_hand():
    items, scores, pop = np.array([0, 1, 2]), np.array([1.0, 0.9, 0.8]), np.array([100.0, 1.0, 10.0])
    # relevance 1, 0.5, 0; penalty log(1 + pop) / log(101) = 1, 0.150, 0.520
    assert popularity_penalty(items, scores, 3, 0.5, pop)[0].tolist() == [0, 1, 2]  # 0.5, 0.425, -0.26
    assert popularity_penalty(items, scores, 3, 1.0, pop)[0].tolist() == [1, 0, 2]  # 0, 0.35, -0.52
    assert popularity_penalty(items, scores, 2, 1.0, pop)[1].tolist() == [0.9, 1.0]


def test_parse_specs():
    assert parse("mmr:0.3") == ("mmr", 0.3)
    assert parse("popularity:2") == ("popularity", 2.0)
    for bad in ("mmr", "mmr:x", "mmr:1.5", "popularity:-1", "random:0.1", "mmr:nan"):
        with pytest.raises(ValueError):
            parse(bad)
    with pytest.raises(ValueError):
        rerank(np.array([0, 1]), np.array([1.0, 0.5]), 1, "random", 0.5)


def test_evaluate_command_rerank_option(tmp_path):
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError

    ds = two_groups(features=True)
    events, products = tmp_path / "events.csv", tmp_path / "products.csv"
    events.write_text("user_id,product_id,event,timestamp,value\n" + "".join(
        f"{ds.user_ids[u]},{ds.item_ids[i]},purchase,{t},1\n" for u, i, t in zip(ds.user, ds.item, ds.timestamp)))
    feats = ds.item_features
    products.write_text("product_id,name,description,category,brand,price\n" + "".join(
        f"{ds.item_ids[i]},{feats.name[i]},about,{feats.category[i]},Acme,1.5\n" for i in range(ds.n_items)))
    out = tmp_path / "out.json"
    call_command("recommendations_evaluate", "--events", str(events), "--products", str(products),
                 "--engines", "popular,item_cf", "--rerank", "mmr:0.5,popularity:1", "--rerank", "mmr_content:0.5",
                 "--json", str(out), "--no-progress")
    rows = json.loads(out.read_text())
    assert [r["engine"] for r in rows] == [
        f"{e}{suffix}" for e in ("popular", "item_cf")
        for suffix in ("", "+mmr:0.5", "+popularity:1", "+mmr_content:0.5")]
    assert all(r["ild_category@10"] is not None and r["exposure_gini@10"] is not None for r in rows)
    with pytest.raises(CommandError, match="METHOD:STRENGTH"):
        call_command("recommendations_evaluate", "--events", str(events), "--rerank", "diverse", "--no-progress")
