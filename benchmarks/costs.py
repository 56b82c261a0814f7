"""Measure per-step and fixed costs of methods for ``clusterbench plan`` -> results/costs.csv.

For each (method, dataset, profile) the resolved configuration is shortened to two budgets (s1 < s2 training
steps, e.g. 1 and 2 epochs of AHCL) and fitted once at each, single-threaded, after one untimed warm-up fit;
the process CPU time of the fit gives a straight line  t(steps) = fixed + per_step x steps,  whose ``fixed``
holds what does not grow with the budget (the final clustering, graph, embedding of all samples). A name
``pretrain:{recipe}`` measures the DAG's shared pretraining job (one seed) the same way. Rows are upserted
into the CSV with the machine, threads and commit, one row per processor model (``clusterbench plan`` takes
this machine's row where there is one).

    python benchmarks/costs.py --method ahcl --dataset usps --profile cpu paper --steps 20 40
    python benchmarks/costs.py --method pretrain:ae_mse dec --dataset usps --profile paper
    python benchmarks/costs.py --device cuda --method rdc --dataset fmnist --profile paper   # GPU: costs_cuda.csv
    clusterbench plan reports/rdc/table3.md --profile paper --costs results/costs_cuda.csv

``--check STEPS`` tests a stored row instead: one more fit (another seed) at STEPS training steps (0: the
profile's full budget), its measured seconds against the row's prediction, and that run scaled to the full
budget, ``fixed + (measured - fixed) x full / STEPS``, against the preview's ``fixed + per_step x full``;
rows go to results/costs_check.csv with the machine of the check and of the row it checks (a check on another
processor measures the preview's portability, not its model).

    python benchmarks/costs.py --check 100 --method ahcl --dataset usps --profile paper
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine(device: str = "cpu", peak_gpu_mb: float | None = None) -> str:
    """The CPU model and count; on a CUDA device the GPU's name first (and the fit's peak GPU memory)."""
    if device.startswith("cuda"):
        import torch

        from clusterbench.framework.runner import run_precision

        peak = f", peak {peak_gpu_mb:.0f} MB" if peak_gpu_mb is not None else ""
        return f"{torch.cuda.get_device_name(device)} ({run_precision()}{peak}), host {machine()}"
    from clusterbench.framework.plan import this_machine

    return this_machine()


def commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


#: peak GPU memory (MB) of the fits measured on a CUDA device, by (method, dataset, profile)
GPU_PEAK_MB: dict[tuple[str, str, str], float] = {}


def fit_seconds(method: str, dataset: str, profile: str, overrides: dict, seed: int, data,
                device: str = "cpu") -> float:
    """Seconds of one fit of ``method`` with ``overrides``: process CPU seconds (single thread) on a CPU; on a
    CUDA device wall seconds with the device synchronised, in the run's precision and faiss device."""
    from clusterbench.framework.registry import resolve_config
    from clusterbench.framework.runner import fit_mode, run_context

    cls, config = resolve_config(method, dataset, profile, overrides)
    # the runner's explicit context: the shared pretraining of this profile (its cost is the DAG's separate
    # pretrain job, made once before the timed fits)
    model = cls(config, context=run_context(method, profile))
    if not device.startswith("cuda"):
        start = time.process_time()
        model.fit_predict(data, data.n_classes, seed=seed)
        return time.process_time() - start
    import torch

    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    with fit_mode(device):
        model.fit_predict(data, data.n_classes, seed=seed, device=device)
    torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    key = (method, dataset, profile)
    GPU_PEAK_MB[key] = max(GPU_PEAK_MB.get(key, 0.0), torch.cuda.max_memory_allocated(device) / 2 ** 20)
    return seconds


def pretrain_seconds(name: str, dataset: str, profile: str, overrides: dict, seed: int, data,
                     device: str = "cpu") -> float:
    """Seconds of one shared pretraining ``pretrain:{recipe}`` (the DAG's pretrain job, per seed) with
    ``overrides``, trained into a scratch folder: process CPU seconds (CPU) or synchronised wall seconds (CUDA)."""
    import tempfile

    from clusterbench.blocks.pretrain import pretrained_autoencoder

    recipe = name.split(":", 1)[1]
    with tempfile.TemporaryDirectory(prefix="clusterbench-costs-") as root:
        if not device.startswith("cuda"):
            start = time.process_time()
            pretrained_autoencoder(data, recipe, profile, seed, device, root=Path(root), overrides=overrides)
            return time.process_time() - start
        import torch

        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()
        pretrained_autoencoder(data, recipe, profile, seed, device, root=Path(root), overrides=overrides)
        torch.cuda.synchronize(device)
        key = (name, dataset, profile)
        GPU_PEAK_MB[key] = max(GPU_PEAK_MB.get(key, 0.0), torch.cuda.max_memory_allocated(device) / 2 ** 20)
        return time.perf_counter() - start


