"""The blend weights the hybrid's validation chooses on a protocol's input, and why.

    .venv/bin/python bench/hybrid_weights.py --format movielens100k --path ../shared/data/ml-100k \
        --protocol temporal --validation temporal

Reads and splits the data as ``recommendations_evaluate`` does, fits the hybrid (settings'
``ENGINE_PARAMS`` plus ``--validation``) on the protocol's input and prints, as JSON, its
weights and ``validation_`` (the blend's and each component's validation ndcg@10): the
evaluate command reports lists, not the weights behind them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_shop.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("movielens100k", "completejourney"), required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--protocol", choices=("temporal", "next-item", "topn"), default="temporal")
    parser.add_argument("--validation", choices=("random", "next-item", "temporal"), default="random")
    args = parser.parse_args()

    import django

    django.setup()
    from recommendations import sources
    from recommendations.algorithms.dataset import Dataset
    from recommendations.algorithms.hybrid import HybridRecommender
    from recommendations.conf import app_settings
    from recommendations.evaluation import next_item_split, split_topn, temporal_split

    events, products = sources.RESEARCH_READERS[args.format](args.path)
    dataset = Dataset.from_frames(events, products, event_weights=app_settings.EVENT_WEIGHTS,
                                  decay_half_life_days=app_settings.TIME_DECAY_HALF_LIFE_DAYS)
    split = {"temporal": temporal_split, "next-item": next_item_split, "topn": lambda d: split_topn(d, seed=42)}
    train, _ = split[args.protocol](dataset)
    params = {**app_settings.ENGINE_PARAMS.get("hybrid", {}), "validation": args.validation}
    model = HybridRecommender(**params).fit(dataset.subset(train))
    print(json.dumps({"weights": dict(zip(model.names, model.weights_.round(3).tolist())),
                      "validation": model.validation_}, default=float))


if __name__ == "__main__":
    main()
