"""R-DC Figures 1, 3, 12-15, 17, 18, 20 and Tables 6, 8 (Shaheen et al.), drawn from recorded files only.

Inputs are what ``rdc_figures.py`` wrote: ``dynamics_{dataset}.npz/.json``
(histories with the latent geometry, per-update ACC, R-DC's scored
neighbours, embeddings), the sweeps' summary CSVs (from run records) and the
runtime JSON. Nothing is re-trained or re-scored here; Figure 18's PCA is the
display projection of the recorded embedding. Every figure carries a caption
with the data set, the budget and the deviations from the paper's setting.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

DATASET_LABEL = {"mnist5k": "MNIST-5k", "usps": "USPS", "digits": "sklearn digits"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _load(path: str) -> tuple[dict, dict]:
    path = Path(path)
    return json.loads(path.with_suffix(".json").read_text()), dict(np.load(path.with_suffix(".npz")))


def _budget_text(meta: dict) -> str:
    """The budget as recorded (network, steps, intervals, stopping rule)."""
    runs = meta["runs"]
    pre = runs[f"pretrain_{meta['acai_recipe']}"]["config"]
    mse = runs["pretrain_ae_mse"]["config"]
    rdc, dec = runs["rdc"]["config"], runs["dec"]["config"]
    rule = "Algorithm 1's stopping rule" if rdc["patience"] < 10 ** 6 else \
        "Algorithm 1's stopping rule off (tau falls from the first refresh at this budget)"
    return (f"Budget {meta['budget']}: network d-{'-'.join(map(str, pre['hidden']))}-{pre['embedding_dim']}, "
            f"pretraining {pre['iterations']} ACAI steps (Adam {pre['lr']:g}) / {mse['max_steps'] or 'all'} ae_mse "
            f"steps (Adam {mse['lr']:g}); phase 2: R-DC at most {rdc['max_iterations']} steps, refresh every "
            f"{rdc['update_interval']}, {rule}; DEC/IDEC/DynAE at most {dec['max_iter']} steps, update every "
            f"{dec['update_interval']}, their own stopping rules; seed {meta['seed']}")


def _save(fig, path: str, caption: str) -> None:
    from clusterbench.framework.atomic import atomic_path

    fig.text(0.01, 0.005, caption, fontsize=7, va="bottom", ha="left", wrap=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    _plt().close(fig)


def _hist(meta, key, x="step", cols=("twonn_id", "lid_pca90")):
    rows = [r for r in meta["runs"][key]["history"] if all(r.get(c) is not None for c in cols)]
    return np.array([r[x] for r in rows], float), {c: np.array([r[c] for r in rows], float) for c in cols}


def _geometry_panel(ax, meta, pre_key, phase2_key, title):
    x1, g1 = _hist(meta, pre_key)
    iter_key = "step" if phase2_key == "rdc" else "iter"
    x2, g2 = _hist(meta, phase2_key, x=iter_key)
    if phase2_key == "rdc":  # R-DC history also holds the P3 rows only in the ablation; not here
        pass
    off = x1.max() if x1.size else 0
    for c, style, label in (("twonn_id", "-o", "ID (TwoNN)"), ("lid_pca90", "-s", "LID (PCA 90 %)")):
        ax.plot(np.r_[x1, off + x2], np.r_[g1[c], g2[c]], style, ms=3, label=label)
    ax.axvline(off, color="grey", ls="--", lw=1)
    ax.text(off, ax.get_ylim()[1], " phase 2", va="top", fontsize=8, color="grey")
    ax.set_xlabel("iteration (phase 1, then phase 2)")
    ax.set_ylabel("dimension")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)


# ----------------------------------------------------------------- figures from the dynamics records

def figure1(args) -> None:
    plt = _plt()
    metas = [_load(p)[0] for p in args.dynamics]
    fig, axes = plt.subplots(1, len(metas), figsize=(5 * len(metas), 4.2), squeeze=False)
    for ax, meta in zip(axes[0], metas):
        _geometry_panel(ax, meta, "pretrain_ae_mse", "dec",
                        f"DEC on {DATASET_LABEL.get(meta['dataset'], meta['dataset'])}: reconstruction pretraining")
    fig.suptitle("Figure 1: ID and LID of DEC's embedding through pretraining and clustering", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _save(fig, args.out, "Deviations: MNIST-5k / USPS instead of MNIST / FMNIST; reconstruction pretraining only "
          "(the suite has no NT-Xent pretraining for DEC). " + _budget_text(metas[0]) + ".")


def figure3(args) -> None:
    plt = _plt()
    metas = [_load(p)[0] for p in args.dynamics]
    methods = (("dynae", "DynAE"), ("idec", "IDEC"), ("dec", "DEC"))
    fig, axes = plt.subplots(1, len(metas), figsize=(4 * len(metas), 3.8), squeeze=False)
    for ax, meta in zip(axes[0], metas):
        p1 = [meta["runs"][m]["phase1_acc"] * 100 for m, _ in methods]
        p2 = [meta["runs"][m]["metrics"]["acc"] * 100 for m, _ in methods]
        x = np.arange(len(methods))
        ax.bar(x - 0.2, p1, 0.4, label="phase 1 (k-means on pretrained Z)")
        ax.bar(x + 0.2, p2, 0.4, label="phase 2 (after clustering)")
        for i, (a, b) in enumerate(zip(p1, p2)):
            ax.text(i - 0.2, a, f"{a:.1f}", ha="center", va="bottom", fontsize=7)
            ax.text(i + 0.2, b, f"{b:.1f}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [n for _, n in methods])
        ax.set_ylabel("ACC (%)")
        ax.set_ylim(0, 100)
        ax.set_title(DATASET_LABEL.get(meta["dataset"], meta["dataset"]), fontsize=9)
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Figure 3: ACC after phase 1 (pretraining) and phase 2 (clustering) of DynAE, IDEC, DEC",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    _save(fig, args.out, "Deviations: MNIST-5k / USPS / sklearn digits instead of the paper's five data sets; one "
          "seed; DEC/IDEC start from ae_mse, DynAE from ACAI with the authors' frozen critic (acai_frozen); phase 1 "
          "= the k-means each method starts from. " + _budget_text(metas[0]) + ".")


def figure12(args) -> None:
    plt = _plt()
    meta, _ = _load(args.dynamics[0])
    fig, ax = plt.subplots(figsize=(6, 4))
    dyn = meta["runs"]["dynae"]
    ax.plot([r["iter"] for r in dyn["history"]], np.array(dyn["update_acc"]) * 100, "-o", ms=3,
            label="DynAE (argmax q at each update)")
    sc = [r for r in meta["runs"]["rdc"]["scored_history"] if r.get("acc") is not None]
    ax.plot([r["step"] for r in sc], np.array([r["acc"] for r in sc]) * 100, "-s", ms=3,
            label="R-DC (k-means at each refresh)")
    ax.set_xlabel("phase-2 iteration")
    ax.set_ylabel("ACC (%)")
    ax.legend(fontsize=8)
    ax.set_title(f"Figure 12: learning dynamics of DynAE and R-DC on "
                 f"{DATASET_LABEL.get(meta['dataset'], meta['dataset'])}", fontsize=9)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    _save(fig, args.out, "Both from the same ACAI (frozen-critic) pretraining. Deviation: "
          f"{DATASET_LABEL.get(meta['dataset'], meta['dataset'])} instead of FMNIST. " + _budget_text(meta) + ".")


def figure13(args) -> None:
    plt = _plt()
    metas = [_load(p)[0] for p in args.dynamics]
    fig, axes = plt.subplots(1, len(metas), figsize=(4.5 * len(metas), 3.8), squeeze=False)
    for ax, meta in zip(axes[0], metas):
        sc = [r for r in meta["runs"]["rdc"]["scored_history"] if r.get("acc") is not None]
        ax.plot([r["step"] for r in sc], np.array([r["acc"] for r in sc]) * 100, "-o", ms=3)
        ax.set_xlabel("phase-2 iteration")
        ax.set_ylabel("ACC (%)")
        ax.set_title(f"R-DC on {DATASET_LABEL.get(meta['dataset'], meta['dataset'])}", fontsize=9)
    fig.suptitle("Figure 13: learning dynamics of R-DC (ACC of k-means on Z at every refresh)", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    _save(fig, args.out, "Deviation: MNIST-5k / USPS instead of FMNIST / BloodMNIST. " + _budget_text(metas[0]) + ".")


def figure14(args) -> None:
    plt = _plt()
    metas = [_load(p)[0] for p in args.dynamics]
    panels = [(meta, key, rule) for meta in metas for key, rule in
              (("rdc", "paper's rule, Eq. 7-9"), ("rdc_code_nn", "code's rule: 4 neighbours, β absolute radius"))
              if key in meta["runs"]]
    fig, axes = plt.subplots(len(panels), 2, figsize=(10, 3.2 * len(panels)), squeeze=False)
    for row, (meta, key, rule) in zip(axes, panels):
        sc = [r for r in meta["runs"][key]["scored_history"] if r.get("true_nn_core") is not None]
        x = [r["step"] for r in sc]
        before = np.array([r["true_nn_core"] for r in sc]) * 100
        after = np.array([r["true_nn_reliable"] for r in sc]) * 100
        name = DATASET_LABEL.get(meta["dataset"], meta["dataset"])
        for ax, (b, a), what in ((row[0], (before, after), "true"), (row[1], (100 - before, 100 - after), "false")):
            ax.plot(x, b, "-o", ms=3, label=f"initial {what} NN (all neighbours of the core points)")
            ax.plot(x, a, "--s", ms=3, label=f"{what} NN after filtering (reliable neighbours)")
            ax.set_xlabel("phase-2 iteration")
            ax.set_ylabel(f"{what} neighbours (%)")
            ax.set_title(f"R-DC on {name} ({rule}): {what} NN", fontsize=8)
            ax.legend(fontsize=7)
    fig.suptitle("Figure 14: share of neighbours in the core point's own class, before and after filtering",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.98))
    _save(fig, args.out, "Labels only score the recorded neighbour sets after the fit. With the paper's rule and "
          "beta = 0.6 every neighbour passes the filter at this latent scale (the curves coincide). Deviation: "
          "MNIST-5k / USPS instead of FMNIST / BloodMNIST. " + _budget_text(metas[0]) + ".")


def figure15(args) -> None:
    plt = _plt()
    meta, _ = _load(args.dynamics[0])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    pre = f"pretrain_{meta['acai_recipe']}"
    _geometry_panel(axes[0], meta, pre, "dynae", "DynAE: ACAI pretraining, then DynAE's clustering phase")
    _geometry_panel(axes[1], meta, pre, "rdc", "R-DC: ACAI pretraining, then proximity-level self-supervision")
    fig.suptitle("Figure 15: ID (TwoNN) and LID (PCA 90 %) through both phases on "
                 f"{DATASET_LABEL.get(meta['dataset'], meta['dataset'])}", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _save(fig, args.out, "Deviation: MNIST-5k instead of FMNIST; ACAI with the authors' frozen critic (acai_frozen). "
          + _budget_text(meta) + ".")


def figure18(args) -> None:
    plt = _plt()
    loaded = [_load(p) for p in args.dynamics]
    fig, axes = plt.subplots(len(loaded), 2, figsize=(8, 4 * len(loaded)), squeeze=False)
    for row, (meta, arr) in zip(axes, loaded):
        y = arr["y"]
        name = DATASET_LABEL.get(meta["dataset"], meta["dataset"])
        acc_final = meta["runs"]["rdc"]["metrics"]["acc"]
        acc_p1 = meta["runs"]["rdc"]["phase1_acc"]
        for ax, Z, title in ((row[0], arr["Z_rdc_phase1"], f"{name}: after phase 1 (k-means ACC {acc_p1:.3f})"),
                             (row[1], arr["Z_rdc"], f"{name}: R-DC after phase 2 (ACC {acc_final:.3f})")):
            Zc = Z - Z.mean(0)
            _, _, vt = np.linalg.svd(Zc, full_matrices=False)
            P = Zc @ vt[:2].T
            ax.scatter(P[:, 0], P[:, 1], c=y, cmap="tab10", s=2, linewidths=0)
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Figure 18: first two principal components of R-DC's latent space (colour: true class)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.98))
    _save(fig, args.out, "Deviation: MNIST-5k / USPS instead of the paper's data sets. " + _budget_text(loaded[0][0])
          + ".")


# ----------------------------------------------------------------- sweeps

def _rows(path: str) -> list[dict]:
    with open(path) as f:
        return [r for r in csv.DictReader(f) if r.get("status") == "ok"]


def figure17(args) -> None:
    plt = _plt()
    rows = _rows(args.summary)
    alphas = sorted({float(r["alpha"]) for r in rows})
    betas = sorted({float(r["beta"]) for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, metric, label in ((axes[0], "acc", "ACC"), (axes[1], "f1_macro", "F1 macro")):
        M = np.full((len(alphas), len(betas)), np.nan)
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                v = [float(r[metric]) for r in rows if float(r["alpha"]) == a and float(r["beta"]) == b]
                M[i, j] = np.mean(v) * 100 if v else np.nan
        im = ax.imshow(M, cmap="viridis", origin="lower", aspect="auto")
        for i in range(len(alphas)):
            for j in range(len(betas)):
                ax.text(j, i, f"{M[i, j]:.1f}", ha="center", va="center", fontsize=8, color="w")
        ax.set_xticks(range(len(betas)), [f"{b:g}" for b in betas])
        ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
        ax.set_xlabel("β (Eq. 9)")
        ax.set_ylabel("α (Eq. 5)")
        ax.set_title(f"{label} (%)", fontsize=9)
        fig.colorbar(im, ax=ax)
    seeds = sorted({r["seed"] for r in rows})
    ds = rows[0]["dataset"] if rows else "?"
    fig.suptitle(f"Figure 17: sensitivity of R-DC to α and β on {DATASET_LABEL.get(ds, ds)}", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _save(fig, args.out, f"Mean over seeds {', '.join(seeds)}; the paper's grid. Deviation: {DATASET_LABEL.get(ds, ds)} "
          f"instead of PneumoniaMNIST; budget {rows[0]['budget'] if rows else '?'} ({args.budget_text}).")


def figure20(args) -> None:
    plt = _plt()
    rows = _rows(args.summary)
    levels = sorted({float(r["noise_std"]) for r in rows})
    fig, ax = plt.subplots(figsize=(6, 4))
    for metric, label in (("acc", "ACC"), ("f1_macro", "F1 macro"), ("f1_micro", "F1 micro")):
        vals = [[float(r[metric]) * 100 for r in rows if float(r["noise_std"]) == lv] for lv in levels]
        mean = np.array([np.mean(v) for v in vals])
        lo, hi = np.array([min(v) for v in vals]), np.array([max(v) for v in vals])
        ax.errorbar(np.array(levels) * 100, mean, yerr=[mean - lo, hi - mean], fmt="-o", ms=4, capsize=3,
                    label=label)
    ds = rows[0]["dataset"] if rows else "?"
    seeds = sorted({r["seed"] for r in rows})
    ax.set_xlabel("Gaussian noise standard deviation (% of the pixel range)")
    ax.set_ylabel("score (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title(f"Figure 20: R-DC with Gaussian input noise on {DATASET_LABEL.get(ds, ds)}", fontsize=9)
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    _save(fig, args.out, f"Mean and range over seeds {', '.join(seeds)} (F1 micro equals ACC after Hungarian "
          f"matching: the two lines coincide); noise added once to the data (clipped to "
          f"[0, 1]); pretraining and R-DC on the noised data. Deviation: {DATASET_LABEL.get(ds, ds)} instead of "
          f"BloodMNIST / VesselMNIST3D; budget {rows[0]['budget'] if rows else '?'} ({args.budget_text}).")


# ----------------------------------------------------------------- tables

def table8(args) -> None:
    from clusterbench.framework.atomic import write_text

    rows = _rows(args.summary)
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    lines = ["# R-DC Table 8 (reproduced at a small budget): ablation of the phases P1-P3", "",
             "| Dataset | Metric | " + " | ".join(variants) + " |", "|---|---|" + "---|" * len(variants)]
    for ds in datasets:
        for metric, label in (("acc", "ACC"), ("f1_macro", "F1 Macro"), ("f1_micro", "F1 Micro")):
            cells = []
            for v in variants:
                x = np.array([float(r[metric]) for r in rows if r["dataset"] == ds and r["variant"] == v]) * 100
                cells.append(f"{x.mean():.1f} ± {x.std(ddof=1) if x.size > 1 else 0.0:.1f}" if x.size else "-")
            lines.append(f"| {DATASET_LABEL.get(ds, ds)} | {label} | " + " | ".join(cells) + " |")
    seeds = sorted({r["seed"] for r in rows})
    lines += ["", f"Mean ± standard deviation over seeds {', '.join(seeds)} (%). P1: ACAI pretraining (the "
              "authors' frozen critic, acai_frozen) then k-means; P2: R-DC's proximity-level self-supervision "
              "(Eq. 12-14); P3: DEC's clustering phase (KL(P||Q), SGD 0.01, momentum 0.9; labels argmax q) after "
              "the previous phases (clusterbench.methods.rdc options phase2 / dec_phase). "
              f"Budget: {args.budget_text}. Deviation: {', '.join(DATASET_LABEL.get(d, d) for d in datasets)} "
              "instead of FMNIST / PneumoniaMNIST / BloodMNIST / BreastMNIST; the paper gives no P3 settings "
              "(DEC-keras's are used). Published numbers: config/tables/rdc/table8.yaml (paper profile)."]
    write_text(args.out, "\n".join(lines) + "\n")


def table6(args) -> None:
    from clusterbench.framework.atomic import write_text

    from clusterbench.framework.published import load_published, published_value

    rec = json.loads(Path(args.runtime).read_text())
    published = load_published()
    names = {"ae_kmeans": "AE+K-means", "dec": "DEC", "idec": "IDEC", "dynae": "DynAE", "rdc": "R-DC"}
    datasets = list(dict.fromkeys(r["dataset"] for r in rec["rows"]))
    gpu = any(r.get("peak_gpu_mb") is not None for r in rec["rows"])
    lines = [f"# R-DC Table 6 (reproduced): runtime (s) for {rec['iterations']} training iterations", "",
             "Each cell: measured seconds, then in brackets the paper's (Table 6, Tesla T4, Sec. 4.2.1) where it "
             "has the dataset" + ("; then the peak GPU memory (MB)" if gpu else "") + ".", "",
             "| Method | " + " | ".join(DATASET_LABEL.get(d, d) for d in datasets) + " |",
             "|---|" + "---|" * len(datasets)]
    for m, label in names.items():
        cells = []
        for d in datasets:
            hit = [r for r in rec["rows"] if r["dataset"] == d and r["method"] == m]
            paper = published_value(published, "rdc", "6", m, d, "runtime_s")
            cell = f"{hit[0]['seconds']:.1f}" if hit else "not run"
            if paper is not None:
                cell += f" [T4: {paper:g}]"
            if hit and hit[0].get("peak_gpu_mb") is not None:
                cell += f", {hit[0]['peak_gpu_mb']:.0f} MB"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    prov = rec["provenance"]
    lines += ["", f"Measured on {prov.get('gpu_model') or prov.get('cpu_model')} ({prov['device']}, "
              f"{rec['torch_threads']} torch thread(s), {prov.get('cpu_count')} CPUs, host {prov.get('hostname')}, "
              f"precision {rec.get('precision', 'fp32')}), "
              f"seed {rec['seed']}, budget {rec['budget']} ({args.budget_text}); one measurement per method, in "
              "one process, methods one after another (a shared machine: other jobs may add to the times). "
              "Each method runs "
              f"{rec['iterations']} iterations of batch 256 from the same (untimed) pretrained network: DEC, IDEC, "
              "DynAE and R-DC their clustering phase with early stopping off, including target updates / "
              "refreshes (k-NN for R-DC) and the final assignment; AE+K-means its reconstruction pretraining and "
              "k-means. FINCH, VaDE, PSSC, CC and DDC-UCO are not reproduced. The paper's times are on a Tesla T4 "
              "(FMNIST, VesselMNIST3D, PneumoniaMNIST; results/published/rdc.csv, Table 6): comparable in absolute "
              "terms only when this was measured on a T4 at the paper budget (`snakemake --cores all --config "
              "device=cuda rdc_figures_budget=paper reports/rdc/table6_measured.md`), otherwise in ordering."]
    write_text(args.out, "\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("figure1", "figure3", "figure12", "figure13", "figure14", "figure15", "figure18"):
        p = sub.add_parser(name)
        p.add_argument("--dynamics", nargs="+", required=True, help="dynamics records (.npz/.json stem)")
        p.add_argument("--out", required=True)
    for name in ("figure17", "figure20", "table8"):
        p = sub.add_parser(name)
        p.add_argument("--summary", required=True)
        p.add_argument("--budget-text", default="")
        p.add_argument("--out", required=True)
    p = sub.add_parser("table6")
    p.add_argument("--runtime", required=True)
    p.add_argument("--budget-text", default="")
    p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    globals()[args.command](args)


if __name__ == "__main__":
    main()