def _resolver(name: str):
    """(resolve(dataset, profile, overrides) -> config, seconds(...) -> float) for a method or ``pretrain:{recipe}``."""
    if name.startswith("pretrain:"):
        from clusterbench.blocks.pretrain import resolve_recipe

        return (lambda dataset, profile, overrides=None: resolve_recipe(name.split(":", 1)[1], dataset, profile,
                                                                        overrides or None), pretrain_seconds)
    from clusterbench.framework.registry import resolve_config

    return (lambda dataset, profile, overrides=None: resolve_config(name, dataset, profile, overrides)[1],
            fit_seconds)


def _prepare(method: str, dataset: str, profile: str, mirror=None):
    """(data, resolve, seconds, config) for timing ``method`` (a method or ``pretrain:{recipe}``) on ``dataset``:
    torch on one thread with its lazy optimiser imports done (outside any timing), and, for a method that loads
    a shared pretraining, a scratch folder for it (its own DAG job: made once by the untimed warm-up fit)."""
    import tempfile

    import torch

    from clusterbench.data import load_dataset
    from clusterbench.framework.registry import get_method

    torch.set_num_threads(1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    data = load_dataset(dataset, mirror=mirror)
    resolve, seconds = _resolver(method)
    if not method.startswith("pretrain:") and get_method(method).pretrain:
        os.environ["CLUSTERBENCH_PRETRAINED"] = tempfile.mkdtemp(prefix="clusterbench-costs-")
    return data, resolve, seconds, resolve(dataset, profile)


def measure(method: str, dataset: str, profile: str, steps: tuple[int, int], seed: int = 1, mirror=None,
            log=print, device: str = "cpu") -> dict:
    """A costs.csv row for (method, dataset, profile): per-step and fixed seconds of a fit (CPU seconds; on a
    CUDA device GPU wall seconds, the peak GPU memory in the row's machine note)."""
    from clusterbench.framework.plan import shortened, training_steps

    rev = commit()  # the code measured, even if a commit lands while it runs
    data, resolve, fit_seconds, config = _prepare(method, dataset, profile, mirror)
    points = []
    # an untimed fit at the first budget first: one-time costs of the process (kernel selection, lazy imports,
    # allocator growth) belong to neither point (a job pays them once, not per seed); it also makes the pretraining
    fit_seconds(method, dataset, profile, shortened(config, steps[0], data.n_samples), seed, data, device)
    if training_steps(config, data.n_samples) is None:  # no training steps (k-means, SC): the fit is all fixed
        seconds = fit_seconds(method, dataset, profile, {}, seed, data, device)
        log(f"{method}/{dataset}/{profile}: {seconds:.2f} CPU s (no training steps)")
        points = [(0, seconds), (1, seconds)]
        steps = (0, 1)
    for s in steps if not points else ():
        overrides = shortened(config, s, data.n_samples)
        if not overrides:
            raise SystemExit(f"{method}: no length key to shorten; cannot measure per-step cost")
        n_steps = training_steps(resolve(dataset, profile, overrides), data.n_samples)
        for _ in range(10):  # budgets counted in whole epochs: the second fit must train longer than the first
            if not points or n_steps > points[-1][0]:
                break
            s *= 2
            overrides = shortened(config, s, data.n_samples)
            n_steps = training_steps(resolve(dataset, profile, overrides), data.n_samples)
        seconds = fit_seconds(method, dataset, profile, overrides, seed, data, device)
        log(f"{method}/{dataset}/{profile}: {n_steps} steps in {seconds:.2f} CPU s")
        points.append((n_steps, seconds))
    (s1, t1), (s2, t2) = points
    per_step = (t2 - t1) / (s2 - s1)
    if per_step <= 0 and steps != (0, 1):
        # the part that does not grow with the budget (e.g. AHCL's graph on the final Z) changed more between
        # the two fits than the extra steps cost: no usable line; budgets further apart are needed
        raise SystemExit(f"{method}/{dataset}/{profile}: {s2} steps took {t2:.2f} s, {s1} steps {t1:.2f} s; "
                         "use budgets further apart (--steps)")
    fixed = max(t1 - per_step * s1, 0.0)
    return {"kind": "pretrain" if method.startswith("pretrain:") else "method", "name": method, "dataset": dataset,
            "profile": profile, "per_step_s": f"{per_step:.5f}", "fixed_s": f"{fixed:.2f}",
            "steps_measured": "none" if steps == (0, 1) else f"{s1}+{s2}", "device": device, "threads": 1,
            "machine": machine(device, GPU_PEAK_MB.get((method, dataset, profile))), "commit": rev,
            "measured_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")}


CHECK_COLUMNS = ("name", "dataset", "profile", "steps_run", "measured_s", "predicted_s", "full_steps", "scaled_s",
                 "preview_s", "error_pct", "seed", "device", "machine", "row_machine", "commit", "measured_at")


