"""LARS: layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017) around SGD with momentum.

No maintained PyPI package provides it (``torchlars`` 0.1.2 dates from 2019 and
needs a compiled CUDA extension), so it is written here. It follows the
``LARSWrapper(SGD, eta=0.02, clip=True, exclude_bias_n_norm=True)`` that NMCE's
code uses (the solo-learn / Lightning-Bolts wrapper): for every parameter
tensor p with gradient g and weight decay λ,

    local_lr = η ||p|| / (||g|| + λ ||p|| + 1e-8)
    clip:      local_lr = min(local_lr / lr, 1)
    g ← (g + λ p) · local_lr

then the plain SGD-with-momentum update ``buf ← μ buf + g; p ← p − lr buf``.
With ``exclude_bias_n_norm`` one-dimensional tensors (biases, norm scales)
skip both the adaptation and the weight decay, as in that wrapper.
It is a ``torch.optim.Optimizer`` so the usual LR schedulers drive ``lr``.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer


class LARS(Optimizer):
    """SGD with momentum and LARS trust ratios. params as for ``torch.optim.SGD``."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                 eta: float = 0.02, clip: bool = True, exclude_bias_n_norm: bool = True, eps: float = 1e-8):
        if lr < 0:
            raise ValueError(f"invalid learning rate {lr}")
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta, clip=clip,
                        exclude_bias_n_norm=exclude_bias_n_norm, eps=eps)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if not (group["exclude_bias_n_norm"] and p.ndim == 1):
                    p_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(g)
                    if p_norm > 0 and g_norm > 0:
                        local_lr = group["eta"] * p_norm / (g_norm + wd * p_norm + group["eps"])
                        if group["clip"] and lr > 0:
                            local_lr = torch.clamp(local_lr / lr, max=1.0)
                        g = (g + wd * p) * local_lr
                    else:
                        g = g + wd * p
                if mu:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.clone()
                    else:
                        buf.mul_(mu).add_(g)
                    g = buf
                p.add_(g, alpha=-lr)
        return loss
