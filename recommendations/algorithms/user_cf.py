"""``user_cf``: user-based nearest neighbours (cosine or Pearson) with shrinkage, or kernel
ridge regression over users.

A shopper is compared with every training user on the fly (one sparse mat-vec), so a
request-time ``history`` folds in exactly like a known user's row: anonymous shoppers and
fresh events need no retraining. Item columns can be re-weighted (``idf`` or ``bm25``) before
the similarity, similarities are shrunk by ``overlap / (overlap + shrink)`` and sharpened by
``alpha``; the ``k`` most similar users vote with their (binary or weighted) rows.

``method="kernel"`` replaces the vote by kernel ridge regression from a shopper's row to
every item, over up to ``support_users`` training users (the most active), with the neural
tangent kernel of an infinitely wide one-hidden-layer ReLU network (the infinite-width
autoencoder of Sachdeva et al. 2022). Every neighbour's weight is fitted jointly instead of
taken from a similarity, which is what lets it add to EASE and ALS in the hybrid. The kernel
sees each row divided by its norm ** ``kernel_norm_power``: the NTK grows with both rows'
lengths, so raw binary rows let the heaviest shoppers dominate the Gram matrix. It costs a
dense ``support_users x items`` matrix.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, top_n, user_profile
from .dataset import Dataset
from .item_cf import normalised_matrix


def ntk_kernel(dots: np.ndarray, norms_a: np.ndarray, norms_b: np.ndarray) -> np.ndarray:
    """Neural tangent kernel of a one-hidden-layer ReLU network from plain dot products
    (``dots[i, j] = a_i . b_j``): the arc-cosine kernel plus the input kernel times the
    ReLU's expected derivative."""
    scale = np.outer(norms_a, norms_b)
    cos = np.clip(dots / np.maximum(scale, 1e-12), -1.0, 1.0)
    theta = np.arccos(cos)
    return (scale * (np.sin(theta) + (np.pi - theta) * cos) + dots * (np.pi - theta)) / (2.0 * np.pi)


