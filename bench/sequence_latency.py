#!/usr/bin/env python3
"""Request-time cost of the ``sequence`` engine's NumPy forward pass (no TensorFlow).

    OPENBLAS_NUM_THREADS=2 .venv/bin/python bench/sequence_latency.py

Builds a model of the default shape (dim 64, 2 blocks, 50 positions) over catalogues of 2,400
(the demo), 20,000 and 100,000 products with random weights (the cost does not depend on their
values) and times ``recommend`` for an anonymous session of 3 views and a known shopper with a
full 50-item sequence: p50/p95 over 300 calls each. Writes bench/results/sequence_latency.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommendations.algorithms.sequence import SequenceRecommender  # noqa: E402


def model_of(n_items: int, n_users: int = 1000, seed: int = 0) -> SequenceRecommender:
    model = SequenceRecommender()
    rng = np.random.default_rng(seed)
    d, L = model.dim, model.max_len
    w = {"item_emb": rng.normal(0, 0.1, (n_items + 1, d)), "pos_emb": rng.normal(0, 0.1, (L, d)),
         "item_bias": np.zeros(n_items), "lnf_g": np.ones(d), "lnf_b": np.zeros(d)}
    for b in range(model.blocks):
        for p in "qkvo":
            w[f"w{p}_{b}"], w[f"b{p}_{b}"] = rng.normal(0, 0.1, (d, d)), np.zeros(d)
        w[f"w1_{b}"], w[f"c1_{b}"], w[f"w2_{b}"], w[f"c2_{b}"] = (rng.normal(0, 0.1, (d, d)), np.zeros(d),
                                                              rng.normal(0, 0.1, (d, d)), np.zeros(d))
        for ln in ("ln1", "ln2"):
            w[f"{ln}_g_{b}"], w[f"{ln}_b_{b}"] = np.ones(d), np.zeros(d)
    items = rng.integers(0, n_items, size=(n_users, L))
    model._set_state({**{f"w_{k}": v for k, v in w.items()}, "seq_indptr": np.arange(n_users + 1) * L,
                      "seq_items": items.ravel(),
                      "seen": sp.csr_matrix((np.ones(items.size), (np.repeat(np.arange(n_users), L), items.ravel())),
                                            shape=(n_users, n_items))})
    return model


def timed(call, repeat: int = 300) -> dict[str, float]:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95))}


def main() -> None:
    rows = []
    for n_items in (2_400, 20_000, 100_000):
        model = model_of(n_items)
        session = {int(i): 1.0 for i in np.random.default_rng(1).integers(0, n_items, 3)}
        for case, call in (("anonymous session, 3 views", lambda m=model, h=session: m.recommend(None, history=h)),
                           ("known shopper, 50 items", lambda m=model: m.recommend(7))):
            row = {"products": n_items, "case": case, **timed(call)}
            rows.append(row)
            print(f"{n_items:>7,} products  {case:<28} p50 {row['p50_ms']:6.2f} ms  p95 {row['p95_ms']:6.2f} ms")
    out = ROOT / "bench" / "results" / "sequence_latency.json"
    out.write_text(json.dumps({"command": "python bench/sequence_latency.py",
                               "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "results": rows}, indent=2))


if __name__ == "__main__":
    main()
