"""The small interface every engine shares, in the manner of implicit and scikit-learn."""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from .dataset import Dataset

#: A shopper's history for request-time folding-in: internal item index -> weight.
History = dict[int, float]


class NotFittedError(RuntimeError):
    pass


class Recommender(ABC):
    """Fit on a :class:`Dataset`; answer with internal item indices and scores.

    ``recommend`` takes either a known user index or a ``history`` (for anonymous shoppers,
    new users, or a user whose latest events are newer than the model); engines that cannot
    fold in a history fall back to the user's row. Results are ``(items, scores)`` arrays,
    best first, never containing excluded items.
    """

    name: ClassVar[str]

    @abstractmethod
    def fit(self, dataset: Dataset) -> Self: ...

    def recommend(
        self,
        user: int | None = None,
        *,
        history: History | None = None,
        n: int = 10,
        exclude: np.ndarray | list[int] | None = None,
        exclude_seen: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Default for engines that score every item (``score_all``) and keep the training
        matrix as ``seen_``: the top ``n`` scores, less seen and excluded items."""
        scores = self.score_all(user, history)  # type: ignore[attr-defined]
        ex = exclusion(self.seen_, user, history, exclude, exclude_seen, len(scores))  # type: ignore[attr-defined]
        return top_n(scores, n, ex)

    @abstractmethod
    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]: ...

    # -- persistence: one .npz holding arrays plus a JSON header -------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (JSON-serialisable)."""
        return {}

    def _constructor_params(self) -> dict[str, Any]:
        """Every constructor argument, read back from the attribute of the same name: the
        ``get_params`` of an engine that stores each argument as it came (scikit-learn's rule)."""
        return {name: getattr(self, name) for name in list(inspect.signature(type(self).__init__).parameters)[1:]}

    @abstractmethod
    def _state(self) -> dict[str, np.ndarray | sp.spmatrix]: ...

    @abstractmethod
    def _set_state(self, state: dict[str, np.ndarray]) -> None: ...

    def save(self, path: str | Path | BinaryIO) -> None:
        arrays: dict[str, Any] = {}  # np.savez(**arrays): Any, or numpy's stubs read a key as allow_pickle
        for key, value in self._state().items():
            if sp.issparse(value):
                csr = sp.csr_matrix(value)
                arrays[f"{key}__data"] = csr.data
                arrays[f"{key}__indices"] = csr.indices
                arrays[f"{key}__indptr"] = csr.indptr
                arrays[f"{key}__shape"] = np.array(csr.shape)
            else:
                arrays[key] = np.asarray(value)
        header = {"engine": self.name, "params": self.get_params()}
        arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        if hasattr(path, "write"):  # an open binary file
            np.savez(path, **arrays)
            return
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | Path | BinaryIO) -> Self:
        with np.load(path, allow_pickle=False) as npz:
            raw = {key: npz[key] for key in npz.files}
        header = json.loads(raw.pop("__header__").tobytes().decode())
        if header["engine"] != cls.name:
            raise ValueError(f"{path} holds a {header['engine']!r} model, not {cls.name!r}")
        state: dict[str, Any] = {}
        for key in list(raw):
            if key.endswith("__shape"):
                base = key[: -len("__shape")]
                state[base] = sp.csr_matrix(
                    (raw.pop(f"{base}__data"), raw.pop(f"{base}__indices"), raw.pop(f"{base}__indptr")),
                    shape=tuple(raw.pop(key)),
                )
        state.update(raw)
        model = cls(**header["params"])
        model._set_state(state)
        return model


def top_n(scores: np.ndarray, n: int, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``n`` largest scores, best first, skipping ``exclude``."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    if exclude is not None and len(exclude):
        scores[np.asarray(exclude, dtype=np.int64)] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    if n <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    idx = np.argpartition(-scores, n - 1)[:n]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return idx, scores[idx]


# -- helpers shared by the engines ----------------------------------------------------------
def history_vector(history: History | None, n_items: int) -> np.ndarray:
    """Dense float32 vector of a request-time ``history`` (unknown / out-of-range items dropped)."""
    vec = np.zeros(n_items, dtype=np.float32)
    if history:
        for item, weight in history.items():
            item = int(item)
            if 0 <= item < n_items:
                vec[item] += float(weight)
    return vec


def user_profile(
    seen: sp.csr_matrix | None, user: int | None, history: History | None, n_items: int
) -> np.ndarray:
    """A shopper's profile vector: the stored row of a known ``user`` plus the ``history``."""
    vec = history_vector(history, n_items)
    if user is not None and seen is not None and 0 <= int(user) < seen.shape[0]:
        row = seen[int(user)]
        vec[row.indices] += row.data.astype(np.float32)
    return vec


def exclusion(
    seen: sp.csr_matrix | None,
    user: int | None,
    history: History | None,
    exclude: np.ndarray | list[int] | None,
    exclude_seen: bool,
    n_items: int,
) -> np.ndarray:
    """Item indices never to return: ``exclude`` plus (if ``exclude_seen``) the seen items."""
    parts = [np.asarray(exclude if exclude is not None else [], dtype=np.int64).ravel()]
    if exclude_seen:
        if user is not None and seen is not None and 0 <= int(user) < seen.shape[0]:
            parts.append(seen[int(user)].indices.astype(np.int64))
        if history:
            parts.append(np.fromiter((int(i) for i in history), dtype=np.int64))
    out = np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
    return out[(out >= 0) & (out < n_items)]
