"""DCCM figures and summaries drawn from recorded runs (never recomputed by the plot).

- ``figure3``: t-SNE of the 64-d features (D) of the run's fixed subsample at the
  recorded stages of training (``extra_snapshot_features``), coloured by the true class.
- ``figure5``: BCubed precision / recall of the pseudo-graph per epoch and threshold,
  from the run's ``scored_history.csv`` (scored against the labels by the runner after the fit);
  the circle marks thres1 = 0.95.
- ``figure6``: (a) the distribution of the largest prediction probability over all samples
  at initialisation and after training (nine intervals [0.1, 0.2) ... [0.9, 1]); (b) ACC / NMI
  against thres2 from the sweep's records.
- ``figure4``: the classification-accuracy panels, rendered as "metric not computed" with the reason.
- ``cpu``: the cpu-budget summary (ACC / NMI / ARI, wall time per seed, loss curve, untrained baselines).

    python workflow/scripts/dccm_figures.py figure5 --run results/runs/paper/cifar10/dccm/seed0 \
        --out reports/dccm/figure5.png
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

INTERVALS = np.round(np.arange(0.1, 1.01, 0.1), 2)   # Figure 6(a): [0.1, 0.2), ..., [0.9, 1]


def _record(run: Path) -> dict:
    return json.loads((Path(run) / "record.json").read_text())


def _budget(record: dict) -> str:
    c = record.get("config") or {}
    epochs = c.get("epochs")
    text = f"profile {record.get('profile')}, {epochs} epoch{'' if epochs == 1 else 's'}"
    if c.get("max_steps"):
        text += f" (at most {c['max_steps']} steps)"
    return text + f", width {c.get('width')}, batch {c.get('batch_size')}, seed {record.get('seed')}"


def _save(fig, out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=out.suffix)
    os.close(fd)
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_text(out: Path, text: str) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, out)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _true_labels(record: dict, mirror: str | None) -> np.ndarray:
    from clusterbench.data import load_dataset

    return load_dataset(record["dataset"], mirror=mirror or None).y


def figure3(run: Path, out: Path, mirror: str | None = None) -> None:
    """t-SNE of the subsample's D features at each recorded stage."""
    from sklearn.manifold import TSNE

    record = _record(run)
    arrays = np.load(Path(run) / "labels.npz")
    feats, epochs = arrays["extra_snapshot_features"], arrays["extra_snapshot_epochs"]
    y = _true_labels(record, mirror)[arrays["extra_diag_index"]]
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(epochs), figsize=(3.2 * len(epochs), 3.4), squeeze=False)
    for ax, F, epoch in zip(axes[0], feats, epochs):
        emb = TSNE(2, init="pca", random_state=0, perplexity=min(30, max(5, len(F) // 10))).fit_transform(F)
        ax.scatter(emb[:, 0], emb[:, 1], c=y, s=3, cmap="tab10" if y.max() < 10 else "tab20")
        ax.set_title("initialisation" if epoch == 0 else f"epoch {epoch}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"DCCM Figure 3: t-SNE of D (64-d) on {record['dataset']}, {len(y)} samples coloured by class\n"
                 f"{_budget(record)}; DAC panel (d) not reproduced (DAC is not in the suite)", fontsize=9)
    _save(fig, out)


def figure5(run: Path, out: Path, max_curves: int = 6) -> None:
    """BCubed precision-recall curves of the pseudo-graph per epoch (thresholds along each curve)."""
    import pandas as pd

    record = _record(run)
    scored = pd.read_csv(Path(run) / "scored_history.csv")
    epochs = sorted(scored.epoch.unique())
    keep = sorted({epochs[i] for i in np.linspace(0, len(epochs) - 1, min(max_curves, len(epochs))).round().astype(int)})
    thres1 = (record.get("config") or {}).get("thres1", 0.95)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    for epoch in keep:
        rows = scored[scored.epoch == epoch].sort_values("threshold")
        line, = ax.plot(rows.recall, rows.precision, "-", label=f"epoch {epoch}")
        at = rows[np.isclose(rows.threshold, thres1)]
        ax.plot(at.recall, at.precision, "o", color=line.get_color())
    ax.set_xlabel("BCubed recall")
    ax.set_ylabel("BCubed precision")
    ax.legend(fontsize=7)
    ax.set_title(f"DCCM Figure 5: pseudo-graph on {record['dataset']} (o: thres1 = {thres1})\n{_budget(record)}",
                 fontsize=8)
    _save(fig, out)


def figure6(run: Path, sweep: list[Path], out: Path) -> None:
    """(a) largest-probability distribution at initialisation and at the end; (b) ACC / NMI against thres2."""
    record = _record(run)
    arrays = np.load(Path(run) / "labels.npz")
    plt = _pyplot()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(9, 3.6))
    centres = (INTERVALS[:-1] + INTERVALS[1:]) / 2
    for key, label, offset in (("extra_max_prob_init", "initial", -0.02), ("extra_max_prob_final", "final", 0.02)):
        p = arrays[key].astype(np.float64)
        counts, _ = np.histogram(np.clip(p, 0.1, 1.0), bins=INTERVALS)
        ax_a.bar(centres + offset, counts / len(p), width=0.04, label=label)
    ax_a.set_xlabel("largest probability p")
    ax_a.set_ylabel("fraction of samples")
    ax_a.legend(fontsize=8)
    ax_a.set_title("(a) distribution of the largest probability", fontsize=9)
    points = []
    for directory in sweep:
        for path in sorted(Path(directory).rglob("record.json")):
            r = json.loads(path.read_text())
            if r.get("status") == "ok":
                points.append((r["config"]["thres2"], r["metrics"]["acc"], r["metrics"]["nmi_geometric"]))
    if points:
        points = np.array(sorted(points))
        for column, name in ((1, "ACC"), (2, "NMI")):
            values = {}
            for t, v in zip(points[:, 0], points[:, column]):
                values.setdefault(t, []).append(v)
            ts = sorted(values)
            ax_b.errorbar(ts, [np.mean(values[t]) for t in ts], yerr=[np.std(values[t]) for t in ts], fmt="-o",
                          ms=4, capsize=3, label=name)
        ax_b.legend(fontsize=8)
    else:
        ax_b.text(0.5, 0.5, "no finished sweep runs", ha="center", transform=ax_b.transAxes)
    ax_b.set_xlabel("thres2")
    ax_b.set_title("(b) influence of thres2", fontsize=9)
    fig.suptitle(f"DCCM Figure 6 on {record['dataset']}: {_budget(record)}", fontsize=9)
    _save(fig, out)


FIGURE4_REASON = ("a supervised MLP (one 200-unit hidden layer) trained on the frozen conv / Y(64) features with "
                  "the CIFAR train/test split and 100 classes for CIFAR-100 (Sec. 4); the suite's runs cluster "
                  "train + test together and train no classifier, so the suite does not compute it")


def figure4(out: Path) -> None:
    lines = ["# DCCM Figure 4: non-linear classification accuracy (top 1) of unsupervised features", "",
             "| Features | CIFAR-10 | CIFAR-100 |", "|---|---|---|"]
    for features in ("Conv", "Y(64)"):
        lines.append(f"| DCCM {features} | not run: metric not computed | not run: metric not computed |")
    lines += ["", f"Reason: {FIGURE4_REASON}.",
              "The published bars (VAE, AAE, BiGAN, NAT, DIM, DCCM) are printed only as a figure; no numbers are "
              "transcribed in results/published/dccm.csv.", ""]
    _write_text(out, "\n".join(lines))


def cpu_summary(runs: list[Path], out: Path) -> None:
    """Per dataset: ACC / NMI / ARI mean ± std, wall time per seed, loss first → last epoch, and how many
    seeds end above the untrained network (argmax of z at initialisation; k-means of its D features)."""
    import csv

    lines = ["# DCCM at the cpu budget: learning signal", "",
             "| Dataset | seeds ok | ACC | NMI (geometric) | ARI | wall s / seed | CPU s / seed | steps (epochs) | "
             "loss first → last logged window | L_PG (+ L'_PG) first → last | seeds with loss falling | untrained ACC (argmax) | seeds ACC > argmax | "
             "untrained ACC (k-means of D) | seeds ACC > k-means |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    budget = ""
    for directory in runs:
        records = [json.loads(p.read_text()) for p in sorted(Path(directory).glob("seed*/record.json"))]
        ok = [r for r in records if r.get("status") == "ok"]
        if not ok:
            lines.append(f"| {Path(directory).parent.name} | 0/{len(records)} | not run | | | | | | | | | | | | |")
            continue
        budget = _budget(ok[0]).rsplit(", seed", 1)[0]

        def stat(key, scale=100.0, src="metrics"):
            v = np.array([r[src][key] for r in ok]) * scale
            return f"{v.mean():.1f} ± {v.std():.1f}"

        first, last, falling, pg_first, pg_last = [], [], 0, [], []
        for r in ok:
            with open(Path(directory) / f"seed{r['seed']}" / "history.csv") as f:
                rows = list(csv.DictReader(f))
            curve = [row for row in rows if row.get("row") == "window"] or [row for row in rows if row.get("loss")]
            losses = [float(row["loss"]) for row in curve]
            pg_first.append(float(curve[0]["pg"]))
            pg_last.append(float(curve[-1]["pg"]))
            first.append(losses[0])
            last.append(losses[-1])
            falling += losses[-1] < losses[0]
        acc = np.array([r["metrics"]["acc"] for r in ok])
        arg = np.array([r["diagnostics"]["acc_init_argmax"] for r in ok])
        km = np.array([r["diagnostics"].get("acc_init_kmeans", np.nan) for r in ok])
        km_text = (f"{100 * np.nanmean(km):.1f} ± {100 * np.nanstd(km):.1f} | {(acc > km).sum()}/{len(ok)}"
                   if np.isfinite(km).any() else "not computed (init_kmeans off) | –")
        lines.append(
            f"| {ok[0]['dataset']} | {len(ok)}/{len(records)} | {stat('acc')} | {stat('nmi_geometric')} | "
            f"{stat('ari')} | {np.mean([r['wall_s'] for r in ok]):.0f} | {np.mean([r['cpu_s'] for r in ok]):.0f} | "
            f"{int(ok[0]['diagnostics'].get('steps', 0))} ({int(float(rows[-1]['epoch']))}) | "
            f"{np.mean(first):.3f} → {np.mean(last):.3f} | {np.mean(pg_first):.3f} → {np.mean(pg_last):.3f} | "
            f"{falling}/{len(ok)} | "
            f"{100 * arg.mean():.1f} ± {100 * arg.std():.1f} | {(acc > arg).sum()}/{len(ok)} | "
            f"{km_text} |")
    lines += ["", f"Budget: {budget}. Final-epoch labels (argmax of z, Eq. 7); the untrained baselines are the same "
              "network at initialisation (argmax of its z, and k-means with 10 restarts on its 64-d D features).",
              "Mean ± std over seeds, ACC / NMI / ARI in percent; wall and CPU seconds per seed from the records "
              "(one thread, nice 10, a shared 2-core machine).", ""]
    _write_text(out, "\n".join(lines))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("figure3")
    p.add_argument("--run", required=True, help="a seed directory: {runs}/{profile}/{dataset}/dccm/seed{S}")
    p.add_argument("--mirror", default="")
    p.add_argument("--out", required=True)
    p = sub.add_parser("figure5")
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("figure6")
    p.add_argument("--run", required=True)
    p.add_argument("--sweep", nargs="*", default=[], help="directories holding the thres2 sweep's records")
    p.add_argument("--out", required=True)
    p = sub.add_parser("figure4")
    p.add_argument("--out", required=True)
    p = sub.add_parser("cpu")
    p.add_argument("--runs", nargs="+", required=True, help="{runs}/cpu/{dataset}/dccm directories")
    p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.command == "figure3":
        figure3(Path(args.run), Path(args.out), args.mirror)
    elif args.command == "figure5":
        figure5(Path(args.run), Path(args.out))
    elif args.command == "figure6":
        figure6(Path(args.run), [Path(s) for s in args.sweep], Path(args.out))
    elif args.command == "figure4":
        figure4(Path(args.out))
    else:
        cpu_summary([Path(r) for r in args.runs], Path(args.out))


if __name__ == "__main__":
    main()
