"""Engine registry: name -> class, imported lazily.

``ENGINES`` maps each engine name to its class, loaded on first access, so that importing this
package (or loading a saved ``.npz`` model) never imports TensorFlow: ``deep`` is only
imported when that engine is looked up.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from .base import Recommender

#: engine name -> (module, class name)
ENGINE_PATHS: dict[str, tuple[str, str]] = {
    "popular": ("popular", "PopularRecommender"),
    "trending": ("popular", "TrendingRecommender"),
    "user_cf": ("user_cf", "UserCFRecommender"),
    "item_cf": ("item_cf", "ItemCFRecommender"),
    "content": ("content", "ContentRecommender"),
    "deep": ("deep", "DeepRecommender"),
    "sequence": ("sequence", "SequenceRecommender"),
    "hybrid": ("hybrid", "HybridRecommender"),
    "rating": ("rating", "RatingRecommender"),
    "als": ("hybrid", "ALSRecommender"),
}

#: engines that learn only from explicit ratings (stars), not from views, carts and orders;
#: kept here rather than on the classes so that asking never imports an engine's module
NEEDS_EXPLICIT_RATINGS: set[str] = {"rating"}
#: engines that learn what follows what: they need shoppers with two or more different items
NEEDS_SEQUENCES: set[str] = {"sequence"}
#: engines that need TensorFlow (the ``deep`` extra) to train; serving them never imports it
NEEDS_TENSORFLOW: set[str] = {"deep", "sequence"}


def _load_class(name: str) -> type[Recommender]:
    try:
        module_name, class_name = ENGINE_PATHS[name]
    except KeyError:
        raise KeyError(f"unknown engine {name!r}; known: {sorted(ENGINE_PATHS)}") from None
    module = importlib.import_module(f"{__name__}.{module_name}")
    try:
        return getattr(module, class_name)
    except AttributeError:
        # tolerate another class name: the module's Recommender subclass with this ``name``
        from .base import Recommender

        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Recommender) and getattr(value, "name", None) == name:
                return value
        raise


class _LazyEngines(Mapping[str, "type[Recommender]"]):
    """A read-only mapping that imports an engine's module on first lookup."""

    def __init__(self) -> None:
        self._cache: dict[str, type[Recommender]] = {}

    def __getitem__(self, name: str) -> type[Recommender]:
        if name not in self._cache:
            self._cache[name] = _load_class(name)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(ENGINE_PATHS)

    def __len__(self) -> int:
        return len(ENGINE_PATHS)

    def __contains__(self, name: object) -> bool:
        return name in ENGINE_PATHS


ENGINES: Mapping[str, type[Recommender]] = _LazyEngines()


def register(name: str, module: str, class_name: str, *, needs_explicit_ratings: bool = False) -> None:
    """Add an engine living in ``recommendations.algorithms.<module>``."""
    ENGINE_PATHS[name] = (module, class_name)
    if needs_explicit_ratings:
        NEEDS_EXPLICIT_RATINGS.add(name)


def get_engine(name: str, **params: Any) -> Recommender:
    """A fresh, unfitted engine ``name`` built with ``params``."""
    return ENGINES[name](**params)


def engine_available(name: str) -> bool:
    """Whether the engine's module exists and imports (e.g. ``deep`` needs TensorFlow)."""
    if name not in ENGINE_PATHS:
        return False
    module_name = ENGINE_PATHS[name][0]
    if importlib.util.find_spec(f"{__name__}.{module_name}") is None:
        return False
    try:
        ENGINES[name]
    except Exception:  # noqa: BLE001
        return False
    return True


def load_model(path: str | Path | BinaryIO) -> Recommender:
    """Load a saved model of any engine, reading the engine name from the .npz header."""
    import numpy as np

    if not isinstance(path, (str, Path)):  # an open binary file: read the header, then rewind
        start = path.tell()
        with np.load(path, allow_pickle=False) as npz:
            header = json.loads(npz["__header__"].tobytes().decode())
        path.seek(start)
        return ENGINES[header["engine"]].load(path)
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz["__header__"].tobytes().decode())
    return ENGINES[header["engine"]].load(path)


__all__ = ["ENGINES", "ENGINE_PATHS", "NEEDS_EXPLICIT_RATINGS", "NEEDS_SEQUENCES", "NEEDS_TENSORFLOW",
           "engine_available", "get_engine", "load_model", "register"]
