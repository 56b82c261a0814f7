"""Augmentations shared by several methods, vectorised over a batch.

- :func:`random_shift_rotate`: DynAE's and R-DC's image augmentation (random
  shift of up to ``shift`` of the width/height and rotation up to ``degrees``),
  one affine grid for the whole batch.
- :func:`gaussian_noise`: NMCE's augmentation for point data.
Torchvision transforms v2 pipelines for natural images (SimCLR-style) live with
the methods that define them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_shift_rotate(x: torch.Tensor, shift: float = 0.1, degrees: float = 10.0,
                        gen: torch.Generator | None = None) -> torch.Tensor:
    """Randomly shifted and rotated copies of images x (B, C, H, W); zeros fill the border."""
    b = x.shape[0]
    angle = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(degrees)
    # affine_grid works in [-1, 1] coordinates: a shift of s of the width is 2 s
    t = (torch.rand(b, 2, generator=gen) * 2 - 1) * 2 * shift
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def gaussian_noise(x: torch.Tensor, magnitude: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """x + magnitude · N(0, I), same shape as x."""
    noise = torch.randn(x.shape, generator=gen).to(x.device, x.dtype)
    return x + magnitude * noise
