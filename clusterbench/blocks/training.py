"""Shared pieces of every torch training loop: device, seeded mini-batches, NaN guard."""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch

from ..framework.base import DivergenceError


def resolve_device(device: str = "cpu") -> torch.device:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"``; asking for CUDA without a GPU is an error."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def generator(seed: int) -> torch.Generator:
    """A CPU torch.Generator seeded with ``seed`` (keeps data order independent of model init)."""
    g = torch.Generator()
    g.manual_seed(int(seed))
    return g


def minibatches(n: int, batch_size: int, gen: torch.Generator, shuffle: bool = True,
                drop_last: bool = False) -> Iterator[torch.Tensor]:
    """Index tensors of one epoch over ``n`` samples."""
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    stop = n - (n % batch_size) if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def check_finite(value, what: str = "loss", step: int | None = None) -> float:
    """Return ``float(value)``; raise :class:`DivergenceError` when it is NaN or infinite."""
    number = float(value)
    if not math.isfinite(number):
        where = f" at step {step}" if step is not None else ""
        raise DivergenceError(f"{what} became {number}{where}")
    return number


@torch.no_grad()
def predict_in_batches(fn, X: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Apply ``fn`` to X (N, ...) in chunks and concatenate (no gradients)."""
    return torch.cat([fn(X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)])


def as_tensor(X: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32, device=device)
