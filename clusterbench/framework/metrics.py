"""Clustering metrics: ACC, NMI (explicit normalisation), ARI, F1 and BCubed.

All functions take ``y_true`` and ``y_pred`` as 1-D integer arrays of length N.
Labels need not be contiguous and the number of predicted clusters may differ
from the number of classes. Values are fractions in [0, 1] (ARI in [-1, 1]);
reports scale them.

Matching: ACC and F1 use the one-to-one cluster-to-class assignment that
maximises the number of correctly matched samples (Hungarian algorithm,
Kuhn 1955). When there are more clusters than classes, the clusters left
unmatched count as wrong for every sample in them.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

#: Metric names computed by :func:`evaluate`, in report order.
METRICS = (
    "acc",
    "nmi",
    "nmi_geometric",
    "nmi_max",
    "ari",
    "f1_macro",
    "f1_micro",
    "bcubed_precision",
    "bcubed_recall",
)

#: NMI normalisations; AHCL divides by max(H(Y), H(C)), DCCM by sqrt(H(Y) H(C)),
#: scikit-learn's default (and most papers') is the arithmetic mean.
NMI_AVERAGES = ("arithmetic", "geometric", "max", "min")


def _check(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("cannot score an empty labelling")
    return y_true, y_pred


def contingency(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contingency table C (n_classes, n_clusters) with C[i, j] = #{class i, cluster j}.

    Returns (C, classes, clusters) where classes/clusters are the sorted unique labels.
    """
    y_true, y_pred = _check(y_true, y_pred)
    classes, ti = np.unique(y_true, return_inverse=True)
    clusters, pi = np.unique(y_pred, return_inverse=True)
    table = np.zeros((classes.size, clusters.size), dtype=np.int64)
    np.add.at(table, (ti, pi), 1)
    return table, classes, clusters


def hungarian_mapping(y_true, y_pred) -> dict:
    """Cluster label → class label maximising matched samples (unmatched clusters absent)."""
    table, classes, clusters = contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return {clusters[c]: classes[r] for r, c in zip(rows, cols)}


def cluster_acc(y_true, y_pred) -> float:
    """Unsupervised clustering accuracy: max over one-to-one maps m of mean[y == m(c)]."""
    table, _, _ = contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def nmi(y_true, y_pred, average: str = "arithmetic") -> float:
    """Normalised mutual information I(Y;C) / mean_average(H(Y), H(C))."""
    if average not in NMI_AVERAGES:
        raise ValueError(f"unknown NMI average {average!r}; choose one of {NMI_AVERAGES}")
    y_true, y_pred = _check(y_true, y_pred)
    return float(skm.normalized_mutual_info_score(y_true, y_pred, average_method=average))


def ari(y_true, y_pred) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985)."""
    y_true, y_pred = _check(y_true, y_pred)
    return float(skm.adjusted_rand_score(y_true, y_pred))


def _mapped(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted labels mapped to classes; unmatched clusters become a label outside the classes."""
    y_true, y_pred = _check(y_true, y_pred)
    mapping = hungarian_mapping(y_true, y_pred)
    classes = np.unique(y_true)
    outside = classes.max() + 1 if np.issubdtype(classes.dtype, np.number) else "__unmatched__"
    clusters, inverse = np.unique(y_pred, return_inverse=True)
    lookup = np.array([mapping.get(c, outside) for c in clusters], dtype=object)
    mapped = lookup[inverse]
    if np.issubdtype(classes.dtype, np.number):
        mapped = mapped.astype(classes.dtype)
    return y_true, mapped, classes


def f1_macro(y_true, y_pred) -> float:
    """Macro-averaged F1 over the true classes after Hungarian matching."""
    y_true, mapped, classes = _mapped(y_true, y_pred)
    return float(skm.f1_score(y_true, mapped, labels=classes, average="macro", zero_division=0))


def f1_micro(y_true, y_pred) -> float:
    """Micro-averaged F1 over the true classes after Hungarian matching.

    Samples in unmatched clusters are false negatives but not false positives of
    any class, so micro-F1 exceeds ACC when clusters outnumber classes and equals
    ACC otherwise.
    """
    y_true, mapped, classes = _mapped(y_true, y_pred)
    return float(skm.f1_score(y_true, mapped, labels=classes, average="micro", zero_division=0))


def bcubed(y_true, y_pred) -> tuple[float, float]:
    """BCubed precision and recall (Bagga & Baldwin 1998), from the contingency table."""
    table, _, _ = contingency(y_true, y_pred)
    n = table.sum()
    squares = table.astype(np.float64) ** 2
    precision = (squares.sum(axis=0) / table.sum(axis=0)).sum() / n
    recall = (squares.sum(axis=1) / table.sum(axis=1)).sum() / n
    return float(precision), float(recall)


def evaluate(y_true, y_pred) -> dict[str, float]:
    """Every metric of :data:`METRICS`, plus the number of predicted clusters."""
    precision, recall = bcubed(y_true, y_pred)
    return {
        "acc": cluster_acc(y_true, y_pred),
        "nmi": nmi(y_true, y_pred, "arithmetic"),
        "nmi_geometric": nmi(y_true, y_pred, "geometric"),
        "nmi_max": nmi(y_true, y_pred, "max"),
        "ari": ari(y_true, y_pred),
        "f1_macro": f1_macro(y_true, y_pred),
        "f1_micro": f1_micro(y_true, y_pred),
        "bcubed_precision": precision,
        "bcubed_recall": recall,
        "n_clusters_found": int(np.unique(np.asarray(y_pred)).size),
    }
