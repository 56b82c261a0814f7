"""The suite's speed against the libraries users would pick -> reports/performance.md.

One run measures, with the cases interleaved (repeat r runs every case once before repeat r + 1, so a change
in machine load hits all of them alike), single-threaded, process CPU seconds (wall seconds beside):

- start-up: a fresh interpreter importing the CLI, torch, the metrics, and ``clusterbench list``;
- k-means: the suite's ``kmeans`` (scikit-learn and faiss back ends) against scikit-learn's KMeans and
  faiss.Kmeans, same K, restarts and iteration cap; inertia and ACC beside the time (equal inertia = equal work);
- SC-Ncut: the suite's spectral baseline against scikit-learn's SpectralClustering (10-NN graph);
- AE-family loops: the suite's DEC and IDEC clustering phases against a plain PyTorch loop over the same
  network and steps and against ClustPy's DEC / IDEC (the ``bench`` extra) over the same network, batch and
  number of samples seen;
- cheap wins: Adam's fused kernel against the default on the AE pretraining step; AHCL's training
  iterations at the cpu profile (USPS, batch 256; PALM, batch 2,000) against the same with Eq. 12-15 through
  autograd and against the 18087c1 step (NCHW convolutions, autograd Eq. 12-15); AHCL's deep graph against
  the 18087c1 construction;
- per-iteration cost of every deep method (a line through two shortened budgets; also written to
  results/costs.csv for ``clusterbench plan``).

Min and median over the repeats. ``--size tiny`` runs everything on scikit-learn's digits with a few steps
(CI checks that it works; its numbers mean little). ``--size full`` uses USPS (mirror) for the library
comparisons and mnist5k for the AE loops.

    python benchmarks/performance.py --size full --repeats 3 --out reports/performance.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
# one thread for every library (OpenMP in scikit-learn's k-means, MKL, torch), set before any of them loads:
# the report compares single-threaded CPU seconds
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

from costs import commit, machine  # noqa: E402

SIZES = {
    # data for k-means / SC, data for the AE loops, DEC steps, AHCL iterations, steps for per-iteration costs
    "tiny": {"lib_data": "digits", "ae_data": "digits", "dec_steps": 20, "ahcl_iters": 2, "cost_steps": (4, 40),
             "cost_profile": "smoke", "startup": True},
    "full": {"lib_data": "usps", "ae_data": "mnist5k", "dec_steps": 300, "ahcl_iters": 20, "cost_steps": (20, 40),
             "cost_profile": "quick", "startup": True},
}


# ----------------------------------------------------------------------------- timing
class Timings:
    """Per case: CPU and wall seconds of every repeat, and the last quality numbers."""

    def __init__(self):
        self.cpu: dict[str, list[float]] = {}
        self.wall: dict[str, list[float]] = {}
        self.info: dict[str, dict] = {}

    def run(self, name: str, fn):
        t0, w0 = time.process_time(), time.perf_counter()
        info = fn() or {}
        self.cpu.setdefault(name, []).append(time.process_time() - t0)
        self.wall.setdefault(name, []).append(time.perf_counter() - w0)
        self.info[name] = info

    def child(self, name: str, argv: list[str]):
        """A subprocess's CPU (user + sys of the child) and wall seconds."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.cpu.setdefault(name, []).append(cpu)
        self.wall.setdefault(name, []).append(time.perf_counter() - w0)
        self.info.setdefault(name, {})

    def stat(self, name: str) -> tuple[float, float]:
        values = self.cpu[name]
        return min(values), statistics.median(values)


def _acc(y, labels) -> float:
    from clusterbench.framework.metrics import cluster_acc

    return 100 * cluster_acc(y, labels)


def _inertia(X, labels) -> float:
    total = 0.0
    for k in np.unique(labels):
        pts = X[labels == k]
        total += float(((pts - pts.mean(axis=0)) ** 2).sum())
    return total


