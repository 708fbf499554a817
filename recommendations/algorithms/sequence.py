"""``sequence``: a self-attentive next-item engine (SASRec-style, Kang & McAuley 2018).

Why: every other engine sees a shopper as a bag of items; what a shopper does next depends on
what they did last (accessory after device, an anonymous session's few views). This engine
reads the time-ordered sequence::

    x_0   = E[s_t] * sqrt(d) + P[t]                        # item + learned position embedding
    x_b+1 = x_b + MHA(LN(x_b))  (causal: t sees only <= t)
    x_b+1 = x_b+1 + FFN(LN(x_b+1))                          # 1-2 blocks, pre-layer-norm
    score(i | s_1..s_t) = LN(x_B)[t] . E[i] + bias[i]        # shared item embeddings

Sequences are a shopper's items ordered by time (ties in data order), consecutive repeats
(view, cart, purchase of one product) collapsed, left-padded to ``max_len``; training predicts
every position's next item with the full softmax (or, above ``full_softmax_max_items``, a
softmax over the true item plus ``sampled_negatives`` popularity-sampled items shared by the
batch, log-q corrected). Early stopping on the last item of a set of validation shoppers.

TensorFlow (Keras) is imported only inside :meth:`SequenceRecommender.fit`; the fitted weights
are exported as NumPy arrays and :func:`forward` computes the same forward pass in NumPy, so
loading and serving never import TensorFlow.

Request-time sequence: a known shopper's stored sequence (their last ``max_len`` items at
training) followed by the ``history`` in its insertion order, which the engine reads as time
order, oldest first (the serving layer and the session protocol build it that way).
"""

from __future__ import annotations

import time
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, exclusion, top_n
from .dataset import Dataset

LN_EPSILON = 1e-5
MASKED = -1e9  # attention logit of a masked key (not -inf: an all-padding row stays finite)


# -- sequences --------------------------------------------------------------------------------
def user_sequences(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, items): each user's items in time order, consecutive repeats collapsed."""
    order = np.lexsort((np.arange(dataset.n_events), dataset.timestamp, dataset.user))
    users, items = dataset.user[order].astype(np.int64), dataset.item[order].astype(np.int64)
    keep = np.ones(len(items), dtype=bool)
    keep[1:] = (items[1:] != items[:-1]) | (users[1:] != users[:-1])
    users, items = users[keep], items[keep]
    indptr = np.zeros(dataset.n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=dataset.n_users), out=indptr[1:])
    return indptr, items


def collapse(items: list[int]) -> list[int]:
    """``items`` with consecutive repeats collapsed."""
    return [i for k, i in enumerate(items) if k == 0 or i != items[k - 1]]


def pad_left(seqs: list[list[int]] | list[np.ndarray], max_len: int) -> np.ndarray:
    """Token matrix (item index + 1; 0 = padding), each row's last ``max_len`` items right-aligned."""
    out = np.zeros((len(seqs), max_len), dtype=np.int32)
    for row, seq in enumerate(seqs):
        tail = np.asarray(seq, dtype=np.int64)[-max_len:]
        if len(tail):
            out[row, max_len - len(tail):] = tail + 1
    return out


# -- the forward pass in NumPy (serving) ----------------------------------------------------
def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LN_EPSILON) * gamma + beta


def forward(weights: dict[str, np.ndarray], tokens: np.ndarray, heads: int) -> np.ndarray:
    """Final hidden states (batch x max_len x dim) of token rows (see :func:`pad_left`)."""
    tokens = np.asarray(tokens, dtype=np.int64)
    emb, pos = weights["item_emb"], weights["pos_emb"]
    batch, length = tokens.shape
    dim = emb.shape[1]
    head_dim = dim // heads
    valid = (tokens > 0).astype(np.float32)[..., None]
    x = (emb[tokens] * np.float32(np.sqrt(dim)) + pos[None, -length:]) * valid
    allowed = np.tril(np.ones((length, length), dtype=bool))[None] & (tokens > 0)[:, None, :]
    n_blocks = sum(1 for k in weights if k.startswith("wq_"))
    for b in range(n_blocks):
        h = _layer_norm(x, weights[f"ln1_g_{b}"], weights[f"ln1_b_{b}"])

        def split(a: np.ndarray) -> np.ndarray:
            return a.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3)

        q = split(h @ weights[f"wq_{b}"] + weights[f"bq_{b}"])
        k = split(h @ weights[f"wk_{b}"] + weights[f"bk_{b}"])
        v = split(h @ weights[f"wv_{b}"] + weights[f"bv_{b}"])
        logits = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_dim))
        logits = np.where(allowed[:, None], logits, np.float32(MASKED))
        logits = logits - logits.max(-1, keepdims=True)
        att = np.exp(logits)
        att /= att.sum(-1, keepdims=True)
        o = (att @ v).transpose(0, 2, 1, 3).reshape(batch, length, dim)
        x = x + o @ weights[f"wo_{b}"] + weights[f"bo_{b}"]
        h = _layer_norm(x, weights[f"ln2_g_{b}"], weights[f"ln2_b_{b}"])
        f = np.maximum(h @ weights[f"w1_{b}"] + weights[f"c1_{b}"], 0.0) @ weights[f"w2_{b}"] + weights[f"c2_{b}"]
        x = (x + f) * valid
    return _layer_norm(x, weights["lnf_g"], weights["lnf_b"])


