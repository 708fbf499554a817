"""Re-ranking an engine's list for diversity or against popularity bias (pure NumPy/SciPy).

Both methods take an engine's over-fetched candidates (item indices and scores, best first,
e.g. ``5 * n`` of them) and return the re-ranked top ``n`` with their original scores. Relevance
is min-max normalised over the candidates (best 1, worst 0), so one ``strength`` means the same
for every engine's score scale. ``strength`` 0 returns the first ``n`` candidates unchanged.

* ``mmr`` / ``mmr_content``: maximal marginal relevance (Carbonell & Goldstein, 1998). Items are
  taken one at a time, each time the candidate maximising
  ``(1 - strength) * relevance - strength * max(similarity to the items already taken)``.
  Similarity is 1 between two items of the same (known) category and 0 otherwise (``mmr``), or
  the cosine of their content feature rows (``mmr_content``). ``strength`` in ``[0, 1]``.
* ``popularity``: candidates sorted by ``relevance - strength * log(1 + pop_i) / log(1 + max pop)``
  where ``pop_i`` is how many training shoppers touched item ``i`` and the maximum is taken over
  the whole catalogue, so the penalty is in ``[0, strength]``. ``strength >= 0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

METHODS = ("mmr", "mmr_content", "popularity")

Labels = Sequence[str] | Mapping[int, str] | np.ndarray


def relevance(scores: np.ndarray) -> np.ndarray:
    """Scores min-max scaled to ``[0, 1]`` (all 1 when they are all equal or not finite)."""
    s = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(s)
    if not finite.any():
        return np.ones(len(s))
    lo, hi = s[finite].min(), s[finite].max()
    if hi <= lo:
        return np.where(finite, 1.0, 0.0)
    return np.where(finite, (s - lo) / (hi - lo), 0.0)


def category_similarity(labels: Sequence[str | Sequence[str]]) -> np.ndarray:
    """1 where two items share a known category, else 0 (an empty label is unknown); an item
    may have several (a list), and shares a category with any item holding one of them."""
    if any(isinstance(x, (list, tuple, set, frozenset)) for x in labels):
        sets = [frozenset(str(v) for v in x if v) if isinstance(x, (list, tuple, set, frozenset))
                else frozenset([str(x)] if x else []) for x in labels]
        return np.array([[float(bool(a & b)) for b in sets] for a in sets])
    arr = np.asarray([str(x) if x is not None else "" for x in labels], dtype=object)
    same = arr[:, None] == arr[None, :]
    known = arr != ""
    return (same & known[:, None] & known[None, :]).astype(np.float64)


def cosine_similarity(rows: np.ndarray | sp.spmatrix) -> np.ndarray:
    """Pairwise cosine of feature rows (an all-zero row is similar to nothing)."""
    m = sp.csr_matrix(rows, dtype=np.float64) if sp.issparse(rows) else np.asarray(rows, dtype=np.float64)
    gram = (m @ m.T).toarray() if sp.issparse(m) else m @ m.T
    norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    norms[norms == 0] = np.inf
    return gram / norms[:, None] / norms[None, :]


def mmr(items: np.ndarray, scores: np.ndarray, n: int, strength: float,
        similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximal marginal relevance over candidates with a candidate x candidate ``similarity``."""
    items, scores = np.asarray(items), np.asarray(scores, dtype=np.float64)
    n = min(int(n), len(items))
    if strength <= 0 or n <= 1:
        return items[:n], scores[:n]
    gain = (1.0 - strength) * relevance(scores)
    penalty = np.zeros(len(items))
    free = np.ones(len(items), dtype=bool)
    order = []
    for _ in range(n):
        objective = np.where(free, gain - strength * penalty, -np.inf)
        j = int(np.argmax(objective))  # first of equals: ties keep the engine's order
        order.append(j)
        free[j] = False
        penalty = np.maximum(penalty, similarity[j])
    pick = np.asarray(order, dtype=np.int64)
    return items[pick], scores[pick]


def popularity_penalty(items: np.ndarray, scores: np.ndarray, n: int, strength: float,
                       popularity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidates re-sorted by relevance less ``strength`` x normalised log-popularity."""
    items, scores = np.asarray(items), np.asarray(scores, dtype=np.float64)
    n = min(int(n), len(items))
    if strength <= 0 or not len(items):
        return items[:n], scores[:n]
    pop = np.asarray(popularity, dtype=np.float64)
    top = np.log1p(max(float(pop.max()), 0.0)) if len(pop) else 0.0
    if top <= 0:
        return items[:n], scores[:n]
    penalty = np.log1p(np.clip(pop[items.astype(np.int64)], 0.0, None)) / top
    adjusted = relevance(scores) - strength * penalty
    pick = np.argsort(-adjusted, kind="stable")[:n]
    return items[pick], scores[pick]


def rerank(items: np.ndarray, scores: np.ndarray, n: int, method: str | None, strength: float, *,
           categories: Labels | None = None, vectors: np.ndarray | sp.spmatrix | None = None,
           popularity: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The top ``n`` of the candidates after ``method`` (None: no re-ranking).

    ``categories`` (indexable by item index), ``vectors`` (rows by item index) and
    ``popularity`` (by item index, the whole catalogue) are what the method needs; when it is
    missing, the candidates keep their order.
    """
    items, scores = np.asarray(items), np.asarray(scores, dtype=np.float64)
    if not method or strength <= 0:
        return items[:n], scores[:n]
    if method not in METHODS:
        raise ValueError(f"unknown re-ranking method {method!r}; choose from {', '.join(METHODS)}")
    if method == "popularity":
        if popularity is None:
            return items[:n], scores[:n]
        return popularity_penalty(items, scores, n, strength, popularity)
    if method == "mmr_content":
        if vectors is None:
            return items[:n], scores[:n]
        similarity = cosine_similarity(vectors[items.astype(np.int64)])
    else:
        if categories is None:
            return items[:n], scores[:n]
        similarity = category_similarity([categories[int(i)] for i in items])
    return mmr(items, scores, n, min(float(strength), 1.0), similarity)


def parse(spec: str) -> tuple[str, float]:
    """``"mmr:0.3"`` -> ``("mmr", 0.3)``; raises ``ValueError`` for a bad method or strength."""
    method, sep, value = str(spec).strip().partition(":")
    if method not in METHODS or not sep:
        raise ValueError(f"re-ranking {spec!r}: write METHOD:STRENGTH, METHOD one of {', '.join(METHODS)}")
    try:
        strength = float(value)
    except ValueError:
        raise ValueError(f"re-ranking {spec!r}: strength {value!r} is not a number") from None
    if not np.isfinite(strength) or strength < 0 or (method != "popularity" and strength > 1):
        raise ValueError(f"re-ranking {spec!r}: strength must be in [0, 1] for MMR, >= 0 for popularity")
    return method, strength