# ----------------------------------------------------------------------------- cases
def startup_cases(t: Timings):
    py = sys.executable
    t.child("python (empty)", [py, "-c", "pass"])
    t.child("import torch", [py, "-c", "import torch"])
    t.child("import sklearn.metrics", [py, "-c", "import sklearn.metrics"])
    t.child("import clusterbench.framework.metrics", [py, "-c", "import clusterbench.framework.metrics"])
    t.child("import clusterbench.framework.runner", [py, "-c", "import clusterbench.framework.runner"])
    t.child("clusterbench list", [py, "-m", "clusterbench", "list"])
    # the cheapest DAG job (run_method: k-means on an embedded set, the quick profile's 10 seeds): the part of
    # its process that is not the fits (start-up, imports, data, records) is what fusing processes could save
    import json
    import tempfile

    name = "clusterbench run: k-means on digits, 10 seeds (one DAG job)"
    with tempfile.TemporaryDirectory(prefix="clusterbench-perf-") as out:
        t.child(name, [py, "-m", "clusterbench", "run", "--method", "kmeans", "--dataset", "digits", "--profile",
                       "quick", "--seed", "0-9", "--out", out])
        fits = sum(json.loads(f.read_text())["cpu_s"] for f in Path(out).glob("quick/digits/kmeans/seed*/record.json"))
    t.info[name] = {"fits CPU s": fits, "outside the fits %": 100 * (1 - fits / t.cpu[name][-1])}


def kmeans_cases(t: Timings, X, y, k):
    import faiss
    from sklearn.cluster import KMeans

    from clusterbench.blocks.kmeans_knn import kmeans

    def suite(backend):
        labels, _ = kmeans(X, k, n_init=10, max_iter=300, seed=0, backend=backend)
        return {"inertia": _inertia(X, labels), "acc": _acc(y, labels)}

    def sk():
        labels = KMeans(k, n_init=10, max_iter=300, random_state=0).fit(X).labels_
        return {"inertia": _inertia(X, labels), "acc": _acc(y, labels)}

    def fa():
        model = faiss.Kmeans(X.shape[1], k, niter=300, nredo=10, seed=0, verbose=False,
                             max_points_per_centroid=1 << 20)
        model.train(X)
        labels = model.index.search(X, 1)[1][:, 0]
        return {"inertia": _inertia(X, labels), "acc": _acc(y, labels)}

    t.run("k-means: suite (scikit-learn back end)", lambda: suite("sklearn"))
    t.run("k-means: scikit-learn KMeans", sk)
    t.run("k-means: suite (faiss back end)", lambda: suite("faiss"))
    t.run("k-means: faiss.Kmeans", fa)


def spectral_cases(t: Timings, data, k):
    from sklearn.cluster import SpectralClustering as SKSC

    from clusterbench.baselines.spectral import SpectralClustering, SpectralClusteringConfig

    X = data.flat()

    def suite():
        labels = SpectralClustering(SpectralClusteringConfig()).fit_predict(data, k, seed=0).labels
        return {"acc": _acc(data.y, labels)}

    def sk():
        labels = SKSC(k, affinity="nearest_neighbors", n_neighbors=10, assign_labels="kmeans", n_init=10,
                      random_state=0).fit_predict(X)
        return {"acc": _acc(data.y, labels)}

    t.run("SC-Ncut: suite", suite)
    t.run("SC-Ncut: scikit-learn SpectralClustering", sk)


def _plain_dec_loop(ae, X, mu, steps, batch, update_interval, reconstruct: bool, gamma: float = 0.1):
    """DEC / IDEC in a plain PyTorch loop: Student-t q, target p every T steps, KL (+ MSE), SGD(0.01, 0.9)."""
    import torch
    import torch.nn.functional as F

    mu = torch.nn.Parameter(mu.clone())
    params = list(ae.encoder.parameters()) + [mu] + (list(ae.decoder.parameters()) if reconstruct else [])
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    n = X.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))

    def q_of(z):
        q = 1.0 / (1.0 + torch.cdist(z, mu) ** 2)
        return q / q.sum(1, keepdim=True)

    p = None
    for step in range(steps):
        if step % update_interval == 0:
            with torch.no_grad():
                q = q_of(ae.encoder(X))
                w = q ** 2 / q.sum(0)
                p = w / w.sum(1, keepdim=True)
        idx = order[(step * batch) % n:(step * batch) % n + batch]
        z = ae.encoder(X[idx])
        loss = F.kl_div(q_of(z).log(), p[idx], reduction="batchmean")
        if reconstruct:
            loss = F.mse_loss(ae.decoder(z), X[idx]) + gamma * loss
        opt.zero_grad()
        loss.backward()
        opt.step()


