"""R-DC Figures 2 and 16: four curved 2-D clusters, DEC's loss vs R-DC's loss (Shaheen et al., Sec. 1, 4.2).

Setting (Sec. 1, Figure 2; Sec. 4.2, Figure 16): "a linear two-layer
fully-connected auto-encoder to map the data onto a 2D latent space",
pretrained "with vanilla reconstruction for 200 epochs", then fine-tuned either
with DEC's clustering objective (Figure 2) or with R-DC's phase-2 loss (Eq. 14,
Figure 16). The figures show the latent space before and after fine-tuning.

Two steps, so that the figures are drawn from recorded embeddings:

- ``record``: runs the experiment on ``rdc_four_curves`` and writes an .npz
  (inputs, labels, latent codes after pretraining / after DEC / after R-DC,
  both methods' predictions and loss histories) and a .json sidecar.
- ``plot``: reads that .npz and draws figure2.png and figure16.png.

Choices where the paper is silent: encoder 2-32-2 and decoder 2-32-2, all
linear (no activation); pretraining Adam(1e-3), batch 256, MSE. DEC (clusterbench.baselines.dec.DEC.cluster) as
its authors run it (XifengGuo/DEC-keras; reference/autoencoder-family.md §1):
KMeans(n_init 20) centres on the pretrained codes, Student-t q (α = 1), target
P refreshed every ``dec_update_interval`` steps on the full data, KL(P‖Q),
SGD(0.01, momentum 0.9), batch 256, stop when < 0.1 % of the labels change
between refreshes or after ``dec_max_iter`` steps; the decoder is dropped.
R-DC: clusterbench.methods.rdc with its resolved ``paper`` configuration for
rdc_four_curves (α = β = 0.6, M = 5, Adam 1e-3, refresh every 140 steps,
Algorithm 1's stopping rule; no augmentation on 2-D points).
Ground-truth labels only colour the plots and score the sidecar's ACC.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np


def linear_autoencoder(hidden: int = 32):
    """encoder 2-h-2 and decoder 2-h-2, linear layers without activation."""
    from torch import nn

    class LinearAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(2, hidden), nn.Linear(hidden, 2))
            self.decoder = nn.Sequential(nn.Linear(2, hidden), nn.Linear(hidden, 2))

        def forward(self, x):
            z = self.encoder(x)
            return z, self.decoder(z)

    return LinearAE()


def pretrain(ae, X, epochs: int, seed: int, batch_size: int = 256, lr: float = 1e-3) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from clusterbench.blocks.training import as_tensor, check_finite, generator, minibatches

    Xt = as_tensor(X, torch.device("cpu"))
    gen = generator(seed)
    opt = torch.optim.Adam(ae.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        total = 0.0
        for idx in minibatches(X.shape[0], batch_size, gen):
            loss = F.mse_loss(ae(Xt[idx])[1], Xt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        history.append({"epoch": epoch, "loss_rec": check_finite(total / X.shape[0], "pretraining loss", epoch)})
    return history


def record(args) -> None:
    import torch

    from clusterbench.baselines.dec import DEC, DECConfig
    from clusterbench.framework.base import seed_everything
    from clusterbench.blocks.kmeans_knn import kmeans
    from clusterbench.data import load_dataset
    from clusterbench.framework.atomic import atomic_path, write_text
    from clusterbench.framework.metrics import evaluate
    from clusterbench.framework.registry import resolve_config

    data = load_dataset("rdc_four_curves")
    X, y, K = data.flat().astype(np.float32), data.y, data.n_classes
    seed_everything(args.seed)
    ae = linear_autoencoder(args.hidden)
    pre_history = pretrain(ae, X, args.epochs, args.seed)
    with torch.no_grad():
        Z0 = ae.encoder(torch.as_tensor(X)).numpy()
    labels_pre, _ = kmeans(Z0, K, n_init=20, seed=args.seed)

    dec_cfg = DECConfig(update_interval=args.dec_update_interval, max_iter=args.dec_max_iter)
    seed_everything(args.seed)
    dec_result = DEC(dec_cfg).cluster(copy.deepcopy(ae), torch.as_tensor(X), K, seed=args.seed)
    Z_dec, labels_dec, dec_history = dec_result.embedding, dec_result.labels, dec_result.history
    cls, cfg = resolve_config("rdc", "rdc_four_curves", "paper")
    seed_everything(args.seed)
    result = cls(cfg).fit_phase2(copy.deepcopy(ae), X, K, seed=args.seed)
    Z_rdc, labels_rdc = result.embedding, result.labels

    out = Path(args.out)
    with atomic_path(out) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, X=X, y=y, Z_pretrained=Z0, Z_dec=Z_dec, Z_rdc=Z_rdc, labels_pretrained=labels_pre,
                            labels_dec=labels_dec, labels_rdc=labels_rdc)
    meta = {"dataset": "rdc_four_curves", "seed": args.seed, "hidden": args.hidden, "pretrain_epochs": args.epochs,
            "dec": {"update_interval": args.dec_update_interval, "max_iter": args.dec_max_iter,
                    "steps": dec_history[-1]["iter"]},
            "rdc_config": {k: getattr(cfg, k) for k in ("M", "alpha", "beta", "lr", "update_interval", "patience")},
            "rdc_steps": int(result.extras["iterations"]), "rdc_tau": [h["tau"] for h in result.history],
            "acc": {"pretrained+kmeans": evaluate(y, labels_pre)["acc"], "dec": evaluate(y, labels_dec)["acc"],
                    "rdc": evaluate(y, labels_rdc)["acc"]},
            "history": {"pretrain": pre_history[-1], "dec": dec_history, "rdc": result.history}}
    write_text(out.with_suffix(".json"), json.dumps(meta, indent=1, default=float))
    print(json.dumps({k: meta[k] for k in ("acc", "rdc_steps", "dec")}, default=float))


def plot(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clusterbench.framework.atomic import atomic_path

    rec = np.load(args.embeddings)
    meta_path = Path(args.embeddings).with_suffix(".json")
    acc = json.loads(meta_path.read_text())["acc"] if meta_path.exists() else {}
    y = rec["y"]

    def draw(ax, Z, title):
        ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", vmin=0, vmax=9, s=4, linewidths=0)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])

    for path, key, name, display, figure in (
            (args.figure2, "Z_dec", "dec", "DEC", "Figure 2: DEC's clustering loss"),
            (args.figure16, "Z_rdc", "rdc", "R-DC", "Figure 16: R-DC's phase-2 loss (Eq. 14)")):
        fig, axes = plt.subplots(1, 2, figsize=(8, 4))
        draw(axes[0], rec["Z_pretrained"], f"after pretraining (k-means ACC {acc.get('pretrained+kmeans', float('nan')):.3f})")
        draw(axes[1], rec[key], f"after fine-tuning ({display} ACC {acc.get(name, float('nan')):.3f})")
        fig.suptitle(f"{figure} - four curved clusters, linear AE to 2-D (colour: true cluster)", fontsize=10)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120, format=Path(path).suffix.lstrip(".") or "png")
        plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("record", help="run the experiment and store the embeddings")
    r.add_argument("--out", required=True)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--hidden", type=int, default=32)
    r.add_argument("--epochs", type=int, default=200)
    r.add_argument("--dec-update-interval", type=int, default=140)
    r.add_argument("--dec-max-iter", type=int, default=20000)
    p = sub.add_parser("plot", help="draw figure2.png and figure16.png from a recorded .npz")
    p.add_argument("--embeddings", required=True)
    p.add_argument("--figure2", required=True)
    p.add_argument("--figure16", required=True)
    args = parser.parse_args(argv)
    {"record": record, "plot": plot}[args.command](args)


if __name__ == "__main__":
    main()
