"""``rating``: explicit rating prediction, a blend of four predictors.

1. ``knn``: baseline (global mean + ALS-fitted user / item biases) + item-KNN over the
   baseline residuals with shrunk pearson-baseline similarity (KNNBaseline, Koren 2010).
2. ``mf``: baseline + a matrix factorisation of the residuals fitted by regularised ALS
   (weighted-lambda: the penalty grows with each user's / item's number of ratings).
3. ``mfknn``: ``mf`` + item-KNN over the residuals the factorisation leaves.
4. ``uknn``: baseline + user-KNN over the baseline residuals (same similarity between users).

The similarities are sparse: only positive ones are kept (the KNNs ignore the others), computed
a block at a time from sparse co-rating products; each user keeps at most ``user_neighbours``
neighbours (each item at most ``item_neighbours`` when set), so a 50,000-shopper shop never
builds a users x users matrix.

The blend is a ridge regression fitted on a validation slice of the training ratings
(``blend_fraction``), after which the components are refitted on every rating.
``predict(user, items)`` returns ratings clipped to the observed scale; ``recommend`` ranks
by predicted rating. Unknown users get the baseline (item bias) ranking.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, exclusion, top_n
from .dataset import Dataset


def _baseline(r: sp.csr_matrix, reg_u: float, reg_i: float, n_iter: int) -> tuple[float, np.ndarray, np.ndarray]:
    coo = r.tocoo()
    mu = float(coo.data.mean()) if coo.nnz else 0.0
    n_u, n_i = r.shape
    bu, bi = np.zeros(n_u), np.zeros(n_i)
    cnt_u = np.bincount(coo.row, minlength=n_u)
    cnt_i = np.bincount(coo.col, minlength=n_i)
    for _ in range(n_iter):
        bi = np.bincount(coo.col, weights=coo.data - mu - bu[coo.row], minlength=n_i) / (reg_i + cnt_i)
        bu = np.bincount(coo.row, weights=coo.data - mu - bi[coo.col], minlength=n_u) / (reg_u + cnt_u)
    return mu, bu, bi


def _lookup(mat: sp.spmatrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``mat[rows[t], cols[t]]`` for every t (0 where ``mat`` stores nothing)."""
    out = np.zeros(len(rows))
    mat = mat.tocsr()
    mat.sum_duplicates()  # canonical: sorted indices, so the keys below are sorted
    if len(rows) == 0 or mat.nnz == 0:
        return out
    n_cols = mat.shape[1]
    mat_rows = np.repeat(np.arange(mat.shape[0], dtype=np.int64), np.diff(mat.indptr))
    keys = mat_rows * n_cols + mat.indices
    want = rows.astype(np.int64) * n_cols + cols
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    hit = keys[pos] == want
    out[hit] = mat.data[pos[hit]]
    return out


def _pearson_baseline_pairs(resid: sp.csr_matrix, shrink: float, max_entries: int = 1 << 23,
                            dense_above: float = 0.2):
    """Shrunk pearson-baseline similarity over common raters of every pair of columns of
    ``resid`` that has at least two raters in common (with fewer the shrinkage makes it 0).

    Sparse throughout, a block of columns at a time: yields ``(rows, cols, sims)`` (float64,
    the diagonal left out) for the columns of one block; a block holds at most about
    ``max_entries`` co-rated pairs, so memory stays bounded whatever the number of columns. A
    block where more than ``dense_above`` of the pairs are co-rated (small, dense data such as
    MovieLens) is computed with dense arrays instead of sparse look-ups, which is faster there.
    Each similarity is computed exactly as a dense all-pairs computation would (same sums in
    the same order), so the result does not depend on the blocks.
    """
    e = resid.tocsc().astype(np.float64)
    m = e.copy()
    m.data[:] = 1.0
    e2 = e.multiply(e).tocsc()
    et, mt, e2t = e.T.tocsr(), m.T.tocsr(), e2.T.tocsr()
    n_cols = e.shape[1]
    # upper bound on each column's co-rated columns: the ratings of its raters
    row_counts = np.diff(resid.tocsr().indptr).astype(np.float64)
    bound = np.minimum(np.asarray(mt @ row_counts).ravel(), n_cols)
    ends = np.cumsum(bound)
    start = 0
    while start < n_cols:
        base = ends[start - 1] if start else 0.0
        stop = max(start + 1, int(np.searchsorted(ends, base + max_entries, side="right")))
        stop = min(stop, n_cols)
        cnt = mt @ m[:, start:stop]
        dense = cnt.nnz > dense_above * n_cols * (stop - start)  # dense block: no lookups, same values
        if dense:
            n = cnt.toarray()
            num = (et @ e[:, start:stop]).toarray()
            a = (e2t @ m[:, start:stop]).toarray()
            b = (mt @ e2[:, start:stop]).toarray()
        else:
            cnt = cnt.tocoo()
            keep = cnt.data >= 2
            rows, cols, n = cnt.row[keep].astype(np.int64), cnt.col[keep].astype(np.int64), cnt.data[keep]
            num = _lookup(et @ e[:, start:stop], rows, cols)
            a = _lookup(e2t @ m[:, start:stop], rows, cols)  # sum over common raters of e_ui^2
            b = _lookup(mt @ e2[:, start:stop], rows, cols)  # sum over common raters of e_uj^2
        del cnt
        den = np.sqrt(a * b)
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(den > 0, num / den, 0.0)
        part *= np.maximum(n - 1, 0) / (np.maximum(n - 1, 0) + shrink)
        if dense:
            rows, cols = np.nonzero(part)
            part = part[rows, cols]
        cols += start
        off = rows != cols
        yield rows[off], cols[off], part[off]
        start = stop