def ae_loop_cases(t: Timings, data, k, steps, clustpy_ok: bool):
    import copy

    import torch

    from clusterbench.baselines.dec import DEC, DECConfig
    from clusterbench.baselines.idec import IDEC, IDECConfig
    from clusterbench.blocks.kmeans_knn import kmeans
    from clusterbench.blocks.nets import Autoencoder

    X = torch.as_tensor(data.flat(), dtype=torch.float32)
    torch.manual_seed(0)
    ae0 = Autoencoder(X.shape[1], init="glorot")
    batch, interval = 256, 140
    cfg = {"max_iter": steps, "update_interval": interval, "tol": 0.0, "n_init": 20, "kmeans_backend": "sklearn"}

    def suite(cls, config_cls, extra=None):
        ae = copy.deepcopy(ae0)
        method = cls(config_cls(**cfg, **(extra or {})))
        labels = method.cluster(ae, X, k, seed=0).labels
        return {"acc": _acc(data.y, labels)}

    def plain(reconstruct):
        ae = copy.deepcopy(ae0)
        with torch.no_grad():
            Z = ae.encoder(X).numpy()
        _, centres = kmeans(Z, k, n_init=20, seed=0, backend="sklearn")
        _plain_dec_loop(ae, X, torch.as_tensor(centres), steps, batch, interval, reconstruct)
        with torch.no_grad():
            z = ae.encoder(X)
        return {"acc": _acc(data.y, torch.cdist(z, torch.as_tensor(centres)).argmin(1).numpy())}

    def clustpy(idec: bool):
        from clustpy.deep import DEC as CDEC
        from clustpy.deep import IDEC as CIDEC
        from clustpy.deep.neural_networks import FeedforwardAutoencoder

        net = FeedforwardAutoencoder(layers=[X.shape[1], 500, 500, 2000, 10], activation_fn=torch.nn.ReLU,
                                     random_state=0)
        net.fitted = True  # no pretraining: the clustering phase only, as the other two loops
        epochs = max(1, round(steps * batch / X.shape[0]))
        cls = CIDEC if idec else CDEC
        model = cls(k, batch_size=batch, pretrain_epochs=0, clustering_epochs=epochs, neural_network=net,
                    optimizer_class=torch.optim.SGD, clustering_optimizer_params={"lr": 0.01, "momentum": 0.9},
                    initial_clustering_params={"n_init": 20}, random_state=0)
        model.fit(data.flat())
        return {"acc": _acc(data.y, model.labels_)}

    t.run("DEC loop: suite", lambda: suite(DEC, DECConfig, {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9}))
    t.run("DEC loop: plain PyTorch", lambda: plain(False))
    if clustpy_ok:
        t.run("DEC loop: ClustPy", lambda: clustpy(False))
    t.run("IDEC loop: suite", lambda: suite(IDEC, IDECConfig, {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9}))
    t.run("IDEC loop: plain PyTorch", lambda: plain(True))
    if clustpy_ok:
        t.run("IDEC loop: ClustPy", lambda: clustpy(True))


