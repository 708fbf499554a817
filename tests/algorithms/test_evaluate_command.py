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
    assert head == ["user_id", "engine", "rank", "product_id", "protocol"]

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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "0"], "--k must be at least 1"),
        (["--fit-budget", "-1"], "--fit-budget must be"),
        (["--fit-budget", "nan"], "--fit-budget must be"),
        (["--engines", "popular,nope"], r"--engines: unknown \['nope'\]"),
        (["--params", '{"nope": {}}'], "--params names unknown engines"),
        (["--params", "{item_cf"], "--params is not JSON"),
        (["--baseline", "nope"], "--baseline nope: unknown engine"),
        (["--engines", "popular", "--baseline", "item_cf"], "--baseline item_cf is not among"),
        (["--protocol", "topn,sideways"], "--protocol sideways: unknown"),
        (["--rerank", "sideways:2"], "--rerank"),
        (["--tune", "0"], "--tune must be a number of seconds > 0"),
        (["--json", "/no/such/folder/out.json"], "--json /no/such/folder/out.json: cannot write"),
        (["--recommendations-out", "/no/such/folder/r.csv"], "--recommendations-out .*: cannot write"),
        (["--products", "/no/such/products.csv"], "--products /no/such/products.csv: no such file"),
        (["--format", "movielens100k"], "give one input, not --format and --events"),
    ],
)
def test_every_argument_is_checked_before_any_data_is_read(tmp_path, monkeypatch, args, message):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from recommendations import sources

    events = tmp_path / "events.csv"
    _write_events(events, two_groups())

    def refuse(*a, **kw):
        raise AssertionError("data read before the arguments were checked")

    monkeypatch.setattr(sources, "read_events_csv", refuse)
    monkeypatch.setattr(sources, "read_movielens100k", refuse)
    with pytest.raises(CommandError, match=message):
        call_command("recommendations_evaluate", "--events", str(events), *args, "--no-progress")


