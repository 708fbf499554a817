"""Deep engine: a history-based user tower with feature-aware product embeddings (TensorFlow).

Model (Mult-DAE style, trained with a full softmax over items on implicit feedback)::

    item_in[i]  = id_in[i]  + F[i] @ W_in          # product tower, input side
    item_out[i] = id_out[i] + F[i] @ W_out         # product tower, output side
    bias[i]     = id_bias[i] + F[i] @ w_bias
    u           = tanh(dropout(x / |x|) @ item_in + b_user)   # user tower: the history x
    p(i | u)    = softmax(u @ item_out.T + bias + wide_i(x))       # wide_i: below

``F`` is the content feature matrix (TF-IDF name/description, category, brand, price band;
see :mod:`.content`). The feature half of the product tower is shared by all items, so a
new product with no interactions still gets ``F[i] @ W_out`` and ``F[i] @ w_bias`` (the
``id_*`` rows of items never seen in training are zeroed on export). An optional second,
*feature-only* term of the loss (``feature_loss_weight``) and DropoutNet-style
``id_dropout`` push more signal into that half; on ML-100K neither helped (validation).

Wide and deep. ``wide_i(x) = s * sum_j [x_j > 0] B[j, i]`` is a linear item-item term: ``B``
is EASE's closed form (zero diagonal, ridge ``wide_lambda``) on the binary histories of the
``wide_items`` most popular products (so it stays ``wide_items ** 2`` whatever the catalogue;
other products get 0). With ``wide_training='after'`` (the default) the network is trained
alone, then ``s`` is chosen on the validation users (0 included, so validation can switch the
term off) and ``B`` is refitted on all the rows. ML-100K: 0.4308 -> 0.4579 ndcg@10 (EASE alone:
0.4519). ``wide_training='joint'`` trains the network under the softmax with the term inside
(``s`` learnt); on ML-100K the network then learnt to copy its input and validation fell from
the first epoch (0.428 on test), so it is not the default.

Because the user is a function of their history (not a learned per-user vector), a new
shopper or a shopper's latest events are folded in at request time with no retraining.

Scaling. With the exact softmax every step computes logits and the product towers for the
whole catalogue, so an epoch costs O(users x products); ML-100K's quality was tuned on it
and it is kept while users x products <= ``full_softmax_max_cells``. Above that, a step
never touches the whole catalogue's towers: it reads the batch's histories as sparse rows
(O(events), not a dense users x products block), gets x @ F @ W_in and the positives'
feature logits from small dense products, and normalises each user's softmax over their own
items plus ``sampled_negatives`` products shared by the batch, drawn in proportion to
popularity ** 0.75 with the log-q correction (an unbiased estimate of the partition
function); only the Adam update still spans the id tables. An epoch over many users is
many more steps, so ``epochs``, ``patience`` and ``decay_patience`` are given for a shop of
``epoch_scale_users`` users and divided by ``users / epoch_scale_users`` beyond it (about
the same number of gradient steps at every size), and ``max_seconds`` bounds the whole fit:
it stops after the step that crosses it, validates, and keeps the best weights seen.

TensorFlow is imported only inside :meth:`DeepRecommender.fit`. Training exports NumPy
arrays (item input/output embeddings, biases, the user-tower bias, feature-only output
embeddings and biases), so loading and serving are NumPy only.
"""

from __future__ import annotations

import time
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, top_n, user_profile
from .content import build_item_features
from .dataset import Dataset, ItemFeatures


