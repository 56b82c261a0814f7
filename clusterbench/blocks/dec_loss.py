"""DEC's clustering layer and objective, shared by DEC, IDEC and DynAE.

Xie, Girshick, Farhadi (2016), "Unsupervised Deep Embedding for Clustering
Analysis", Sec. 3.1.1-3.1.2:

- Eq. (1) soft assignment, Student's t kernel with α degrees of freedom:
  q_ij = (1 + ||z_i − μ_j||²/α)^(−(α+1)/2) / Σ_j' (1 + ||z_i − μ_j'||²/α)^(−(α+1)/2)
- Eq. (3) target distribution: p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), f_j = Σ_i q_ij
- Eq. (2) L = KL(P‖Q) = Σ_i Σ_j p_ij log(p_ij / q_ij)

Reductions follow the authors' Keras code (XifengGuo/DEC-keras, IDEC): the loss
'kld' sums over clusters and averages over the batch (the paper's Σ_i becomes a
batch mean); see reference/autoencoder-family.md §0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_assignment(z: torch.Tensor, mu: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Eq. (1): q (N, K) from embeddings z (N, e) and centres μ (K, e); rows sum to 1."""
    dist2 = torch.cdist(z, mu).pow(2) if z.shape[0] > 0 else z.new_zeros((0, mu.shape[0]))
    # the squared distance from cdist can be very slightly negative; clamp before the power
    q = (1.0 + dist2.clamp_min(0) / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """Eq. (3): p (N, K) from q (N, K) of the whole data set; rows sum to 1, sharper than q."""
    weight = q.pow(2) / q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Eq. (2) with Keras 'kld' reduction: Σ_j p_ij log(p_ij/q_ij), averaged over the batch rows."""
    return F.kl_div(q.clamp_min(1e-12).log(), p, reduction="batchmean")
