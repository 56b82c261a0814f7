"""Run a method on a dataset over seeds and write one record per seed.

Layout: ``{out}/{profile}/{dataset}/{method}/seed{S}/`` holds ``labels.npz``
(predicted labels, and the embedding when small), ``history.csv`` and
``record.json``. The record is written last, atomically, with the sha256 of the
other files (:mod:`clusterbench.framework.records`); a seed is rewritten under its lock. A
seed whose record and files validate, finished, with the same config hash is
skipped on resume; any other seed (no record, a damaged or missing file, another
configuration) runs again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import io
import logging
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from .. import PROJECT_ROOT, __version__
from ..blocks.kmeans_knn import faiss_device
from ..blocks.progress import run_progress
from .base import RunContext, collapse_reason, numerical_failure, seed_everything
from ..data import DatasetUnavailable, load_dataset
from .atomic import write_text
from .metrics import evaluate
from .records import FINISHED, begin, commit, read_record, seed_lock, seed_state, write_file
from .registry import config_hash, get_method, methods, resolve_config

#: embeddings up to this many floats are stored with the labels (figures need them)
MAX_EMBEDDING_FLOATS = 5_000_000
#: seconds between heartbeat lines of a running fit (a long fit logs at least this often)
HEARTBEAT_S = float(os.environ.get("CLUSTERBENCH_HEARTBEAT_S", "60"))
#: the method's history rows while it trains (history.csv is written with the record)
LIVE_HISTORY = "history.live.csv"


def seed_dir(out: Path, profile: str, dataset: str, method: str, seed: int) -> Path:
    return Path(out) / profile / dataset / method / f"seed{seed}"


class PeakMemory:
    """Peak resident memory of this process while the block runs (sampled every 20 ms), in MiB."""

    def __init__(self, interval: float = 0.02):
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self.peak = 0

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self):
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def _git_revision() -> str | None:
    try:
        root = PROJECT_ROOT
        if not (root / "pyproject.toml").is_file():  # an installed wheel: no checkout to describe
            return None
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


_DEVICE = re.compile(r"cpu|cuda(?::(\d+))?")


def check_device(device: str) -> str:
    """``device`` when this machine has it (cpu, cuda, cuda:N), else a ConfigError saying why.

    Called before any work: ``--device banana``, ``cuda`` without a GPU and ``cuda:99`` on a
    machine with fewer GPUs end in one line instead of a late traceback or a silent CPU run.
    """
    from .registry import ConfigError

    match = _DEVICE.fullmatch(device or "")
    if not match:
        raise ConfigError(f"--device: {device!r} is not a device; expected cpu, cuda or cuda:N")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"--device {device}: CUDA is not available on this machine (no GPU or no CUDA "
                              "build of torch); use --device cpu")
        index = int(match.group(1) or 0)
        if index >= torch.cuda.device_count():
            raise ConfigError(f"--device {device}: this machine has {torch.cuda.device_count()} GPU(s), "
                              f"cuda:0..cuda:{torch.cuda.device_count() - 1}")
    return device


#: numerical modes of a run's torch training on a GPU: fp32 (the default, and the only mode on a CPU; TF32 off for
#: matmuls and cuDNN convolutions, which torch otherwise allows for cuDNN), tf32 (TF32 tensor-core matmuls and
#: convolutions), bf16 (autocast to bfloat16 around the fit). Never on by itself: $CLUSTERBENCH_PRECISION or
#: ``clusterbench run --precision`` (Snakemake: ``--config precision=...``) chooses it; a run records it, and
#: a non-fp32 run carries it in its config hash, so its records never stand in a table for fp32 ones.
PRECISIONS = ("fp32", "tf32", "bf16")


def run_precision() -> str:
    """This process's run precision: $CLUSTERBENCH_PRECISION, default fp32 (see :data:`PRECISIONS`)."""
    from .registry import ConfigError

    value = os.environ.get("CLUSTERBENCH_PRECISION") or "fp32"
    if value not in PRECISIONS:
        raise ConfigError(f"CLUSTERBENCH_PRECISION / --precision: {value!r} is not one of {', '.join(PRECISIONS)}")
    return value


