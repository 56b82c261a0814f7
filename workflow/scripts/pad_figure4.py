"""PAD Figure 4: average SCS size and SCS precision per epoch, from one recorded run.

Reads ``{runs}/{profile}/{dataset}/{method}/seed{S}/history.csv`` (the label-free average
size the fit logged each epoch) and ``scored_history.csv`` (the precision the runner computed
after the fit from the saved per-epoch subgraphs; the labels never entered training). Writes
the figure and a CSV of the plotted values beside it.

    python workflow/scripts/pad_figure4.py --runs results/runs --profile paper --dataset cifar10 \
        --seed 0 --out reports/pad/figure4.png
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="results/runs")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--method", default="pad")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="reports/pad/figure4.png")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(args.runs) / args.profile / args.dataset / args.method / f"seed{args.seed}"
    record = json.loads((directory / "record.json").read_text())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    if record.get("status") != "ok" or not (directory / "scored_history.csv").exists():
        ax.text(0.5, 0.5, f"no figure: run {record.get('status')} ({record.get('reason') or 'no SCS history'})",
                ha="center", va="center", wrap=True)
        ax.set_axis_off()
        fig.savefig(out, dpi=150)
        return
    rows = read_csv(directory / "scored_history.csv")
    epochs = [int(r["epoch"]) + 1 for r in rows]
    size = [float(r["scs_mean_size"]) for r in rows]
    precision = [100 * float(r["scs_precision"]) if r["scs_precision"] not in ("", "nan") else float("nan")
                 for r in rows]
    ax.plot(epochs, size, color="tab:blue", marker="o", ms=3, label="average SCS size")
    ax.set_xlabel("epoch")
    ax.set_ylabel("average SCS size", color="tab:blue")
    twin = ax.twinx()
    twin.plot(epochs, precision, color="tab:red", marker="s", ms=3, label="SCS precision")
    twin.set_ylabel("SCS precision (%)", color="tab:red")
    config = record.get("config") or {}
    metrics = record.get("metrics") or {}
    budget = (f"{config.get('epochs')} epochs, AlexNet width {config.get('width')}, fc {config.get('fc_dim')}, "
              f"k {config.get('k')}, s {config.get('scale')}")
    ax.set_title(f"PAD Figure 4: {args.dataset}, profile {args.profile}, seed {args.seed}\n"
                 f"{budget}; final ACC {100 * metrics.get('acc', float('nan')):.1f}", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=150)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "scs_mean_size", "scs_precision_percent", "scs_coverage", "n_scs"])
        for r, p in zip(rows, precision):
            writer.writerow([int(r["epoch"]) + 1, r["scs_mean_size"], f"{p:.2f}", r["scs_coverage"], r["n_scs"]])


if __name__ == "__main__":
    main()