def check(method: str, dataset: str, profile: str, steps: int, costs_path: Path, seed: int = 0, mirror=None,
          log=print) -> dict:
    """A costs_check.csv row: a fit at ``steps`` steps (0: the full budget) against the stored costs row."""
    from clusterbench.framework.plan import load_costs, shortened, training_steps

    row = load_costs(costs_path).get((method, dataset, profile))  # this machine's row where there is one
    if row is None:
        raise SystemExit(f"{costs_path}: no row for {method}/{dataset}/{profile} to check; measure it first")
    per_step, fixed = float(row["per_step_s"]), float(row["fixed_s"])
    rev = commit()
    data, resolve, fit_seconds, config = _prepare(method, dataset, profile, mirror)
    full = training_steps(config, data.n_samples) or 0
    overrides = shortened(config, steps, data.n_samples) if steps else {}
    run = training_steps(resolve(dataset, profile, overrides), data.n_samples) or 0
    fit_seconds(method, dataset, profile, shortened(config, 1, data.n_samples), seed, data)  # warm-up, untimed
    seconds = fit_seconds(method, dataset, profile, overrides, seed, data)
    predicted = fixed + per_step * run
    scaled = fixed + (seconds - fixed) * full / run if run else seconds
    preview = fixed + per_step * full
    error = 100 * (preview - scaled) / scaled
    here = machine()
    log(f"{method}/{dataset}/{profile}: {run} steps in {seconds:.2f} CPU s (row predicts {predicted:.2f}); "
        f"scaled to {full} steps {scaled:.1f} s, preview {preview:.1f} s ({error:+.1f} %)" +
        ("" if row["machine"] == here else f"; the row was measured on {row['machine']}, this check on {here}: "
         "the error includes the difference between the processors"))
    return {"name": method, "dataset": dataset, "profile": profile, "steps_run": run, "measured_s": f"{seconds:.2f}",
            "predicted_s": f"{predicted:.2f}", "full_steps": full, "scaled_s": f"{scaled:.2f}",
            "preview_s": f"{preview:.2f}", "error_pct": f"{error:+.1f}", "seed": seed, "device": "cpu",
            "machine": here, "row_machine": row["machine"], "commit": rev,
            "measured_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")}


def upsert(path: Path, rows: list[dict], columns=None) -> None:
    from clusterbench.framework.atomic import atomic_path
    from clusterbench.framework.plan import COST_COLUMNS

    columns = columns or COST_COLUMNS
    old = []
    if path.exists():
        with open(path, newline="") as f:
            old = list(csv.DictReader(f))

    def key(r):  # one row per (name, dataset, profile) and processor (for checks: and the row's processor);
        # a GPU row's machine note ends with "(precision, peak N MB)", which is not part of the processor
        return (r["name"], r["dataset"], r["profile"], re.sub(r" \(.*?\)", "", r["machine"]),
                r.get("row_machine", ""))

    keys = {key(r) for r in rows}
    merged = [r for r in old if key(r) not in keys] + rows
    merged.sort(key=key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(merged)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", nargs="+", required=True)
    p.add_argument("--dataset", nargs="+", required=True)
    p.add_argument("--profile", nargs="+", default=["cpu"])
    p.add_argument("--steps", nargs=2, type=int, default=[20, 40], help="the two shortened budgets (training steps)")
    p.add_argument("--seed", type=int, default=None, help="default 1 (measuring), 0 (--check: another seed)")
    p.add_argument("--mirror", default=os.environ.get("CLUSTERBENCH_MIRROR") or None)
    p.add_argument("--device", default="cpu", help="cpu, or cuda / cuda:N (GPU wall seconds; write them to their "
                                                   "own file and pass it to `clusterbench plan --costs`)")
    p.add_argument("--out", default=None, help="default results/costs.csv (CPU), results/costs_cuda.csv (GPU)")
    p.add_argument("--check", type=int, default=None, metavar="STEPS",
                   help="check the stored rows with one fit at STEPS steps (0: full budget) -> --check-out")
    p.add_argument("--check-out", default=str(ROOT / "results" / "costs_check.csv"))
    args = p.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # as a DAG job (threads: 1), set
        os.environ[var] = "1"                                                # before numpy / torch load
    from clusterbench.framework.runner import check_device, check_precision, run_precision

    from clusterbench.framework.registry import ConfigError

    try:
        check_precision(run_precision(), check_device(args.device))
    except ConfigError as error:
        print(f"costs.py: {error}", file=sys.stderr)
        return 2
    out = args.out or str(ROOT / "results" / ("costs_cuda.csv" if args.device.startswith("cuda") else "costs.csv"))
    if args.check is not None:
        if args.device != "cpu":
            print("costs.py: --check measures CPU rows only", file=sys.stderr)
            return 2
        seed = 0 if args.seed is None else args.seed
        rows = [check(m, d, pr, args.check, Path(out), seed, args.mirror, log=lambda s: print(s, flush=True))
                for m in args.method for d in args.dataset for pr in args.profile]
        target = Path(args.check_out)
        upsert(target, rows, CHECK_COLUMNS)
        print(f"{len(rows)} check rows -> {target}")
        return 0
    seed = 1 if args.seed is None else args.seed
    rows = [measure(m, d, pr, tuple(args.steps), seed, args.mirror, log=lambda s: print(s, flush=True),
                    device=args.device)
            for m in args.method for d in args.dataset for pr in args.profile]
    upsert(Path(out), rows)
    print(f"{len(rows)} cost rows -> {out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