def _zscore(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x
    s = x.std()
    return (x - x.mean()) / (s if s > 0 else 1.0)


def blend_cold_scores(score_lists: list[np.ndarray], weights: list[float] | None = None) -> np.ndarray:
    """Blend several engines' scores of the same candidates: weighted mean of z-scores."""
    weights = weights or [1.0] * len(score_lists)
    return sum(w * _zscore(s) for w, s in zip(weights, score_lists)) / max(sum(weights), 1e-12)


class DeepRecommender(Recommender):
    """Feature-aware Mult-DAE; see the module docstring.

    Parameters
    ----------
    dim:
        Size of the user representation / item embeddings.
    dropout:
        Input dropout on the (normalised) history during training.
    epochs, batch_size, learning_rate:
        Adam training; ``epochs`` is the maximum, early stopping picks the best epoch.
    l2:
        L2 penalty on the embeddings and feature weights (per example, Mult-DAE style).
    feature_loss_weight:
        Weight of the feature-only softmax term (what trains the cold-start tower).
    wide_items, wide_lambda, wide_training:
        The wide term (see the module docstring): EASE over the ``wide_items`` most popular
        products (0: no wide term) with ridge ``wide_lambda``, its scale chosen on validation
        after training ('after') or learnt inside the softmax ('joint').
    id_dropout:
        Probability, per step, that an item's id embeddings are dropped in the main term
        (DropoutNet-style), which makes the feature half carry more of the signal.
    ema:
        Momentum of an exponential moving average of the weights (0: off); when on, the
        averaged weights are the ones validated and exported.
    activation:
        The user tower's non-linearity: 'tanh' (Mult-DAE), 'linear' or 'relu'.
    target_power:
        Each user's softmax target is their row divided by (row sum) ** target_power, rescaled
        to the same mean: 0 is Mult-DAE's (heavy users weigh more), 1 weighs users equally.
    lr_decay, decay_patience:
        Multiply the learning rate by ``lr_decay`` after ``decay_patience`` epochs without
        validation improvement (1.0: constant learning rate).
    patience:
        Epochs without validation ndcg@10 improvement before stopping.
    val_smoothing:
        Early stopping compares the mean validation ndcg@10 of the last ``val_smoothing``
        epochs (1: each epoch's own), which is less noisy on small validation sets.
    val_k:
        Cut-off of the validation ndcg (a larger one is less noisy).
    n_models:
        Ensemble size: members differ in seed (initialisation, shuffling and validation
        users) and are served as one wider model
        (mean of the members' logits), so serving cost grows with it.
    refit, refit_epochs_factor:
        After early stopping, train again from scratch on all the data (validation items
        included) for ``best_epoch * refit_epochs_factor`` epochs (about twice the fit time).
    val_fraction, val_holdout:
        Fraction of users whose ``val_holdout`` share of items is hidden from training and
        used for early stopping (carved from the training data only).
    use_features, text_weight, category_weight, brand_weight, price_weight, ...:
        Settings of the product feature matrix (as in the content engine).
    full_softmax_max_cells, sampled_negatives:
        Shops with users x products up to ``full_softmax_max_cells`` train with the exact
        softmax; larger ones with a sampled softmax over each user's items plus
        ``sampled_negatives`` shared, popularity-sampled products (see the module docstring).
    sampled_batch_size, sampled_learning_rate:
        ``batch_size`` and ``learning_rate`` of the sampled softmax (chosen on the 1M-event
        demo shop: larger batches share the negatives and the per-step id-table update).
    epoch_scale_users:
        ``epochs``/``patience``/``decay_patience`` are meant for a shop of this many users and
        shrink in proportion beyond it (None: never); patience never drops below 3 epochs.
    val_max_users:
        At most this many validation users (validation runs every epoch).
    max_seconds:
        Wall-clock budget of the whole fit (None: none). Training stops after the step that
        crosses it and keeps the best validated weights; an ensemble member or refit that
        would start after it is skipped.
    threads:
        TensorFlow intra-op threads (inter-op is 1).
    seed:
        Seeds NumPy and TensorFlow (``tf.keras.utils.set_random_seed``).
    """

    name = "deep"

    def __init__(
        self,
        dim: int = 256,
        dropout: float = 0.5,
        epochs: int = 200,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        l2: float = 0.1,
        feature_loss_weight: float = 0.0,
        wide_items: int = 2000,
        wide_lambda: float = 500.0,
        wide_training: str = "after",
        id_dropout: float = 0.0,
        ema: float = 0.0,
        activation: str = "tanh",
        target_power: float = 0.0,
        lr_decay: float = 1.0,
        decay_patience: int = 5,
        patience: int = 20,
        val_smoothing: int = 1,
        val_k: int = 10,
        n_models: int = 1,
        refit: bool = False,
        refit_epochs_factor: float = 1.0,
        val_fraction: float = 0.15,
        val_holdout: float = 0.2,
        val_max_users: int = 2000,
        full_softmax_max_cells: int = 5_000_000,
        sampled_negatives: int = 1024,
        sampled_batch_size: int = 512,
        sampled_learning_rate: float = 2e-3,
        epoch_scale_users: int | None = 1000,
        use_features: bool = True,
        text_weight: float = 1.0,
        category_weight: float = 1.0,
        brand_weight: float = 0.5,
        price_weight: float = 0.25,
        max_features: int | None = 20000,
        min_df: int = 2,
        category_sep: str | None = "|",
        price_bins: int = 5,
        threads: int = 2,
        seed: int = 42,
        max_seconds: float | None = 480.0,
        verbose: bool = False,
    ) -> None:
        self.dim = dim
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.l2 = l2
        self.feature_loss_weight = feature_loss_weight
        self.wide_items = wide_items
        self.wide_lambda = wide_lambda
        self.wide_training = wide_training
        self.id_dropout = id_dropout
        self.ema = ema
        self.activation = activation
        self.target_power = target_power
        self.lr_decay = lr_decay
        self.decay_patience = decay_patience
        self.patience = patience
        self.val_smoothing = val_smoothing
        self.val_k = val_k
        self.n_models = n_models
        self.refit = refit
        self.refit_epochs_factor = refit_epochs_factor
        self.val_fraction = val_fraction
        self.val_holdout = val_holdout
        self.val_max_users = val_max_users
        self.full_softmax_max_cells = full_softmax_max_cells
        self.sampled_negatives = sampled_negatives
        self.sampled_batch_size = sampled_batch_size
        self.sampled_learning_rate = sampled_learning_rate
        self.epoch_scale_users = epoch_scale_users
        self.use_features = use_features
        self.text_weight = text_weight
        self.category_weight = category_weight
        self.brand_weight = brand_weight
        self.price_weight = price_weight
        self.max_features = max_features
        self.min_df = min_df
        self.category_sep = category_sep
        self.price_bins = price_bins
        self.threads = threads
        self.seed = seed
        self.max_seconds = max_seconds
        self.verbose = verbose
        self.item_in_: np.ndarray | None = None
        self.history_: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        return self._constructor_params()

    # -- training ----------------------------------------------------------------------
    def _features(self, dataset: Dataset) -> sp.csr_matrix:
        if not self.use_features or dataset.item_features is None:
            return sp.csr_matrix((dataset.n_items, 0), dtype=np.float32)
        return build_item_features(
            dataset.item_features or ItemFeatures.empty(dataset.n_items),
            text_weight=self.text_weight,
            category_weight=self.category_weight,
            brand_weight=self.brand_weight,
            price_weight=self.price_weight,
            max_features=self.max_features,
            min_df=self.min_df,
            category_sep=self.category_sep,
            price_bins=self.price_bins,
        )

    def _split_validation(self, ui: sp.csr_matrix, rng: np.random.Generator):
        """Training matrix with some users' items hidden, and {user: hidden items}."""
        counts = np.diff(ui.indptr)
        eligible = np.flatnonzero(counts >= 5)
        n_val = min(int(round(self.val_fraction * len(eligible))), self.val_max_users)
        if n_val < 5 or self.val_holdout <= 0:
            return ui, {}
        val_users = np.sort(rng.choice(eligible, size=n_val, replace=False))
        ui = ui.copy()
        hidden: dict[int, np.ndarray] = {}
        for u in val_users.tolist():
            lo, hi = ui.indptr[u], ui.indptr[u + 1]
            k = max(1, int(round(self.val_holdout * (hi - lo))))
            pos = lo + rng.choice(hi - lo, size=k, replace=False)
            hidden[u] = np.sort(ui.indices[pos])
            ui.data[pos] = 0.0
        ui.eliminate_zeros()
        return ui, hidden

    def fit(self, dataset: Dataset) -> Self:
        t_start = time.perf_counter()
        ui_full = sp.csr_matrix(dataset.matrix, dtype=np.float32)
        feats = self._features(dataset)
        wide_idx = self._wide_items(ui_full)
        joint = wide_idx if self.wide_training == "joint" else None
        members, infos = [], []
        for m in range(max(1, self.n_models)):
            if m and self._over_time(t_start):
                break
            seed = self.seed + 1000 * m
            # each member early-stops on its own validation users
            ui_train, val = self._split_validation(ui_full, np.random.default_rng(seed))
            arrays, member_info = _train(self, ui_train, feats, val, np.random.default_rng(seed), t_start, seed, joint)
            if len(wide_idx) and joint is None:
                arrays = self._add_wide_after(arrays, ui_train, ui_full, val, wide_idx, member_info)
            if self.refit and val and not self._over_time(t_start):
                n_epochs = int(np.ceil((member_info["best_epoch"] + 1) * self.refit_epochs_factor))
                refitted, refit_info = _train(
                    self, ui_full, feats, {}, np.random.default_rng(seed), t_start, seed, joint, n_epochs
                )
                if not refit_info["stopped_by_time"]:  # a cut-short refit is worse than the validated model
                    if len(wide_idx) and joint is None:  # the validated scale, EASE on all the rows
                        wide, _ = _ease_prior(
                            sp.csr_matrix(ui_full[:, wide_idx] != 0, dtype=np.float32), self.wide_lambda
                        )
                        refitted = {**refitted, "wide": wide * member_info["wide_scale"], "wide_items": wide_idx}
                    arrays = refitted
                    member_info["refit_epochs"] = n_epochs
            members.append(arrays)
            infos.append(member_info)
        arrays = _concat_members(members)
        info = {
            "members": len(members),
            "best_epoch": [i["best_epoch"] for i in infos],
            "epochs_run": sum(i["epochs_run"] for i in infos),
            "val_ndcg@10": float(np.mean([i["val_ndcg@10"] for i in infos])),
            "curve": [i["curve"] for i in infos],
            "softmax": infos[0]["softmax"],
            "max_epochs": [i["max_epochs"] for i in infos],
            "stopped_by_time": any(i["stopped_by_time"] for i in infos) or len(members) < max(1, self.n_models),
            "export_gap": max((i["export_gap"] for i in infos if i["export_gap"] is not None), default=None),
            "wide_scale": [i.get("wide_scale") for i in infos],
            "val_ndcg@10_wide": [i.get("val_ndcg@10_wide") for i in infos],
        }
        self.user_items_ = ui_full
        self._set_arrays(arrays, seen=np.diff(sp.csc_matrix(ui_full).indptr) > 0)
        info["fit_seconds"] = time.perf_counter() - t_start
        self.history_ = info
        return self

    def _add_wide_after(
        self,
        arrays: dict[str, np.ndarray],
        ui: sp.csr_matrix,
        ui_full: sp.csr_matrix,
        val: dict[int, np.ndarray],
        wide_idx: np.ndarray,
        info: dict[str, Any],
    ) -> dict[str, np.ndarray]:
        """``wide_training='after'``: EASE added to the trained network's logits, at the scale
        (0 included) with the best validation ndcg when EASE is fitted on the training rows
        ``ui`` (without validation users, the scale at which EASE alone fits the rows best);
        the exported weights are EASE's on all the rows ``ui_full`` at that scale."""
        wide, scale = _ease_prior(sp.csr_matrix(ui[:, wide_idx] != 0, dtype=np.float32), self.wide_lambda)
        if val:
            users = np.array(sorted(val), dtype=np.int64)[:1024]  # bounds the dense logits below
            x, hidden = ui[users], [val[u] for u in users.tolist()]
            act = {"tanh": np.tanh, "linear": lambda a: a, "relu": lambda a: np.maximum(a, 0.0)}[self.activation]
            deep = _numpy_logits(arrays, x, act)
            x_wide = (x[:, wide_idx] != 0).astype(np.float32) @ wide
            seen = x.nonzero()

            def score(s: float) -> float:
                logits = deep.copy()
                logits[:, wide_idx] += s * x_wide
                logits[seen] = -np.inf
                return _ndcg_at_k(logits, hidden, self.val_k)

            grid = [0.0, *np.geomspace(0.03, 1000.0, 31).tolist()]
            scores = [score(s) for s in grid]
            scale = grid[int(np.argmax(scores))]
            info["val_ndcg@10_wide"] = max(scores)  # val_ndcg@10 stays the network's own
        info["wide_scale"] = scale
        if val:
            wide, _ = _ease_prior(sp.csr_matrix(ui_full[:, wide_idx] != 0, dtype=np.float32), self.wide_lambda)
        return {**arrays, "wide": wide * scale, "wide_items": wide_idx}

    def _wide_items(self, ui: sp.csr_matrix) -> np.ndarray:
        """The products of the linear item-item term: the ``wide_items`` most popular ones that
        have interactions, so its size (``wide_items ** 2``) stays bounded in a big catalogue."""
        if self.wide_items <= 0:
            return np.zeros(0, dtype=np.int64)
        pop = np.diff(sp.csc_matrix(ui).indptr)
        top = np.argsort(-pop, kind="stable")[: int(self.wide_items)]
        return np.sort(top[pop[top] > 0]).astype(np.int64)

    def _over_time(self, t_start: float) -> bool:
        return bool(self.max_seconds) and time.perf_counter() - t_start > self.max_seconds

    def _set_arrays(self, arrays: dict[str, np.ndarray], seen: np.ndarray) -> None:
        """Combine id and feature halves into the serving arrays."""
        fin, fout, fbias = arrays["feat_in"], arrays["feat_out"], arrays["feat_bias"]
        idin, idout, idbias = arrays["id_in"], arrays["id_out"], arrays["id_bias"]
        seen = seen[:, None]
        self.item_in_ = (fin + np.where(seen, idin, 0.0)).astype(np.float32)
        self.item_out_ = (fout + np.where(seen, idout, 0.0)).astype(np.float32)
        self.item_bias_ = (fbias + np.where(seen[:, 0], idbias, 0.0)).astype(np.float32)
        self.cold_out_ = fout.astype(np.float32)
        self.cold_bias_ = fbias.astype(np.float32)
        self.user_bias_ = arrays["user_bias"].astype(np.float32)
        self.wide_ = arrays["wide"].astype(np.float32)
        self.wide_items_ = arrays["wide_items"].astype(np.int64)
        self.seen_ = seen[:, 0].astype(bool)

    # -- serving (NumPy only) ------------------------------------------------------------
    def _check(self) -> None:
        if self.item_in_ is None:
            raise NotFittedError("DeepRecommender is not fitted")

    def _history(self, user: int | None, history: History | None) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, weights) of a known ``user``'s stored row plus the request-time
        ``history``, combined as every engine combines them (``user_profile``)."""
        known = user is not None and 0 <= user < self.user_items_.shape[0]
        vec = user_profile(self.user_items_, user if known else None, history, self.item_in_.shape[0])
        items = np.flatnonzero(vec > 0)
        return items.astype(np.int64), vec[items].astype(np.float64)

    def user_vector(self, user: int | None = None, *, history: History | None = None) -> np.ndarray:
        """The user tower's output for a known user's rows or a folded-in history."""
        self._check()
        items, w = self._history(user, history)
        if len(items):
            w = w / np.sqrt((w**2).sum())
            pre = w @ self.item_in_[items].astype(np.float64)
        else:
            pre = np.zeros(self.item_in_.shape[1])
        pre = pre + self.user_bias_
        if self.activation == "tanh":
            return np.tanh(pre)
        if self.activation == "relu":
            return np.maximum(pre, 0.0)
        return pre

    def _wide_scores(self, user: int | None, history: History | None) -> np.ndarray | None:
        """The linear item-item term's logits of every product (None when the model has none)."""
        if not len(self.wide_items_):
            return None
        hist_items, _ = self._history(user, history)
        x = np.zeros(len(self.wide_items_))
        pos = np.searchsorted(self.wide_items_, hist_items).clip(0, len(self.wide_items_) - 1)
        hit = self.wide_items_[pos] == hist_items
        x[pos[hit]] = 1.0  # the wide term reads the binary history
        scores = np.zeros(self.item_in_.shape[0])
        scores[self.wide_items_] = x @ self.wide_.astype(np.float64)
        return scores

    def score_items(
        self, history: History | None, items: np.ndarray | list[int] | None = None, *, user: int | None = None
    ) -> np.ndarray:
        """Scores (logits) of ``items`` (all when None) for a history or a known user."""
        u = self.user_vector(user, history=history)
        wide = self._wide_scores(user, history)
        if items is None:
            scores = self.item_out_ @ u + self.item_bias_
            return scores if wide is None else scores + wide
        items = np.asarray(items, dtype=np.int64)
        scores = self.item_out_[items] @ u + self.item_bias_[items]
        return scores if wide is None else scores + wide[items]

    def cold_start_scores(
        self, history: History | None, candidate_items: np.ndarray | list[int], *, user: int | None = None
    ) -> np.ndarray:
        """Scores of candidates from their *feature* embeddings only (new products)."""
        u = self.user_vector(user, history=history)
        c = np.asarray(candidate_items, dtype=np.int64)
        return self.cold_out_[c] @ u + self.cold_bias_[c]

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
        scores = self.score_items(history, None, user=user)
        drop = [] if exclude is None else [np.asarray(exclude, dtype=np.int64)]
        if exclude_seen:
            drop.append(self._history(user, history)[0])
        return top_n(scores, n, np.concatenate(drop) if drop else None)

    def item_embeddings(self, which: str = "out") -> np.ndarray:
        """Item embeddings (cold items: feature-only). ``which`` is 'in' or 'out'."""
        self._check()
        return self.item_in_ if which == "in" else self.item_out_

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        e = self.item_out_.astype(np.float64)
        norms = np.linalg.norm(e, axis=1)
        norms[norms == 0] = 1.0
        sims = (e @ e[item]) / (norms * norms[item])
        return top_n(sims, n, np.array([item]))

    # -- persistence -------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray | sp.spmatrix]:
        self._check()
        return {
            "item_in": self.item_in_,
            "item_out": self.item_out_,
            "item_bias": self.item_bias_,
            "cold_out": self.cold_out_,
            "cold_bias": self.cold_bias_,
            "user_bias": self.user_bias_,
            "wide": self.wide_,
            "wide_items": self.wide_items_,
            "seen": self.seen_,
            "user_items": self.user_items_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_in_ = np.asarray(state["item_in"], dtype=np.float32)
        self.item_out_ = np.asarray(state["item_out"], dtype=np.float32)
        self.item_bias_ = np.asarray(state["item_bias"], dtype=np.float32)
        self.cold_out_ = np.asarray(state["cold_out"], dtype=np.float32)
        self.cold_bias_ = np.asarray(state["cold_bias"], dtype=np.float32)
        self.user_bias_ = np.asarray(state["user_bias"], dtype=np.float32)
        self.wide_ = np.asarray(state.get("wide", np.zeros((0, 0))), dtype=np.float32)
        self.wide_items_ = np.asarray(state.get("wide_items", np.zeros(0)), dtype=np.int64)
        self.seen_ = np.asarray(state["seen"], dtype=bool)
        self.user_items_ = sp.csr_matrix(state["user_items"], dtype=np.float32)


# -- training (the only place TensorFlow is imported) --------------------------------------
def _ndcg_at_k(scores: np.ndarray, hidden: list[np.ndarray], k: int = 10) -> float:
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, 1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, 1)
    total = 0.0
    for row, truth in zip(top, hidden):
        rel = np.isin(row, truth)
        total += (rel * disc).sum() / disc[: min(len(truth), k)].sum()
    return total / max(len(hidden), 1)


