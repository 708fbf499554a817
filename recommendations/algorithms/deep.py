"""Deep engine: a history-based user tower with feature-aware product embeddings (TensorFlow).

Model (Mult-DAE style, trained with a full softmax over items on implicit feedback)::

    item_in[i]  = id_in[i]  + F[i] @ W_in          # product tower, input side
    item_out[i] = id_out[i] + F[i] @ W_out         # product tower, output side
    bias[i]     = id_bias[i] + F[i] @ w_bias
    u           = tanh(dropout(x / |x|) @ item_in + b_user)   # user tower: the history x
    p(i | u)    = softmax(u @ item_out.T + bias)

``F`` is the content feature matrix (TF-IDF name/description, category, brand, price band;
see :mod:`.content`). The feature half of the product tower is shared by all items, so a
new product with no interactions still gets ``F[i] @ W_out`` and ``F[i] @ w_bias`` (the
``id_*`` rows of items never seen in training are zeroed on export). An optional second,
*feature-only* term of the loss (``feature_loss_weight``) and DropoutNet-style
``id_dropout`` push more signal into that half; on ML-100K neither helped (validation).

Because the user is a function of their history (not a learned per-user vector), a new
shopper or a shopper's latest events are folded in at request time with no retraining.

TensorFlow is imported only inside :meth:`DeepRecommender.fit`. Training exports NumPy
arrays (item input/output embeddings, biases, the user-tower bias, feature-only output
embeddings and biases), so loading and serving are NumPy only.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, top_n
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
        max_seconds: float | None = None,
        verbose: bool = False,
    ) -> None:
        self.dim = dim
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.l2 = l2
        self.feature_loss_weight = feature_loss_weight
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
        keys = list(inspect.signature(DeepRecommender.__init__).parameters)[1:]
        return {k: getattr(self, k) for k in keys}

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
        n_val = int(round(self.val_fraction * len(eligible)))
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
        members, infos = [], []
        for m in range(max(1, self.n_models)):
            if m and self.max_seconds and time.perf_counter() - t_start > self.max_seconds:
                break
            seed = self.seed + 1000 * m
            # each member early-stops on its own validation users
            ui_train, val = self._split_validation(ui_full, np.random.default_rng(seed))
            arrays, member_info = _train(self, ui_train, feats, val, np.random.default_rng(seed), t_start, seed)
            if self.refit and val:
                n_epochs = int(np.ceil((member_info["best_epoch"] + 1) * self.refit_epochs_factor))
                arrays, _ = _train(
                    self, ui_full, feats, {}, np.random.default_rng(seed), t_start, seed, fixed_epochs=n_epochs
                )
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
        }
        self.user_items_ = ui_full
        self._set_arrays(arrays, seen=np.diff(sp.csc_matrix(ui_full).indptr) > 0)
        info["fit_seconds"] = time.perf_counter() - t_start
        self.history_ = info
        return self

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
        self.seen_ = seen[:, 0].astype(bool)

    # -- serving (NumPy only) ------------------------------------------------------------
    def _check(self) -> None:
        if self.item_in_ is None:
            raise NotFittedError("DeepRecommender is not fitted")

    def _history(self, user: int | None, history: History | None) -> tuple[np.ndarray, np.ndarray]:
        if history is not None:
            items = np.fromiter((int(k) for k in history), dtype=np.int64, count=len(history))
            w = np.fromiter((float(v) for v in history.values()), dtype=np.float64, count=len(history))
            ok = (items >= 0) & (items < self.item_in_.shape[0]) & (w > 0)
            return items[ok], w[ok]
        if user is not None and 0 <= user < self.user_items_.shape[0]:
            row = self.user_items_[user]
            return row.indices.astype(np.int64), row.data.astype(np.float64)
        return np.empty(0, dtype=np.int64), np.empty(0)

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

    def score_items(
        self, history: History | None, items: np.ndarray | list[int] | None = None, *, user: int | None = None
    ) -> np.ndarray:
        """Scores (logits) of ``items`` (all when None) for a history or a known user."""
        u = self.user_vector(user, history=history)
        if items is None:
            return self.item_out_ @ u + self.item_bias_
        items = np.asarray(items, dtype=np.int64)
        return self.item_out_[items] @ u + self.item_bias_[items]

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
    for key in ("feat_bias", "id_bias"):
        out[key] = sum(m[key] for m in members) / k
    return out


def _train(
    model: DeepRecommender,
    ui: sp.csr_matrix,
    feats: sp.csr_matrix,
    val: dict,
    rng,
    t_start,
    seed,
    fixed_epochs: int | None = None,
):
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
    variables = list(v.values())
    opt = tf.keras.optimizers.Adam(learning_rate=float(model.learning_rate))

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
        x = tf.math.l2_normalize(x, axis=1)
        if training and model.dropout > 0:
            x = tf.nn.dropout(x, rate=model.dropout)
        return act(tf.matmul(x, v["id_in"] + fin) + v["user_bias"])

    fw = float(model.feature_loss_weight) if has_feats else 0.0

    @tf.function(reduce_retracing=True)
    def train_step(x, t):
        with tf.GradientTape() as tape:
            fin, fout, fbias = towers()
            u = user_repr(x, fin, True)
            out, bias = v["id_out"], v["id_bias"]
            if model.id_dropout > 0:
                keep = tf.cast(tf.random.uniform((n_items, 1)) >= model.id_dropout, tf.float32)
                out, bias = out * keep, bias * keep[:, 0]
            logits = tf.matmul(u, out + fout, transpose_b=True) + bias + fbias
            loss = -tf.reduce_mean(tf.reduce_sum(tf.nn.log_softmax(logits) * t, axis=1))
            if fw:
                flogits = tf.matmul(u, fout, transpose_b=True) + fbias
                loss += fw * -tf.reduce_mean(tf.reduce_sum(tf.nn.log_softmax(flogits) * t, axis=1))
            reg = tf.add_n([tf.nn.l2_loss(w) for k, w in v.items() if k not in ("id_bias", "user_bias")])
            total = loss + model.l2 * reg
        grads = tape.gradient(total, variables)
        opt.apply_gradients(zip(grads, variables))
        if ema_m > 0:
            for k, w in v.items():
                avg[k].assign(ema_m * avg[k] + (1.0 - ema_m) * w)
        return loss

    @tf.function(reduce_retracing=True)
    def predict(x):
        fin, fout, fbias = towers(avg)
        u = user_repr(x, fin, False, avg)
        return tf.matmul(u, avg["id_out"] + fout, transpose_b=True) + avg["id_bias"] + fbias

    # Targets: the user's weighted row (multinomial likelihood); Mult-DAE uses the counts.
    x_all = ui.astype(np.float32)
    users = np.flatnonzero(np.diff(x_all.indptr) > 0)
    row_sum = np.asarray(x_all.sum(axis=1)).ravel()
    scale = np.where(row_sum > 0, row_sum, 1.0) ** -float(model.target_power)
    target_scale = (scale / scale[users].mean() if len(users) else scale).astype(np.float32)
    val_users = np.array(sorted(val), dtype=np.int64)
    val_hidden = [val[u] for u in val_users.tolist()]
    val_x = x_all[val_users].toarray() if len(val_users) else None

    def snapshot():
        fin, fout, fbias = towers(avg)
        return {
            "feat_in": fin.numpy(),
            "feat_out": fout.numpy(),
            "feat_bias": fbias.numpy(),
            "id_in": avg["id_in"].numpy(),
            "id_out": avg["id_out"].numpy(),
            "id_bias": avg["id_bias"].numpy(),
            "user_bias": avg["user_bias"].numpy(),
        }

    best, best_epoch, best_arrays, curve, last_decay = -np.inf, -1, None, [], 0
    bs = model.batch_size
    if fixed_epochs is not None:  # refit: no validation, keep the weights of the last epoch
        val_x = None
    for epoch in range(model.epochs if fixed_epochs is None else fixed_epochs):
        perm = rng.permutation(users)
        losses = []
        for start in range(0, len(perm), bs):
            batch = perm[start : start + bs]
            xb = x_all[batch].toarray()
            tb = xb * target_scale[batch, None] if model.target_power else xb
            losses.append(float(train_step(tf.constant(xb), tf.constant(tb))))
        if val_x is not None:
            s = predict(tf.constant(val_x)).numpy()
            s[val_x > 0] = -np.inf
            score = _ndcg_at_k(s, val_hidden, model.val_k)
        else:
            score = -float(np.mean(losses))
        curve.append(score)
        if model.val_smoothing > 1:  # select on the running mean: single epochs are noisy
            score = float(np.mean(curve[-model.val_smoothing :]))
        if model.verbose:
            print(f"epoch {epoch:3d} loss {np.mean(losses):.4f} val_ndcg@10 {score:.4f}", flush=True)
        over_time = bool(model.max_seconds) and time.perf_counter() - t_start > model.max_seconds
        if fixed_epochs is not None:
            if epoch == fixed_epochs - 1 or over_time:
                best, best_epoch, best_arrays = score, epoch, snapshot()
                break
            continue
        if score > best:
            best, best_epoch, best_arrays, last_decay = score, epoch, snapshot(), epoch
        elif epoch - best_epoch >= model.patience:
            break
        elif model.lr_decay < 1.0 and epoch - last_decay >= model.decay_patience:
            opt.learning_rate = float(opt.learning_rate.numpy()) * model.lr_decay
            last_decay = epoch
        if over_time:
            break
    if best_arrays is None:  # nothing to train on (no user has an item)
        best_arrays = snapshot()
    info = {"best_epoch": best_epoch, "epochs_run": len(curve), "val_ndcg@10": float(best), "curve": curve}
    return best_arrays, info