class UserCFRecommender(Recommender):
    name = "user_cf"

    def __init__(
        self,
        similarity: str = "pearson",
        k: int = 120,
        shrink: float = 0.0,
        alpha: float = 2.0,
        weighting: str = "idf",
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
        binary: bool = True,
        normalise_scores: bool = False,
        asymmetry: float = 0.5,
        method: str = "knn",
        kernel_reg: float = 2.5,
        support_users: int = 1000,
        kernel_norm_power: float = 0.75,
    ) -> None:
        if method not in {"knn", "kernel"}:
            raise ValueError("method must be 'knn' or 'kernel'")
        if similarity not in {"cosine", "pearson"}:
            raise ValueError("similarity must be 'cosine' or 'pearson'")
        if weighting not in {"none", "idf", "bm25"}:
            raise ValueError("weighting must be 'none', 'idf' or 'bm25'")
        self.similarity = similarity
        self.k = int(k)
        self.shrink = float(shrink)
        self.alpha = float(alpha)
        self.weighting = weighting
        self.bm25_k1 = float(bm25_k1)
        self.bm25_b = float(bm25_b)
        self.binary = binary
        self.normalise_scores = normalise_scores
        self.asymmetry = float(asymmetry)
        self.method = method
        self.kernel_reg = float(kernel_reg)
        self.support_users = int(support_users)
        self.kernel_norm_power = float(kernel_norm_power)
        self.support_: sp.csr_matrix | None = None  # support users x items (binary), kernel only
        self.coef_: np.ndarray | None = None  # support users x items, kernel only
        self.seen_: sp.csr_matrix | None = None  # users x items (votes)
        self.weighted_: sp.csr_matrix | None = None  # users x items (re-weighted, for similarity)
        self.item_weight_: np.ndarray | None = None
        self.avg_len_: float = 1.0

    def get_params(self) -> dict[str, Any]:
        return {
            "similarity": self.similarity,
            "k": self.k,
            "shrink": self.shrink,
            "alpha": self.alpha,
            "weighting": self.weighting,
            "bm25_k1": self.bm25_k1,
            "bm25_b": self.bm25_b,
            "binary": self.binary,
            "normalise_scores": self.normalise_scores,
            "asymmetry": self.asymmetry,
            "method": self.method,
            "kernel_reg": self.kernel_reg,
            "support_users": self.support_users,
            "kernel_norm_power": self.kernel_norm_power,
        }

    # -- training ---------------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> Self:
        x = normalised_matrix(dataset, self.binary)
        n_users = max(dataset.n_users, 1)
        df = np.diff(x.tocsc().indptr).astype(np.float64)
        if self.weighting == "none":
            self.item_weight_ = np.ones(dataset.n_items)
        else:
            self.item_weight_ = np.log(n_users / np.maximum(df, 1.0)) + (1.0 if self.weighting == "idf" else 0.0)
            self.item_weight_ = np.maximum(self.item_weight_, 0.0) + 1e-3
        lengths = np.asarray(x.sum(axis=1)).ravel()
        self.avg_len_ = float(lengths.mean()) if len(lengths) else 1.0
        self.seen_ = x
        self.weighted_ = self._weigh(x)
        self._prepare()
        if self.method == "kernel":
            self._fit_kernel()
        return self

    def _fit_kernel(self) -> None:
        """coef = (K + reg * mean(diag K) I)^-1 X over the support users: the ridge penalty is
        relative to the kernel's scale, so one ``kernel_reg`` suits shops of any density."""
        binary = self._binary
        active = np.diff(binary.indptr)
        support = np.flatnonzero(active > 0)
        if len(support) > self.support_users:  # the most active, ties in a seeded random order
            tie_break = np.random.default_rng(0).random(len(support))
            support = np.sort(support[np.lexsort((tie_break, -active[support]))[: self.support_users]])
        xs = binary[support].astype(np.float64)
        self.support_ = xs.astype(np.float32).tocsr()
        gram = self._kernel((xs @ xs.T).toarray(), self._support_norms())
        scale = float(np.mean(np.diag(gram))) if len(gram) else 1.0
        gram[np.diag_indices_from(gram)] += self.kernel_reg * scale
        self.coef_ = np.linalg.solve(gram, xs.toarray()).astype(np.float32) if len(gram) else (
            np.zeros((0, binary.shape[1]), dtype=np.float32))

    def _prepare(self) -> None:
        """Per-user statistics reused by every request."""
        w = self.weighted_
        self._sq = np.asarray(w.multiply(w).sum(axis=1)).ravel()
        self._norms = np.sqrt(self._sq)
        self._sums = np.asarray(w.sum(axis=1)).ravel()
        self._binary = self.seen_.copy()
        self._binary.data[:] = 1.0

    def _weigh(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """Apply the column weighting (and BM25 length normalisation) to user rows."""
        w = x.tocsr(copy=True).astype(np.float64)
        if self.weighting == "bm25":
            lengths = np.asarray(w.sum(axis=1)).ravel()
            denom = self.bm25_k1 * (1 - self.bm25_b + self.bm25_b * lengths / max(self.avg_len_, 1e-12))
            row_denom = np.repeat(denom, np.diff(w.indptr))
            w.data = w.data * (self.bm25_k1 + 1) / (w.data + row_denom)
        if self.weighting != "none":
            w.data *= self.item_weight_[w.indices]
        return w

    # -- serving ----------------------------------------------------------------------------
    def _check(self) -> None:
        if self.seen_ is None:
            raise NotFittedError("user_cf is not fitted")

    def neighbours(self, user: int | None = None, history: History | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest training users of a shopper and their (shrunk, sharpened) similarity."""
        self._check()
        n_items = self.seen_.shape[1]
        profile = user_profile(self.seen_, user, history, n_items)
        nz = np.flatnonzero(profile)
        if len(nz) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        pvec = sp.csr_matrix((profile[nz], (np.zeros(len(nz), dtype=np.int64), nz)), shape=(1, n_items))
        pw = self._weigh(pvec)
        pw_dense = np.zeros(n_items)
        pw_dense[pw.indices] = pw.data
        dots = self.weighted_ @ pw_dense
        if self.similarity == "cosine":
            # asymmetric cosine (Aiolli 2013): |p|^(2a) |v|^(2(1-a)); a = 0.5 is plain cosine
            a = self.asymmetry
            psq = float(pw.data @ pw.data)
            sims = dots / np.maximum(psq**a * np.power(self._sq, 1.0 - a), 1e-12)
        else:  # pearson over the full item vector
            n = float(n_items)
            sums, sq = self._sums, self._sq
            psum, psq = float(pw.data.sum()), float(pw.data @ pw.data)
            cov = dots - sums * psum / n
            var = np.maximum(sq - sums * sums / n, 0.0) * max(psq - psum * psum / n, 0.0)
            sims = cov / np.maximum(np.sqrt(var), 1e-12)
        if self.shrink > 0:
            binary = np.zeros(n_items)
            binary[nz] = 1.0
            overlap = self._binary @ binary
            sims = sims * overlap / (overlap + self.shrink)
        if user is not None and 0 <= int(user) < len(sims):
            sims[int(user)] = -np.inf
        sims[~np.isfinite(sims)] = -np.inf
        sims[sims <= 0] = -np.inf
        idx, vals = top_n(sims, self.k)
        if self.alpha != 1.0:
            vals = np.power(vals, self.alpha)
        return idx, vals

    def _support_norms(self) -> np.ndarray:
        """Row norms of the binary support: the square root of each row's item count."""
        return np.sqrt(np.diff(self.support_.indptr).astype(np.float64))

    def _kernel(self, dots: np.ndarray, norms: np.ndarray) -> np.ndarray:
        """NTK between binary rows (``dots`` against the support) as if each row had been
        divided by its norm ** ``kernel_norm_power``: the kernel is bilinear in the rows'
        lengths, so the division applies to its output."""
        support = self._support_norms()
        kernel = ntk_kernel(dots, norms, support)
        if self.kernel_norm_power:
            power = -self.kernel_norm_power
            kernel *= np.outer(np.maximum(norms, 1e-12) ** power, np.maximum(support, 1e-12) ** power)
        return kernel

    def _kernel_scores(self, profiles: sp.csr_matrix) -> np.ndarray:
        """Kernel ridge predictions for binary profile rows (one row per shopper)."""
        dots = np.asarray((profiles @ self.support_.T).todense(), dtype=np.float64)
        norms = np.sqrt(np.asarray(profiles.multiply(profiles).sum(axis=1)).ravel())
        return self._kernel(dots, norms).astype(np.float32) @ self.coef_

    def score_all(self, user: int | None = None, history: History | None = None) -> np.ndarray:
        self._check()
        if self.method == "kernel":
            n_items = self.seen_.shape[1]
            nz = np.flatnonzero(user_profile(self.seen_, user, history, n_items) > 0)
            if len(nz) == 0:
                return np.zeros(n_items)
            row = sp.csr_matrix((np.ones(len(nz)), (np.zeros(len(nz), dtype=np.int64), nz)), shape=(1, n_items))
            return np.asarray(self._kernel_scores(row), dtype=np.float64).ravel()
        idx, sims = self.neighbours(user, history)
        if len(idx) == 0:
            return np.zeros(self.seen_.shape[1])
        scores = np.asarray(self.seen_[idx].T @ sims, dtype=np.float64).ravel()
        if self.normalise_scores:
            scores /= max(float(sims.sum()), 1e-12)
        return scores

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items most co-liked by the users who interacted with ``item`` (cosine over users)."""
        self._check()
        col = self.seen_[:, int(item)].toarray().ravel()
        if not col.any():
            return np.empty(0, dtype=np.int64), np.empty(0)
        co = np.asarray(self.seen_.T @ col).ravel()
        norms = np.sqrt(np.asarray(self.seen_.multiply(self.seen_).sum(axis=0)).ravel())
        sims = co / np.maximum(norms * np.sqrt(col @ col), 1e-12)
        sims[sims <= 0] = -np.inf
        return top_n(sims, n, np.array([int(item)]))

    def score_users(self, users: np.ndarray) -> np.ndarray:
        """Dense scores for a batch of known users (the hybrid's validation and evaluation)."""
        self._check()
        if self.method != "kernel":
            return np.vstack([self.score_all(int(u)) for u in users])
        return np.asarray(self._kernel_scores(self._binary[np.asarray(users)]), dtype=np.float64)

    def _state(self) -> dict[str, Any]:
        self._check()
        state = {
            "seen": self.seen_,
            "weighted": self.weighted_,
            "item_weight": self.item_weight_,
            "avg_len": np.array([self.avg_len_]),
        }
        if self.method == "kernel":
            state.update(support=self.support_, coef=self.coef_,
                         kernel_norm_power=np.array([self.kernel_norm_power]))
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.seen_ = sp.csr_matrix(state["seen"])
        self.weighted_ = sp.csr_matrix(state["weighted"])
        self.item_weight_ = np.asarray(state["item_weight"], dtype=np.float64)
        self.avg_len_ = float(np.asarray(state["avg_len"]).ravel()[0])
        if "coef" in state:
            self.support_ = sp.csr_matrix(state["support"], dtype=np.float32)
            self.coef_ = np.asarray(state["coef"], dtype=np.float32)
            # models saved before the option existed were fitted on raw rows
            self.kernel_norm_power = float(np.asarray(state.get("kernel_norm_power", [0.0])).ravel()[0])
        self._prepare()