def check_precision(precision: str, device: str) -> str:
    """``precision`` when ``device`` can run it, else a ConfigError in one line (before any work)."""
    from .registry import ConfigError

    if precision not in PRECISIONS:
        raise ConfigError(f"--precision: {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision != "fp32" and not device.startswith("cuda"):
        raise ConfigError(f"--precision {precision}: a GPU mode (TF32 / bfloat16 autocast); device {device} runs "
                          "fp32 only")
    if precision == "bf16":
        import torch

        if not torch.cuda.is_bf16_supported():
            raise ConfigError(f"--precision bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support; "
                              "use tf32 or fp32")
    return precision


@contextlib.contextmanager
def precision_mode(precision: str, device: str):
    """Set the run's precision on a CUDA device for the duration of the fit (restored after); CPU: nothing."""
    if not device.startswith("cuda"):
        yield
        return
    import torch

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = precision == "tf32"
    try:
        # fp32 / tf32 switch autocast off explicitly, so an fp32 block nested in a bf16 fit (a shared
        # pretraining trained on demand) stays fp32
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@contextlib.contextmanager
def fit_mode(device: str):
    """A fit's device settings: this process's precision (:func:`precision_mode`) and faiss on the run's GPU
    (:func:`clusterbench.blocks.kmeans_knn.faiss_device`). Yields the faiss GPU index or None."""
    with precision_mode(run_precision() if device.startswith("cuda") else "fp32", device), \
            faiss_device(device) as gpu:
        yield gpu


def _trains_with_torch(method: str) -> bool:
    return method in methods() and bool(getattr(get_method(method).load_class(), "needs_torch", False))


def used_device(cls, device: str) -> str:
    """The device a method of class ``cls`` actually computes on for ``--device device``: methods that do
    not use torch run on the CPU; torch methods on the resolved torch device (``cuda`` → ``cuda:N``)."""
    if not getattr(cls, "needs_torch", False) or not device.startswith("cuda"):
        return "cpu"
    import torch

    resolved = torch.device(device)
    return f"cuda:{resolved.index if resolved.index is not None else torch.cuda.current_device()}"


def provenance(device: str) -> dict:
    """Where and with what a run was made."""
    versions = {"python": platform.python_version(), "clusterbench": __version__}
    for module in ("numpy", "scipy", "sklearn", "torch", "torchvision", "faiss", "pandas"):
        if module in sys.modules:
            versions[module] = getattr(sys.modules[module], "__version__", "unknown")
    info = {
        "git_revision": _git_revision(),
        "versions": versions,
        "device": device,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "hostname": platform.node(),
    }
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch_threads"] = torch.get_num_threads()
        if device.startswith("cuda") and torch.cuda.is_available():
            info["gpu_model"] = torch.cuda.get_device_name(device)
    return info


def _reset_gpu_peak(device: str) -> None:
    if device.startswith("cuda") and "torch" in sys.modules:
        sys.modules["torch"].cuda.reset_peak_memory_stats(device)


def _gpu_peak_mb(device: str) -> float | None:
    if device.startswith("cuda") and "torch" in sys.modules:
        return sys.modules["torch"].cuda.max_memory_allocated(device) / 2**20
    return None


def _history_csv(history: list[dict]) -> str:
    if not history:
        return ""
    import csv

    columns = list(dict.fromkeys(k for row in history for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def run_hash(method: str, dataset: str, profile: str, config, pretrain: dict | None = None) -> str | None:
    """The config hash a record is reused under: the method's config, plus its pretraining recipe's.

    ``pretrain``: {"recipe": name, "overrides": {...}} replacing the YAML's recipe (figure sweeps).
    """
    if config is None:
        return None
    chash = config_hash(config)
    recipe = get_method(method).pretrain if method in methods() else None
    if pretrain and recipe:
        recipe = pretrain.get("recipe") or recipe
    if recipe:
        from ..blocks.pretrain import recipe_hash, resolve_recipe

        extra = (pretrain or {}).get("overrides")
        chash += "+" + recipe_hash(recipe, resolve_recipe(recipe, dataset, profile, extra))
    precision = run_precision()
    if precision != "fp32" and _trains_with_torch(method):
        chash += "+" + precision                   # a tf32 / bf16 record never passes for an fp32 one
    return chash


def _base_record(method, dataset, profile, seed, config, device, pretrain=None) -> dict:
    return {
        "method": method, "dataset": dataset, "profile": profile, "seed": seed,
        "config": dataclasses.asdict(config) if config is not None else None,
        "config_hash": run_hash(method, dataset, profile, config, pretrain),
        "device": device, "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "precision": run_precision() if device.startswith("cuda") else "fp32",
    }


def scalar_diagnostics(result) -> dict:
    """The scalar entries of ``result.extras`` (a method's own diagnostics), as floats.

    They go to ``record["diagnostics"]``. A method class may also define
    ``scored_diagnostics(result, y) -> {name: float}`` for diagnostics that need the
    ground truth (e.g. NMCE's z-similarity between true clusters); the runner calls
    it after the fit, so the method itself never reads the labels. Likewise
    ``scored_history(result, y) -> [row dict]`` goes to ``scored_history.csv``.
    """
    return {k: float(np.asarray(v)) for k, v in result.extras.items() if np.asarray(v).ndim == 0}


def is_finished(directory: Path, chash: str | None) -> bool:
    """Whether the seed in ``directory`` is done under ``chash`` (see :func:`clusterbench.framework.records.seed_state`)."""
    return seed_state(directory, chash)[0]


def expected_hash(dataset: str, method: str, profile: str) -> str | None:
    """The config hash a record of (profile, dataset, method) must carry to be reported: the method's
    resolved YAML configuration (no command-line overrides); None for an unregistered or inapplicable method."""
    from .registry import ConfigError

    try:
        _, config = resolve_config(method, dataset, profile)
    except ConfigError:
        return None
    return run_hash(method, dataset, profile, config)


def _save_npz(path: Path, arrays: dict) -> None:
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def run_context(method: str, profile: str, pretrain: dict | None = None) -> RunContext:
    """The explicit context of a run: profile, the YAML's (or a sweep's) pretraining, the method's logger."""
    recipe, overrides = None, None
    if method in methods() and get_method(method).pretrain:
        recipe = get_method(method).pretrain
        if pretrain:
            recipe = pretrain.get("recipe") or recipe
            overrides = pretrain.get("overrides")
    return RunContext(profile=profile, pretrain=recipe, pretrain_overrides=overrides,
                      logger=logging.getLogger(f"clusterbench.method.{method}"))


def run_one(cls, config, data, *, method, profile, seed, device, directory: Path, pretrain: dict | None = None) -> dict:
    """Fit once and write labels, history and record for this seed. Returns the record.

    ``pretrain``: {"recipe": name, "overrides": {...}} replacing the YAML's pretraining (see run_seeds).
    """
    record = _base_record(method, data.name, profile, seed, config, used_device(cls, device), pretrain)
    record.update(n_samples=data.n_samples, n_classes=data.n_classes, device_requested=device)
    seed_everything(seed)
    _reset_gpu_peak(device)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        with PeakMemory() as memory:
            instance = cls(config, context=run_context(method, profile, pretrain))
            # progress lines (clusterbench.blocks.progress) and a heartbeat go to the job log; the
            # method's history rows go to history.live.csv as they come (the seed's committed
            # history.csv is written with the record; the live file stays only beside a failed record)
            with run_progress(f"[{method}/{data.name}] seed {seed}", logger=instance.context.logger,
                              history_path=directory / LIVE_HISTORY,
                              write_rows=lambda path, rows: write_text(path, _history_csv(rows)),
                              heartbeat_s=HEARTBEAT_S):
                # the method sees the features only: labels stay here, for the metrics after the fit
                with fit_mode(device) as faiss_gpu:
                    result = instance.fit_predict(data.view(), data.n_classes, seed=seed, device=device)
                record["faiss_gpu"] = faiss_gpu is not None
            if getattr(instance, "run_info", None):
                record["run_info"] = instance.run_info
        labels = np.asarray(result.labels).astype(np.int64).ravel()
        if labels.shape[0] != data.n_samples:
            raise ValueError(f"{method} returned {labels.shape[0]} labels for {data.n_samples} samples")
        reason = collapse_reason(labels, data.n_classes)  # one rule for every method (clusterbench.framework.base)
        status = "failed" if reason else "ok"
    except Exception as error:  # numerical failures become failed records; anything else is a bug and raises
        reason = numerical_failure(error)
        if reason is None:
            raise
        result, labels, status = None, None, "failed"
    record["wall_s"] = time.perf_counter() - wall0
    record["cpu_s"] = time.process_time() - cpu0
    record["peak_rss_mb"] = memory.peak_mb
    record["peak_gpu_mb"] = _gpu_peak_mb(device)
    record["status"], record["reason"] = status, reason
    begin(directory)
    files = {}
    if labels is not None and status == "failed":  # collapsed: the labels stay for inspection, no metrics
        files["labels.npz"] = write_file(directory, "labels.npz", lambda tmp: _save_npz(tmp, {"labels": labels}))
    if status == "ok":
        record["metrics"] = evaluate(data.y, labels)
        if getattr(cls, "protocols", None):  # kNN / linear classifier on the frozen features (PAD Table 1)
            from .protocols import evaluate_protocols

            scores = evaluate_protocols(result, data, linear_epochs=int(getattr(config, "linear_epochs", 100)))
            record["protocol_split"] = scores.pop("protocol_split", None)
            record["metrics"].update(scores)
        diagnostics = scalar_diagnostics(result)
        scorer = getattr(cls, "scored_diagnostics", None)
        if scorer is not None:  # label-dependent diagnostics are computed here, never inside the fit
            diagnostics.update({k: float(v) for k, v in scorer(result, data.y).items()})
        if diagnostics:
            record["diagnostics"] = diagnostics
        arrays = {"labels": labels}
        if result.embedding is not None and np.asarray(result.embedding).size <= MAX_EMBEDDING_FLOATS:
            arrays["embedding"] = np.asarray(result.embedding, dtype=np.float32)
        arrays.update({f"extra_{k}": np.asarray(v) for k, v in result.extras.items()})
        files["labels.npz"] = write_file(directory, "labels.npz", lambda tmp: _save_npz(tmp, arrays))
        history = _history_csv(result.history)
        files["history.csv"] = write_file(directory, "history.csv", lambda tmp: tmp.write_text(history))
        scored = getattr(cls, "scored_history", None)
        if scored is not None:  # per-step scores against the labels, after the fit (figures only)
            text = _history_csv(scored(result, data.y))
            files["scored_history.csv"] = write_file(directory, "scored_history.csv", lambda tmp: tmp.write_text(text))
    record["provenance"] = provenance(record["device"])
    record["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    committed = commit(directory, record, files)
    if status == "ok":
        (directory / LIVE_HISTORY).unlink(missing_ok=True)
    return committed


def run_seeds(method: str, dataset: str, seeds: list[int], *, profile: str, out: Path,
              mirror: str | None = None, device: str = "cpu", strict: bool = False,
              force: bool = False, overrides: dict | None = None, pretrain: dict | None = None,
              data=None, log=print) -> list[dict]:
    """Run ``method`` on ``dataset`` for each seed (skipping finished ones); return the records.

    A dataset that cannot be obtained yields records with status "unavailable"
    (or raises when ``strict``). A divergence yields status "failed".
    ``pretrain`` = {"recipe": name, "overrides": {...}} replaces the pretraining the
    method's YAML names (figure sweeps; keep their weights apart with
    ``$CLUSTERBENCH_PRETRAINED``). ``data``: an already loaded (e.g. noised) Dataset
    standing in for ``dataset``.
    """
    cls, config = resolve_config(method, dataset, profile, overrides)
    if getattr(cls, "needs_torch", False):  # (pretrain_seeds does the same)
        from ..blocks.training import keep_freed_memory

        keep_freed_memory()  # reuse freed activation memory instead of page-faulting it in again (same results)
    chash = run_hash(method, dataset, profile, config, pretrain)
    todo = [s for s in seeds if force or not is_finished(seed_dir(out, profile, dataset, method, s), chash)]
    records = []
    unavailable = None
    if todo and data is None:
        try:
            data = load_dataset(dataset, mirror=mirror)
        except DatasetUnavailable as error:
            if strict:
                raise
            log(f"[{method}/{dataset}] dataset unavailable: {error}")
            unavailable = error
    for s in seeds:
        directory = seed_dir(out, profile, dataset, method, s)
        if s in todo:
            with seed_lock(directory):  # another process running this seed finishes first
                done, why = seed_state(directory, chash)
                if force or not done:
                    if why and (directory / "record.json").exists():
                        log(f"[{method}/{dataset}] seed {s}: rerun ({why})")
                    if unavailable is not None:
                        record = _base_record(method, dataset, profile, s, config, device, pretrain)
                        record.update(status="unavailable", reason=f"dataset unavailable: {unavailable}")
                        begin(directory)
                        commit(directory, record, {})
                    else:
                        log(f"[{method}/{dataset}] seed {s} ...")
                        record = run_one(cls, config, data, method=method, profile=profile, seed=s,
                                         device=device, directory=directory, pretrain=pretrain)
                        summary = (f"ACC {record['metrics']['acc']:.4f} NMI {record['metrics']['nmi']:.4f}"
                                   if record["status"] == "ok" else record["reason"])
                        log(f"[{method}/{dataset}] seed {s}: {record['status']} {summary} "
                            f"({record['wall_s']:.1f} s)")
        records.append(read_record(directory))
    return records


def load_records(root: Path) -> list[dict]:
    """Every record under ``root``, validated (:func:`clusterbench.framework.records.read_record`), whatever its seed
    or configuration: for inspection; the reports read :func:`clusterbench.framework.aggregate.aggregate`."""
    return [read_record(p.parent) for p in sorted(Path(root).rglob("record.json"))]
