"""Accuracy against budget for the deep methods on the embedded sets (issue 15, part 5).

``measure`` runs one method on one dataset at budgets that are fractions f of the paper's training
length (clusterbench.budget.LENGTH_KEYS of the method's config and of its pretraining recipe, each set
to round(f × the paper profile's value) on top of the quick profile's network), for the given seeds,
and appends one row per run to a CSV: ACC / NMI (the reported result), wall and CPU seconds, and the
label-free signals a budget is chosen by: the final training loss of the method and of its
pretraining, and whether the method's own stopping rule fired before its cap (DEC / IDEC: < 0.1 %
labels changed; DynAE: conflicted share < tol; R-DC: the core-point ratio stopped rising).

``plot`` draws ACC against the budget fraction, one panel per dataset, one line per method, with each
method's quick-profile budget marked: reports/budget_curves.png.

Budgets are never chosen by watching ACC: the quick budgets follow from the loss / stopping signals
and the time cap (config/profiles/quick.yaml); the ACC curve is the reported result.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

#: the length keys of each config kind that a budget fraction scales (the others keep the quick values)
METHOD_LENGTHS = ("epochs", "max_iter", "max_iterations", "s1_length", "s2_length", "s3_length")
PRETRAIN_LENGTHS = ("epochs", "iterations", "max_steps")
COLUMNS = ["method", "dataset", "seed", "fraction", "status", "acc", "nmi", "wall_s", "cpu_s", "pretrain_wall_s",
           "method_steps", "method_cap", "stopped_early", "final_loss", "pretrain_steps", "pretrain_final_loss",
           "config_overrides", "pretrain_overrides"]


def _paper_steps_of_pretraining(recipe: str, dataset: str, n: int) -> int:
    from clusterbench.blocks.pretrain import resolve_recipe
    from clusterbench.budget import training_steps

    return training_steps(resolve_recipe(recipe, dataset, "paper"), n)


def overrides_at(method: str, dataset: str, fraction: float) -> tuple[dict, dict | None, str | None]:
    """(method config overrides, pretraining overrides, recipe) for a budget fraction of the paper's."""
    from clusterbench.data import get_spec
    from clusterbench.framework.registry import get_method, resolve_config

    n = get_spec(dataset).n_samples
    _, paper = resolve_config(method, dataset, "paper")
    _, quick = resolve_config(method, dataset, "quick")
    p, q = dataclasses.asdict(paper), dataclasses.asdict(quick)
    over = {}
    if "epochs" in p and "iterations" in p:            # AHCL: epochs of `iterations` steps at the paper's 20
        over = {"epochs": max(1, round(fraction * p["epochs"])), "iterations": p["iterations"]}
    elif "s1_length" in p:                             # NMCE: stage lengths in steps
        per_epoch = -(-n // int(p["batch_size"])) if p.get("unit") == "epochs" else 1
        for k in ("s1_length", "s2_length", "s3_length"):
            over[k] = max(1, round(fraction * p[k] * per_epoch))
        shortest = min(over.values())
        over["unit"] = "steps"
        if q.get("log_every", 10) > shortest:
            over["log_every"] = max(1, shortest // 2)
    else:
        for k in ("max_iter", "max_iterations"):
            if k in p and ("update_interval" in p or k == "max_iterations"):
                over[k] = max(1, round(fraction * p[k]))
    recipe = get_method(method).pretrain
    pre = None
    if recipe:
        from clusterbench.blocks.pretrain import resolve_recipe

        rp = dataclasses.asdict(resolve_recipe(recipe, dataset, "paper"))
        steps = max(1, round(fraction * _paper_steps_of_pretraining(recipe, dataset, n)))
        if "max_steps" in rp:                          # ae_mse: epochs capped by max_steps
            pre = {"max_steps": steps, "epochs": rp["epochs"]}
        elif "iterations" in rp:                       # acai / acai_rdc
            pre = {"iterations": steps}
        else:                                          # ae_denoising
            pre = {"layer_iterations": max(1, round(fraction * rp["layer_iterations"])),
                   "finetune_iterations": max(1, round(fraction * rp["finetune_iterations"]))}
        pre["log_every"] = max(1, steps // 20)
    return over, pre, recipe


def _final_loss(history: Path) -> tuple[float | None, int | None]:
    """(last loss value, last step/iteration) of a run's history.csv: the method's main loss column."""
    if not history.exists():
        return None, None
    rows = list(csv.DictReader(history.open()))
    if not rows:
        return None, None
    last = rows[-1]
    for key in ("loss", "objective", "loss_kl", "loss_rec"):
        if last.get(key) not in (None, ""):
            step = next((last[k] for k in ("step", "iter", "epoch") if last.get(k) not in (None, "")), None)
            return float(last[key]), (int(float(step)) if step is not None else None)
    return None, None


def measure(args) -> int:
    from clusterbench.framework.runner import run_seeds

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for fraction in args.fractions:
        over, pre, recipe = overrides_at(args.method, args.dataset, fraction)
        tag = f"f{fraction:.6f}"
        root = Path(args.work) / tag
        os.environ["CLUSTERBENCH_PRETRAINED"] = str(root / "pretrained")
        for seed in args.seeds:
            t0 = time.perf_counter()
            record = run_seeds(args.method, args.dataset, [seed], profile="quick", out=root / "runs",
                               overrides=over or None, pretrain={"recipe": recipe, "overrides": pre} if recipe else None,
                               log=lambda m: print(m, flush=True))[0]
            run = root / "runs" / "quick" / args.dataset / args.method / f"seed{seed}"
            loss, steps = _final_loss(run / "history.csv")
            info = (record.get("run_info") or {}).get("pretrain") or {}
            pre_json = Path(info["path"]).with_suffix(".json") if info.get("path") else None
            pre_loss = pre_steps = None
            pre_wall = 0.0
            if pre_json and pre_json.exists():
                meta = json.loads(pre_json.read_text())
                hist = meta.get("history") or []
                if hist:
                    pre_loss = hist[-1].get("loss_rec", hist[-1].get("loss_ae"))
                    pre_steps = hist[-1].get("step")
                pre_wall = float(meta.get("wall_s") or 0.0) if info.get("trained_in_this_run") else 0.0
            cap = next((over[k] for k in ("max_iter", "max_iterations") if k in over), None)
            metrics = record.get("metrics") or {}
            row = {
                "method": args.method, "dataset": args.dataset, "seed": seed, "fraction": fraction,
                "status": record["status"], "acc": metrics.get("acc"), "nmi": metrics.get("nmi"),
                "wall_s": round(time.perf_counter() - t0, 2), "cpu_s": record.get("cpu_s"),
                "pretrain_wall_s": round(pre_wall, 2), "method_steps": steps, "method_cap": cap,
                "stopped_early": (steps is not None and cap is not None and steps < cap),
                "final_loss": loss, "pretrain_steps": pre_steps, "pretrain_final_loss": pre_loss,
                "config_overrides": json.dumps(over, sort_keys=True),
                "pretrain_overrides": json.dumps(pre, sort_keys=True) if pre else ""}
            print(json.dumps(row), flush=True)
            new = not out.exists()
            with out.open("a", newline="") as f:  # one row per run, so an interrupted sweep keeps its runs
                writer = csv.DictWriter(f, fieldnames=COLUMNS)
                if new:
                    writer.writeheader()
                writer.writerow(row)
    return 0


def plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from clusterbench.budget import budget

    frame = pd.read_csv(args.curves)
    frame = frame[frame.status == "ok"]
    datasets = list(dict.fromkeys(frame.dataset))
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(sorted(set(frame.method)))}
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.8), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = frame[frame.dataset == dataset]
        for method, group in part.groupby("method", sort=True):
            mean = group.groupby("fraction").acc.mean() * 100
            line, = ax.plot(mean.index, mean.values, marker="o", label=method, color=colours[method])
            quick = budget(method, dataset, "quick")
            q = quick.fraction if quick.fraction is not None else quick.pretrain_fraction
            if q:
                ax.axvline(q, color=line.get_color(), ls=":", lw=1)
        if args.reference and Path(args.reference).exists():
            ref = pd.read_csv(args.reference)
            hit = ref[(ref.dataset == dataset) & (ref.method == "kmeans") & (ref.metric == "acc")]
            if len(hit):
                value = 100 * float(hit["mean"].iloc[0])
                ax.axhline(value, color="grey", ls="--", lw=1)
                ax.text(min(part.fraction), value + 0.8, "k-means (quick, 10 seeds)", color="grey", fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("fraction of the paper's training steps (method + pretraining; quick network)")
        ax.set_ylabel("ACC (%)")
        ax.set_title(f"{dataset}: ACC against budget, seed 0 (dotted: the quick profile's budget)", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--method", required=True)
    m.add_argument("--dataset", required=True)
    m.add_argument("--fractions", type=lambda s: [float(Fraction(x)) for x in s.split(",")], required=True,
                   help="comma-separated, e.g. 1/64,1/16,1/4")
    m.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0])
    m.add_argument("--work", default="results/budget_curves/work")
    m.add_argument("--out", default="results/budget_curves/curves.csv")
    m.set_defaults(func=measure)
    p = sub.add_parser("plot")
    p.add_argument("--curves", default="results/budget_curves/curves.csv")
    p.add_argument("--out", default="reports/budget_curves.png")
    p.add_argument("--reference", default="results/reference/quick.csv", help="k-means ACC drawn as a line")
    p.set_defaults(func=plot)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