def test_missing_files_are_named(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    missing = tmp_path / "nowhere.csv"
    with pytest.raises(CommandError, match=f"--events {missing}: no such file"):
        call_command("recommendations_evaluate", "--events", str(missing), "--no-progress")
    with pytest.raises(CommandError, match="--format needs --path"):
        call_command("recommendations_evaluate", "--format", "movielens100k")
    (tmp_path / "u.data").write_text("1\t1\t5\t0\n")
    with pytest.raises(CommandError, match="u.item is missing"):
        call_command("recommendations_evaluate", "--format", "movielens100k", "--path", str(tmp_path))
    with pytest.raises(CommandError, match="no such folder"):
        call_command("recommendations_evaluate", "--format", "movielens100k", "--path", str(tmp_path / "x"))
    broken = tmp_path / "broken.csv"
    broken.write_text("user_id,product_id,event,timestamp\n1,2,teleport,0\n")
    with pytest.raises(CommandError, match=f"--events {broken}: ValueError: unknown event kinds"):
        call_command("recommendations_evaluate", "--events", str(broken), "--no-progress")


def test_each_row_reaches_the_json_as_soon_as_it_is_known(tmp_path, monkeypatch):
    """While the second engine fits, the JSON file already holds the first engine's row."""
    from django.core.management import call_command

    from recommendations.algorithms import ENGINE_PATHS, ENGINES, popular

    out = tmp_path / "out.json"
    seen_by_fit: list = []

    class Spy(popular.PopularRecommender):
        name = "spy"

        def fit(self, dataset):
            seen_by_fit.append(json.loads(out.read_text()) if out.exists() else None)
            return super().fit(dataset)

    monkeypatch.setattr(popular, "SpyRecommender", Spy, raising=False)
    monkeypatch.setitem(ENGINE_PATHS, "spy", ("popular", "SpyRecommender"))
    monkeypatch.setattr(ENGINES, "_cache", {})
    events = tmp_path / "events.csv"
    _write_events(events, two_groups())
    call_command("recommendations_evaluate", "--events", str(events), "--engines", "item_cf,spy",
                 "--protocol", "topn,next-item", "--json", str(out), "--no-progress", "--fit-budget", "30")
    first, second = seen_by_fit
    assert first == [{**first[0]}] and first[0]["engine"] == "item_cf" and "ndcg@10" in first[0]
    assert [(r["engine"], r.get("protocol")) for r in second] == [
        ("item_cf", None), ("spy", None), ("item_cf", "next-item")]
    final = json.loads(out.read_text())
    assert [(r["engine"], r.get("protocol")) for r in final] == [
        ("item_cf", None), ("spy", None), ("item_cf", "next-item"), ("spy", "next-item")]
    assert all(r["fit_budget_seconds"] == 30 and r["fit_peak_rss_mib"] > 0 for r in final)
    assert not list(tmp_path.glob("out.json.tmp*"))


def test_fit_reports_and_plain_progress_lines_when_not_a_terminal(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    events = tmp_path / "events.csv"
    _write_events(events, two_groups())
    err, out = StringIO(), StringIO()
    call_command("recommendations_evaluate", "--events", str(events), "--engines", "popular,item_cf",
                 stderr=err, stdout=out)
    log = err.getvalue()
    assert "item_cf: fit started (" in log and "item_cf: fit done in" in log and "peak memory" in log
    assert "item_cf: top-10: 60/60" in log and "\r" not in log
    assert all(len(line) <= 100 for line in out.getvalue().splitlines())


def test_the_fit_budget_is_the_argument_not_the_settings():
    from recommendations.algorithms import get_engine
    from recommendations.management.commands.recommendations_evaluate import with_fit_budget

    deep = with_fit_budget(get_engine("deep", max_seconds=120), 30.0)
    assert deep.max_seconds == 30.0
    hybrid = with_fit_budget(get_engine("hybrid", components=["item_cf", "deep"]), None)
    assert hybrid.components == {"item_cf": {}, "deep": {"max_seconds": None}}


def test_the_table_fits_a_hundred_columns():
    from recommendations.evaluation import format_table

    row = {"engine": "hybrid+mmr_content:0.25-with-a-long-label", "precision@10": 0.3, "recall@10": 0.2,
           "ndcg@10": 0.46, "map@10": 0.3, "hit_rate@10": 0.94, "coverage@10": 0.2, "f1@10": 0.2,
           "ild_category@10": 0.5, "novelty@10": 3.0, "users": 943, "fit_seconds": 12.5,
           "fit_peak_rss_mib": 900.0, "recommend_seconds": 1.0, "baseline": "item_cf",
           "ndcg@10_gain": 0.012, "ndcg@10_gain_low": 0.004, "ndcg@10_gain_high": 0.02}
    broken = {"engine": "deep", "error": "RuntimeError: " + "x" * 300}
    table = format_table([row, broken])
    assert all(len(line) <= 100 for line in table.splitlines())
    assert "0.4600" in table and "+0.0120 [+0.004,+0.020]" in table and "RuntimeError" in table


def test_tune_chooses_on_the_input_and_measures_the_tuned_engine(tmp_path):
    """``--tune``: the training's self-tuning runs on the protocol's input before the fit, so
    "tuned EASE" is measured like every other engine; the row says what was chosen."""
    from django.core.management import call_command
    from test_tuning import planted

    events, out = tmp_path / "events.csv", tmp_path / "out.json"
    _write_events(events, planted("pairs"))
    call_command("recommendations_evaluate", "--events", str(events), "--engines", "popular,item_cf",
                 "--json", str(out), "--no-progress")
    plain = {r["engine"]: r for r in json.loads(out.read_text())}
    call_command("recommendations_evaluate", "--events", str(events), "--engines", "popular,item_cf",
                 "--tune", "600", "--json", str(out), "--no-progress")
    tuned = {r["engine"]: r for r in json.loads(out.read_text())}
    assert "tuning" not in plain["item_cf"] and "tuning" not in tuned["popular"]  # nothing to tune there
    assert tuned["item_cf"]["tuning"]["parameter"] == "l2" and tuned["item_cf"]["tuning"]["chosen"] < 100
    assert tuned["item_cf"]["ndcg@10"] > plain["item_cf"]["ndcg@10"]
    assert tuned["popular"]["ndcg@10"] == plain["popular"]["ndcg@10"]
