"""A model version's artifact: the engine's own ``.npz`` plus the id maps that turn its
internal indices back into the shop's user and product keys, in one self-contained file.

Loading needs NumPy only — no TensorFlow, no scikit-learn — so web processes stay small.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .algorithms import load_model


@dataclass
class Bundle:
    model: Any
    user_ids: np.ndarray  # shopper keys (str), index = the model's user index
    item_ids: np.ndarray  # product primary keys, index = the model's item index

    def __post_init__(self) -> None:
        self.user_index = {str(key): i for i, key in enumerate(self.user_ids.tolist())}
        self.item_index = {key: i for i, key in enumerate(self.item_ids.tolist())}


def save_bundle(model: Any, user_ids: np.ndarray, item_ids: np.ndarray, fh: IO[bytes]) -> None:
    inner = io.BytesIO()
    model.save(inner)
    np.savez(fh, model=np.frombuffer(inner.getvalue(), dtype=np.uint8),
             user_ids=np.asarray([str(u) for u in user_ids]),
             item_ids=np.asarray(np.asarray(item_ids).tolist()))


def load_bundle(fh: IO[bytes]) -> Bundle:
    with np.load(fh, allow_pickle=False) as npz:
        model_bytes, user_ids, item_ids = npz["model"].tobytes(), npz["user_ids"], npz["item_ids"]
    return Bundle(load_model(io.BytesIO(model_bytes)), user_ids, item_ids)