def _ease_prior(x: sp.csr_matrix, lam: float) -> tuple[np.ndarray, float]:
    """EASE's item-item weights on the histories ``x`` (zero diagonal) and the scale at which
    they fit the multinomial likelihood best (EASE's scores are regression targets in [0, 1];
    as logits they need a temperature): chosen on a grid, on at most 2,000 of the rows."""
    g = (x.T @ x).toarray().astype(np.float64)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    rows = x[np.flatnonzero(np.diff(x.indptr) > 0)[:2000]]
    logits = np.asarray(rows @ b)
    t = rows.toarray()

    def nll(scale: float) -> float:
        z = scale * logits
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-(t * log_p).sum() / max(len(t), 1))

    grid = np.geomspace(1.0, 300.0, 25)
    scale = float(grid[np.argmin([nll(s) for s in grid])]) if len(t) else 1.0
    return b.astype(np.float32), scale


def _numpy_logits(arrays: dict[str, np.ndarray], x: sp.csr_matrix, act) -> np.ndarray:
    """Every product's logits for the histories ``x`` from exported arrays (NumPy forward pass)."""
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    xn = sp.diags(1.0 / np.maximum(norms, 1e-6)).astype(np.float32) @ x
    u = act(xn @ (arrays["id_in"] + arrays["feat_in"]) + arrays["user_bias"])
    s = u @ (arrays["id_out"] + arrays["feat_out"]).T + (arrays["id_bias"] + arrays["feat_bias"])
    if len(arrays["wide_items"]):
        s[:, arrays["wide_items"]] += (x[:, arrays["wide_items"]] != 0).astype(np.float32) @ arrays["wide"]
    return s


