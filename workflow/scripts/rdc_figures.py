"""R-DC experiments behind Figures 1, 3, 12-15, 17, 18, 20 and Tables 6, 8 (Shaheen et al.): record step.

Each sub-command runs an experiment once and writes what the figures need;
``rdc_plots.py`` draws them from those files only.

- ``dynamics``: one data set, one seed. Phase 1 twice from scratch, with the
  latent geometry (ID by TwoNN, LID = principal components for 90 % of the
  variance; clusterbench.blocks.geometry) logged through training: the reconstruction
  recipe ``ae_mse`` (DEC's and IDEC's pretraining) and the ACAI recipe (DynAE's
  and R-DC's). Phase 2 from copies of those weights: DEC and IDEC
  (clusterbench.baselines.dec.DEC.cluster) on ``ae_mse``; DynAE (clusterbench.baselines.dynae.DynAE.cluster)
  and R-DC (clusterbench.methods.rdc.RDC.fit_phase2, with ``record_assignments``) on ACAI.
  DEC/DynAE log the geometry and their current assignments at every target
  update (the methods' ``monitor`` hook); R-DC logs it in its history. The
  labels are read only after the fits, to score ACC per update and R-DC's share
  of true neighbours (RDC.scored_history). Writes ``{out}.npz`` (embeddings,
  assignments) and ``{out}.json`` (histories, scores, budget, wall times).
- ``alpha-beta``: R-DC over an α × β grid (Figure 17), run records through
  clusterbench.framework.runner, one summary CSV.
- ``noise``: Gaussian noise of standard deviation ``level`` (pixel range [0, 1],
  clipped back to [0, 1]) added to the input data, pretraining and R-DC on the
  noised data (Figure 20), run records, one summary CSV.
- ``ablation``: Table 8's P1, P1&P2, P1&P3, P1&P2&P3 (clusterbench.methods.rdc options
  ``phase2``, ``dec_phase``), run records, summary CSV and markdown table.
- ``runtime``: Table 6, seconds for the same number of training iterations of
  every reproduced method of the table on this machine, markdown + JSON.
- ``pretrain``: the sweeps' shared phase 1 (``acai_frozen`` at the budget) for some
  seeds, so parallel sweep cells load it instead of each training it.

The workflow runs every sweep one grid cell per job (workflow/rules/figures_rdc.smk:
a single alpha and beta, noise level or ablation variant; ``--root`` keeps the
records and the shared pretraining in one place for all cells) and concatenates
the cells' CSVs.

Budgets (``--budget``): ``cpu`` (default; the quick network d-64-64-256-10 of
the ``quick`` profile, 1,000 pretraining steps of Adam 3e-3, at most 1,000
phase-2 steps with a refresh / target update every 50 steps) or ``paper`` (the
``paper`` profile: d-500-500-2000-10, the recipes' and methods' paper budgets;
for a GPU). The ACAI recipe is ``acai_frozen`` (the authors' critic) because
the trained-critic ``acai`` collapses the embedding at the CPU budget.
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import os
import time
from pathlib import Path

import numpy as np

#: (method/recipe overrides) of each budget; profile names the registry profile they sit on
BUDGETS = {
    "cpu": {
        "profile": "quick",
        "acai": {"iterations": 1000, "log_every": 50},
        "ae_mse": {"max_steps": 1000, "log_every": 50},
        # Algorithm 1's rule off (patience): at this budget tau falls from the first refresh on,
        # so the rule would stop after 50 steps; the CPU budget runs the fixed 1,000 steps instead
        "rdc": {"update_interval": 50, "max_iterations": 1000, "kmeans_n_init": 10, "patience": 10 ** 9},
        "sweep_steps": 500,                                    # R-DC steps of the alpha-beta / noise sweeps
        "dynae": {"update_interval": 50, "max_iter": 1000},
        "dec": {"update_interval": 50, "max_iter": 1000},
        "idec": {"update_interval": 50, "max_iter": 1000},
        "p3": {"dec_update_interval": 50, "dec_max_iter": 1000},
    },
    "smoke": {  # seconds; tests only
        "profile": "smoke",
        "acai": {"iterations": 10, "log_every": 5},
        "ae_mse": {"max_steps": 10, "log_every": 5},
        "rdc": {"update_interval": 5, "max_iterations": 10, "kmeans_n_init": 2, "patience": 10 ** 9},
        "dynae": {"update_interval": 5, "max_iter": 10},
        "dec": {"update_interval": 5, "max_iter": 10},
        "idec": {"update_interval": 5, "max_iter": 10},
        "p3": {"dec_update_interval": 5, "dec_max_iter": 10},
        "sweep_steps": 5,
    },
    "paper": {"profile": "paper", "acai": {"log_every": 1000}, "ae_mse": {}, "rdc": {}, "dynae": {}, "dec": {},
              "idec": {}, "p3": {}, "sweep_steps": None},
}
ACAI_RECIPE = "acai_frozen"


def _budget(name: str) -> dict:
    return BUDGETS[name]


def _json(path: Path, obj) -> None:
    from clusterbench.framework.atomic import write_json

    write_json(path, obj)


def _npz(path: Path, **arrays) -> None:
    from clusterbench.framework.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def _csv(path: Path, rows: list[dict]) -> None:
    from clusterbench.framework.atomic import write_text

    buf = io.StringIO()
    columns = list(dict.fromkeys(k for r in rows for k in r))
    w = csv.DictWriter(buf, fieldnames=columns)
    w.writeheader()
    w.writerows(rows)
    write_text(path, buf.getvalue())


def _scores(y, labels_list) -> list[float]:
    from clusterbench.framework.metrics import cluster_acc

    return [cluster_acc(y, lab) for lab in labels_list]


# ----------------------------------------------------------------- dynamics (Figures 1, 3, 12-15, 18)

def dynamics(args) -> None:
    import torch

    from clusterbench.baselines.dec import DEC
    from clusterbench.baselines.dynae import DynAE
    from clusterbench.baselines.idec import IDEC
    from clusterbench.framework.base import seed_everything
    from clusterbench.blocks.kmeans_knn import kmeans
    from clusterbench.data import load_dataset
    from clusterbench.blocks.geometry import latent_geometry
    from clusterbench.framework.metrics import cluster_acc, evaluate
    from clusterbench.blocks.pretrain import recipe_inputs, resolve_recipe, train_recipe
    from clusterbench.framework.registry import resolve_config
    from clusterbench.framework.runner import check_precision, fit_mode, provenance, run_precision
    from clusterbench.blocks.training import as_tensor, predict_in_batches, resolve_device
    from clusterbench.methods.rdc import RDC

    b = _budget(args.budget)
    profile, seed, dev = b["profile"], args.seed, resolve_device(args.device)
    data = load_dataset(args.dataset, mirror=os.environ.get("CLUSTERBENCH_MIRROR") or None)
    y, K = data.y, data.n_classes
    image_shape = tuple(data.X.shape[1:]) if data.is_image else None
    meta = {"dataset": args.dataset, "seed": seed, "budget": args.budget, "profile": profile,
            "acai_recipe": ACAI_RECIPE, "provenance": provenance(str(dev)), "runs": {}}
    arrays = {"y": y}

    def pretrain(recipe, extra):
        cfg = resolve_recipe(recipe, args.dataset, profile, extra)
        X = recipe_inputs(data, cfg)
        Xt = as_tensor(X, dev)

        def monitor(step, ae):
            with torch.no_grad():
                return latent_geometry(predict_in_batches(ae.encoder, Xt).cpu().numpy())

        t0 = time.perf_counter()
        bundle = train_recipe(recipe, cfg, X, image_shape, seed, dev, monitor=monitor)
        ae = bundle.ae
        with torch.no_grad():
            Z = predict_in_batches(ae.encoder, Xt).cpu().numpy()
        labels, _ = kmeans(Z, K, n_init=20, seed=seed)
        meta["runs"][f"pretrain_{recipe}"] = {"history": bundle.history, "wall_s": time.perf_counter() - t0,
                                              "config": cfg.__dict__, "kmeans_acc": cluster_acc(y, labels)}
        arrays[f"Z_{recipe}"] = Z
        return ae, X, Xt

    def monitored(method_obj, key):
        assignments = []

        def monitor(ite, Z, labels):
            assignments.append(np.asarray(labels, dtype=np.int32))
            return latent_geometry(Z)

        method_obj.monitor = monitor
        return assignments

    def finish(key, result, wall, assignments=None, extra=None):
        run = {"history": result.history, "wall_s": wall, "metrics": evaluate(y, result.labels)}
        if "phase1_labels" in result.extras:
            run["phase1_acc"] = cluster_acc(y, result.extras["phase1_labels"])
        if assignments:
            run["update_acc"] = _scores(y, assignments)
        run.update(extra or {})
        meta["runs"][key] = run
        arrays[f"Z_{key}"] = np.asarray(result.embedding, dtype=np.float32)
        arrays[f"labels_{key}"] = np.asarray(result.labels)

    # --- reconstruction pretraining, DEC and IDEC
    ae, X, Xt = pretrain("ae_mse", b["ae_mse"])
    for key, cls in (("dec", DEC), ("idec", IDEC)):
        _, cfg = resolve_config(key, args.dataset, profile, b[key])
        m = cls(cfg)
        assign = monitored(m, key)
        seed_everything(seed)
        t0 = time.perf_counter()
        r = m.cluster(copy.deepcopy(ae), Xt, K, seed=seed)
        finish(key, r, time.perf_counter() - t0, assign)
        meta["runs"][key]["config"] = cfg.__dict__

    # --- ACAI pretraining, DynAE and R-DC
    ae, X, Xt = pretrain(ACAI_RECIPE, b["acai"])
    _, cfg = resolve_config("dynae", args.dataset, profile, b["dynae"])
    m = DynAE(cfg)
    assign = monitored(m, "dynae")
    seed_everything(seed)
    t0 = time.perf_counter()
    r = m.cluster(copy.deepcopy(ae), Xt, K, seed=seed, image_shape=image_shape)
    finish("dynae", r, time.perf_counter() - t0, assign)
    meta["runs"]["dynae"]["config"] = cfg.__dict__

    _, cfg = resolve_config("rdc", args.dataset, profile, dict(b["rdc"], record_assignments=True))
    seed_everything(seed)
    t0 = time.perf_counter()
    r = RDC(cfg).fit_phase2(copy.deepcopy(ae), X, K, seed=seed, device=str(dev), image_shape=image_shape)
    wall = time.perf_counter() - t0
    scored = RDC.scored_history(r, y)
    finish("rdc", r, wall, extra={"scored_history": scored, "config": cfg.__dict__,
                                  "phase1_acc": scored[0].get("acc") if scored else None})
    arrays["Z_rdc_phase1"] = r.extras["phase1_embedding"]
    # the authors' code's neighbour rule (M counts the point itself; beta as an absolute radius), Figure 14
    _, cfg = resolve_config("rdc", args.dataset, profile, dict(b["rdc"], record_assignments=True,
                                                                 m_counts_self=True, global_min_radius=True))
    seed_everything(seed)
    t0 = time.perf_counter()
    r = RDC(cfg).fit_phase2(copy.deepcopy(ae), X, K, seed=seed, device=str(dev), image_shape=image_shape)
    finish("rdc_code_nn", r, time.perf_counter() - t0,
           extra={"scored_history": RDC.scored_history(r, y), "config": cfg.__dict__})

    out = Path(args.out)
    _npz(out, **arrays)
    _json(out.with_suffix(".json"), meta)
    print(json.dumps({k: {"acc": v.get("metrics", {}).get("acc", v.get("kmeans_acc")), "wall_s": v["wall_s"]}
                      for k, v in meta["runs"].items()}, default=float))


# ----------------------------------------------------------------- sweeps through the runner

def _run(method, dataset, seeds, root: Path, b: dict, overrides: dict, data=None):
    from clusterbench.framework.runner import run_seeds

    return run_seeds(method, dataset, seeds, profile=b["profile"], out=root, overrides=overrides,
                     pretrain={"recipe": ACAI_RECIPE, "overrides": b["acai"]}, data=data,
                     mirror=os.environ.get("CLUSTERBENCH_MIRROR") or None, log=print)


def _summary_rows(records, **fields) -> list[dict]:
    rows = []
    for rec in records:
        if rec.get("status") != "ok":
            rows.append(dict(fields, seed=rec["seed"], status=rec.get("status")))
            continue
        m = rec["metrics"]
        rows.append(dict(fields, seed=rec["seed"], status="ok", acc=m["acc"], nmi=m["nmi"], f1_macro=m["f1_macro"],
                         f1_micro=m["f1_micro"], wall_s=rec["wall_s"],
                         steps=rec.get("diagnostics", {}).get("iterations")))
    return rows


def _root(args) -> Path:
    """Where a sweep keeps its run records and pretrained weights: --root, else beside --out."""
    return Path(args.root) if args.root else Path(args.out).parent


def _pretrained_root(root: Path) -> None:
    # keep the sweeps' weights (recipe overrides) apart from the DAG's shared ones
    os.environ["CLUSTERBENCH_PRETRAINED"] = str(root / "pretrained")


def _sweep_rdc(b: dict) -> dict:
    return dict(b["rdc"], **({"max_iterations": b["sweep_steps"]} if b["sweep_steps"] else {}))


def alpha_beta(args) -> None:
    b = _budget(args.budget)
    out = Path(args.out)
    root = _root(args)
    _pretrained_root(root)
    rows = []
    for a in args.alphas:
        for bt in args.betas:
            records = _run("rdc", args.dataset, args.seeds, root / "runs" / "alpha_beta" / f"a{a}_b{bt}", b,
                           dict(_sweep_rdc(b), alpha=a, beta=bt))
            rows += _summary_rows(records, dataset=args.dataset, alpha=a, beta=bt, budget=args.budget)
    _csv(out, rows)


def noise(args) -> None:
    from clusterbench.data import Dataset, load_dataset

    b = _budget(args.budget)
    out = Path(args.out)
    root = _root(args)
    _pretrained_root(root)
    clean = load_dataset(args.dataset, mirror=os.environ.get("CLUSTERBENCH_MIRROR") or None)
    rows = []
    for level in args.levels:
        rng = np.random.default_rng(12345)  # the same noise for every seed and method
        X = clean.X if level == 0 else np.clip(clean.X + rng.normal(0.0, level, clean.X.shape), 0, 1).astype(np.float32)
        name = clean.name if level == 0 else f"{clean.name}_noise{int(round(level * 100)):02d}"
        data = Dataset(name, X, clean.y, clean.n_classes)
        records = _run("rdc", args.dataset, args.seeds, root / "runs" / "noise" / name, b, _sweep_rdc(b),
                       data=data)
        rows += _summary_rows(records, dataset=args.dataset, noise_std=level, budget=args.budget)
    _csv(out, rows)


ABLATION = (("P1", {"phase2": False}), ("P1 & P2", {}), ("P1 & P3", {"phase2": False, "dec_phase": True}),
            ("P1 & P2 & P3", {"dec_phase": True}))


def ablation_tag(label: str) -> str:
    """'P1 & P2' -> 'p1_p2' (the variant's directory and cell name)."""
    return label.replace(" & ", "_").lower()


def pretrain(args) -> None:
    """The sweeps' shared phase 1 on one data set for --seeds; a JSON listing the weights."""
    from clusterbench.data import load_dataset
    from clusterbench.blocks.pretrain import pretrained_autoencoder

    b = _budget(args.budget)
    _pretrained_root(_root(args))
    data = load_dataset(args.dataset, mirror=os.environ.get("CLUSTERBENCH_MIRROR") or None)
    weights = []
    for seed in args.seeds:
        bundle = pretrained_autoencoder(data, ACAI_RECIPE, b["profile"], seed, args.device, overrides=b["acai"])
        weights.append({"seed": seed, "path": str(bundle.path), "hash": bundle.hash})
        print(f"[{ACAI_RECIPE}/{args.dataset}] seed {seed}: {bundle.path}", flush=True)
    _json(Path(args.out), {"recipe": ACAI_RECIPE, "dataset": args.dataset, "budget": args.budget,
                           "overrides": b["acai"], "weights": weights})


def ablation(args) -> None:
    b = _budget(args.budget)
    out = Path(args.out)
    root = _root(args)
    _pretrained_root(root)
    rows = []
    for dataset in args.datasets:
        for label, opts in ABLATION:
            tag = ablation_tag(label)
            if args.variants and tag not in args.variants:
                continue
            records = _run("rdc", dataset, args.seeds, root / "runs" / "ablation" / tag, b,
                           dict(b["rdc"], **b["p3"], **opts))
            rows += _summary_rows(records, dataset=dataset, variant=label, budget=args.budget)
    _csv(out, rows)


# ----------------------------------------------------------------- Table 6 (runtime)

def runtime(args) -> None:
    """Seconds for ``iterations`` training iterations of each method, after a shared (untimed) pretraining.

    AE+K-means: its pretraining itself (``iterations`` steps of ``ae_mse``) and the k-means;
    DEC, IDEC, DynAE, R-DC: ``iterations`` clustering-phase steps (early stopping off) with
    their target updates / refreshes and their final assignment.
    """
    import torch

    from clusterbench.baselines.dec import DEC
    from clusterbench.baselines.dynae import DynAE
    from clusterbench.baselines.idec import IDEC
    from clusterbench.framework.base import seed_everything
    from clusterbench.blocks.kmeans_knn import kmeans
    from clusterbench.data import load_dataset
    from clusterbench.framework.metrics import cluster_acc
    from clusterbench.blocks.pretrain import recipe_inputs, resolve_recipe, train_recipe
    from clusterbench.framework.registry import resolve_config
    from clusterbench.framework.runner import provenance
    from clusterbench.blocks.training import as_tensor, predict_in_batches, resolve_device
    from clusterbench.methods.rdc import RDC

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    b = _budget(args.budget)
    profile, seed, dev, n_it = b["profile"], args.seed, resolve_device(args.device), args.iterations
    precision = check_precision(run_precision(), str(dev))
    rows = []
    for dataset in args.datasets:
        data = load_dataset(dataset, mirror=os.environ.get("CLUSTERBENCH_MIRROR") or None)
        y, K = data.y, data.n_classes
        image_shape = tuple(data.X.shape[1:]) if data.is_image else None
        bundles = {}
        for recipe, extra in (("ae_mse", b["ae_mse"]), (ACAI_RECIPE, b["acai"])):
            cfg = resolve_recipe(recipe, dataset, profile, extra)
            X = recipe_inputs(data, cfg)
            bundles[recipe] = (train_recipe(recipe, cfg, X, image_shape, seed, dev), X)

        def timed(name, fn):
            seed_everything(seed)
            if dev.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats(dev)
            t0 = time.perf_counter()
            with fit_mode(str(dev)):
                labels = fn()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            rows.append({"dataset": dataset, "method": name, "seconds": time.perf_counter() - t0,
                         "iterations": n_it, "acc": cluster_acc(y, labels),
                         "peak_gpu_mb": torch.cuda.max_memory_allocated(dev) / 2 ** 20 if dev.type == "cuda" else None})
            print(rows[-1], flush=True)

        def ae_kmeans():
            cfg = resolve_recipe("ae_mse", dataset, profile, dict(b["ae_mse"], max_steps=n_it, epochs=10 ** 6))
            X = recipe_inputs(data, cfg)
            ae = train_recipe("ae_mse", cfg, X, image_shape, seed, dev).ae
            with torch.no_grad():
                Z = predict_in_batches(ae.encoder, as_tensor(X, dev)).cpu().numpy()
            return kmeans(Z, K, n_init=20, seed=seed)[0]

        timed("ae_kmeans", ae_kmeans)
        for name, cls in (("dec", DEC), ("idec", IDEC)):
            _, cfg = resolve_config(name, dataset, profile, dict(b[name], max_iter=n_it, tol=-1.0))
            bundle, X = bundles["ae_mse"]
            timed(name, lambda cls=cls, cfg=cfg, bundle=bundle, X=X: cls(cfg).cluster(
                copy.deepcopy(bundle.ae), as_tensor(X, dev), K, seed=seed).labels)
        bundle, X = bundles[ACAI_RECIPE]
        _, cfg = resolve_config("dynae", dataset, profile, dict(b["dynae"], max_iter=n_it, tol=-1.0))
        timed("dynae", lambda: DynAE(cfg).cluster(copy.deepcopy(bundle.ae), as_tensor(X, dev), K, seed=seed,
                                                  image_shape=image_shape).labels)
        _, cfg = resolve_config("rdc", dataset, profile, dict(b["rdc"], max_iterations=n_it, patience=10 ** 9))
        timed("rdc", lambda: RDC(cfg).fit_phase2(copy.deepcopy(bundle.ae), X, K, seed=seed, device=str(dev),
                                                 image_shape=image_shape).labels)
    out = Path(args.out)
    _json(out, {"budget": args.budget, "profile": profile, "iterations": n_it, "seed": seed, "rows": rows,
                "torch_threads": torch.get_num_threads(), "precision": precision, "provenance": provenance(str(dev))})


def concat(args) -> None:
    """A sweep's summary CSV: the rows of its cells' CSVs, in the order given."""
    rows = []
    for path in args.cells:
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    _csv(Path(args.out), rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, seeds=(0,)):
        p.add_argument("--out", required=True)
        p.add_argument("--budget", choices=sorted(BUDGETS), default="cpu")
        p.add_argument("--device", default="cpu")
        p.add_argument("--seeds", type=int, nargs="+", default=list(seeds))
        p.add_argument("--root", help="run records and pretrained weights (default: beside --out)")
        return p

    p = common(sub.add_parser("dynamics", help="Figures 1, 3, 12-15, 18"))
    p.add_argument("--dataset", default="mnist5k")
    p.add_argument("--seed", type=int, default=0)
    p = common(sub.add_parser("alpha-beta", help="Figure 17"), seeds=(0, 1))
    p.add_argument("--dataset", default="mnist5k")
    p.add_argument("--alphas", type=float, nargs="+", default=[0.1, 0.6, 0.8, 0.9, 1.0])   # Sec. 4.2.4
    p.add_argument("--betas", type=float, nargs="+", default=[0.1, 0.3, 0.7, 1.0, 1.2])
    p = common(sub.add_parser("noise", help="Figure 20"), seeds=(0, 1))
    p.add_argument("--dataset", default="mnist5k")
    p.add_argument("--levels", type=float, nargs="+", default=[0.0, 0.05, 0.10, 0.15, 0.20, 0.25])
    p = common(sub.add_parser("ablation", help="Table 8"), seeds=(0, 1, 2))
    p.add_argument("--datasets", nargs="+", default=["mnist5k"])
    p.add_argument("--variants", nargs="+", choices=[ablation_tag(label) for label, _ in ABLATION],
                   help="only these variants (default: all four)")
    p = common(sub.add_parser("pretrain", help="the sweeps' shared pretraining"), seeds=(0, 1, 2))
    p.add_argument("--dataset", default="mnist5k")
    p = common(sub.add_parser("runtime", help="Table 6"))
    p.add_argument("--datasets", nargs="+", default=["mnist5k"])
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("concat", help="a sweep's summary CSV from its cells' CSVs")
    p.add_argument("--cells", nargs="+", required=True)
    p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    {"dynamics": dynamics, "alpha-beta": alpha_beta, "noise": noise, "ablation": ablation,
     "pretrain": pretrain, "runtime": runtime, "concat": concat}[args.command](args)


if __name__ == "__main__":
    main()
