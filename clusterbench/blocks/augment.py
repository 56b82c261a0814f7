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


# --- SimCLR-style image augmentations (NMCE App. B.2-B.3), vectorised: per-sample random
# parameters, one batched op each. torchvision's v2 transforms draw one set of parameters
# per call, so applied to a batch tensor they would give every image the same transform.


def _uniform(shape, low: float, high: float, gen) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=gen)


def random_resized_crop(x: torch.Tensor, size: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                        gen: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample RandomResizedCrop of x (B, C, H, W) to (B, C, size, size), bilinear.

    Area fraction ~ U(scale), log aspect ratio ~ U(log ratio); sides clamped to the
    image (torchvision retries instead of clamping).
    """
    b = x.shape[0]
    area = _uniform(b, *scale, gen)
    log_r = _uniform(b, math.log(ratio[0]), math.log(ratio[1]), gen)
    w = torch.sqrt(area * torch.exp(log_r)).clamp(max=1.0)
    h = torch.sqrt(area / torch.exp(log_r)).clamp(max=1.0)
    cx = (torch.rand(b, generator=gen) * 2 - 1) * (1 - w)
    cy = (torch.rand(b, generator=gen) * 2 - 1) * (1 - h)
    zero = torch.zeros(b)
    theta = torch.stack([torch.stack([w, zero, cx], 1), torch.stack([zero, h, cy], 1)], 1)
    grid = F.affine_grid(theta.to(x.device, x.dtype), [b, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_hflip(x: torch.Tensor, p: float = 0.5, gen: torch.Generator | None = None) -> torch.Tensor:
    """Flip each image of x (B, C, H, W) left-right with probability p."""
    flip = (torch.rand(x.shape[0], generator=gen) < p).to(x.device).view(-1, 1, 1, 1)
    return torch.where(flip, x.flip(-1), x)


def random_perspective(x: torch.Tensor, distortion_scale: float = 0.3, p: float = 0.6,
                       gen: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample RandomPerspective: each corner moves inwards by up to ``distortion_scale``
    of the half-size (as torchvision), with probability p; zeros fill outside."""
    b = x.shape[0]
    start = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]).expand(b, 4, 2)
    inward = -start.sign()
    apply = (torch.rand(b, generator=gen) < p).float().view(b, 1, 1)
    end = start + inward * distortion_scale * torch.rand(b, 4, 2, generator=gen) * apply
    # homography H mapping output (end) corners to input (start) corners: 8 unknowns per sample
    ex, ey, sx, sy = end[..., 0], end[..., 1], start[..., 0], start[..., 1]
    one, zero = torch.ones_like(ex), torch.zeros_like(ex)
    rows_u = torch.stack([ex, ey, one, zero, zero, zero, -ex * sx, -ey * sx], -1)
    rows_v = torch.stack([zero, zero, zero, ex, ey, one, -ex * sy, -ey * sy], -1)
    A = torch.cat([rows_u, rows_v], 1)                                  # (B, 8, 8)
    rhs = torch.cat([sx, sy], 1).unsqueeze(-1)                          # (B, 8, 1)
    h = torch.linalg.solve(A, rhs).squeeze(-1)
    H = torch.cat([h, torch.ones(b, 1)], 1).view(b, 3, 3)
    eye = torch.eye(2, 3).expand(b, 2, 3)
    base = F.affine_grid(eye, list(x.shape), align_corners=False).view(b, -1, 2)   # output coords
    homog = torch.cat([base, torch.ones(b, base.shape[1], 1)], -1) @ H.transpose(1, 2)
    grid = (homog[..., :2] / homog[..., 2:]).view(b, x.shape[2], x.shape[3], 2)
    return F.grid_sample(x, grid.to(x.device, x.dtype), mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def _grey(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 1:
        return x
    w = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def color_jitter(x: torch.Tensor, brightness: float, contrast: float, saturation: float, hue: float,
                 p: float = 1.0, gen: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample ColorJitter of x (B, C, H, W) in [0, 1], applied with probability p.

    Factors ~ U(1 − s, 1 + s) (hue shift ~ U(−hue, hue) of a full turn), in the
    fixed order brightness, contrast, saturation, hue (torchvision permutes the
    order per call). Hue is a rotation of the chroma plane in YIQ space (a linear
    stand-in for the HSV hue shift). Saturation and hue leave grey images unchanged.
    """
    b = x.shape[0]
    apply = (torch.rand(b, generator=gen) < p).view(b, 1, 1, 1).to(x.device)
    shape = (b, 1, 1, 1)
    fb = _uniform(shape, 1 - brightness, 1 + brightness, gen).to(x.device, x.dtype)
    fc = _uniform(shape, 1 - contrast, 1 + contrast, gen).to(x.device, x.dtype)
    fs = _uniform(shape, 1 - saturation, 1 + saturation, gen).to(x.device, x.dtype)
    fh = _uniform(b, -hue, hue, gen).to(x.device, x.dtype)
    y = (x * fb).clamp(0, 1)
    mean = _grey(y).mean((1, 2, 3), keepdim=True)
    y = ((y - mean) * fc + mean).clamp(0, 1)
    if x.shape[1] == 3:
        g = _grey(y)
        y = ((y - g) * fs + g).clamp(0, 1)
        to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
                              device=x.device, dtype=x.dtype)
        angle = 2 * math.pi * fh
        cos, sin = torch.cos(angle), torch.sin(angle)
        rot = torch.zeros(b, 3, 3, device=x.device, dtype=x.dtype)
        rot[:, 0, 0] = 1
        rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = cos, -sin, sin, cos
        M = torch.linalg.inv(to_yiq) @ rot @ to_yiq                       # (B, 3, 3)
        y = torch.einsum("bij,bjhw->bihw", M, y).clamp(0, 1)
    return torch.where(apply, y, x)


def random_grayscale(x: torch.Tensor, p: float = 0.2, gen: torch.Generator | None = None) -> torch.Tensor:
    """Replace each RGB image by its grey version (3 equal channels) with probability p."""
    if x.shape[1] != 3:
        return x
    apply = (torch.rand(x.shape[0], generator=gen) < p).to(x.device).view(-1, 1, 1, 1)
    return torch.where(apply, _grey(x).expand_as(x), x)


def gaussian_blur(x: torch.Tensor, kernel_size: int = 9, sigma=(0.1, 2.0),
                  gen: torch.Generator | None = None) -> torch.Tensor:
    """Separable Gaussian blur with per-sample σ ~ U(sigma), reflection padding (NMCE's GaussianBlur)."""
    b, c, hgt, wid = x.shape
    r = kernel_size // 2
    s = _uniform(b, *sigma, gen).to(x.device, x.dtype).view(b, 1)
    t = torch.arange(-r, r + 1, device=x.device, dtype=x.dtype).view(1, -1)
    k = torch.exp(-t ** 2 / (2 * s ** 2))
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(c, 0)               # (B·C, K)
    y = F.pad(x.reshape(1, b * c, hgt, wid), (r, r, r, r), mode="reflect")
    y = F.conv2d(y, k.view(b * c, 1, -1, 1), groups=b * c)
    y = F.conv2d(y, k.view(b * c, 1, 1, -1), groups=b * c)
    return y.view(b, c, hgt, wid)


def simclr_augment(x: torch.Tensor, policy: str, gen: torch.Generator | None = None) -> torch.Tensor:
    """One augmented view of a batch x (B, C, H, W) under NMCE's policies.

    - ``cifar``: RandomResizedCrop(32, scale 0.08-1), HFlip, ColorJitter(0.4, 0.4, 0.4, 0.1)
      with p 0.8, RandomGrayscale(0.2) (NMCE ``cifar_simclr_norm``, without the Normalize).
    - ``stl``: RandomResizedCrop(96), HFlip, ColorJitter(0.8, 0.8, 0.8, 0.2) with p 0.8,
      RandomGrayscale(0.2), GaussianBlur(9, σ 0.1-2) (NMCE ``stl10_contrastive`` / ``imagenet``).
    - ``coil``: HFlip(0.5), RandomPerspective(0.3, p 0.6), ColorJitter(0.8, 0.8, 0.8, 0.2)
      always (NMCE App. B.2).
    """
    if policy == "cifar":
        x = random_resized_crop(x, x.shape[-1], (0.08, 1.0), gen=gen)
        x = random_hflip(x, 0.5, gen)
        x = color_jitter(x, 0.4, 0.4, 0.4, 0.1, p=0.8, gen=gen)
        return random_grayscale(x, 0.2, gen)
    if policy == "stl":
        x = random_resized_crop(x, x.shape[-1], (0.08, 1.0), gen=gen)
        x = random_hflip(x, 0.5, gen)
        x = color_jitter(x, 0.8, 0.8, 0.8, 0.2, p=0.8, gen=gen)
        x = random_grayscale(x, 0.2, gen)
        return gaussian_blur(x, 9, (0.1, 2.0), gen)
    if policy == "coil":
        x = random_hflip(x, 0.5, gen)
        x = random_perspective(x, 0.3, 0.6, gen)
        return color_jitter(x, 0.8, 0.8, 0.8, 0.2, p=1.0, gen=gen)
    raise ValueError(f"unknown augmentation policy {policy!r}; known: cifar, stl, coil")