def _pearson_baseline_sims(resid: sp.csr_matrix, shrink: float, k: int | None = None) -> sp.csr_matrix:
    """Columns x columns shrunk pearson-baseline similarity of ``resid``, positive entries only
    (the KNN predictors ignore the others), as float32 CSR; row ``j`` holds column ``j``'s
    neighbours, at most its ``k`` most similar (all when ``k`` is None).

    Memory is O(positive co-rated pairs), and at most O(columns x k): the user-user matrix of
    a 50,000-shopper shop never exists densely.
    """
    n_cols = resid.shape[1]
    rows_out, cols_out, vals_out = [], [], []
    for rows, cols, sims in _pearson_baseline_pairs(resid, shrink):
        sims = sims.astype(np.float32)
        pos = sims > 0
        # symmetric: the pairs of block column j are j's neighbours, so j becomes the row
        r, c, v = cols[pos], rows[pos], sims[pos]
        if k is not None and len(r):
            order = np.lexsort((-v, r))  # by row, then most similar first
            r, c, v = r[order], c[order], v[order]
            rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
            keep = rank < k
            r, c, v = r[keep], c[keep], v[keep]
        rows_out.append(r.astype(np.int32))
        cols_out.append(c.astype(np.int32))
        vals_out.append(v)
    if not rows_out:
        return sp.csr_matrix((n_cols, n_cols), dtype=np.float32)
    out = sp.csr_matrix((np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
                        shape=(n_cols, n_cols), dtype=np.float32)
    out.sort_indices()
    return out


def _solve_rows(mat: sp.csr_matrix, other: np.ndarray, reg: float, chunk_rows: int = 4096) -> np.ndarray:
    """Ridge solution per row of ``mat`` (weighted-lambda penalty), batched: rows x factors.

    The per-row Gram matrices come from one sparse product with the per-column outer
    products (``mask @ vec(q q^T)``), the right-hand sides from ``mat @ other``.
    """
    n_rows, f = mat.shape[0], other.shape[1]
    out = np.zeros((n_rows, f))
    counts = np.diff(mat.indptr)
    outer = (other[:, :, None] * other[:, None, :]).reshape(len(other), f * f)
    mask = mat.copy()
    mask.data[:] = 1.0
    eye = np.eye(f)
    for start in range(0, n_rows, chunk_rows):
        stop = min(start + chunk_rows, n_rows)
        rows = np.arange(start, stop)
        ok = counts[start:stop] > 0
        if not ok.any():
            continue
        gram = np.asarray(mask[start:stop] @ outer).reshape(-1, f, f)[ok]
        rhs = np.asarray(mat[start:stop] @ other)[ok]
        gram += reg * counts[start:stop][ok, None, None] * eye
        out[rows[ok]] = np.linalg.solve(gram, rhs[..., None])[..., 0]
    return out


def _als(resid: sp.csr_matrix, factors: int, reg: float, n_iter: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Regularised ALS (weighted-lambda) on the observed residuals."""
    rng = np.random.default_rng(seed)
    n_u, n_i = resid.shape
    p = rng.normal(0, 0.1, (n_u, factors))
    q = rng.normal(0, 0.1, (n_i, factors))
    rt = resid.T.tocsr()
    rt.sort_indices()
    for _ in range(n_iter):
        p = _solve_rows(resid, q, reg)
        q = _solve_rows(rt, p, reg)
    return p, q


class RatingRecommender(Recommender):
    name = "rating"

    def __init__(
        self,
        k: int = 40,
        shrink: float = 100.0,
        reg_u: float = 15.0,
        reg_i: float = 10.0,
        baseline_iters: int = 10,
        factors: int = 50,
        mf_reg: float = 0.15,
        mf_iters: int = 12,
        blend_fraction: float = 0.1,
        seed: int = 0,
        components: tuple[str, ...] | list[str] = ("knn", "mf", "mfknn", "uknn"),
        user_k: int = 60,
        user_shrink: float = 100.0,
        candidate_pool: int = 300,
        user_neighbours: int | None = 1000,
        item_neighbours: int | None = None,
    ) -> None:
        self.k = int(k)
        self.shrink = float(shrink)
        self.reg_u = float(reg_u)
        self.reg_i = float(reg_i)
        self.baseline_iters = int(baseline_iters)
        self.factors = int(factors)
        self.mf_reg = float(mf_reg)
        self.mf_iters = int(mf_iters)
        self.blend_fraction = float(blend_fraction)
        self.seed = int(seed)
        self.components = tuple(components)
        self.user_k = int(user_k)
        self.user_shrink = float(user_shrink)
        self.candidate_pool = int(candidate_pool)
        self.user_neighbours = None if user_neighbours is None else int(user_neighbours)
        self.item_neighbours = None if item_neighbours is None else int(item_neighbours)
        self.ratings_: sp.csr_matrix | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "shrink": self.shrink,
            "reg_u": self.reg_u,
            "reg_i": self.reg_i,
            "baseline_iters": self.baseline_iters,
            "factors": self.factors,
            "mf_reg": self.mf_reg,
            "mf_iters": self.mf_iters,
            "blend_fraction": self.blend_fraction,
            "seed": self.seed,
            "components": list(self.components),
            "user_k": self.user_k,
            "user_shrink": self.user_shrink,
            "candidate_pool": self.candidate_pool,
            "user_neighbours": self.user_neighbours,
            "item_neighbours": self.item_neighbours,
        }

    # -- training ---------------------------------------------------------------------------
    def _fit_components(self, r: sp.csr_matrix) -> None:
        r = r.tocsr()
        r.sort_indices()
        self.ratings_ = r
        self.user_counts_ = np.diff(r.indptr).astype(np.float64)
        self.item_counts_ = np.diff(r.tocsc().indptr).astype(np.float64)
        self.mu_, self.bu_, self.bi_ = _baseline(r, self.reg_u, self.reg_i, self.baseline_iters)
        coo = r.tocoo()
        base = self.mu_ + self.bu_[coo.row] + self.bi_[coo.col]
        resid = sp.csr_matrix((coo.data - base, (coo.row, coo.col)), shape=r.shape)
        resid.sort_indices()
        self.resid_ = resid
        # positive similarities only (the KNN predictors ignore the others), sparse; users keep
        # at most ``user_neighbours`` each, so memory is O(users x user_neighbours), not users^2
        self.sims_ = self.user_sims_ = None  # a refit does not hold the previous ones meanwhile
        self.sims_ = _pearson_baseline_sims(resid, self.shrink, self.item_neighbours)
        if "uknn" in self.components:
            self.user_sims_ = _pearson_baseline_sims(resid.T.tocsr(), self.user_shrink, self.user_neighbours)
        else:
            self.user_sims_ = sp.csr_matrix((r.shape[0], r.shape[0]), dtype=np.float32)
        if {"mf", "mfknn"} & set(self.components) and self.factors > 0:
            self.p_, self.q_ = _als(resid, self.factors, self.mf_reg, self.mf_iters, self.seed)
            mf = np.einsum("ij,ij->i", self.p_[coo.row], self.q_[coo.col])
            self.resid_mf_ = sp.csr_matrix((coo.data - base - mf, (coo.row, coo.col)), shape=r.shape)
            self.resid_mf_.sort_indices()
        else:
            self.p_ = np.zeros((r.shape[0], 0))
            self.q_ = np.zeros((r.shape[1], 0))
            self.resid_mf_ = resid

    def fit(self, dataset: Dataset) -> Self:
        r = dataset.ratings.astype(np.float64).tocsr()
        if r.nnz == 0:
            raise ValueError("the rating engine needs explicit ratings")
        self.scale_ = (float(r.data.min()), float(r.data.max()))
        coo = r.tocoo()
        n_comp = len(self.components)
        self.blend_ = np.zeros(1 + 3 * n_comp + 2)
        self.blend_[1 : 1 + n_comp] = 1.0 / n_comp
        if self.blend_fraction > 0 and len(self.components) > 1 and coo.nnz >= 100:
            rng = np.random.default_rng(self.seed)
            val = rng.random(coo.nnz) < self.blend_fraction
            fit = sp.csr_matrix((coo.data[~val], (coo.row[~val], coo.col[~val])), shape=r.shape)
            self._fit_components(fit)
            feats = self._features_pairs(coo.row[val], coo.col[val])
            x = np.column_stack([np.ones(len(feats)), self._blend_inputs(feats, coo.row[val], coo.col[val])])
            ridge = 1e-3 * np.eye(x.shape[1])
            ridge[0, 0] = 0.0
            self.blend_ = np.linalg.solve(x.T @ x + ridge * len(x), x.T @ coo.data[val])
        self._fit_components(r)
        return self

    # -- prediction -------------------------------------------------------------------------
    def _check(self) -> None:
        if self.ratings_ is None:
            raise NotFittedError("rating is not fitted")

    def _knn(self, user: int, items: np.ndarray, resid: sp.csr_matrix) -> np.ndarray:
        s, t = resid.indptr[user], resid.indptr[user + 1]
        rated, e = resid.indices[s:t], resid.data[s:t]
        if len(rated) == 0 or len(items) == 0:
            return np.zeros(len(items))
        sims = self.sims_[items][:, rated].toarray().astype(np.float64)
        sims[sims < 0] = 0.0
        if len(rated) > self.k:
            part = np.argpartition(-sims, self.k - 1, axis=1)[:, : self.k]
            sims = np.take_along_axis(sims, part, axis=1)
            e = e[part]
        else:
            e = np.broadcast_to(e, sims.shape)
        num = (sims * e).sum(axis=1)
        den = sims.sum(axis=1)
        return np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)

    def _uknn(self, user: int, items: np.ndarray) -> np.ndarray:
        """User-KNN over baseline residuals: the ``user_k`` most similar raters of each item
        (among the user's stored neighbours)."""
        s, t = self.user_sims_.indptr[user], self.user_sims_.indptr[user + 1]
        neighbours = self.user_sims_.indices[s:t]
        if len(neighbours) == 0 or len(items) == 0:
            return np.zeros(len(items))
        sub = self.resid_[neighbours][:, items]
        e = sub.toarray()
        m = np.zeros_like(e)
        coo = sub.tocoo()
        m[coo.row, coo.col] = 1.0
        sims = np.maximum(self.user_sims_.data[s:t].astype(np.float64), 0.0)[:, None] * m
        k = self.user_k
        if sims.shape[0] > k:
            part = np.argpartition(-sims, k - 1, axis=0)[:k]
            sims = np.take_along_axis(sims, part, axis=0)
            e = np.take_along_axis(e, part, axis=0)
        num = (sims * e).sum(axis=0)
        den = sims.sum(axis=0)
        return np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)

    def _features(self, user: int, items: np.ndarray) -> np.ndarray:
        base = self.mu_ + self.bu_[user] + self.bi_[items]
        mf = base + self.q_[items] @ self.p_[user]
        cols = []
        for comp in self.components:
            if comp == "knn":
                cols.append(base + self._knn(user, items, self.resid_))
            elif comp == "mf":
                cols.append(mf)
            elif comp == "mfknn":
                cols.append(mf + self._knn(user, items, self.resid_mf_))
            elif comp == "uknn":
                cols.append(base + self._uknn(user, items))
            elif comp == "baseline":
                cols.append(base)
            else:
                raise ValueError(f"unknown component {comp!r}")
        return np.column_stack(cols)

    def _blend_inputs(self, feats: np.ndarray, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Components plus their spread from the mean scaled by log support (user, item)."""
        lu = np.log1p(self.user_counts_[users])[:, None]
        li = np.log1p(self.item_counts_[items])[:, None]
        spread = feats - feats.mean(axis=1, keepdims=True)
        return np.column_stack([feats, spread * lu, spread * li, lu, li])

    def _features_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        out = np.empty((len(users), len(self.components)))
        order = np.argsort(users, kind="stable")
        su = users[order]
        bounds = np.flatnonzero(np.r_[True, su[1:] != su[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            idx = order[a:b]
            out[idx] = self._features(int(su[a]), items[idx])
        return out

    def predict(self, user: int | None, items: np.ndarray | list[int]) -> np.ndarray:
        """Predicted ratings of ``items`` for ``user`` (baseline for unknown users)."""
        self._check()
        items = np.asarray(items, dtype=np.int64)
        if user is None or not (0 <= int(user) < self.ratings_.shape[0]):
            pred = self.mu_ + self.bi_[items]
        else:
            feats = self._features(int(user), items)
            x = self._blend_inputs(feats, np.full(len(items), int(user)), items)
            pred = self.blend_[0] + x @ self.blend_[1:]
        return np.clip(pred, *self.scale_)

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
        n_items = self.ratings_.shape[1]
        known = user is not None and 0 <= int(user) < self.ratings_.shape[0]
        ex = exclusion(self.ratings_, user if known else None, history, exclude, exclude_seen, n_items)
        counts = np.diff(self.ratings_.tocsc().indptr)
        tie_break = 1e-6 * np.log1p(counts)  # towards items with more ratings
        if not known:
            return top_n(self.mu_ + self.bi_ + tie_break, n, ex)
        # the KNN components are costly over a whole catalogue: pre-select a candidate pool with
        # the cheap baseline + factor prediction, then rank the pool by the full blend
        cheap = self.mu_ + self.bu_[int(user)] + self.bi_ + self.q_ @ self.p_[int(user)]
        pool, _ = top_n(cheap, max(self.candidate_pool, n), ex)
        scores = np.full(n_items, -np.inf)
        scores[pool] = self.predict(int(user), pool) + tie_break[pool]
        return top_n(scores, n, ex)

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        sims = self.sims_[int(item)].toarray().ravel().astype(np.float64)
        sims[sims <= 0] = -np.inf
        return top_n(sims, n, np.array([int(item)]))

    def _state(self) -> dict[str, Any]:
        self._check()
        return {
            "ratings": self.ratings_,
            "resid": self.resid_,
            "resid_mf": self.resid_mf_,
            "sims": self.sims_,
            "user_sims": self.user_sims_,
            "mu": np.array([self.mu_]),
            "bu": self.bu_,
            "bi": self.bi_,
            "p": self.p_,
            "q": self.q_,
            "blend": self.blend_,
            "scale": np.array(self.scale_),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.ratings_ = sp.csr_matrix(state["ratings"])
        self.resid_ = sp.csr_matrix(state["resid"])
        self.resid_mf_ = sp.csr_matrix(state["resid_mf"])
        # models saved before the similarities became sparse hold dense ones: same values
        self.sims_ = sp.csr_matrix(state["sims"], dtype=np.float32)
        self.user_sims_ = sp.csr_matrix(state["user_sims"], dtype=np.float32)
        if self.user_sims_.shape[0] == 0:
            self.user_sims_ = sp.csr_matrix((self.ratings_.shape[0],) * 2, dtype=np.float32)
        self.sims_.sort_indices()
        self.user_sims_.sort_indices()
        self.user_counts_ = np.diff(self.ratings_.indptr).astype(np.float64)
        self.item_counts_ = np.diff(self.ratings_.tocsc().indptr).astype(np.float64)
        self.mu_ = float(np.asarray(state["mu"]).ravel()[0])
        self.bu_ = np.asarray(state["bu"])
        self.bi_ = np.asarray(state["bi"])
        self.p_ = np.asarray(state["p"])
        self.q_ = np.asarray(state["q"])
        self.blend_ = np.asarray(state["blend"])
        self.scale_ = tuple(float(v) for v in np.asarray(state["scale"]))
