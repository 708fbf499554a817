"""The ``next-item`` and ``temporal`` protocols on small planted data."""

import csv
import json

import numpy as np
import pytest
from engine_fixtures import two_groups

from recommendations.algorithms.dataset import Dataset
from recommendations.evaluation import next_item_split, temporal_split


def shuffled_history() -> Dataset:
    """Four shoppers whose events are stored out of time order; shopper 3 touches one item."""
    rows = [  # (user, item, timestamp)
        (0, 5, 50.0), (0, 1, 10.0), (0, 2, 90.0), (0, 3, 30.0),  # last by time: item 2
        (1, 4, 70.0), (1, 4, 20.0), (1, 0, 40.0), (1, 2, 60.0),  # last: item 4 (seen before too)
        (2, 3, 80.0), (2, 1, 80.0), (2, 0, 5.0),  # a tie at 80: the later in the data (item 1)
        (3, 6, 15.0), (3, 6, 95.0),  # one distinct item: nothing to predict it from
    ]
    u, i, t = (np.array(c) for c in zip(*rows))
    n = len(rows)
    return Dataset(user_ids=np.arange(4) + 100, item_ids=np.arange(7) + 10, user=u, item=i,
                   kind=np.full(n, 3), value=np.ones(n), timestamp=t.astype(float))


def test_next_item_holds_out_each_shoppers_last_item_by_time():
    ds = shuffled_history()
    train, test = next_item_split(ds)
    held = {(int(u), int(i)) for u, i in zip(ds.user[test], ds.item[test])}
    assert held == {(0, 2), (1, 4), (2, 1)}
    # every event of a held-out pair is test (shopper 1's earlier view of item 4 too): no leak
    assert test.sum() == 4 and not (train & test).any() and (train | test).all()
    kept = {(int(u), int(i)) for u, i in zip(ds.user[train], ds.item[train])}
    assert not held & kept
    assert {(0, 5), (0, 1), (0, 3), (1, 0), (1, 2), (2, 3), (2, 0), (3, 6)} == kept


def test_temporal_cuts_the_last_fifth_of_the_time_span():
    ds = shuffled_history()  # time 5..95: the cut lies at 77
    train, test = temporal_split(ds)
    assert set(ds.timestamp[train]) == {50.0, 10.0, 30.0, 70.0, 20.0, 40.0, 60.0, 5.0, 15.0}
    assert ds.timestamp[train].max() < 77 <= ds.timestamp[test].min()
    held = {(int(u), int(i)) for u, i in zip(ds.user[test], ds.item[test])}
    # shopper 3's item 6 at 95 is no test: shopper 3 had it before the cut already
    assert held == {(0, 2), (2, 3), (2, 1)}
    kept = {(int(u), int(i)) for u, i in zip(ds.user[train], ds.item[train])}
    assert not held & kept


def test_temporal_scores_no_shopper_first_seen_after_the_cut():
    ds = two_groups()
    late_user = ds.user == ds.user[np.argmax(ds.timestamp)]
    train, test = temporal_split(ds)
    assert (ds.user[test] != -1).all()
    scored = set(ds.user[test].tolist())
    assert scored <= set(ds.user[train].tolist())
    assert late_user[test].any() == bool(set(ds.user[late_user].tolist()) & set(ds.user[train].tolist()))


def test_temporal_refuses_data_without_a_time_span():
    ds = two_groups()
    ds.timestamp[:] = 0.0
    with pytest.raises(ValueError, match="too little time"):
        temporal_split(ds)


@pytest.mark.parametrize("protocol", ["next-item", "temporal"])
def test_the_command_runs_both_with_json_recommendations_and_baseline(tmp_path, protocol):
    pytest.importorskip("django")
    from django.core.management import call_command

    ds = two_groups()
    ds.timestamp = np.random.default_rng(3).permutation(ds.timestamp)  # shoppers active throughout
    events = tmp_path / "events.csv"
    with events.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["user_id", "product_id", "event", "timestamp", "value"])
        for j in range(ds.n_events):
            w.writerow([ds.user_ids[ds.user[j]], ds.item_ids[ds.item[j]], "purchase", ds.timestamp[j], 1])
    out, recs = tmp_path / "out.json", tmp_path / "recs.csv"
    call_command("recommendations_evaluate", "--events", str(events), "--engines", "popular,item_cf",
                 "--protocol", protocol, "--baseline", "popular", "--json", str(out),
                 "--recommendations-out", str(recs), "--no-progress")
    popular, item_cf = json.loads(out.read_text())
    assert popular["protocol"] == item_cf["protocol"] == protocol
    assert item_cf["baseline"] == "popular" and "ndcg@10_gain_low" in item_cf
    assert item_cf["ndcg@10"] > popular["ndcg@10"]  # planted groups: co-occurrence knows the group
    train, test = next_item_split(ds) if protocol == "next-item" else temporal_split(ds)
    assert item_cf["users"] == len(set(ds.user[test].tolist()))
    with recs.open() as fh:
        lists = list(csv.DictReader(fh))
    assert {r["protocol"] for r in lists} == {protocol}
    assert len({r["user_id"] for r in lists if r["engine"] == "item_cf"}) == item_cf["users"]


def browsing(n_shoppers: int = 200, n_items: int = 40, seed: int = 0) -> Dataset:
    """Sessions of three views an hour apart from each other: a pair (2j, 2j+1) is always
    viewed together, then a popular item 0..3; sessions spread evenly over 100 days."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for s in range(n_shoppers * 2):
        pair = int(rng.integers(2, n_items // 2))
        start = s * 43200.0 + rng.random() * 600
        for step, item in enumerate((2 * pair, 2 * pair + 1, int(rng.integers(0, 4)))):
            users.append(s % n_shoppers)
            items.append(item)
            times.append(start + 60.0 * step)
    n = len(users)
    return Dataset(user_ids=np.arange(n_shoppers), item_ids=np.arange(n_items), user=np.array(users),
                   item=np.array(items), kind=np.full(n, 1), value=np.ones(n), timestamp=np.array(times))


def test_session_split_cuts_sessions_by_pause_and_keeps_test_sessions_out_of_the_input():
    from recommendations.evaluation import session_split

    ds = browsing()
    train, sessions = session_split(ds)
    cut = ds.timestamp.max() - 0.2 * (ds.timestamp.max() - ds.timestamp.min())
    assert ds.timestamp[train].max() < cut and len(sessions) == int((~train).sum() / 3)
    assert all(len(s) == 3 and s[1] == s[0] + 1 for s in sessions)  # pause > 30 min: own session
    assert session_split(ds, gap_seconds=30.0)[1] == []  # views a minute apart: one-view sessions


def test_session_protocol_rewards_lists_driven_by_the_first_views():
    from recommendations.algorithms import get_engine
    from recommendations.evaluation import evaluate_sessions

    rows = evaluate_sessions(browsing(), {"popular": lambda: get_engine("popular"),
                                          "item_cf": lambda: get_engine("item_cf")},
                             prefixes=(1,), progress=False, baseline="popular")
    popular, item_cf = rows
    assert item_cf["cases"] == popular["cases"] == item_cf["sessions"] > 0
    assert item_cf["hit_rate@10_p1"] > 0.9 > 0.3 > popular["hit_rate@10_p1"]  # the partner follows
    assert item_cf["ndcg@10"] == item_cf["ndcg@10_p1"] and item_cf["ndcg@10_gain_low"] > 0
