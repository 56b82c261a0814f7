"""The suite's LARS equals timm's ``Lars`` (LARC clipping, no adaptation or weight decay for 1-D tensors)."""

import pytest
import torch

from clusterbench.blocks.lars import LARS


@pytest.mark.parametrize("lr, momentum, weight_decay, eta", [(0.5, 0.9, 1e-4, 0.02), (0.05, 0.0, 5e-3, 0.001)])
def test_lars_matches_timm(lr, momentum, weight_decay, eta):
    timm_optim = pytest.importorskip("timm.optim")
    torch.manual_seed(0)
    ours = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    theirs.load_state_dict(ours.state_dict())
    opt_ours = LARS(ours.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta)
    matrices = [p for p in theirs.parameters() if p.ndim > 1]
    vectors = [p for p in theirs.parameters() if p.ndim == 1]
    opt_theirs = timm_optim.Lars([
        {"params": matrices, "weight_decay": weight_decay, "always_adapt": True},
        {"params": vectors, "weight_decay": 0.0, "always_adapt": False},
    ], lr=lr, momentum=momentum, trust_coeff=eta, trust_clip=True)
    X, y = torch.randn(64, 8), torch.randn(64, 3)
    for _ in range(5):
        for model, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(X), y).backward()
            opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
