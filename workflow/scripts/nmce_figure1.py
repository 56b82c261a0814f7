"""NMCE Figure 1: the double spiral clustered by k-means, a deep clustering baseline and NMCE.

Reads run records only (``{runs}/{profile}/{dataset}/{method}/seed{S}/labels.npz``
and ``record.json``; the workflow keeps them in results/figures/nmce) and the data sets' coordinates; colours are the recorded
cluster labels, panel titles carry the recorded ACC. One row per data set (the
suite draws two: the paper's settings and the authors' notebook's), one column
per method. The paper's left panel is "a deep clustering method" without a
name; the default here is DEC.

    python workflow/scripts/nmce_figure1.py --runs results/figures/nmce --profile paper --seed 0 \
        --datasets nmce_double_spiral_40k,nmce_double_spiral_notebook --out reports/nmce/figure1.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

def load_run(runs: Path, profile: str, method: str, seed: int, dataset: str = "nmce_double_spiral"):
    """(labels, record) of one recorded run, or (None, None) when it is missing or failed."""
    directory = Path(runs) / profile / dataset / method / f"seed{seed}"
    record_path, labels_path = directory / "record.json", directory / "labels.npz"
    if not record_path.exists() or not labels_path.exists():
        return None, None
    record = json.loads(record_path.read_text())
    if record.get("status") != "ok":
        return None, record
    return np.load(labels_path)["labels"], record


def budget(record: dict) -> str:
    """A short budget note from the recorded config: NMCE's steps, batch and augmentation noise, DEC's iterations."""
    config = record.get("config") or {}
    if "s1_length" in config and config.get("unit") == "steps":
        note = f"{config['s1_length']:,} steps, batch {min(config['batch_size'], record['n_samples']):,}"
        if config.get("augmentation") == "gaussian":
            note += f", noise {config['noise']:g}"
        return note
    if "max_iter" in config and "update_interval" in config:   # DEC's clustering phase
        return f"at most {config['max_iter']:,} iterations"
    if "n_init" in config:                                      # k-means
        return f"best of {config['n_init']} restarts"
    return ""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="results/runs")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default="nmce_double_spiral",
                        help="comma-separated, one row each: nmce_double_spiral(_40k|_notebook)")
    parser.add_argument("--methods", default="kmeans,dec,nmce", help="comma-separated, left to right")
    parser.add_argument("--out", default="reports/nmce/figure1.png")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clusterbench.data import load_dataset
    from clusterbench.data.catalog import DATASETS
    from clusterbench.framework.atomic import atomic_path
    from clusterbench.framework.registry import methods

    names, datasets = args.methods.split(","), args.datasets.split(",")
    registry = methods()
    fig, axes = plt.subplots(len(datasets), len(names), figsize=(4 * len(names), 4.3 * len(datasets)), squeeze=False)
    for row, dataset in zip(axes, datasets):
        X = load_dataset(dataset).X
        for column, (ax, name) in enumerate(zip(row, names)):
            labels, record = load_run(Path(args.runs), args.profile, name, args.seed, dataset)
            display = registry[name].display if name in registry else name
            if labels is None:
                status = (record or {}).get("status", "no record")
                ax.text(0.5, 0.5, f"{display}: {status}", ha="center", va="center", transform=ax.transAxes)
            else:
                ax.scatter(X[:, 0], X[:, 1], c=labels, s=1, cmap="coolwarm", rasterized=True)
                note = budget(record)
                ax.set_title(f"{display}: ACC {100 * record['metrics']['acc']:.1f}%" + (f"\n{note}" if note else ""),
                             fontsize=10)
            if column == 0:
                ax.set_ylabel(f"{dataset}\n({len(X):,} points)", fontsize=9)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
    rows = "; ".join(f"{d}: {DATASETS[d].preprocessing.split('; ')[-1]}" if d in DATASETS else d for d in datasets)
    fig.suptitle(f"NMCE Figure 1: double spiral, profile {args.profile}, seed {args.seed}; colours = recorded "
                 f"cluster labels\n{rows}\n(the paper's NMCE panel separates the two spirals; an NMCE ACC "
                 "well below 100 % means it is not reproduced)", fontsize=9)
    fig.tight_layout()
    out = Path(args.out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=120, format=out.suffix.lstrip(".") or "png")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
