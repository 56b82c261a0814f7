"""One interface for every clustering method, from k-means to NMCE.

A method is a class with a ``Config`` dataclass holding its paper's defaults
and a ``fit_predict`` that returns a :class:`Result`. Classes are registered
by name in ``config/methods/{name}.yaml`` (see :mod:`clusterbench.framework.registry`).
"""

from __future__ import annotations

import abc
import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


class DivergenceError(RuntimeError):
    """Training diverged (NaN/inf loss, collapsed clusters); the run is recorded as failed."""


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
