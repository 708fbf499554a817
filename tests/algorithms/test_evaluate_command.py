"""Smoke test of the ``recommendations_evaluate`` management command on CSV input."""

import csv
import json

import pytest

pytest.importorskip("django")

from engine_fixtures import two_groups  # noqa: E402


def _write_events(path, ds, mask=None):
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["user_id", "product_id", "event", "timestamp", "value"])
        for j in range(ds.n_events):
            if mask is None or mask[j]:
                w.writerow([ds.user_ids[ds.user[j]], ds.item_ids[ds.item[j]], "purchase", ds.timestamp[j], 1])


def test_command_on_csv_and_explicit_split(tmp_path):
    from django.core.management import call_command

    from recommendations.evaluation import split_topn

    ds = two_groups()
    events = tmp_path / "events.csv"
    _write_events(events, ds)
    out, recs = tmp_path / "out.json", tmp_path / "recs.csv"
    call_command("recommendations_evaluate", "--events", str(events), "--engines", "popular,item_cf",
                 "--json", str(out), "--recommendations-out", str(recs), "--no-progress")
    rows = json.loads(out.read_text())
    assert [r["engine"] for r in rows] == ["popular", "item_cf"]
    assert rows[1]["ndcg@10"] > rows[0]["ndcg@10"] and "fit_seconds" in rows[1]
    with recs.open() as fh:
        head = next(csv.reader(fh))
    assert head == ["user_id", "engine", "rank", "product_id"]

    train_mask, test_mask = split_topn(ds)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _write_events(train, ds, train_mask)
    _write_events(test, ds, test_mask)
    call_command("recommendations_evaluate", "--train", str(train), "--test", str(test), "--engines", "item_cf",
                 "--json", str(out), "--no-progress")
    [row] = json.loads(out.read_text())
    assert row["engine"] == "item_cf" and row["users"] == ds.n_users


def test_params_reach_the_engine_and_bad_json_is_refused(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    ds = two_groups()
    events = tmp_path / "events.csv"
    _write_events(events, ds)
    lists = {}
    for label, params in (("ease", None), ("cosine", '{"item_cf": {"method": "cosine", "neighbours": 5}}')):
        recs = tmp_path / f"{label}.csv"
        args = ["--events", str(events), "--engines", "item_cf", "--recommendations-out", str(recs), "--no-progress"]
        call_command("recommendations_evaluate", *args, *(["--params", params] if params else []))
        with recs.open() as fh:
            lists[label] = [row["product_id"] for row in csv.DictReader(fh)]
    assert lists["ease"] != lists["cosine"]
    with pytest.raises(CommandError, match="JSON"):
        call_command("recommendations_evaluate", "--events", str(events), "--params", "{item_cf", "--no-progress")
    with pytest.raises(CommandError, match="map engine names"):
        call_command("recommendations_evaluate", "--events", str(events), "--params", '{"item_cf": 3}',
                     "--no-progress")


def test_baseline_adds_the_gain_and_its_interval(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    ds = two_groups()
    events = tmp_path / "events.csv"
    _write_events(events, ds)
    out = tmp_path / "out.json"
    call_command("recommendations_evaluate", "--events", str(events), "--engines", "popular,item_cf",
                 "--baseline", "popular", "--json", str(out), "--no-progress")
    popular, item_cf = json.loads(out.read_text())
    assert "ndcg@10_gain" not in popular
    assert item_cf["baseline"] == "popular"
    assert item_cf["ndcg@10_gain"] == pytest.approx(item_cf["ndcg@10"] - popular["ndcg@10"])
    # planted groups: item_cf is better for nearly every user, so the interval excludes 0
    assert 0 < item_cf["ndcg@10_gain_low"] <= item_cf["ndcg@10_gain"] <= item_cf["ndcg@10_gain_high"]
    with pytest.raises(CommandError, match="--baseline user_cf is not among"):
        call_command("recommendations_evaluate", "--events", str(events), "--engines", "popular",
                     "--baseline", "user_cf", "--no-progress")
