"""``hybrid`` (and its matrix-factorisation component ``als``).

``als``: implicit-feedback ALS (Hu, Koren & Volinsky 2008) in NumPy: confidence
``1 + alpha * x``, all users (items) solved at once by a few conjugate-gradient steps per
sweep, so memory is O(nnz + (users + items) * factors). A request-time history folds in by
solving one small ridge system against the item factors.

``hybrid``: blends component engines built by name through the registry. Each component's
scores are normalised per shopper (``zscore``, ``minmax`` or ``rank``) and mixed with weights
tuned on a validation split carved from the training data (ndcg@10 over a grid on the
simplex; with many components, coordinate ascent with steps of 0.1, then 0.05 and 0.025).
Cold start: a shopper without history gets ``trending``; a short history blends in
``content`` (when that engine is among the components and item features exist); items with
no interactions get their score from ``content`` / ``deep`` when present.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, exclusion, top_n, user_profile
from .dataset import Dataset
from .item_cf import normalised_matrix


# ---------------------------------------------------------------------------------------------
# implicit ALS
# ---------------------------------------------------------------------------------------------
def _pair_dots(x: np.ndarray, rows: np.ndarray, other: np.ndarray, cols: np.ndarray,
               chunk: int = 4096) -> np.ndarray:
    """``x[rows[t]] . other[cols[t]]`` for every t, a few thousand pairs at a time: the gathered
    rows stay in cache instead of two nnz x factors arrays (2 x 2 GB at 3 M interactions and 96
    factors), about three times faster at 1 M events and the same values."""
    out = np.empty(len(rows))
    for start in range(0, len(rows), chunk):
        stop = min(start + chunk, len(rows))
        out[start:stop] = np.einsum("ij,ij->i", x[rows[start:stop]], other[cols[start:stop]])
    return out


def _cg_sweep(conf: sp.csr_matrix, other: np.ndarray, current: np.ndarray, reg: float, steps: int) -> np.ndarray:
    """One ALS half-sweep for every row at once: solve (OtO + O^T C'_u O + reg I) x_u = O^T c_u.

    ``conf`` holds ``alpha * x`` (so the confidence is ``1 + conf``); preferences are 1 where
    ``conf`` is non-zero. Conjugate gradient, warm-started from ``current``.
    """
    conf = conf.tocsr()
    if not conf.has_canonical_format:
        conf = conf.copy()
        conf.sum_duplicates()
    rows = np.repeat(np.arange(conf.shape[0], dtype=np.int64), np.diff(conf.indptr))
    cols, c = conf.indices, conf.data.astype(np.float64)
    n = conf.shape[0]
    gram = other.T @ other + reg * np.eye(other.shape[1])

    def weighted(values: np.ndarray) -> sp.csr_matrix:  # conf's structure, other values
        return sp.csr_matrix((values, cols, conf.indptr), shape=conf.shape)

    def matvec(x: np.ndarray) -> np.ndarray:
        s = _pair_dots(x, rows, other, cols) * c
        extra = weighted(s) @ other
        return x @ gram + extra

    b = weighted(1.0 + c) @ other
    x = current.copy()
    r = b - matvec(x)
    p = r.copy()
    rs = np.einsum("ij,ij->i", r, r)
    for _ in range(steps):
        ap = matvec(p)
        denom = np.einsum("ij,ij->i", p, ap)
        a = np.where(denom > 0, rs / np.maximum(denom, 1e-30), 0.0)
        x += a[:, None] * p
        r -= a[:, None] * ap
        rs_new = np.einsum("ij,ij->i", r, r)
        beta = np.where(rs > 0, rs_new / np.maximum(rs, 1e-30), 0.0)
        p = r + beta[:, None] * p
        rs = rs_new
    empty = np.diff(conf.indptr) == 0
    x[empty] = 0.0
    return x[:n]


class ALSRecommender(Recommender):
    """Implicit ALS with conjugate-gradient sweeps; folds in histories at request time."""

    name = "als"

    def __init__(
        self,
        factors: int = 96,
        reg: float = 80.0,
        alpha: float = 15.0,
        iterations: int = 15,
        cg_steps: int = 3,
        binary: bool = True,
        seed: int = 0,
    ) -> None:
        self.factors = int(factors)
        self.reg = float(reg)
        self.alpha = float(alpha)
        self.iterations = int(iterations)
        self.cg_steps = int(cg_steps)
        self.binary = binary
        self.seed = int(seed)
        self.user_factors_: np.ndarray | None = None
        self.item_factors_: np.ndarray | None = None
        self.seen_: sp.csr_matrix | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "reg": self.reg,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "cg_steps": self.cg_steps,
            "binary": self.binary,
            "seed": self.seed,
        }

    def fit(self, dataset: Dataset) -> Self:
        x = normalised_matrix(dataset, self.binary)
        conf = x.copy()
        conf.data = conf.data * self.alpha
        conf_t = conf.T.tocsr()
        rng = np.random.default_rng(self.seed)
        users = rng.normal(0, 0.01, (dataset.n_users, self.factors))
        items = rng.normal(0, 0.01, (dataset.n_items, self.factors))
        for _ in range(self.iterations):
            users = _cg_sweep(conf, items, users, self.reg, self.cg_steps)
            items = _cg_sweep(conf_t, users, items, self.reg, self.cg_steps)
        self.user_factors_ = users.astype(np.float32)
        self.item_factors_ = items.astype(np.float32)
        self.seen_ = x
        self._prepare()
        return self

    def _prepare(self) -> None:
        self._items64 = self.item_factors_.astype(np.float64)
        self._yty = self._items64.T @ self._items64

    def _check(self) -> None:
        if self.item_factors_ is None:
            raise NotFittedError("als is not fitted")

    def user_vector(self, user: int | None = None, history: History | None = None) -> np.ndarray:
        """The stored factors of a known user, or folded in (exact solve) when a history is given."""
        self._check()
        n_items = self.item_factors_.shape[0]
        known = user is not None and 0 <= int(user) < self.user_factors_.shape[0]
        if not history and known:
            return self.user_factors_[int(user)].astype(np.float64)
        profile = user_profile(self.seen_, user if known else None, history, n_items)
        nz = np.flatnonzero(profile)
        if len(nz) == 0:
            return np.zeros(self.factors)
        vals = profile[nz].astype(np.float64)
        if self.binary:
            vals = np.ones_like(vals)
        y = self.item_factors_[nz].astype(np.float64)
        c = self.alpha * vals
        a = self._yty + (y.T * c) @ y + self.reg * np.eye(self.factors)
        return np.linalg.solve(a, y.T @ (1.0 + c))

    def score_all(self, user: int | None = None, history: History | None = None) -> np.ndarray:
        return self._items64 @ self.user_vector(user, history)

    def score_users(self, users: np.ndarray) -> np.ndarray:
        self._check()
        return self.user_factors_[users].astype(np.float64) @ self._items64.T

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        y = self.item_factors_.astype(np.float64)
        norms = np.linalg.norm(y, axis=1)
        sims = y @ y[int(item)] / np.maximum(norms * norms[int(item)], 1e-12)
        sims[norms == 0] = -np.inf
        return top_n(sims, n, np.array([int(item)]))

    def _state(self) -> dict[str, Any]:
        self._check()
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_, "seen": self.seen_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = np.asarray(state["user_factors"], dtype=np.float32)
        self.item_factors_ = np.asarray(state["item_factors"], dtype=np.float32)
        self.seen_ = sp.csr_matrix(state["seen"])
        self._prepare()


# ---------------------------------------------------------------------------------------------
# hybrid
# ---------------------------------------------------------------------------------------------
DEFAULT_COMPONENTS: dict[str, dict[str, Any]] = {
    "item_cf": {},
    "als": {},
    "user_cf": {},
    "popular": {},
    "user_cf:kernel": {"method": "kernel"},
    "item_cf:spectral": {"method": "spectral"},
    "item_cf:adjacency": {"method": "adjacency", "window": 10, "l2": 20.0},
    "trending": {},
}
#: Engines that can score items without interactions (new products).
CONTENT_ENGINES = ("content", "deep")
#: Engines whose merit is recency alone: a random hold-out scatters the held-out items over the
#: whole time span, so it cannot tell what they are worth; they join a ``temporal`` validation.
RECENCY_ENGINES = ("trending",)
#: The ``validation`` choices: random hold-outs, each shopper's last item, or time windows.
VALIDATIONS = ("random", "next-item", "temporal")


def default_components() -> dict[str, dict[str, Any]]:
    """item_cf (EASE), als, user_cf (neighbours and kernel), item_cf:spectral,
    item_cf:adjacency, popular and trending (used with ``validation="temporal"`` only, see
    ``_usable``), plus
    ``content`` when that engine is installed
    (it scores new items and short histories). Every component gets a blend weight only as far
    as it helps on validation.

    ``item_cf:adjacency`` (EASE over items within 10 places of each other in a shopper's
    time-ordered history, ``l2`` 20; issue #19) lifted ML-100K's validation ndcg@10 from 0.2088
    to 0.2128 and test from 0.4619 to 0.4666; window and penalty were chosen on the mean
    validation score over three validation seeds (docs/benchmarks.md).

    ``deep`` is not a default component: on ML-100K (before the kernel and spectral components)
    it lifted validation ndcg@10 only from 0.287 to 0.290 (test: 0.4534 with it, 0.4538
    without) while tripling the hybrid's fit time
    (three TensorFlow trainings). With the wide-and-deep engine (issue #19, 0.4579 alone) as a
    component, the hybrid scored 0.4598 against 0.4619 without it, its fit 639 s against 75 s
    (docs/benchmarks.md). Add it with ``components=[..., "deep"]`` where that pays.

    ``sequence`` (the self-attentive next-item engine) is a candidate wherever TensorFlow is
    installed; it joins a hybrid validated on ``next-item`` of a shop with
    ``sequence_min_events`` events, where validation gives it the weight it earns, possibly 0."""
    from importlib.util import find_spec

    comps = {name: dict(params) for name, params in DEFAULT_COMPONENTS.items()}
    if find_spec(f"{__package__}.content") is not None:
        comps["content"] = {}
    if find_spec("tensorflow") is not None:  # used with validation="next-item" (see _usable)
        comps["sequence"] = {}
    return comps


def normalise_scores(scores: np.ndarray, candidates: np.ndarray | None, method: str) -> np.ndarray:
    """Per-shopper normalisation of one engine's scores (rows = shoppers, columns = items).

    Statistics are taken over the candidate items (``candidates`` boolean, same shape) only;
    non-finite scores count as the worst candidate. ``zscore``: (s - mean) / std; ``minmax``:
    onto [0, 1]; ``rank``: percentile rank in [0, 1] (1 = best).
    """
    s = np.array(scores, dtype=np.float64, ndmin=2, copy=True)
    cand = np.ones_like(s, dtype=bool) if candidates is None else np.array(candidates, dtype=bool, ndmin=2)
    finite = np.isfinite(s)
    valid = cand & finite
    lo = np.where(valid, s, np.inf).min(axis=1, keepdims=True)
    lo = np.where(np.isfinite(lo), lo, 0.0)
    s = np.where(finite, s, lo)
    if method == "zscore":
        cnt = np.maximum(cand.sum(axis=1, keepdims=True), 1)
        mean = np.where(cand, s, 0.0).sum(axis=1, keepdims=True) / cnt
        var = np.where(cand, (s - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / cnt
        out = (s - mean) / np.where(var > 0, np.sqrt(var), 1.0)
    elif method == "minmax":
        hi = np.where(cand, s, -np.inf).max(axis=1, keepdims=True)
        lo = np.where(cand, s, np.inf).min(axis=1, keepdims=True)
        hi = np.where(np.isfinite(hi), hi, 0.0)
        lo = np.where(np.isfinite(lo), lo, 0.0)
        out = (s - lo) / np.where(hi > lo, hi - lo, 1.0)
    elif method == "rank":
        masked = np.where(cand, s, -np.inf)
        order = np.argsort(-masked, axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(s.shape[1])[None, :], axis=1)
        cnt = np.maximum(cand.sum(axis=1, keepdims=True), 1)
        out = 1.0 - ranks / cnt
    else:
        raise ValueError("normalisation must be 'zscore', 'minmax' or 'rank'")
    return np.where(cand, out, 0.0)


def _simplex_grid(n: int, step: float) -> list[np.ndarray]:
    units = int(round(1.0 / step))
    out = []
    for combo in itertools.product(range(units + 1), repeat=n - 1):
        if sum(combo) <= units:
            out.append(np.array([*combo, units - sum(combo)], dtype=np.float64) / units)
    return out


def _batch_ndcg(blend: np.ndarray, relevant: np.ndarray, n_relevant: np.ndarray | None = None,
                k: int = 10) -> float:
    """Mean ndcg@k of row-wise rankings of ``blend`` (-inf = not a candidate); ``relevant`` is a
    0/1 array of the same shape; ``n_relevant`` (default: row sums) sets the ideal DCG."""
    kk = min(k, blend.shape[1])
    top = np.argpartition(-blend, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(blend, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    hits = np.take_along_axis(relevant, top, axis=1) * np.isfinite(np.take_along_axis(blend, top, axis=1))
    disc = 1.0 / np.log2(np.arange(2, kk + 2))
    dcg = (hits * disc).sum(axis=1)
    n_rel = relevant.sum(axis=1) if n_relevant is None else np.asarray(n_relevant)
    n_rel = np.minimum(n_rel, kk).astype(int)
    idcg = np.cumsum(disc)[np.maximum(n_rel - 1, 0)]
    return float(np.mean(np.where(n_rel > 0, dcg / idcg, 0.0)))


class HybridRecommender(Recommender):
    """Weighted blend of normalised component scores, with cold-start routing.

    ``components``: engine name -> constructor params (or a list of names). ``weights``: fixed
    blend weights in component order (None: tuned on a validation split carved from the
    training data when ``tune``; equal otherwise; on a shop with more than
    ``validation_max_events`` events the validation folds are carved from a random set of
    shoppers holding about that many). Each of the ``validation_folds`` folds holds out
    ``validation_fraction`` of every shopper's training items: four folds of 10 % rather than
    two of 20 % fit the components on data nearly as dense as the final fit's, so the weights
    suit the final components (on ML-100K, with the kernel's rows undamped, test ndcg@10
    0.4593-0.4601 over five seeds against 0.4548-0.4609). ``fallback``: engine for shoppers without
    history (``trending``). ``short_history``: below this many distinct items a present
    ``content`` component gets ``short_history_content_weight`` added to its weight (default 0:
    0.5 cost 17-26 % of the ndcg@10 after one view of an anonymous session on the demo's data and
    changed nothing on ML-100K, docs/benchmarks.md).
    ``sequence_min_events``: below it, or without ``next-item`` validation, a ``sequence``
    component is left out (see ``_usable``).
    ``validation``: ``random`` (the folds above), ``next-item`` (one fold holding out each
    shopper's last item by time: the weights then favour what predicts the next action, e.g.
    the ``sequence`` component, where that is what the shop's lists are for) or ``temporal``
    (rolling-origin folds: fold f fits on every event before a global time cut and validates on
    what shoppers did in the next ``validation_fraction`` of the time span, fold 0 ending at the
    last event, each later fold one window further back; recency components such as
    ``trending`` take part only here, where the future is what is predicted).
    """

    name = "hybrid"

    def __init__(
        self,
        components: dict[str, dict[str, Any]] | list[str] | None = None,
        weights: list[float] | None = None,
        normalisation: str = "zscore",
        tune: bool = True,
        tune_step: float = 0.1,
        validation_fraction: float = 0.1,
        max_validation_users: int = 3000,
        validation_folds: int = 4,
        validation_max_events: int | None = 1_000_000,
        pool_size: int = 100,
        seed: int = 1234,
        fallback: str = "trending",
        fallback_params: dict[str, Any] | None = None,
        short_history: int = 5,
        short_history_content_weight: float = 0.0,
        new_item_weight: float = 1.0,
        sequence_min_events: int = 50_000,
        validation: str = "random",
    ) -> None:
        if components is None:
            components = default_components()
        elif isinstance(components, (list, tuple)):
            components = {name: {} for name in components}
        if not components:
            raise ValueError("hybrid needs at least one component")
        if validation not in VALIDATIONS:
            raise ValueError(f"validation must be one of {', '.join(VALIDATIONS)}")
        if normalisation not in {"zscore", "minmax", "rank"}:
            raise ValueError("normalisation must be 'zscore', 'minmax' or 'rank'")
        self.components = {str(k): dict(v) for k, v in components.items()}
        self.weights = None if weights is None else [float(w) for w in weights]
        if self.weights is not None and len(self.weights) != len(self.components):
            raise ValueError("one weight per component")
        self.normalisation = normalisation
        self.tune = tune
        self.tune_step = float(tune_step)
        self.validation_fraction = float(validation_fraction)
        self.max_validation_users = int(max_validation_users)
        self.validation_folds = int(validation_folds)
        self.validation_max_events = None if validation_max_events is None else int(validation_max_events)
        self.pool_size = int(pool_size)
        self.seed = int(seed)
        self.fallback = fallback
        self.fallback_params = dict(fallback_params or {})
        self.short_history = int(short_history)
        self.short_history_content_weight = float(short_history_content_weight)
        self.new_item_weight = float(new_item_weight)
        self.sequence_min_events = int(sequence_min_events)
        self.validation = validation
        self.models_: list[Recommender] | None = None
        self.fallback_model_: Recommender | None = None
        self.weights_: np.ndarray | None = None
        self.seen_: sp.csr_matrix | None = None
        self.item_counts_: np.ndarray | None = None
        self.validation_: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "components": self.components,
            "weights": self.weights,
            "normalisation": self.normalisation,
            "tune": self.tune,
            "tune_step": self.tune_step,
            "validation_fraction": self.validation_fraction,
            "max_validation_users": self.max_validation_users,
            "validation_folds": self.validation_folds,
            "validation_max_events": self.validation_max_events,
            "pool_size": self.pool_size,
            "seed": self.seed,
            "fallback": self.fallback,
            "fallback_params": self.fallback_params,
            "short_history": self.short_history,
            "short_history_content_weight": self.short_history_content_weight,
            "new_item_weight": self.new_item_weight,
            "sequence_min_events": self.sequence_min_events,
            "validation": self.validation,
        }

    @property
    def names(self) -> list[str]:
        return list(self.components)

    @staticmethod
    def engine_of(key: str) -> str:
        """Component keys are engine names, optionally labelled: ``item_cf:rp3``."""
        return key.split(":", 1)[0]

    def _usable(self, key: str, dataset: Dataset) -> bool:
        """Content engines need item features. Sequence engines need the ``next-item``
        validation (a random hold-out cannot tell what the order is worth: on data where the
        order is everything it gives them weight 0, after four costly fits) and
        ``sequence_min_events`` events (fewer are too few sequences to learn from). Every engine
        needs its module to import. Recency engines (``trending``) need the ``temporal``
        validation: only folds that hold out the future can give them the weight they earn."""
        from . import NEEDS_SEQUENCES, engine_available

        engine = self.engine_of(key)
        if engine in CONTENT_ENGINES and dataset.item_features is None:
            return False
        if engine in RECENCY_ENGINES and self.validation != "temporal":
            return False
        if engine in NEEDS_SEQUENCES and (self.validation != "next-item"
                                          or dataset.n_events < self.sequence_min_events):
            return False
        return engine_available(engine)

    def _build(self, name: str) -> Recommender:
        from . import get_engine

        return get_engine(self.engine_of(name), **self.components[name])

    # -- training ---------------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> Self:
        from . import get_engine

        usable = {k: v for k, v in self.components.items() if self._usable(k, dataset)}
        if not usable:
            raise ValueError("none of the hybrid's components can run on this data")
        if len(usable) != len(self.components):
            if self.weights is not None:
                self.weights = [w for k, w in zip(self.components, self.weights) if k in usable]
            self.components = usable
        names = self.names
        if self.weights is not None:
            self.weights_ = np.asarray(self.weights, dtype=np.float64)
        elif self.tune and len(names) > 1:
            self.weights_ = self._tune(dataset)
        else:
            self.weights_ = np.full(len(names), 1.0 / len(names))
        self.models_ = [self._build(name).fit(dataset) for name in names]
        self.fallback_model_ = get_engine(self.fallback, **self.fallback_params).fit(dataset)
        seen = dataset.matrix.astype(np.float32).tocsr(copy=True)
        self.seen_ = seen
        self.item_counts_ = np.diff(seen.tocsc().indptr).astype(np.int64)
        return self

    def _tune(self, dataset: Dataset) -> np.ndarray:
        """Blend weights maximising mean ndcg@10 over ``validation_folds`` validation splits
        carved from ``dataset`` (each holds out ``validation_fraction`` of every user's items, or
        of the time span with ``validation="temporal"``)."""
        n_folds = 1 if self.validation == "next-item" else max(1, self.validation_folds)  # one last item
        folds = [self._validation_fold(dataset, self.seed + f, f) for f in range(n_folds)]
        folds = [f for f in folds if f is not None]
        n_comp = len(self.components)
        if not folds:
            return np.full(n_comp, 1.0 / n_comp)

        def score(w: np.ndarray) -> float:
            total = 0.0
            for mats, valid, rel, n_rel in folds:
                blend = sum(wi * m for wi, m in zip(w, mats) if wi > 0)
                total += _batch_ndcg(np.where(valid, blend, -np.inf), rel, n_rel)
            return total / len(folds)

        single = {}
        for j, name in enumerate(self.names):
            w = np.zeros(n_comp)
            w[j] = 1.0
            single[name] = score(w)
        best_w, best = None, -1.0
        if math.comb(int(round(1 / self.tune_step)) + n_comp - 1, n_comp - 1) <= 4000:
            for w in _simplex_grid(n_comp, self.tune_step):
                value = score(w)
                if value > best + 1e-9:
                    best, best_w = value, w
        else:  # coordinate ascent from the best single engine, then with finer steps
            best_w = np.zeros(n_comp)
            best_w[int(np.argmax([single[n] for n in self.names]))] = 1.0
            best = max(single.values())
            for step in (self.tune_step, self.tune_step / 2, self.tune_step / 4):
                best_w, best = self._ascend(score, best_w, best, step)
        self.validation_ = {"ndcg@10": best, "single": single, "folds": len(folds),
                            "users": int(sum(len(f[3]) for f in folds))}
        return np.asarray(best_w, dtype=np.float64)

    @staticmethod
    def _ascend(score, w: np.ndarray, value: float, step: float) -> tuple[np.ndarray, float]:
        """Move one weight by +-``step`` (renormalised) while that improves ``score``."""
        improved = True
        while improved:
            improved = False
            for j, delta in itertools.product(range(len(w)), (step, -step)):
                trial = w.copy()
                trial[j] = max(0.0, trial[j] + delta)
                if trial.sum() <= 0:
                    continue
                trial /= trial.sum()
                trial_value = score(trial)
                if trial_value > value + 1e-6:
                    w, value, improved = trial, trial_value, True
        return w, value

    def _validation_sample(self, dataset: Dataset, seed: int) -> Dataset:
        """The shoppers a validation fold is carved from: all of them up to
        ``validation_max_events`` events; above it, a random set of whole shoppers whose events
        add up to at most that. The weights only need the components' relative merit, and the
        folds' component fits then cost what they cost on a shop of that size (ALS above all)."""
        cap = self.validation_max_events
        if cap is None or dataset.n_events <= cap:
            return dataset
        per_user = np.bincount(dataset.user, minlength=dataset.n_users)
        order = np.random.default_rng(seed).permutation(dataset.n_users)
        chosen = order[np.cumsum(per_user[order]) <= cap]
        keep = np.zeros(dataset.n_users, dtype=bool)
        keep[chosen] = True
        return dataset.subset(keep[dataset.user])

    def _validation_fold(self, dataset: Dataset, seed: int, fold: int = 0):
        """One validation split: per component, each user's normalised scores restricted to a
        candidate pool (the union of every component's top ``pool_size``), so memory stays
        O(users x pool) whatever the catalogue size. Returns (scores per component, valid
        mask, relevance, number of relevant items per user), all users x pool."""
        from ..evaluation import next_item_split, relevant_by_user, split_topn, temporal_split

        dataset = self._validation_sample(dataset, seed)
        if self.validation == "next-item":
            fit_mask, val_mask = next_item_split(dataset)
        elif self.validation == "temporal":
            try:
                fit_mask, val_mask = temporal_split(dataset, self.validation_fraction,
                                                    before=fold * self.validation_fraction)
            except ValueError:  # the window holds no events (or nothing is before it)
                return None
        else:
            fit_mask, val_mask = split_topn(dataset, self.validation_fraction, seed=seed)
        fit_part = dataset.subset(fit_mask)
        relevant = relevant_by_user(dataset, val_mask)
        users = np.array(sorted(relevant), dtype=np.int64)
        if len(users) > self.max_validation_users:
            users = np.sort(np.random.default_rng(seed).choice(users, self.max_validation_users, replace=False))
        if len(users) == 0:
            return None
        n_items, n_comp = dataset.n_items, len(self.components)
        m = min(self.pool_size, n_items)
        width = min(n_items, m * n_comp)
        seen = fit_part.matrix.tocsr()
        models = [self._build(name).fit(fit_part) for name in self.names]
        pools = np.full((len(users), width), -1, dtype=np.int64)
        scores = np.zeros((n_comp, len(users), width))
        batch = max(1, int(4e6 // max(n_items, 1)))
        for start in range(0, len(users), batch):
            chunk = users[start:start + batch]
            cand = np.ones((len(chunk), n_items), dtype=bool)
            sub = seen[chunk].tocoo()
            cand[sub.row, sub.col] = False
            norms = []
            for model in models:
                raw = self._batch_scores(model, chunk, n_items)
                norms.append(normalise_scores(raw, cand, self.normalisation))
            for row in range(len(chunk)):
                picks = [top_n(np.where(cand[row], nm[row], -np.inf), m)[0] for nm in norms]
                pool = np.unique(np.concatenate(picks))[:width]
                pools[start + row, : len(pool)] = pool
                for c, nm in enumerate(norms):
                    scores[c, start + row, : len(pool)] = nm[row, pool]
        valid = pools >= 0
        rel = np.zeros(pools.shape)
        n_rel = np.zeros(len(users))
        for row, u in enumerate(users):
            items = relevant[int(u)]
            n_rel[row] = len(items)
            rel[row] = np.isin(pools[row], list(items)) & valid[row]
        return list(scores), valid, rel, n_rel

    @staticmethod
    def _batch_scores(model: Recommender, users: np.ndarray, n_items: int) -> np.ndarray:
        if hasattr(model, "score_users"):
            return np.asarray(model.score_users(users), dtype=np.float64)
        return np.vstack([HybridRecommender._scores(model, int(u), None, n_items) for u in users])

    @staticmethod
    def _scores(model: Recommender, user: int | None, history: History | None, n_items: int) -> np.ndarray:
        """Every item's score from one engine (engines without ``score_all`` via ``recommend``)."""
        if hasattr(model, "score_all"):
            return np.asarray(model.score_all(user, history), dtype=np.float64)
        if hasattr(model, "score_items"):  # content / deep: score_items(history, items, *, user)
            return np.asarray(model.score_items(history, None, user=user), dtype=np.float64)
        items, scores = model.recommend(user, history=history, n=n_items, exclude_seen=False)
        out = np.full(n_items, -np.inf)
        out[np.asarray(items, dtype=np.int64)] = scores
        return out

    # -- serving ----------------------------------------------------------------------------
    def _check(self) -> None:
        if self.models_ is None:
            raise NotFittedError("hybrid is not fitted")

    def history_size(self, user: int | None, history: History | None) -> int:
        n_items = self.seen_.shape[1]
        return int(np.count_nonzero(user_profile(self.seen_, user, history, n_items)))

    def score_all(self, user: int | None = None, history: History | None = None,
                  candidates: np.ndarray | None = None) -> np.ndarray:
        """Blended normalised scores for every item (0 outside ``candidates``)."""
        self._check()
        n_items = self.seen_.shape[1]
        cand = np.ones(n_items, dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
        names = self.names
        weights = self.weights_.copy()
        size = self.history_size(user, history)
        content = [j for j, key in enumerate(names) if self.engine_of(key) == "content"]
        if content and 0 < size < self.short_history:
            weights[content[0]] += self.short_history_content_weight
        blend = np.zeros(n_items)
        for model, w in zip(self.models_, weights):
            if w <= 0:
                continue
            raw = self._scores(model, user, history, n_items)
            blend += w * normalise_scores(raw, cand[None, :], self.normalisation)[0]
        # items nobody has interacted with yet: scored by the content / deep engines alone
        new = (self.item_counts_ == 0) & cand
        cold_models = [m for n, m in zip(names, self.models_) if self.engine_of(n) in CONTENT_ENGINES]
        if new.any() and cold_models:
            idx = np.flatnonzero(new)
            part = np.zeros(len(idx))
            for model in cold_models:
                if hasattr(model, "cold_start_scores"):
                    raw = np.asarray(model.cold_start_scores(history, idx, user=user), dtype=np.float64)
                else:
                    raw = self._scores(model, user, history, n_items)[idx]
                part += normalise_scores(raw, None, self.normalisation)[0]
            blend[idx] = self.new_item_weight * part / len(cold_models)
        return np.where(cand, blend, 0.0)

    def recommend(
        self,
        user: int | None = None,
        *,
        history: History | None = None,
        n: int = 10,
        exclude: np.ndarray | list[int] | None = None,
        exclude_seen: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        n_items = self.seen_.shape[1]
        known = user is not None and 0 <= int(user) < self.seen_.shape[0]
        uidx = int(user) if known else None
        ex = exclusion(self.seen_, uidx, history, exclude, exclude_seen, n_items)
        if self.history_size(uidx, history) == 0:
            return self.fallback_model_.recommend(None, history=history, n=n, exclude=ex, exclude_seen=exclude_seen)
        cand = np.ones(n_items, dtype=bool)
        cand[ex] = False
        scores = self.score_all(uidx, history, candidates=cand)
        return top_n(scores, n, ex)

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """From the heaviest-weighted component; new items ask a content engine."""
        self._check()
        order = [j for j in np.argsort(-self.weights_, kind="stable")
                 if self.engine_of(self.names[j]) not in ("popular", "trending")]
        if self.item_counts_[int(item)] == 0:
            order = [j for j in order if self.engine_of(self.names[j]) in CONTENT_ENGINES] + order
        for j in order:
            items, scores = self.models_[j].similar_items(int(item), n)
            if len(items):
                return items, scores
        return np.empty(0, dtype=np.int64), np.empty(0)

    def also_bought(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        for model in self.models_:
            if hasattr(model, "also_bought"):
                return model.also_bought(int(item), n)
        return self.similar_items(item, n)

    def _state(self) -> dict[str, Any]:
        self._check()
        state: dict[str, Any] = {
            "weights": self.weights_,
            "seen": self.seen_,
            "item_counts": self.item_counts_,
        }
        for j, model in enumerate(self.models_):
            for key, value in model._state().items():
                state[f"c{j}.{key}"] = value
        for key, value in self.fallback_model_._state().items():
            state[f"fallback.{key}"] = value
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        from . import get_engine

        self.weights_ = np.asarray(state["weights"], dtype=np.float64)
        self.seen_ = sp.csr_matrix(state["seen"])
        self.item_counts_ = np.asarray(state["item_counts"], dtype=np.int64)
        self.models_ = []
        for j, name in enumerate(self.names):
            model = self._build(name)
            prefix = f"c{j}."
            model._set_state({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
            self.models_.append(model)
        self.fallback_model_ = get_engine(self.fallback, **self.fallback_params)
        self.fallback_model_._set_state({k[9:]: v for k, v in state.items() if k.startswith("fallback.")})
