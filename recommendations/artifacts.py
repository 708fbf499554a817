"""A model version's artifact: the engine's own ``.npz`` plus the id maps that turn its
internal indices back into the shop's user and product keys, in one self-contained file.

Loading needs NumPy only — no TensorFlow, no scikit-learn — so web processes stay small. Ids are
typed arrays, never pickled objects (``allow_pickle=False`` loads them): integer keys as int64,
any other key (UUID, code) as fixed-width unicode strings; ``Bundle.use_keys`` turns them back
into the product model's own key type.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from django.core.files.storage import Storage, storages

from .algorithms import load_model
from .conf import app_settings


@dataclass
class Bundle:
    model: Any
    user_ids: np.ndarray  # shopper keys (str), index = the model's user index
    item_ids: np.ndarray  # product primary keys, index = the model's item index

    def __post_init__(self) -> None:
        self.user_index = {str(key): i for i, key in enumerate(self.user_ids.tolist())}
        self.use_keys(None)

    def use_keys(self, to_python: Callable[[Any], Any] | None) -> None:
        """Product keys as the shop's model has them (``to_python``: its primary key field's),
        e.g. UUIDs back from the strings the artifact stores: ``item_keys[i]`` is item ``i``'s."""
        keys = self.item_ids.tolist()
        self.item_keys = [to_python(key) for key in keys] if to_python else keys
        self.item_index = {key: i for i, key in enumerate(self.item_keys)}


def typed_ids(ids: Any) -> np.ndarray:
    """Ids as an array NumPy saves without pickling: int64 when every id is an integer, else
    fixed-width unicode (UUIDs, codes)."""
    values = np.asarray(ids).tolist() if isinstance(ids, np.ndarray) else list(ids)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray([str(v) for v in values], dtype=str) if values else np.asarray([], dtype="<U1")


def save_bundle(model: Any, user_ids: np.ndarray, item_ids: np.ndarray, fh: IO[bytes]) -> None:
    inner = io.BytesIO()
    model.save(inner)
    np.savez(fh, model=np.frombuffer(inner.getvalue(), dtype=np.uint8),
             user_ids=np.asarray([str(u) for u in user_ids], dtype=str), item_ids=typed_ids(item_ids))


def load_bundle(fh: IO[bytes]) -> Bundle:
    with np.load(fh, allow_pickle=False) as npz:
        model_bytes, user_ids, item_ids = npz["model"].tobytes(), npz["user_ids"], npz["item_ids"]
    return Bundle(load_model(io.BytesIO(model_bytes)), user_ids, item_ids)


def artifact_storage() -> Storage:
    """Where trained models are stored (``ARTIFACT_STORAGE``): written by training, read by
    every web process."""
    return storages[app_settings.ARTIFACT_STORAGE]
