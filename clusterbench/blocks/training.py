"""Shared pieces of every torch training loop: device, seeded mini-batches, NaN guard, progress.

``progress`` (:mod:`clusterbench.blocks.progress`) is the history list a loop reports through.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch

from ..framework.base import DivergenceError
from .progress import progress  # noqa: F401  (loops take it with the other helpers)


def resolve_device(device: str = "cpu") -> torch.device:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"``; asking for CUDA without a GPU is an error."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3     # glibc's mallopt parameters (malloc.h)


def keep_freed_memory(limit_mb: int = 32) -> bool:
    """Let glibc's malloc keep freed blocks of up to ``limit_mb`` in the process (its maximum for mmap'd
    blocks is 32 MB on 64-bit) instead of handing them back to the kernel.

    A CPU training step frees and re-allocates activations of many MB each; returned to the kernel, every
    new one page-faults in zeroed pages (about 25,000 faults per AHCL step on COIL20). Kept, they are reused.
    Same arithmetic, same results; Linux with glibc only (returns False elsewhere, or when refused).
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    limit = int(limit_mb) << 20
    return bool(mallopt(_M_MMAP_THRESHOLD, limit) and mallopt(_M_TRIM_THRESHOLD, 8 * limit)
                and mallopt(_M_TOP_PAD, limit))


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


#: Adam's fused kernel (one pass over all parameters per step) where torch offers it: 1.3x on the AE
#: pretraining step (reports/performance.md). Rounding differs from the loop-of-tensors kernel, so stored
#: pretrainings carry a format version that changed with it (clusterbench.blocks.pretrain.FORMAT_VERSION).
FUSED_ADAM = True


def adam(params, lr: float, fused: bool | None = None, **kwargs) -> torch.optim.Adam:
    """``torch.optim.Adam`` with the fused kernel when available (``fused``: None = :data:`FUSED_ADAM`)."""
    params = list(params)
    use = FUSED_ADAM if fused is None else fused
    if use:
        try:
            return torch.optim.Adam(params, lr=lr, fused=True, **kwargs)
        except (RuntimeError, TypeError):  # a torch without the fused kernel for this device or dtype
            pass
    return torch.optim.Adam(params, lr=lr, **kwargs)
