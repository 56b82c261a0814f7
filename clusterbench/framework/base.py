"""One interface for every clustering method, from k-means to NMCE.

A method is a class with a ``Config`` dataclass holding its paper's defaults
and a ``fit_predict`` that returns a :class:`Result`. Classes are registered
by name in ``config/methods/{name}.yaml`` (see :mod:`clusterbench.framework.registry`).
"""

from __future__ import annotations

import abc
import dataclasses
import random
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


class DivergenceError(RuntimeError):
    """Training diverged (NaN/inf loss, collapsed clusters); the run is recorded as failed."""


_NUMERIC = re.compile(r"overflow|\bnan\b|\binf\b|infinity|not finite|non-finite|failed to converge", re.I)


def numerical_failure(error: BaseException) -> str | None:
    """The reason a run failed numerically (its record says ``failed``), or None for any other error (a bug,
    which must stay loud). Numerical: a :class:`DivergenceError`, an overflow or floating-point error, and
    library errors caused by non-finite numbers (torch's "value cannot be converted to type float without
    overflow" for a learning rate of 1e300, scikit-learn's "Input contains NaN" on a diverged embedding,
    an eigensolver that fails on them)."""
    if isinstance(error, DivergenceError):
        return f"diverged: {error}"
    if isinstance(error, (OverflowError, FloatingPointError)):
        return f"numerical overflow: {type(error).__name__}: {error}"
    if isinstance(error, (RuntimeError, ValueError, np.linalg.LinAlgError)) and _NUMERIC.search(str(error)):
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"numerical failure: {type(error).__name__}: {first}"
    return None


#: a labelling whose largest cluster holds more than this fraction of the points has collapsed
COLLAPSE_FRACTION = 0.99


def collapse_reason(labels: np.ndarray, n_clusters: int) -> str | None:
    """Why a labelling counts as collapsed (a failed run), or None. Label-free, the same for every method.

    Collapsed: fewer than two non-empty clusters, or the largest cluster holds more than
    ``COLLAPSE_FRACTION`` (99 %) of the points. Justification without ground truth: a labelling that
    differs from the one-cluster labelling on at most 1 % of the points scores within 1 point of ACC of
    that trivial labelling on any ground truth (ACC's best matching gains at most the points outside the
    largest cluster), so it is the degenerate solution the divergence contract names, not a result to
    average. Poor but non-degenerate labellings (e.g. 3 of 10 clusters used evenly) stay ``ok`` and are
    averaged: failing them would drop bad seeds and inflate the means.
    """
    labels = np.asarray(labels).ravel()
    if n_clusters < 2 or labels.size == 0:
        return None
    _, counts = np.unique(labels, return_counts=True)
    if counts.size < 2:
        return f"collapsed: all {labels.size} points in one cluster (of {n_clusters} requested)"
    share = counts.max() / labels.size
    if share > COLLAPSE_FRACTION:
        return (f"collapsed: the largest cluster holds {100 * share:.2f} % of the points "
                f"(> {100 * COLLAPSE_FRACTION:.0f} %; {counts.size} non-empty clusters of {n_clusters})")
    return None


@dataclass
class Result:
    """What a fit returns.

    labels: (N,) int cluster assignments. embedding: (N, d) learned features or
    None. history: one dict per epoch/step (loss terms, diagnostics; never
    ground-truth scores). extras: small named arrays worth keeping (e.g. centres).
    """

    labels: np.ndarray
    embedding: np.ndarray | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class NoConfig:
    """Configuration of a method without hyperparameters."""


def seed_everything(seed: int) -> None:
    """Seed python, numpy and (if it is imported) torch; deterministic kernels on CPU."""
    import sys

    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)


class ClusteringMethod(abc.ABC):
    """Base class: ``Config`` holds the paper's defaults; subclasses implement ``fit_predict``."""

    Config: ClassVar[type] = NoConfig
    #: bibliography key of the method's paper
    paper: ClassVar[str] = ""
    #: whether the method needs torch (methods that do not keep their processes light)
    needs_torch: ClassVar[bool] = False

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        config = config if config is not None else self.Config()
        self.config = dataclasses.replace(config, **overrides) if overrides else config
        self.labels_: np.ndarray | None = None

    @abc.abstractmethod
    def fit_predict(self, data, n_clusters: int, *, seed: int, device: str = "cpu") -> Result:
        """Cluster ``data`` (a :class:`clusterbench.data.Dataset`) into ``n_clusters`` groups."""

    def fit(self, data, n_clusters: int, *, seed: int = 0, device: str = "cpu") -> "ClusteringMethod":
        """scikit-learn flavour: fit and keep ``labels_``."""
        seed_everything(seed)
        self.result_ = self.fit_predict(data, n_clusters, seed=seed, device=device)
        self.labels_ = np.asarray(self.result_.labels)
        return self
