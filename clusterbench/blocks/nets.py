"""The fully connected autoencoder of DEC, IDEC, DynAE and R-DC, and ACAI's critic.

Architecture d-500-500-2000-10 (Xie et al. 2016, Sec. 4.2; Guo et al. 2017;
Mrabah et al. 2020; Shaheen et al., R-DC Sec. 4.1.3): ReLU on every hidden
layer, a linear 10-d embedding and a linear reconstruction; the decoder mirrors
the encoder. The input dimension d comes from the dataset, so the same network
also runs on the 2-D and 32-D synthetic sets (there the embedding, 10-d, is
wider than the input; the networks are unchanged).

The ACAI critic (Berthelot et al. 2019, as DynAE builds it) is an encoder of the
same shape whose 10 outputs are averaged to one scalar per sample.

Weight initialisation (``init``):
- ``variance_scaling``: Keras VarianceScaling(1/3, fan_in, uniform), i.e.
  U(±sqrt(1/fan_in)) — PyTorch's default Linear weights — with zero biases
  (DEC-keras on MNIST/FMNIST, IDEC, DynAE);
- ``glorot``: Glorot-uniform weights, zero biases (DEC-keras on USPS);
- ``gaussian``: N(0, 0.01²) weights, zero biases (DEC's Caffe code).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

#: hidden widths of the papers' encoder (the embedding width is separate)
PAPER_HIDDEN = (500, 500, 2000)
EMBEDDING_DIM = 10
INITS = ("variance_scaling", "glorot", "gaussian")


def init_linear(layer: nn.Linear, init: str) -> None:
    """Initialise one Linear layer in place (weights as named, bias 0)."""
    fan_out, fan_in = layer.weight.shape
    with torch.no_grad():
        if init == "variance_scaling":
            bound = math.sqrt(1.0 / fan_in)
            layer.weight.uniform_(-bound, bound)
        elif init == "glorot":
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            layer.weight.uniform_(-bound, bound)
        elif init == "gaussian":
            layer.weight.normal_(0.0, 0.01)
        else:
            raise ValueError(f"unknown init {init!r}; known: {INITS}")
        layer.bias.zero_()


def mlp(dims: Sequence[int], init: str = "variance_scaling", final_activation: bool = False) -> nn.Sequential:
    """Linear layers dims[0] → ... → dims[-1], ReLU between them (and after the last when asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        linear = nn.Linear(a, b)
        init_linear(linear, init)
        layers.append(linear)
        if i < len(dims) - 2 or final_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """d-h1-h2-h3-e encoder f and its mirror decoder g.

    ``encoder(x)``: (B, d) → (B, e) linear embedding z; ``decoder(z)``: (B, e) → (B, d)
    linear reconstruction; ``forward(x)`` returns (z, x̂).
    """

    def __init__(self, input_dim: int, hidden: Sequence[int] = PAPER_HIDDEN, embedding_dim: int = EMBEDDING_DIM,
                 init: str = "variance_scaling"):
        super().__init__()
        self.dims = [int(input_dim), *map(int, hidden), int(embedding_dim)]
        self.encoder = mlp(self.dims, init)
        self.decoder = mlp(self.dims[::-1], init)

    @property
    def input_dim(self) -> int:
        return self.dims[0]

    @property
    def embedding_dim(self) -> int:
        return self.dims[-1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return z, self.decoder(z)

    def encoder_linears(self) -> list[nn.Linear]:
        return [m for m in self.encoder if isinstance(m, nn.Linear)]

    def decoder_linears(self) -> list[nn.Linear]:
        """Decoder Linear layers, innermost (embedding → h3) first."""
        return [m for m in self.decoder if isinstance(m, nn.Linear)]


class Critic(nn.Module):
    """ACAI critic c: an encoder-shaped MLP d-h1-h2-h3-e whose e outputs are averaged: (B, d) → (B,)."""

    def __init__(self, input_dim: int, hidden: Sequence[int] = PAPER_HIDDEN, embedding_dim: int = EMBEDDING_DIM,
                 init: str = "variance_scaling"):
        super().__init__()
        self.dims = [int(input_dim), *map(int, hidden), int(embedding_dim)]
        self.net = mlp(self.dims, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).mean(dim=1)