def _concat_members(members: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """An ensemble as one wider model: the tanh is per unit, so concatenating the members'
    input embeddings (and user biases) side by side and their output embeddings divided by
    the member count gives exactly the mean of the members' logits."""
    if len(members) == 1:
        return members[0]
    k = len(members)
    out = {}
    for key in ("feat_in", "id_in", "user_bias"):
        out[key] = np.concatenate([m[key] for m in members], axis=-1)
    for key in ("feat_out", "id_out"):
        out[key] = np.concatenate([m[key] for m in members], axis=-1) / k
    for key in ("feat_bias", "id_bias", "wide"):
        out[key] = sum(m[key] for m in members) / k
    out["wide_items"] = members[0]["wide_items"]
    return out


def _sampled_nll(u, pos, neg_out, neg_bias, rows, t, neg_logq, neg_hit, neg_extra=None):
    """Sampled-softmax loss of a batch (TensorFlow): -sum_i t_ui log p(i | u) / users.

    Each user's partition function is their own items' exp(logit) (exact) plus the shared
    negatives' exp(logit) / (K q) (``neg_logq`` = log(K q), the user's own items among them
    masked by ``neg_hit``): an unbiased estimate of the full softmax's. ``pos`` are the logits
    of the history entries, ``rows`` their user (row of ``u``), ``t`` their target weights;
    ``neg_extra`` (users x negatives) adds per-user logits of the negatives (the wide term).
    """
    import tensorflow as tf

    n_rows = tf.shape(neg_hit)[0]
    negl = tf.matmul(u, neg_out, transpose_b=True) + neg_bias - neg_logq
    if neg_extra is not None:
        negl += neg_extra
    negl = tf.where(neg_hit, tf.fill(tf.shape(negl), tf.cast(-1e9, negl.dtype)), negl)
    m = tf.stop_gradient(tf.maximum(tf.math.unsorted_segment_max(pos, rows, n_rows), tf.reduce_max(negl, 1)))
    z = tf.math.unsorted_segment_sum(tf.exp(pos - tf.gather(m, rows)), rows, n_rows)
    log_z = m + tf.math.log(z + tf.reduce_sum(tf.exp(negl - m[:, None]), 1))
    return -tf.reduce_sum(t * (pos - tf.gather(log_z, rows))) / tf.cast(n_rows, pos.dtype)


def _train(
    model: DeepRecommender,
    ui: sp.csr_matrix,
    feats: sp.csr_matrix,
    val: dict[int, np.ndarray],
    rng: np.random.Generator,
    t_start: float,
    seed: int,
    wide_idx: np.ndarray | None = None,
    fixed_epochs: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train one model; returns its exported arrays (best validated epoch) and a summary."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(model.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised in this process; keep its settings
        pass
    tf.keras.utils.set_random_seed(seed)

    n_users, n_items = ui.shape
    d = model.dim
    n_active = int(np.count_nonzero(np.diff(ui.indptr)))
    sampled = n_active * n_items > model.full_softmax_max_cells and 0 < model.sampled_negatives < n_items
    n_feat = feats.shape[1]
    init = tf.keras.initializers.GlorotUniform(seed=seed)
    small = tf.keras.initializers.RandomNormal(stddev=0.01, seed=seed + 1)
    v = {
        "id_in": tf.Variable(small((n_items, d)), name="id_in"),
        "id_out": tf.Variable(small((n_items, d)), name="id_out"),
        "id_bias": tf.Variable(tf.zeros(n_items), name="id_bias"),
        "user_bias": tf.Variable(tf.zeros(d), name="user_bias"),
    }
    has_feats = n_feat > 0 and feats.nnz > 0
    if has_feats:
        coo = feats.tocoo()
        order = np.lexsort((coo.col, coo.row))
        f_tf = tf.sparse.SparseTensor(
            np.stack([coo.row[order], coo.col[order]], 1).astype(np.int64),
            coo.data[order].astype(np.float32),
            feats.shape,
        )
        v["w_in"] = tf.Variable(init((n_feat, d)), name="w_in")
        v["w_out"] = tf.Variable(init((n_feat, d)), name="w_out")
        v["w_bias"] = tf.Variable(tf.zeros((n_feat, 1)), name="w_bias")
    wide_idx = np.zeros(0, dtype=np.int64) if wide_idx is None else np.asarray(wide_idx, dtype=np.int64)
    n_wide = len(wide_idx)
    if n_wide:
        # the linear item-item term: EASE's closed form on these rows, times a learnt scale
        wide_np, scale0 = _ease_prior(sp.csr_matrix(ui[:, wide_idx] != 0, dtype=np.float32), model.wide_lambda)
        wide_b = tf.constant(wide_np)
        v["wide_scale"] = tf.Variable(scale0, name="wide_scale")
        wide_cols = np.full(n_items, n_wide, dtype=np.int32)  # product -> column of the term (n_wide: none)
        wide_cols[wide_idx] = np.arange(n_wide, dtype=np.int32)
        wide_cols_tf = tf.constant(wide_cols)
        wide_idx_tf = tf.constant(wide_idx)
    variables = list(v.values())
    opt = tf.keras.optimizers.Adam(learning_rate=float(model.sampled_learning_rate if sampled else model.learning_rate))

    act = {"tanh": tf.tanh, "linear": tf.identity, "relu": tf.nn.relu}[model.activation]
    ema_m = float(model.ema)
    avg = {k: tf.Variable(t.read_value(), trainable=False) for k, t in v.items()} if ema_m > 0 else v

    def towers(v=v):
        if has_feats:
            fin = tf.sparse.sparse_dense_matmul(f_tf, v["w_in"])
            fout = tf.sparse.sparse_dense_matmul(f_tf, v["w_out"])
            fbias = tf.squeeze(tf.sparse.sparse_dense_matmul(f_tf, v["w_bias"]), 1)
        else:
            fin = tf.zeros((n_items, d))
            fout = tf.zeros((n_items, d))
            fbias = tf.zeros(n_items)
        return fin, fout, fbias

    def user_repr(x, fin, training, v=v):
        """The user tower's output and the (dropped-out) history the wide term reads."""
        xn = tf.math.l2_normalize(x, axis=1)
        if training and model.dropout > 0:
            xn = tf.nn.dropout(xn, rate=model.dropout)
        if n_wide:  # the wide term reads the binary history, kept entries scaled by 1 / (1 - dropout)
            keep = 1.0 - model.dropout if training and model.dropout > 0 else 1.0
            x = tf.cast(xn != 0, xn.dtype) / keep
        return act(tf.matmul(xn, v["id_in"] + fin) + v["user_bias"]), x

    def wide_logits(x_wide, v=v):
        """(users x (n_wide + 1)) logits of the wide term; the last column is 0 (other products)."""
        w = tf.matmul(x_wide, wide_b) * v["wide_scale"]
        return tf.pad(w, [[0, 0], [0, 1]])

    def with_wide(logits, x, v=v):
        if not n_wide:
            return logits
        return logits + tf.gather(wide_logits(tf.gather(x, wide_idx_tf, axis=1), v), wide_cols_tf, axis=1)

    fw = float(model.feature_loss_weight) if has_feats else 0.0

    def regularised(loss):
        reg = tf.add_n([tf.nn.l2_loss(w) for k, w in v.items() if k not in ("id_bias", "user_bias", "wide_scale")])
        return loss + model.l2 * reg

    def apply(tape, total):
        grads = tape.gradient(total, variables)
        opt.apply_gradients(zip(grads, variables))
        if ema_m > 0:
            for k, w in v.items():
                avg[k].assign(ema_m * avg[k] + (1.0 - ema_m) * w)

    def id_dropped():
        out, bias = v["id_out"], v["id_bias"]
        if model.id_dropout > 0:
            keep = tf.cast(tf.random.uniform((n_items, 1)) >= model.id_dropout, tf.float32)
            out, bias = out * keep, bias * keep[:, 0]
        return out, bias

    @tf.function(reduce_retracing=True)
    def train_step(x, t):
        """Exact softmax over the whole catalogue (dense batch rows)."""
        with tf.GradientTape() as tape:
            fin, fout, fbias = towers()
            u, x_kept = user_repr(x, fin, True)
            out, bias = id_dropped()
            logits = with_wide(tf.matmul(u, out + fout, transpose_b=True) + bias + fbias, x_kept)
            loss = -tf.reduce_mean(tf.reduce_sum(tf.nn.log_softmax(logits) * t, axis=1))
            if fw:
                flogits = tf.matmul(u, fout, transpose_b=True) + fbias
                loss += fw * -tf.reduce_mean(tf.reduce_sum(tf.nn.log_softmax(flogits) * t, axis=1))
            total = regularised(loss)
        apply(tape, total)
        return loss

    @tf.function(reduce_retracing=True)
    def sampled_step(
        rows, cols, xv, xf, xw, t, ent_pair, ent_feat, ent_val, neg, neg_logq, neg_hit, fneg_idx, fneg_val
    ):
        """Sampled softmax without any catalogue-wide product tower: the batch comes as
        (row, item, input weight, target) per history entry; ``xf`` is the dropped-out input
        times the feature matrix (so x @ F @ W_in is a small dense matmul); ``ent_*`` are the
        feature entries of each history entry's product (pair, feature, value), which give the
        positives' feature logits from u @ W_out.T; ``fneg_*`` the negatives' feature rows;
        ``xw`` the dropped-out history over the wide term's products (users x n_wide)."""
        n_rows = tf.shape(neg_hit)[0]
        with tf.GradientTape() as tape:
            pre = tf.math.unsorted_segment_sum(xv[:, None] * tf.gather(v["id_in"], cols), rows, n_rows)
            if has_feats:
                pre += tf.matmul(xf, v["w_in"])
            u = act(pre + v["user_bias"])
            out, bias = id_dropped()
            pos_id = tf.reduce_sum(tf.gather(u, rows) * tf.gather(out, cols), 1) + tf.gather(bias, cols)
            neg_out, neg_bias = tf.gather(out, neg), tf.gather(bias, neg)
            if has_feats:
                h = tf.reshape(tf.matmul(u, v["w_out"], transpose_b=True), [-1])  # (batch x features)
                ent_row = tf.gather(rows, ent_pair)
                per_entry = ent_val * (
                    tf.gather(h, ent_row * n_feat + ent_feat) + tf.gather(v["w_bias"][:, 0], ent_feat)
                )
                pos_feat = tf.math.unsorted_segment_sum(per_entry, ent_pair, tf.shape(rows)[0])
                f_neg = tf.sparse.SparseTensor(fneg_idx, fneg_val, (n_neg, n_feat))
                fout_neg = tf.sparse.sparse_dense_matmul(f_neg, v["w_out"])
                fbias_neg = tf.squeeze(tf.sparse.sparse_dense_matmul(f_neg, v["w_bias"]), 1)
            else:
                pos_feat, fout_neg, fbias_neg = 0.0, 0.0, 0.0
            pos_wide, neg_wide = 0.0, None
            if n_wide:
                wl = wide_logits(xw)
                pos_wide = tf.gather_nd(wl, tf.stack([rows, tf.gather(wide_cols_tf, cols)], 1))
                neg_wide = tf.gather(wl, tf.gather(wide_cols_tf, neg), axis=1)
            loss = _sampled_nll(
                u,
                pos_id + pos_feat + pos_wide,
                neg_out + fout_neg,
                neg_bias + fbias_neg,
                rows,
                t,
                neg_logq,
                neg_hit,
                neg_wide,
            )
            if fw:
                loss += fw * _sampled_nll(u, pos_feat, fout_neg, fbias_neg, rows, t, neg_logq, neg_hit)
            total = regularised(loss)
        apply(tape, total)
        return loss

    @tf.function(reduce_retracing=True)
    def predict(x):
        fin, fout, fbias = towers(avg)
        u, x_wide = user_repr(x, fin, False, avg)
        return with_wide(tf.matmul(u, avg["id_out"] + fout, transpose_b=True) + avg["id_bias"] + fbias, x_wide, avg)

    # Targets: the user's weighted row (multinomial likelihood); Mult-DAE uses the counts.
    x_all = ui.astype(np.float32)
    users = np.flatnonzero(np.diff(x_all.indptr) > 0)
    row_sum = np.asarray(x_all.sum(axis=1)).ravel()
    scale = np.where(row_sum > 0, row_sum, 1.0) ** -float(model.target_power)
    target_scale = (scale / scale[users].mean() if len(users) else scale).astype(np.float32)
    val_users = np.array(sorted(val), dtype=np.int64)
    val_hidden = [val[u] for u in val_users.tolist()]
    val_x = x_all[val_users] if len(val_users) else None

    f_csr = sp.csr_matrix(feats, dtype=np.float32)
    f_csr.sort_indices()
    if sampled:
        n_neg = int(model.sampled_negatives)
        q = (np.diff(sp.csc_matrix(x_all).indptr) + 1.0) ** 0.75
        q /= q.sum()

    def sampled_batch(batch: np.ndarray) -> tuple:
        """One batch's inputs to ``sampled_step``, built with SciPy (O(events), no dense rows)."""
        xb = x_all[batch]
        rows = np.repeat(np.arange(len(batch), dtype=np.int32), np.diff(xb.indptr))
        norm2 = np.bincount(rows, weights=xb.data.astype(np.float64) ** 2, minlength=len(batch))
        xv = xb.data / np.sqrt(np.maximum(norm2[rows], 1e-12))
        if model.dropout > 0:
            xv = xv * (rng.random(len(xv)) >= model.dropout) / (1.0 - model.dropout)
        xv = xv.astype(np.float32)
        xf = (sp.csr_matrix((xv, xb.indices, xb.indptr), shape=xb.shape) @ f_csr).toarray()
        kept = sp.csr_matrix(((xv != 0) / (1.0 - model.dropout), xb.indices, xb.indptr), shape=xb.shape)
        xw = kept[:, wide_idx].toarray()
        ent = f_csr[xb.indices]
        ent_pair = np.repeat(np.arange(len(xb.indices), dtype=np.int32), np.diff(ent.indptr))
        t = xb.data * target_scale[batch][rows] if model.target_power else xb.data
        neg = rng.choice(n_items, size=n_neg, p=q)
        hit = (xb[:, neg] != 0).toarray()
        fneg = f_csr[neg].tocoo()  # row-major with sorted columns: a canonical SparseTensor
        return tuple(
            tf.constant(a)
            for a in (
                rows,
                xb.indices.astype(np.int32),
                xv,
                xf.astype(np.float32),
                xw.astype(np.float32),
                t.astype(np.float32),
                ent_pair,
                ent.indices.astype(np.int32),
                ent.data.astype(np.float32),
                neg.astype(np.int32),
                np.log(n_neg * q[neg]).astype(np.float32),
                hit,
                np.stack([fneg.row, fneg.col], 1).astype(np.int64),
                fneg.data.astype(np.float32),
            )
        )

    def wide_arrays(w: dict[str, Any]) -> dict[str, np.ndarray]:
        wide = wide_np * np.asarray(w["wide_scale"]) if n_wide else np.zeros((0, 0))
        return {"wide": wide.astype(np.float32), "wide_items": wide_idx}

    def snapshot():
        if sampled:  # the towers with SciPy: TensorFlow's sparse matmul is the slow part here
            w = {k: t.numpy() for k, t in avg.items()}
            fin = f_csr @ w["w_in"] if has_feats else np.zeros((n_items, d), np.float32)
            fout = f_csr @ w["w_out"] if has_feats else np.zeros((n_items, d), np.float32)
            fbias = (f_csr @ w["w_bias"])[:, 0] if has_feats else np.zeros(n_items, np.float32)
            return {
                "feat_in": fin,
                "feat_out": fout,
                "feat_bias": fbias,
                **{k: w[k] for k in ("id_in", "id_out", "id_bias", "user_bias")},
                **wide_arrays(w),
            }
        fin, fout, fbias = towers(avg)
        return {
            "feat_in": fin.numpy(),
            "feat_out": fout.numpy(),
            "feat_bias": fbias.numpy(),
            "id_in": avg["id_in"].numpy(),
            "id_out": avg["id_out"].numpy(),
            "id_bias": avg["id_bias"].numpy(),
            "user_bias": avg["user_bias"].numpy(),
            **wide_arrays({k: t.numpy() for k, t in avg.items()}),
        }

    np_act = {"tanh": np.tanh, "linear": lambda a: a, "relu": lambda a: np.maximum(a, 0.0)}[model.activation]

    def validate(arrays: dict[str, np.ndarray] | None) -> float:
        """Validation ndcg@k, scored in chunks so memory stays O(chunk x products)."""
        total = 0.0
        for lo in range(0, len(val_users), 1024):
            xv = val_x[lo : lo + 1024]
            if arrays is None:
                xv = xv.toarray()
                s = predict(tf.constant(xv)).numpy()
                s[xv > 0] = -np.inf
            else:
                s = _numpy_logits(arrays, xv, np_act)
                s[xv.nonzero()] = -np.inf
            chunk = val_hidden[lo : lo + 1024]
            total += _ndcg_at_k(s, chunk, model.val_k) * len(chunk)
        return total / len(val_users)

    # Epoch counts are meant for a shop of ``epoch_scale_users`` users: a bigger one has
    # proportionally more steps per epoch, so it needs proportionally fewer epochs.
    factor = max(1.0, len(users) / model.epoch_scale_users) if model.epoch_scale_users else 1.0
    max_epochs = max(1, int(np.ceil(model.epochs / factor)))
    patience = max(min(model.patience, 3), int(np.ceil(model.patience / factor)))
    decay_patience = max(1, int(np.ceil(model.decay_patience / factor)))

    def over_time() -> bool:
        return bool(model.max_seconds) and time.perf_counter() - t_start > model.max_seconds

    def check_export(arrays: dict[str, np.ndarray]) -> float:
        """Largest gap between TensorFlow's logits and the NumPy forward pass of the exported
        arrays (serving's), on a few validation users: a check that the export is exact."""
        xs = val_x[:64]
        return float(np.abs(predict(tf.constant(xs.toarray())).numpy() - _numpy_logits(arrays, xs, np_act)).max())

    best, best_epoch, best_arrays, curve, last_decay = -np.inf, -1, None, [], 0
    export_gap: float | None = None
    stopped_by_time = False
    bs = model.sampled_batch_size if sampled else model.batch_size
    if fixed_epochs is not None:  # refit: no validation, keep the weights of the last epoch
        val_x = None
    for epoch in range(max_epochs if fixed_epochs is None else fixed_epochs):
        perm = rng.permutation(users)
        losses = []
        for start in range(0, len(perm), bs):
            batch = perm[start : start + bs]
            if sampled:
                loss = sampled_step(*sampled_batch(batch))
            else:
                xb = x_all[batch].toarray()
                tb = xb * target_scale[batch, None] if model.target_power else xb
                loss = train_step(tf.constant(xb), tf.constant(tb))
            losses.append(float(loss))
            if over_time():
                stopped_by_time = True
                break
        arrays = snapshot() if sampled else None
        score = validate(arrays) if val_x is not None else -float(np.mean(losses))
        curve.append(score)
        if model.val_smoothing > 1:  # select on the running mean: single epochs are noisy
            score = float(np.mean(curve[-model.val_smoothing :]))
        if model.verbose:
            print(f"epoch {epoch:3d} loss {np.mean(losses):.4f} val_ndcg@10 {score:.4f}", flush=True)
        stopped_by_time = stopped_by_time or over_time()
        if fixed_epochs is not None:
            if epoch == fixed_epochs - 1 or stopped_by_time:
                stopped_by_time = stopped_by_time and epoch < fixed_epochs - 1
                best, best_epoch, best_arrays = score, epoch, arrays or snapshot()
                break
            continue
        if score > best:
            best, best_epoch, best_arrays, last_decay = score, epoch, arrays or snapshot(), epoch
            if not sampled and val_x is not None:
                export_gap = check_export(best_arrays)
        elif epoch - best_epoch >= patience:
            break
        elif model.lr_decay < 1.0 and epoch - last_decay >= decay_patience:
            opt.learning_rate = float(opt.learning_rate.numpy()) * model.lr_decay
            last_decay = epoch
        if stopped_by_time:
            break
    if best_arrays is None:  # nothing to train on (no user has an item)
        best_arrays = snapshot()
    info = {
        "best_epoch": best_epoch,
        "epochs_run": len(curve),
        "val_ndcg@10": float(best),
        "curve": curve,
        "softmax": "sampled" if sampled else "full",
        "max_epochs": max_epochs,
        "patience": patience,
        "stopped_by_time": stopped_by_time,
        "export_gap": export_gap,
    }
    return best_arrays, info
