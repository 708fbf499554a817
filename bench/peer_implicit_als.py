"""The ``implicit`` library's ALS as a peer, scored by the project's own protocol code.

    /tmp/wt23/peer-venv/bin/python bench/peer_implicit_als.py --format movielens100k \
        --path ../shared/data/ml-100k --protocol temporal [--out bench/results/x.json]

``implicit`` is no dependency of the project: install it into a separate virtualenv that
also sees the project's packages (a ``.pth`` file naming the project venv's site-packages),
never into the project's. The data are read and split exactly as ``recommendations_evaluate``
does (same reader, same event weights, :func:`~recommendations.evaluation.temporal_split` /
``next_item_split``) and the lists scored by :func:`~recommendations.evaluation.evaluate_topn`,
so the figures sit beside the command's. Settings default to the peer's tuned ML-100K ones in
``../shared/BASELINES.md`` (64 factors, alpha 5, reg 30, 20 iterations, binary interactions).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_shop.settings")


class ImplicitALS:
    """``fit`` / ``recommend`` over implicit's AlternatingLeastSquares (CPU, binary matrix)."""

    def __init__(self, factors: int, reg: float, alpha: float, iterations: int, threads: int) -> None:
        self.options = {"factors": factors, "regularization": reg, "alpha": alpha,
                        "iterations": iterations, "num_threads": threads, "random_state": 0}

    def fit(self, dataset) -> ImplicitALS:
        from implicit.cpu.als import AlternatingLeastSquares

        seen = dataset.matrix.tocsr().astype(np.float32)
        seen.data[:] = 1.0
        model = AlternatingLeastSquares(**self.options)
        model.fit(seen, show_progress=False)
        self.users_, self.items_ = np.asarray(model.user_factors), np.asarray(model.item_factors)
        return self

    def recommend(self, user, *, n=10, exclude=None, exclude_seen=True, history=None):
        from recommendations.algorithms.base import top_n

        scores = self.items_ @ self.users_[int(user)]
        return top_n(scores.astype(np.float64), n, np.asarray(exclude if exclude is not None else [], dtype=np.int64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("movielens100k", "completejourney"), required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--protocol", default="temporal", help="comma-separated: temporal, next-item, topn")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--reg", type=float, default=30.0)
    parser.add_argument("--alpha", type=float, default=5.0)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args()

    import django

    django.setup()
    import implicit

    from recommendations import sources
    from recommendations.algorithms.dataset import Dataset
    from recommendations.conf import app_settings
    from recommendations.evaluation import evaluate_topn, next_item_split, split_topn, temporal_split

    events, products = sources.RESEARCH_READERS[args.format](args.path)
    dataset = Dataset.from_frames(events, products, event_weights=app_settings.EVENT_WEIGHTS,
                                  decay_half_life_days=app_settings.TIME_DECAY_HALF_LIFE_DAYS)
    splits = {"temporal": temporal_split, "next-item": next_item_split, "topn": lambda d: split_topn(d, seed=42)}
    label = f"implicit ALS {implicit.__version__} ({args.factors} factors, alpha {args.alpha:g}, reg {args.reg:g})"
    rows = []
    for protocol in args.protocol.split(","):
        train, test = splits[protocol](dataset)
        def model() -> ImplicitALS:
            return ImplicitALS(args.factors, args.reg, args.alpha, args.iterations, args.threads)

        [row] = evaluate_topn(dataset, {label: model}, train_mask=train, test_mask=test, progress=False)
        rows.append({"protocol": protocol, **row})
        print(protocol, {k: round(v, 4) for k, v in row.items() if k.endswith("@10") and isinstance(v, float)})
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2, default=float))


if __name__ == "__main__":
    main()
