"""Representation-learning protocols on frozen features, run by the suite after an unsupervised fit.

PAD Table 1 (and Instance / AND before it) scores learned features with labels *after*
training, using the training split's labels only:

- weighted kNN (Wu et al. 2018): cosine similarity s_i of a test feature to every training
  feature, the top K = 200 vote with weights w_i = exp(s_i / τ), τ = 0.1;
  ŷ = argmax_c Σ_{i ∈ N_K} δ(c, c_i) w_i;
- linear classifier: one fully connected layer (softmax regression) on the frozen features
  (PAD: conv5), trained on the training split, scored on the test split.

Splits (:func:`train_test_split`): the dataset's official split where the catalog has it
(``DatasetSpec.train_size``: the first ``train_size`` samples are the official training
images, e.g. MNIST 60,000 / 10,000, CIFAR 50,000 / 10,000, SVHN 73,257 / 26,032, STL-10
5,000 / 8,000); otherwise (embedded sets, USPS as released by AnchorGAE, ...) a fixed
stratified 80 / 20 split drawn with seed 0, the same for every run. Methods never see these
labels: the runner calls :func:`evaluate_protocols` after the fit.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

KNN_K = 200
KNN_TAU = 0.1
#: share of each class in the training part when a dataset has no official split
FALLBACK_TRAIN_SHARE = 0.8


def train_test_split(y: np.ndarray, train_size: int | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """(train indices, test indices, description): official when ``train_size`` is given, else stratified 80/20."""
    n = len(y)
    if train_size and 0 < train_size < n:
        return np.arange(train_size), np.arange(train_size, n), f"official ({train_size:,} / {n - train_size:,})"
    rng = np.random.default_rng(0)
    train = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rng.shuffle(members)
        train.append(members[:int(round(FALLBACK_TRAIN_SHARE * len(members)))])
    train = np.sort(np.concatenate(train))
    test = np.setdiff1d(np.arange(n), train)
    return train, test, f"stratified 80/20, seed 0 ({len(train):,} / {len(test):,})"


@torch.no_grad()
def weighted_knn_predict(train_f, train_y, test_f, *, k: int = KNN_K, tau: float = KNN_TAU,
                         n_classes: int | None = None, chunk: int = 1024) -> np.ndarray:
    """Class predictions (M,) for test features (M, d) by weighted voting of the top-k training features (N, d).

    Features are L2-normalised here (cosine similarity); weights exp(s / τ).
    """
    train = F.normalize(torch.as_tensor(np.asarray(train_f, dtype=np.float32)), dim=1)
    test = F.normalize(torch.as_tensor(np.asarray(test_f, dtype=np.float32)), dim=1)
    labels = torch.as_tensor(np.asarray(train_y, dtype=np.int64))
    n_classes = int(n_classes or int(labels.max()) + 1)
    k = min(k, train.shape[0])
    out = []
    for start in range(0, test.shape[0], chunk):
        sims = test[start:start + chunk] @ train.T                      # (m, N)
        top, idx = sims.topk(k, dim=1)
        votes = torch.zeros(top.shape[0], n_classes)
        votes.scatter_add_(1, labels[idx], torch.exp(top / tau))
        out.append(votes.argmax(1))
    return torch.cat(out).numpy()


def linear_probe_predict(train_f, train_y, test_f, *, epochs: int = 100, lr: float = 0.1, batch_size: int = 256,
                         weight_decay: float = 5e-4, seed: int = 0, n_classes: int | None = None) -> np.ndarray:
    """Softmax regression (one FC layer) on frozen, standardised features; SGD (Nesterov 0.9), cosine lr."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.as_tensor(np.asarray(train_f, dtype=np.float32))
    T = torch.as_tensor(np.asarray(test_f, dtype=np.float32))
    mean, std = X.mean(0), X.std(0).clamp_min(1e-6)
    X, T = (X - mean) / std, (T - mean) / std
    y = torch.as_tensor(np.asarray(train_y, dtype=np.int64))
    n_classes = int(n_classes or int(y.max()) + 1)
    layer = torch.nn.Linear(X.shape[1], n_classes)
    with torch.no_grad():
        layer.weight.normal_(0, 0.01, generator=gen)
        layer.bias.zero_()
    opt = torch.optim.SGD(layer.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    steps_per_epoch = max(1, -(-X.shape[0] // batch_size))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps_per_epoch)
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=gen)
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(layer(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    with torch.no_grad():
        return layer(T).argmax(1).numpy()


def evaluate_protocols(result, data, *, linear_epochs: int = 100) -> dict:
    """{"knn_acc", "linear_acc", "protocol_split"} for a fit's features; labels used here only.

    kNN on ``result.embedding`` (PAD: the 128-d FC features); the linear classifier on
    ``result.features["conv5"]`` when the method provides it, else on the embedding.
    ``linear_epochs`` 0 skips the linear classifier.
    """
    if result.embedding is None:
        return {}
    y = np.asarray(data.y)
    spec = getattr(data, "spec", None)
    train, test, how = train_test_split(y, getattr(spec, "train_size", None))
    emb = np.asarray(result.embedding)
    out = {"protocol_split": how}
    knn = weighted_knn_predict(emb[train], y[train], emb[test], n_classes=data.n_classes)
    out["knn_acc"] = float((knn == y[test]).mean())
    if linear_epochs > 0:
        feats = np.asarray(result.features.get("conv5", emb))
        pred = linear_probe_predict(feats[train], y[train], feats[test], epochs=linear_epochs,
                                    n_classes=data.n_classes)
        out["linear_acc"] = float((pred == y[test]).mean())
    return out