def cheap_win_cases(t: Timings, data, size):
    import torch

    from clusterbench.blocks.nets import Autoencoder
    from clusterbench.blocks.training import adam
    from clusterbench.methods.ahcl import AHCL, deep_graph
    from clusterbench.framework.registry import resolve_config

    X = torch.as_tensor(data.flat(), dtype=torch.float32)
    steps = 20 if size == "full" else 3

    def pretrain_steps(fused):
        torch.manual_seed(0)
        ae = Autoencoder(X.shape[1], init="glorot")
        opt = adam(ae.parameters(), 1e-3, fused=fused)
        for s in range(steps):
            xb = X[(s * 256) % X.shape[0]:][:256]
            loss = ((ae(xb)[1] - xb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return {"loss": float(loss.detach())}

    t.run("AE pretraining step: Adam fused", lambda: pretrain_steps(True))
    t.run("AE pretraining step: Adam default", lambda: pretrain_steps(False))

    from clusterbench.data import load_dataset

    mirror = os.environ.get("CLUSTERBENCH_MIRROR") or None
    sets = [data] if size == "tiny" else [load_dataset("usps", mirror=mirror), load_dataset("palm", mirror=mirror)]
    iters = SIZES[size]["ahcl_iters"]

    def ahcl(ds, channels_last, fused=True):
        """``iters`` AHCL training iterations at the cpu profile (USPS: batch 256; PALM: 2,000 = all);
        fused=False: Eq. 12-15 through autograd (``ahcl_loss``), as before the closed-form node. With
        channels_last=False this is 18087c1's layout and loss; its per-step y diagnostics (a boolean-mask copy
        of the n x n labels) are not reproduced, so on PALM the ratio understates the change."""
        from clusterbench.methods import ahcl as module

        _, c = resolve_config("ahcl", ds.name if size == "full" else "digits", "cpu" if size == "full" else "smoke",
                              {"epochs": 1, "iterations": iters, "channels_last": channels_last, "snapshot_epochs": [],
                               "restart_y_mean": None})
        method = AHCL(c)
        method.cluster = lambda Z, k, s: {"km_z": np.zeros(len(Z), int), "sc_z": None, "sc_y": None}
        saved = module.ahcl_loss_fused
        module.ahcl_loss_fused = saved if fused else module.ahcl_loss
        try:
            method.fit_predict(ds, ds.n_classes, seed=1)
        finally:
            module.ahcl_loss_fused = saved
        return {"iterations": iters}

    for ds in sets:
        t.run(f"AHCL training on {ds.name}: suite", lambda ds=ds: ahcl(ds, True))
        t.run(f"AHCL training on {ds.name}: autograd Eq. 12-15", lambda ds=ds: ahcl(ds, True, fused=False))
        t.run(f"AHCL training on {ds.name}: NCHW + autograd Eq. 12-15 (18087c1 layout and loss)",
              lambda ds=ds: ahcl(ds, False, fused=False))

    rng = np.random.default_rng(0)
    Z = (rng.standard_normal((4000 if size == "full" else 500, 16)) * 0.12).astype(np.float32)
    t.run("AHCL deep graph Y: suite", lambda: {"nnz": deep_graph(Z, 0.75).nnz})
    t.run("AHCL deep graph Y: 18087c1", lambda: {"nnz": deep_graph_18087c1(Z, 0.75).nnz})


def deep_graph_18087c1(Z, m, chunk=1024):
    """The deep graph as built at git 18087c1 (dense row chunks -> sparse, then (Y + Y^T) / 2), for the ratio."""
    import scipy.sparse as sp
    import torch

    from clusterbench.methods.ahcl import adaptive_labels

    Zt = torch.as_tensor(np.ascontiguousarray(Z), dtype=torch.float32)
    sq = (Zt * Zt).sum(dim=1)
    blocks = []
    for start in range(0, Zt.shape[0], chunk):
        Zc = Zt[start:start + chunk]
        d = (sq[start:start + chunk, None] + sq[None, :] - 2.0 * (Zc @ Zt.T)).clamp_min(0.0).sqrt()
        idx = torch.arange(Zc.shape[0])
        d[idx, start + idx] = 0.0
        blocks.append(sp.csr_matrix(adaptive_labels(d, m).numpy()))
    Y = sp.vstack(blocks, format="csr")
    return ((Y + Y.T) * 0.5).tocsr()


def deep_method_costs(size, mirror, log):
    """Per-step and fixed CPU seconds of every deep method (torch) on a small dataset it runs on."""
    from costs import measure

    from clusterbench.framework.registry import methods

    from clusterbench.data import DATASETS

    profile = SIZES[size]["cost_profile"]
    embedded = ["digits"] + [d for d, spec in DATASETS.items() if spec.source == "embedded" and d != "digits"]
    rows = []
    for name, entry in methods().items():
        cls = entry.load_class()
        if not getattr(cls, "needs_torch", False) or entry.variant_of:
            continue  # a variant (ablation / sweep cell) runs its parent's code: the parent's row is its cost
        offline = [d for d in embedded if entry.applies_to(d)]
        if not offline and (mirror is None or size == "tiny"):
            rows.append({"name": name, "dataset": entry.only_datasets[0], "profile": profile,
                         "error": "registered only for downloaded datasets (measured at --size full with a mirror)"})
            continue
        dataset = offline[0] if offline else entry.only_datasets[0]
        try:
            rows.append(measure(name, dataset, profile, SIZES[size]["cost_steps"], seed=1, mirror=mirror, log=log))
        except SystemExit as error:
            rows.append({"name": name, "dataset": dataset, "profile": profile, "error": str(error)})
        except Exception as error:  # noqa: BLE001 - one method failing must not hide the others' numbers
            rows.append({"name": name, "dataset": dataset, "profile": profile,
                         "error": f"{type(error).__name__}: {error}"})
    return rows


# ----------------------------------------------------------------------------- report
def _row(t: Timings, name: str, ref: str | None, extra=("acc", "inertia")) -> str:
    lo, med = t.stat(name)
    wall = statistics.median(t.wall[name])
    refs = [ref] if isinstance(ref, str) else list(ref or [])
    ratio = "; ".join(f"{t.stat(r)[1] / med:.2f}x vs {r.split(': ', 1)[-1]}" for r in refs if r in t.cpu and med > 0)
    info = t.info.get(name, {})
    quality = ", ".join(f"{k} {info[k]:,.1f}" if isinstance(info[k], float) else f"{k} {info[k]:,}"
                        for k in extra if k in info)
    return f"| {name} | {lo:.3f} | {med:.3f} | {wall:.3f} | {ratio} | {quality} |"


def render(t: Timings, groups, costs, args, clustpy_note) -> str:
    head = ["# Performance", "",
            f"Generated by `python benchmarks/performance.py --size {args.size} --repeats {args.repeats}` at "
            f"{_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, commit {commit()}.",
            f"Machine: {machine()}; torch {__import__('torch').__version__}, 1 thread (OMP_NUM_THREADS=1). "
            f"Load average at the start: {os.getloadavg()[0]:.1f} (a shared machine inflates wall times; CPU "
            "seconds are the process's own).", "",
            "Cases are interleaved: every repeat runs each case once. Times are process CPU seconds, min and median "
            "over the repeats; the ratio is the reference's median over this row's median (above 1: this row is "
            "faster). " + clustpy_note, ""]
    body = []
    for title, rows in groups:
        body += [f"## {title}", "", "| case | CPU s min | CPU s median | wall s median | speed vs reference | "
                 "quality |", "|---|---:|---:|---:|---:|---|"]
        for name, ref in rows:
            if name in t.cpu:
                body.append(_row(t, name, ref, ("acc", "inertia", "loss", "nnz", "iterations", "fits CPU s",
                                                "outside the fits %")))
        body.append("")
    body += ["## Per-iteration cost of every deep method", "",
             f"Profile `{SIZES[args.size]['cost_profile']}`, seed 1, a line through fits at "
             f"{SIZES[args.size]['cost_steps'][0]} and {SIZES[args.size]['cost_steps'][1]} training steps: CPU seconds "
             "per step and the fixed part (final clustering, embedding all samples). `clusterbench plan` reads "
             "these rows from results/costs.csv.", "",
             "| method | dataset | profile | CPU ms / step | fixed CPU s |", "|---|---|---|---:|---:|"]
    for r in costs:
        if "error" in r:
            body.append(f"| {r['name']} | {r['dataset']} | {r['profile']} | not measured: {r['error']} | |")
        else:
            body.append(f"| {r['name']} | {r['dataset']} | {r['profile']} | {1000 * float(r['per_step_s']):.1f} | "
                        f"{float(r['fixed_s']):.2f} |")
    return "\n".join(head + body) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--mirror", default=os.environ.get("CLUSTERBENCH_MIRROR") or None)
    p.add_argument("--out", default=str(ROOT / "reports" / "performance.md"))
    p.add_argument("--costs", default=str(ROOT / "results" / "costs.csv"),
                   help="upsert the per-iteration rows here ('' to skip)")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # torch's lazy optimiser imports, outside the timing
    from clusterbench.data import load_dataset

    size = SIZES[args.size]
    lib = load_dataset(size["lib_data"], mirror=args.mirror)
    ae_data = load_dataset(size["ae_data"], mirror=args.mirror)
    X = np.ascontiguousarray(lib.flat(), dtype=np.float32)
    try:
        import clustpy  # noqa: F401

        clustpy_ok, clustpy_note = True, "ClustPy " + __import__("clustpy").__version__ + " (the `bench` extra)."
    except ImportError:
        clustpy_ok, clustpy_note = False, ("ClustPy is not installed (`pip install -e .[bench]`): the AE loops are "
                                           "compared with the plain PyTorch loop only.")
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    t = Timings()
    for r in range(args.repeats):
        log(f"repeat {r + 1}/{args.repeats}")
        if size["startup"]:
            startup_cases(t)
        kmeans_cases(t, X, lib.y, lib.n_classes)
        spectral_cases(t, lib, lib.n_classes)
        ae_loop_cases(t, ae_data, ae_data.n_classes, size["dec_steps"], clustpy_ok)
        cheap_win_cases(t, ae_data if args.size == "tiny" else lib, args.size)
    costs = deep_method_costs(args.size, args.mirror, log)
    if args.costs:
        from costs import upsert

        upsert(Path(args.costs), [r for r in costs if "error" not in r])
    ahcl_sets = [ae_data.name] if args.size == "tiny" else ["usps", "palm"]
    groups = [
        ("Start-up and imports (fresh interpreter)", [
            ("python (empty)", None), ("import torch", None), ("import sklearn.metrics", None),
            ("import clusterbench.framework.metrics", "import sklearn.metrics"),
            ("import clusterbench.framework.runner", None), ("clusterbench list", None),
            ("clusterbench run: k-means on digits, 10 seeds (one DAG job)", None)]),
        (f"k-means on {lib.name} (K = {lib.n_classes}, 10 restarts, at most 300 iterations)", [
            ("k-means: suite (scikit-learn back end)", "k-means: scikit-learn KMeans"),
            ("k-means: scikit-learn KMeans", None),
            ("k-means: suite (faiss back end)", "k-means: faiss.Kmeans"), ("k-means: faiss.Kmeans", None)]),
        (f"SC-Ncut on {lib.name}", [("SC-Ncut: suite", "SC-Ncut: scikit-learn SpectralClustering"),
                                   ("SC-Ncut: scikit-learn SpectralClustering", None)]),
        (f"AE-family clustering loops on {ae_data.name} ({size['dec_steps']} steps of 256, d-500-500-2000-10, "
         "SGD 0.01 / 0.9, k-means init with 20 restarts)", [
            ("DEC loop: suite", ("DEC loop: plain PyTorch", "DEC loop: ClustPy")), ("DEC loop: plain PyTorch", None),
            ("DEC loop: ClustPy", None),
            ("IDEC loop: suite", ("IDEC loop: plain PyTorch", "IDEC loop: ClustPy")), ("IDEC loop: plain PyTorch", None),
            ("IDEC loop: ClustPy", None)]),
        ("Cheap wins (each against what it replaced)", [
            ("AE pretraining step: Adam fused", "AE pretraining step: Adam default"),
            ("AE pretraining step: Adam default", None),
        ] + [row for n in ahcl_sets for row in (
            (f"AHCL training on {n}: suite", (f"AHCL training on {n}: autograd Eq. 12-15",
                                              f"AHCL training on {n}: NCHW + autograd Eq. 12-15 (18087c1 layout and loss)")),
            (f"AHCL training on {n}: autograd Eq. 12-15", None),
            (f"AHCL training on {n}: NCHW + autograd Eq. 12-15 (18087c1 layout and loss)", None))] + [
            ("AHCL deep graph Y: suite", "AHCL deep graph Y: 18087c1"), ("AHCL deep graph Y: 18087c1", None)]),
    ]
    text = render(t, groups, costs, args, clustpy_note)
    from clusterbench.framework.atomic import write_text

    write_text(args.out, text)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