class SequenceRecommender(Recommender):
    """Self-attentive next-item model; see the module docstring.

    Parameters
    ----------
    dim, blocks, heads:
        Embedding size, number of self-attention blocks, attention heads (``dim`` divisible).
    max_len:
        Items of a sequence the model reads (the most recent ones).
    dropout:
        Dropout on the embeddings, attention weights and block outputs during training (0.5:
        on ML-100K ``next-item`` test ndcg@10 0.1015 against 0.0801 with 0.2, docs/benchmarks.md).
    epochs, batch_size, learning_rate, l2:
        Adam training; ``epochs`` is the maximum, early stopping picks the best epoch;
        ``l2`` penalises the item embeddings.
    patience:
        Epochs without validation ndcg@10 improvement before stopping.
    val_fraction, val_max_users:
        Share (and most) of the shoppers with 3+ items whose last item is held out of
        training for early stopping (a tenth of ML-100K's shoppers was too noisy a stop).
    full_softmax_max_items, sampled_negatives:
        Catalogues up to ``full_softmax_max_items`` train with the exact softmax, larger ones
        with the sampled one.
    max_seconds:
        Wall-clock budget of the fit (None: none); training stops after the step that crosses
        it and keeps the best validated weights. A shop's training fits twice and gives each
        fit half (``recommendations.fitting``).
    threads, seed:
        TensorFlow intra-op threads; seed of NumPy and TensorFlow.
    """

    name = "sequence"

    def __init__(
        self,
        dim: int = 64,
        blocks: int = 2,
        heads: int = 1,
        max_len: int = 50,
        dropout: float = 0.5,
        epochs: int = 200,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        l2: float = 0.0,
        patience: int = 10,
        val_fraction: float = 0.3,
        val_max_users: int = 2000,
        full_softmax_max_items: int = 20_000,
        sampled_negatives: int = 1024,
        max_seconds: float | None = 480.0,
        threads: int = 2,
        seed: int = 42,
        verbose: bool = False,
    ) -> None:
        if dim % heads:
            raise ValueError("dim must be divisible by heads")
        self.dim = int(dim)
        self.blocks = int(blocks)
        self.heads = int(heads)
        self.max_len = int(max_len)
        self.dropout = float(dropout)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.l2 = float(l2)
        self.patience = int(patience)
        self.val_fraction = float(val_fraction)
        self.val_max_users = int(val_max_users)
        self.full_softmax_max_items = int(full_softmax_max_items)
        self.sampled_negatives = int(sampled_negatives)
        self.max_seconds = max_seconds
        self.threads = int(threads)
        self.seed = int(seed)
        self.verbose = verbose
        self.weights_: dict[str, np.ndarray] | None = None
        self.history_: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        return self._constructor_params()

    # -- training -----------------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> Self:
        t_start = time.perf_counter()
        indptr, items = user_sequences(dataset)
        seqs = [items[indptr[u]:indptr[u + 1]] for u in range(dataset.n_users)]
        rng = np.random.default_rng(self.seed)
        eligible = np.flatnonzero(np.diff(indptr) >= 3)
        n_val = min(int(round(self.val_fraction * len(eligible))), self.val_max_users)
        val_users = np.sort(rng.choice(eligible, size=n_val, replace=False)) if n_val >= 5 else np.empty(0, int)
        weights, info = _train(self, seqs, val_users, dataset.n_items, rng, t_start)
        self.weights_ = weights
        self.seq_indptr_ = np.zeros(dataset.n_users + 1, dtype=np.int64)
        tails = [s[-self.max_len:] for s in seqs]
        np.cumsum([len(t) for t in tails], out=self.seq_indptr_[1:])
        self.seq_items_ = np.concatenate(tails).astype(np.int32) if tails else np.empty(0, np.int32)
        self.seen_ = sp.csr_matrix(dataset.matrix, dtype=np.float32)
        info["fit_seconds"] = time.perf_counter() - t_start
        self.history_ = info
        return self

    # -- serving (NumPy only) --------------------------------------------------------------------
    def _check(self) -> None:
        if self.weights_ is None:
            raise NotFittedError("SequenceRecommender is not fitted")

    @property
    def n_items(self) -> int:
        return self.weights_["item_emb"].shape[0] - 1

    def sequence_of(self, user: int | None, history: History | None = None) -> list[int]:
        """A known ``user``'s stored sequence, then the ``history`` items in insertion order."""
        self._check()
        seq: list[int] = []
        if user is not None and 0 <= int(user) < len(self.seq_indptr_) - 1:
            seq = self.seq_items_[self.seq_indptr_[int(user)]:self.seq_indptr_[int(user) + 1]].tolist()
        if history:
            seq += [int(i) for i in history if 0 <= int(i) < self.n_items]
        return collapse(seq)

    def _scores(self, seqs: list[list[int]]) -> np.ndarray:
        """Every item's score after each sequence (rows: sequences); empty ones score 0."""
        tokens = pad_left(seqs, self.max_len)
        hidden = forward(self.weights_, tokens, self.heads)[:, -1]
        scores = hidden @ self.weights_["item_emb"][1:].T + self.weights_["item_bias"]
        scores[tokens[:, -1] == 0] = 0.0
        return scores.astype(np.float64)

    def score_all(self, user: int | None = None, history: History | None = None) -> np.ndarray:
        return self._scores([self.sequence_of(user, history)])[0]

    def score_users(self, users: np.ndarray, batch: int = 256) -> np.ndarray:
        self._check()
        users = np.asarray(users, dtype=np.int64)
        return np.vstack([self._scores([self.sequence_of(int(u)) for u in users[lo:lo + batch]])
                          for lo in range(0, len(users), batch)]) if len(users) else np.empty((0, self.n_items))

    def recommend(
        self,
        user: int | None = None,
        *,
        history: History | None = None,
        n: int = 10,
        exclude: np.ndarray | list[int] | None = None,
        exclude_seen: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        seq = self.sequence_of(user, history)
        if not seq:  # nothing to read: no personal list (the caller's fallback answers)
            return np.empty(0, dtype=np.int64), np.empty(0)
        scores = self._scores([seq])[0]
        ex = exclusion(self.seen_, user, history, exclude, exclude_seen, len(scores))
        return top_n(scores, n, ex)

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        e = self.weights_["item_emb"][1:].astype(np.float64)
        norms = np.linalg.norm(e, axis=1)
        norms[norms == 0] = 1.0
        return top_n((e @ e[item]) / (norms * norms[item]), n, np.array([item]))

    # -- persistence ---------------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray | sp.spmatrix]:
        self._check()
        return {**{f"w_{k}": v for k, v in self.weights_.items()}, "seq_indptr": self.seq_indptr_,
                "seq_items": self.seq_items_, "seen": self.seen_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = {k[2:]: np.asarray(v, dtype=np.float32) for k, v in state.items() if k.startswith("w_")}
        self.seq_indptr_ = np.asarray(state["seq_indptr"], dtype=np.int64)
        self.seq_items_ = np.asarray(state["seq_items"], dtype=np.int32)
        self.seen_ = sp.csr_matrix(state["seen"], dtype=np.float32)


# -- training (the only place TensorFlow is imported) -----------------------------------------------
def keras_model(n_tokens: int, max_len: int, dim: int, blocks: int, heads: int, dropout: float):
    """The Keras model: token rows (batch x max_len) -> final hidden states; ``weights()`` gives
    the NumPy arrays that :func:`forward` reads."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    keras = tf.keras
    head_dim = dim // heads

    class SelfAttentive(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            normal = keras.initializers.RandomNormal(stddev=0.02)
            glorot = keras.initializers.GlorotUniform()
            self.w: dict[str, Any] = {}

            def add(name: str, shape: tuple[int, ...], init: Any) -> None:
                self.w[name] = self.add_weight(name=name, shape=shape, initializer=init)

            add("item_emb", (n_tokens, dim), normal)
            add("pos_emb", (max_len, dim), normal)
            add("item_bias", (n_tokens - 1,), "zeros")
            for b in range(blocks):
                for p in ("q", "k", "v", "o"):
                    add(f"w{p}_{b}", (dim, dim), glorot)
                    add(f"b{p}_{b}", (dim,), "zeros")
                add(f"w1_{b}", (dim, dim), glorot)
                add(f"c1_{b}", (dim,), "zeros")
                add(f"w2_{b}", (dim, dim), glorot)
                add(f"c2_{b}", (dim,), "zeros")
                for ln in ("ln1", "ln2"):
                    add(f"{ln}_g_{b}", (dim,), "ones")
                    add(f"{ln}_b_{b}", (dim,), "zeros")
            add("lnf_g", (dim,), "ones")
            add("lnf_b", (dim,), "zeros")

        def weights_numpy(self) -> dict[str, np.ndarray]:
            return {k: np.asarray(v.numpy(), dtype=np.float32) for k, v in self.w.items()}

        def call(self, tokens, training: bool = False):
            w = self.w

            def drop(a):
                return tf.nn.dropout(a, rate=dropout) if training and dropout > 0 else a

            def norm(x, g, b):
                mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
                return (x - mean) / tf.sqrt(var + LN_EPSILON) * g + b

            batch, length = tf.shape(tokens)[0], tf.shape(tokens)[1]
            valid = tf.cast(tokens > 0, tf.float32)[..., None]
            x = tf.gather(w["item_emb"], tokens) * float(np.sqrt(dim)) + w["pos_emb"][None, -length:]
            x = drop(x) * valid
            causal = tf.linalg.band_part(tf.ones((length, length), tf.bool), -1, 0)
            allowed = tf.logical_and(causal[None], (tokens > 0)[:, None, :])[:, None]

            def split(a):
                return tf.transpose(tf.reshape(a, (batch, length, heads, head_dim)), (0, 2, 1, 3))

            for b in range(blocks):
                h = norm(x, w[f"ln1_g_{b}"], w[f"ln1_b_{b}"])
                q = split(h @ w[f"wq_{b}"] + w[f"bq_{b}"])
                k = split(h @ w[f"wk_{b}"] + w[f"bk_{b}"])
                v = split(h @ w[f"wv_{b}"] + w[f"bv_{b}"])
                logits = tf.matmul(q, k, transpose_b=True) / float(np.sqrt(head_dim))
                att = drop(tf.nn.softmax(tf.where(allowed, logits, MASKED), axis=-1))
                o = tf.reshape(tf.transpose(att @ v, (0, 2, 1, 3)), (batch, length, dim))
                x = x + drop(o @ w[f"wo_{b}"] + w[f"bo_{b}"])
                h = norm(x, w[f"ln2_g_{b}"], w[f"ln2_b_{b}"])
                f = tf.nn.relu(h @ w[f"w1_{b}"] + w[f"c1_{b}"]) @ w[f"w2_{b}"] + w[f"c2_{b}"]
                x = (x + drop(f)) * valid
            return norm(x, w["lnf_g"], w["lnf_b"])

    model = SelfAttentive()
    model(tf.zeros((1, max_len), tf.int32))  # build
    return model


def _windows(seqs: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Training rows: each sequence cut into windows of ``max_len`` next-item steps (the most
    recent window first); inputs and targets as tokens (0: no step)."""
    inputs, targets = [], []
    for seq in seqs:
        for end in range(len(seq), 1, -max_len):
            start = max(0, end - max_len - 1)
            window = seq[start:end]
            inputs.append(window[:-1])
            targets.append(window[1:])
    return pad_left(inputs, max_len), pad_left(targets, max_len)


def _ndcg_next(scores: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Mean ndcg@k of one relevant item per row (rank = items scoring strictly above it)."""
    target = scores[np.arange(len(truth)), truth]
    rank = (scores > target[:, None]).sum(1)
    return float(np.mean(np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)))


def _train(model: SequenceRecommender, seqs: list[np.ndarray], val_users: np.ndarray, n_items: int,
           rng: np.random.Generator, t_start: float) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(model.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised in this process; keep its settings
        pass
    tf.keras.utils.set_random_seed(model.seed)
    net = keras_model(n_items + 1, model.max_len, model.dim, model.blocks, model.heads, model.dropout)
    opt = tf.keras.optimizers.Adam(learning_rate=model.learning_rate)
    variables = net.trainable_variables

    is_val = np.zeros(len(seqs), dtype=bool)
    is_val[val_users] = True
    train_seqs = [s[:-1] if is_val[u] else s for u, s in enumerate(seqs)]
    x_train, y_train = _windows(train_seqs, model.max_len)
    val_tokens = pad_left([seqs[u][:-1] for u in val_users], model.max_len)
    val_truth = np.array([seqs[u][-1] for u in val_users], dtype=np.int64)
    val_seen = [seqs[u][:-1] for u in val_users]

    sampled = n_items > model.full_softmax_max_items and 0 < model.sampled_negatives < n_items
    counts = np.bincount(np.concatenate(seqs), minlength=n_items).astype(np.float64) if seqs else np.ones(n_items)
    q = (counts + 1.0) ** 0.75
    q /= q.sum()

    def loss_of(x, y, neg, neg_logq):
        hidden = net(x, training=True)
        mask = y > 0
        h = tf.boolean_mask(hidden, mask)
        target = tf.boolean_mask(y, mask) - 1
        emb, bias = net.w["item_emb"][1:], net.w["item_bias"]
        if sampled:
            pos = tf.reduce_sum(h * tf.gather(emb, target), 1) + tf.gather(bias, target)
            negl = h @ tf.transpose(tf.gather(emb, neg)) + tf.gather(bias, neg) - neg_logq
            negl = tf.where(target[:, None] == neg[None], MASKED, negl)
            loss = tf.reduce_mean(tf.reduce_logsumexp(tf.concat([pos[:, None], negl], 1), 1) - pos)
        else:
            logits = h @ tf.transpose(emb) + bias
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(target, logits))
        if model.l2:
            loss += model.l2 * tf.nn.l2_loss(emb) / tf.cast(tf.shape(target)[0], tf.float32)
        return loss

    @tf.function(reduce_retracing=True)
    def step(x, y, neg, neg_logq):
        with tf.GradientTape() as tape:
            loss = loss_of(x, y, neg, neg_logq)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    @tf.function(reduce_retracing=True)
    def predict_last(x):
        return net(x, training=False)[:, -1] @ tf.transpose(net.w["item_emb"][1:]) + net.w["item_bias"]

    def validate() -> float:
        total = 0.0
        for lo in range(0, len(val_users), 512):
            s = predict_last(tf.constant(val_tokens[lo:lo + 512])).numpy()
            for row, seen in enumerate(val_seen[lo:lo + 512]):
                s[row, seen] = -np.inf
            total += _ndcg_next(s, val_truth[lo:lo + 512]) * len(s)
        return total / len(val_users)

    def over_time() -> bool:
        return bool(model.max_seconds) and time.perf_counter() - t_start > model.max_seconds

    no_neg = (tf.zeros(0, tf.int32), tf.zeros(0, tf.float32))
    best, best_epoch, best_weights, curve, stopped_by_time = -np.inf, -1, None, [], False
    for epoch in range(model.epochs if len(x_train) else 0):
        perm = rng.permutation(len(x_train))
        losses = []
        for lo in range(0, len(perm), model.batch_size):
            batch = perm[lo:lo + model.batch_size]
            if sampled:
                neg = rng.choice(n_items, size=model.sampled_negatives, p=q)
                negs = (tf.constant(neg.astype(np.int32)),
                        tf.constant(np.log(model.sampled_negatives * q[neg]).astype(np.float32)))
            else:
                negs = no_neg
            losses.append(float(step(tf.constant(x_train[batch]), tf.constant(y_train[batch]), *negs)))
            if over_time():
                stopped_by_time = True
                break
        score = validate() if len(val_users) else -float(np.mean(losses))
        curve.append(score)
        if model.verbose:
            print(f"epoch {epoch:3d} loss {np.mean(losses):.4f} val_ndcg@10 {score:.4f}", flush=True)
        if score > best:
            best, best_epoch, best_weights = score, epoch, net.weights_numpy()
        elif epoch - best_epoch >= model.patience:
            break
        if stopped_by_time:
            break
    if best_weights is None:
        best_weights = net.weights_numpy()
    info = {"best_epoch": best_epoch, "epochs_run": len(curve), "val_ndcg@10": float(best), "curve": curve,
            "softmax": "sampled" if sampled else "full", "windows": len(x_train), "stopped_by_time": stopped_by_time}
    return best_weights, info
