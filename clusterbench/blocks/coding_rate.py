"""Gaussian coding rates of MCR² (Yu et al. 2020), as used by NMCE (Li et al. 2022).

Conventions of the reference code (Ma-Lab-Berkeley/MCR2 ``loss.py``,
zengyi-li/NMCE-release ``loss.py``): features Z are (m, p), m samples of
dimension p, and ``eps`` already *is* ε² (the papers' distortion squared).

- :func:`coding_rate`      R(Z)      = ½ logdet(I_p + p/(m ε²) Zᵀ Z)                 (NMCE Eq. 2)
- :func:`coding_rate_per_cluster`
                           R_c(Z, Π) = Σ_j tr(Π_j)/(2m) · logdet(I_p + p/(tr(Π_j) ε²) Zᵀ Π_j Z)
                           with Π_j = diag(π_{·j}) soft memberships (m, k), tr(Π_j) + 1e-8
- :func:`mcr2_loss`        −R + γ R_c   (the negated rate reduction ΔR, NMCE Eq. 3/4)
- :func:`tcr_loss`         −R           (total coding rate, NMCE Eq. 5)
"""

from __future__ import annotations

import torch

#: added to tr(Π_j) as in the reference code (empty clusters stay finite)
TRACE_EPS = 1e-8


def coding_rate(Z: torch.Tensor, eps: float) -> torch.Tensor:
    """R(Z) = ½ logdet(I + p/(m eps) ZᵀZ) for Z (m, p); ``eps`` means ε²."""
    m, p = Z.shape
    I = torch.eye(p, device=Z.device, dtype=Z.dtype)
    return 0.5 * torch.logdet(I + (p / (m * eps)) * Z.T @ Z)


def coding_rate_per_cluster(Z: torch.Tensor, Pi: torch.Tensor, eps: float) -> torch.Tensor:
    """R_c(Z, Π) = Σ_j tr(Π_j)/(2m) logdet(I + p/(tr(Π_j) eps) Zᵀ diag(Π_j) Z).

    Z: (m, p) features; Pi: (m, k) memberships (one-hot or probabilities).
    """
    m, p = Z.shape
    tr = Pi.sum(0) + TRACE_EPS                                     # (k,)
    I = torch.eye(p, device=Z.device, dtype=Z.dtype)
    cov = torch.einsum("mj,mp,mq->jpq", Pi, Z, Z)                  # Zᵀ Π_j Z, (k, p, p)
    logdet = torch.logdet(I + (p / (tr * eps)).view(-1, 1, 1) * cov)
    return (tr * logdet).sum() / (2 * m)


def mcr2_loss(Z: torch.Tensor, Pi: torch.Tensor, eps: float, gamma: float = 1.0):
    """−R(Z) + γ R_c(Z, Π); returns (loss, R, R_c)."""
    R = coding_rate(Z, eps)
    Rc = coding_rate_per_cluster(Z, Pi, eps)
    return -R + gamma * Rc, R, Rc


def tcr_loss(Z: torch.Tensor, eps: float) -> torch.Tensor:
    """Total coding rate objective −R(Z) (NMCE Eq. 5)."""
    return -coding_rate(Z, eps)
