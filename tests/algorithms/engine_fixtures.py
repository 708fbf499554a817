"""Small generated data sets with planted structure, shared by the engine tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommendations.algorithms.dataset import Dataset, ItemFeatures


def two_groups(n_users: int = 60, n_items: int = 40, per_user: int = 10, seed: int = 0,
               kind: int = 3, features: bool = False) -> Dataset:
    """Users 0..n/2-1 only touch items 0..m/2-1 and the rest only the other half."""
    rng = np.random.default_rng(seed)
    half_u, half_i = n_users // 2, n_items // 2
    users, items = [], []
    for u in range(n_users):
        lo = 0 if u < half_u else half_i
        # a popularity skew inside each group so rankings are not all ties
        p = np.linspace(2.0, 1.0, half_i)
        chosen = rng.choice(np.arange(lo, lo + half_i), size=per_user, replace=False, p=p / p.sum())
        users += [u] * per_user
        items += chosen.tolist()
    n = len(users)
    feats = None
    if features:
        cat = ["groupA" if i < half_i else "groupB" for i in range(n_items)]
        feats = ItemFeatures([f"item {i}" for i in range(n_items)], [f"about {c}" for c in cat], cat,
                             [""] * n_items, np.full(n_items, np.nan))
    return Dataset(
        user_ids=np.arange(n_users) + 1000,
        item_ids=np.arange(n_items) + 500,
        user=np.array(users),
        item=np.array(items),
        kind=np.full(n, kind),
        value=np.full(n, 4.0 if kind == 4 else 1.0),
        timestamp=np.arange(n, dtype=float) * 3600.0,
        item_features=feats,
    )


def group_of_item(item: int, n_items: int = 40) -> int:
    return 0 if item < n_items // 2 else 1


def latent_ratings(n_users: int = 120, n_items: int = 80, density: float = 0.3, seed: int = 1) -> pd.DataFrame:
    """Explicit ratings from a rank-2 latent model plus biases (clipped 1..5) as an events frame."""
    rng = np.random.default_rng(seed)
    pu = rng.normal(0, 1, (n_users, 2))
    qi = rng.normal(0, 1, (n_items, 2))
    bu = rng.normal(0, 0.4, n_users)
    bi = rng.normal(0, 0.6, n_items)
    rows = []
    for u in range(n_users):
        for i in range(n_items):
            if rng.random() < density:
                r = 3.5 + bu[u] + bi[i] + 0.8 * pu[u] @ qi[i] + rng.normal(0, 0.3)
                rows.append((u, i, "rating", float(u * 1000 + i), float(np.clip(np.round(r), 1, 5))))
    return pd.DataFrame(rows, columns=["user_id", "product_id", "event", "timestamp", "value"])
