"""AHCL Figures 2-4 (Zhang et al., Section 5.5) drawn from recorded AHCL runs.

- Figure 2: t-SNE of Z on USPS at the recorded snapshot epochs (paper: epochs 1, 20, 140), titled with
  the NMI (max normalisation) of k-means on that epoch's Z, as the run scored it (scored_history.csv).
- Figure 3: the class-block affinity of the deep graph Y (Eq. 12-14 on the snapshot's Z): entry (a, b)
  is the mean y_ij over samples i of class a and j of class b, at the same epochs.
- Figure 4: the objective (Eq. 17) per epoch on every dataset with AHCL runs (history.csv), mean over
  the seeds with the range shaded (the paper plots it per iteration; the run records the epoch mean).

Every number comes from the run directory (labels.npz: extra_z_epoch{E}; history.csv;
scored_history.csv; record.json for the margin m); Y is Eq. 14 evaluated on the recorded Z.
t-SNE (scikit-learn, perplexity 30, PCA init, seed 0) runs on a fixed random subset of
``--tsne-samples`` points (all points when fewer), for time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def _save(fig, path: str) -> None:
    from clusterbench.framework.atomic import atomic_path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format=Path(path).suffix.lstrip(".") or "png")


def _snapshots(run_dir: Path) -> tuple[dict[int, np.ndarray], dict]:
    """{epoch: Z (n, k)} recorded by the run, and all its arrays."""
    arrays = np.load(run_dir / "labels.npz")
    snaps = {int(k[len("extra_z_epoch"):]): arrays[k] for k in arrays.files if k.startswith("extra_z_epoch")}
    if not snaps:
        raise SystemExit(f"{run_dir}: no Z snapshots recorded (set snapshot_epochs for this dataset and seed)")
    return dict(sorted(snaps.items())), arrays


def figure2_3(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from sklearn.manifold import TSNE

    from clusterbench.methods.ahcl import class_block_affinity

    run_dir = Path(args.run)
    record = json.loads((run_dir / "record.json").read_text())
    snaps, _ = _snapshots(run_dir)
    from clusterbench.data import load_dataset

    data = load_dataset(record["dataset"], mirror=args.mirror or None)
    y = data.y
    scored = pd.read_csv(run_dir / "scored_history.csv").set_index("epoch")
    total_epochs = record["config"]["epochs"]
    budget = (f"{record['profile']} profile: {total_epochs} epochs x {record['config']['iterations']} "
              f"iterations x batch {record['config']['batch_size']}, seed {record['seed']}")

    rng = np.random.default_rng(0)
    subset = np.sort(rng.choice(len(y), size=min(args.tsne_samples, len(y)), replace=False))
    fig, axes = plt.subplots(1, len(snaps), figsize=(4.2 * len(snaps), 4.2))
    for ax, (epoch, Z) in zip(np.atleast_1d(axes), snaps.items()):
        emb = TSNE(n_components=2, perplexity=30, init="pca", random_state=0).fit_transform(Z[subset])
        ax.scatter(emb[:, 0], emb[:, 1], c=y[subset], cmap="tab10", s=3, linewidths=0)
        ax.set_title(f"epoch {epoch} (NMI = {100 * scored.loc[epoch, 'nmi_max']:.2f}%)")
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(f"AHCL Figure 2: t-SNE of Z on {record['dataset']} ({budget}; "
                 f"{len(subset)} points)", fontsize=9)
    fig.tight_layout()
    _save(fig, args.figure2)
    plt.close(fig)

    m = record["config"]["margin"]
    fig, axes = plt.subplots(1, len(snaps), figsize=(4.2 * len(snaps), 4.0))
    for ax, (epoch, Z) in zip(np.atleast_1d(axes), snaps.items()):
        block = class_block_affinity(Z, y, m)                     # clusterbench.methods.ahcl, Eq. 12-14
        im = ax.imshow(block, cmap="viridis", vmin=0.0, vmax=max(block.max(), 1e-6))
        ax.set_title(f"epoch {epoch}")
        ax.set_xlabel("class"), ax.set_ylabel("class")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(f"AHCL Figure 3: mean affinity y_ij of the deep graph Y between classes "
                 f"({record['dataset']}, m = {m}; {budget})", fontsize=9)
    fig.tight_layout()
    _save(fig, args.figure3)
    plt.close(fig)


def figure4(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    drawn, per_epoch = 0, None
    for summary in args.summaries:
        method_dir = Path(summary).parent
        curves = [pd.read_csv(h)["objective"].to_numpy() for h in sorted(method_dir.glob("seed*/history.csv"))]
        if not curves:
            continue  # dataset unavailable: no histories
        length = min(len(c) for c in curves)
        curves = np.stack([c[:length] for c in curves])
        config = json.loads(next(method_dir.glob("seed*/record.json")).read_text())["config"]
        per_epoch = config["iterations"]
        epochs = np.arange(1, length + 1)
        line, = ax.plot(epochs, curves.mean(axis=0), label=f"{method_dir.parent.name} ({len(curves)} seeds)")
        ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.2)
        drawn += 1
    if not drawn:
        raise SystemExit("no AHCL histories found: run AHCL first")
    profile = Path(args.summaries[0]).parts[-4]
    ax.set_xlabel(f"epoch ({per_epoch} iterations each; objective averaged over them)")
    ax.set_ylabel("objective (Eq. 17)")
    ax.set_yscale("log")
    ax.set_title(f"AHCL Figure 4: convergence (profile {profile}; mean, min-max over seeds)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, args.figure4)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("snapshots", help="Figures 2 and 3 from one run with Z snapshots")
    p.add_argument("--run", required=True, help="results/runs/{profile}/{dataset}/ahcl/seed{S}")
    p.add_argument("--mirror", default="")
    p.add_argument("--tsne-samples", type=int, default=3000)
    p.add_argument("--figure2", required=True)
    p.add_argument("--figure3", required=True)
    p.set_defaults(func=figure2_3)
    p = sub.add_parser("convergence", help="Figure 4 from the runs' histories")
    p.add_argument("--summaries", nargs="+", required=True, help="results/runs/{profile}/{dataset}/ahcl/summary.json")
    p.add_argument("--figure4", required=True)
    p.set_defaults(func=figure4)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
