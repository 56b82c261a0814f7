"""Feature extractors shared by the deep methods (NMCE's architectures, Li et al. 2022 Sec. 4, App. B.3).

- :class:`MLP`: ``depth`` × [Linear(width), ELU] on flattened inputs (NMCE's synthetic
  experiments: 5 × [Linear 128, ELU], NMCE_toy/demo_components.py).
- :class:`ResNet` with :class:`BasicBlock`s, built by :func:`build_backbone`:

  ========================  =======  =====================  ==========  ==========
  name                      width    blocks per stage       stem        max-pool
  ========================  =======  =====================  ==========  ==========
  resnet18_cifar            64       2, 2, 2, 2             3×3 s1      no
  resnet34_cifar            64       3, 4, 6, 3             3×3 s1      no
  resnet18_stl              64       2, 2, 2, 2             5×5 s2      yes
  resnet34_stl              64       3, 4, 6, 3             5×5 s2      yes
  resnet18_coil             32       2, 2, 2, 2             5×5 s2      yes
  resnet10_coil             32       1, 1, 1, 1             5×5 s2      yes
  ========================  =======  =====================  ==========  ==========

  Channels double per stage; the output is the global average pool (8 × width).
  The CIFAR variants are torchvision's ResNet-18/34 with the 3×3 stride-1 stem
  and no max-pool, as in the paper (the authors' code pads that stem by 2; here 1).

Every backbone exposes ``out_dim``; inputs are (B, C, H, W) images or (B, d) vectors.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class _ELUFunction(torch.autograd.Function):
    """ELU(x) = x (x > 0), exp(x) − 1 (x ≤ 0), written with exp instead of expm1.

    Same function as ``F.elu`` (α = 1) to float32 rounding (|Δ| ≤ 6e-8); float32
    ``expm1`` is not vectorised in the CPU build used here (≈ 9 ns per element, 5 ms
    per 4000 × 128 batch, 40% of an NMCE synthetic step), exp is. The backward uses
    the saved output: dELU/dx = 1 (x > 0), ELU(x) + 1 = exp(x) (x ≤ 0).
    """

    @staticmethod
    def forward(ctx, x):
        out = torch.exp(x.clamp(max=0)).sub_(1).add_(x.clamp(min=0))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out.clamp(max=0).add_(1)


class ELU(nn.Module):
    """nn.ELU() (α = 1) through :class:`_ELUFunction`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ELUFunction.apply(x)


class MLP(nn.Module):
    """depth × [Linear(width), ELU] on x.flatten(1); out_dim = width."""

    def __init__(self, in_dim: int, width: int = 128, depth: int = 5):
        super().__init__()
        layers, d = [], in_dim
        for _ in range(depth):
            layers += [nn.Linear(d, width), ELU()]
            d = width
        self.net = nn.Sequential(*layers)
        self.out_dim = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with an identity (or 1×1 conv-BN) shortcut, ReLU."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """Stem (conv k×k stride s, BN, ReLU, optional 3×3/2 max-pool), 4 stages, global average pool."""

    def __init__(self, in_channels: int, width: int, blocks: tuple[int, ...], stem_kernel: int = 3,
                 stem_stride: int = 1, max_pool: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, stem_kernel, stem_stride, stem_kernel // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.pool = nn.MaxPool2d(3, 2, 1) if max_pool else nn.Identity()
        stages, planes, in_planes = [], width, width
        for i, n in enumerate(blocks):
            layers = []
            for j in range(n):
                layers.append(BasicBlock(in_planes, planes, stride=2 if (i > 0 and j == 0) else 1))
                in_planes = planes
            stages.append(nn.Sequential(*layers))
            planes *= 2
        self.stages = nn.Sequential(*stages)
        self.out_dim = in_planes

    def forward(self, x):
        out = self.pool(F.relu(self.bn1(self.conv1(x))))
        return self.stages(out).mean((2, 3))


RESNETS = {
    "resnet18_cifar": dict(width=64, blocks=(2, 2, 2, 2), stem_kernel=3, stem_stride=1, max_pool=False),
    "resnet34_cifar": dict(width=64, blocks=(3, 4, 6, 3), stem_kernel=3, stem_stride=1, max_pool=False),
    "resnet18_stl": dict(width=64, blocks=(2, 2, 2, 2), stem_kernel=5, stem_stride=2, max_pool=True),
    "resnet34_stl": dict(width=64, blocks=(3, 4, 6, 3), stem_kernel=5, stem_stride=2, max_pool=True),
    "resnet18_coil": dict(width=32, blocks=(2, 2, 2, 2), stem_kernel=5, stem_stride=2, max_pool=True),
    "resnet10_coil": dict(width=32, blocks=(1, 1, 1, 1), stem_kernel=5, stem_stride=2, max_pool=True),
}


def build_backbone(name: str, input_shape: tuple[int, ...], *, mlp_width: int = 128, mlp_depth: int = 5,
                   resnet_width: int | None = None) -> nn.Module:
    """A backbone by name for inputs of ``input_shape`` (C, H, W) or (d,).

    ``"mlp"`` works on any input (flattened); the ResNets need images.
    ``resnet_width`` overrides the first-stage width (budget profiles).
    """
    if name == "mlp":
        return MLP(int(math.prod(input_shape)), mlp_width, mlp_depth)
    if name in RESNETS:
        if len(input_shape) != 3:
            raise ValueError(f"backbone {name} needs images, got input shape {input_shape}")
        spec = dict(RESNETS[name])
        if resnet_width:
            spec["width"] = resnet_width
        return ResNet(input_shape[0], **spec)
    raise ValueError(f"unknown backbone {name!r}; known: mlp, {', '.join(RESNETS)}")
