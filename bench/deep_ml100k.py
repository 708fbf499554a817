"""ML-100K benchmark of the ``content`` and ``deep`` engines (top-N and cold-start protocols).

    .venv/bin/python bench/deep_ml100k.py [--data ../shared/data/ml-100k] [--out bench/results/deep_ml100k.json]
                                          [--engines content,deep] [--threads 2]

Top-N: every user with >= 5 distinct items has a random 20% of distinct items held out
(seed 42); top-10 excluding train items; binary relevance.
Cold start: 10% of items (seed 7) lose all their interactions in train; recall@10 of those
items ranked among themselves only, for users who interacted with them in the test part.

The loader and protocol here are self-contained (NumPy only) so the figures can be
reproduced without the rest of the app; the data stays outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommendations.algorithms.dataset import RATING, Dataset, ItemFeatures  # noqa: E402

K = 10


# -- data --------------------------------------------------------------------------------
def load_ml100k(path: str | Path) -> Dataset:
    path = Path(path)
    raw = np.loadtxt(path / "u.data", dtype=np.int64)
    users, items, ratings, ts = raw.T
    genres = [line.split("|")[0] for line in (path / "u.genre").read_text("latin-1").splitlines() if line.strip()]
    rows = [line.split("|") for line in (path / "u.item").read_text("latin-1").splitlines() if line.strip()]
    item_ids = np.array([int(r[0]) for r in rows])
    names = [r[1] for r in rows]
    cats = ["|".join(g for g, flag in zip(genres, r[5:24]) if flag == "1") for r in rows]
    user_ids = np.unique(users)
    uidx = np.searchsorted(user_ids, users)
    iidx = np.searchsorted(item_ids, items)
    feats = ItemFeatures(
        name=names,
        description=[""] * len(rows),
        category=cats,
        brand=[""] * len(rows),
        price=np.full(len(rows), np.nan),
    )
    return Dataset(
        user_ids=user_ids,
        item_ids=item_ids,
        user=uidx,
        item=iidx,
        kind=np.full(len(uidx), RATING),
        value=ratings,
        timestamp=ts,
        item_features=feats,
    )


# -- reference baselines on the cold-start split ---------------------------------------------
def genre_profile_recall(ds: Dataset, k: int = K) -> float:
    """recall@k of a genre-profile content baseline (cosine of genre vectors) on the split."""
    from recommendations import evaluation as ev

    train_mask, cold = ev.coldstart_split(ds)
    train = ds.subset(train_mask)
    relevant = ev.relevant_by_user(ds, ~train_mask)
    # genres: the category plus the description words that are genre names (app reader)
    texts = [f"{c} {d}" for c, d in zip(ds.item_features.category, ds.item_features.description)]
    vocab = sorted({w for c in ds.item_features.category for w in c.split("|") if w})
    g = np.array([[w in t.replace("|", " ").split() for w in vocab] for t in texts], dtype=np.float64)
    g /= np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    m = train.matrix
    recalls = []
    for u in sorted(relevant):
        row = m[u]
        prof = row.data @ g[row.indices]
        top = cold[np.argsort(-(g[cold] @ prof), kind="stable")[:k]].tolist()
        recalls.append(ev.recall_at_k(top, relevant[u], k))
    return float(np.mean(recalls))


# -- engines -----------------------------------------------------------------------------
#: Defaults of the benchmark (chosen on validation splits carved from training data).
PARAMS = {
    "content": {},
    "deep": {},
}


def make(engine: str, threads: int = 2, **params):
    if engine == "content":
        from recommendations.algorithms.content import ContentRecommender

        return ContentRecommender(**{**PARAMS["content"], **params})
    if engine == "deep":
        from recommendations.algorithms.deep import DeepRecommender

        return DeepRecommender(**{**PARAMS["deep"], "threads": threads, **params})
    raise ValueError(engine)


def project_dataset(path: str | Path) -> Dataset:
    """ML-100K through the app's own reader (falls back to :func:`load_ml100k`)."""
    try:
        from recommendations.sources import read_movielens100k

        events, products = read_movielens100k(path)
        return Dataset.from_frames(events, products)
    except ImportError:
        return load_ml100k(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(__file__).resolve().parents[2] / "shared/data/ml-100k"
    ap.add_argument("--data", default=os.environ.get("ML100K", str(shared)))
    ap.add_argument("--out", default="bench/results/deep_ml100k.json")
    ap.add_argument("--engines", default="content,deep")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-cold", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from recommendations import evaluation as ev

    engines = args.engines.split(",")
    ds = project_dataset(args.data)
    results: dict = {
        "protocol": {
            "topn": "recommendations.evaluation.evaluate_topn (20% of distinct items/user with >=5, seed 42, @10)",
            "cold": "recommendations.evaluation.evaluate_coldstart (10% of items, seed 7, recall@10 among cold items)",
        },
        "threads": args.threads,
        "params": {e: make(e, args.threads).get_params() for e in engines},
    }
    specs = {e: (lambda e=e: make(e, args.threads)) for e in engines}
    topn = ev.evaluate_topn(ds, specs, progress=False)
    results["topn"] = topn
    print(ev.format_table(topn), flush=True)

    if not args.no_cold:
        cold = ev.evaluate_coldstart(ds, specs, progress=False)
        # The blend: mean of z-scored cold_start_scores of both engines, same split / users.
        if {"content", "deep"} <= set(engines):
            from recommendations.algorithms.deep import blend_cold_scores

            train_mask, cold_items = ev.coldstart_split(ds)
            train = ds.subset(train_mask)
            relevant = ev.relevant_by_user(ds, ~train_mask)
            t0 = time.perf_counter()
            c_model = make("content", args.threads).fit(train)
            d_model = make("deep", args.threads).fit(train)
            fit_s = time.perf_counter() - t0
            m = train.matrix
            recalls, ndcgs = [], []
            for u in sorted(relevant):
                row = m[u]
                hist = dict(zip(row.indices.tolist(), row.data.tolist()))
                s = blend_cold_scores(
                    [c_model.cold_start_scores(hist, cold_items), d_model.cold_start_scores(hist, cold_items)]
                )
                top = cold_items[np.argsort(-s, kind="stable")[:K]].tolist()
                recalls.append(ev.recall_at_k(top, relevant[u], K))
                ndcgs.append(ev.ndcg_at_k(top, relevant[u], K))
            cold.append(
                {
                    "engine": "content+deep (blend_cold_scores)",
                    "fit_seconds": fit_s,
                    "cold_recall@10": float(np.mean(recalls)),
                    "cold_ndcg@10": float(np.mean(ndcgs)),
                    "cold_items": len(cold_items),
                    "cold_users": len(recalls),
                }
            )
        cold.append({"engine": "genre-profile baseline", "cold_recall@10": genre_profile_recall(ds)})
        results["cold"] = cold
        print(ev.format_table(cold), flush=True)

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=float))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
