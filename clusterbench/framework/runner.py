"""Run a method on a dataset over seeds and write one record per seed.

Layout: ``{out}/{profile}/{dataset}/{method}/seed{S}/`` holds ``labels.npz``
(predicted labels, and the embedding when small), ``history.csv`` and
``record.json``. The record is written last, atomically: a seed whose
record exists with the same config hash is finished and is skipped on resume.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import io
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from .. import PROJECT_ROOT, __version__
from .base import DivergenceError, seed_everything
from ..data import DatasetUnavailable, load_dataset
from .atomic import atomic_path, read_json, write_json, write_text
from .metrics import evaluate
from .registry import config_hash, get_method, methods, resolve_config

#: embeddings up to this many floats are stored with the labels (figures need them)
MAX_EMBEDDING_FLOATS = 5_000_000
FINISHED = ("ok", "failed")


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
    return chash


def _base_record(method, dataset, profile, seed, config, device, pretrain=None) -> dict:
    return {
        "method": method, "dataset": dataset, "profile": profile, "seed": seed,
        "config": dataclasses.asdict(config) if config is not None else None,
        "config_hash": run_hash(method, dataset, profile, config, pretrain),
        "device": device, "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
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
    record = directory / "record.json"
    if not record.exists():
        return False
    try:
        data = read_json(record)
    except ValueError:
        return False
    return data.get("status") in FINISHED and data.get("config_hash") == chash


def run_one(cls, config, data, *, method, profile, seed, device, directory: Path, pretrain: dict | None = None) -> dict:
    """Fit once and write labels, history and record for this seed. Returns the record.

    ``pretrain``: {"recipe": name, "overrides": {...}} replacing the YAML's pretraining (see run_seeds).
    """
    record = _base_record(method, data.name, profile, seed, config, device, pretrain)
    record.update(n_samples=data.n_samples, n_classes=data.n_classes)
    seed_everything(seed)
    _reset_gpu_peak(device)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        with PeakMemory() as memory:
            instance = cls(config)
            # context for methods that reuse shared pretraining (clusterbench.blocks.pretrain)
            instance.profile = profile
            if method in methods() and get_method(method).pretrain:
                instance.pretrain = get_method(method).pretrain
                if pretrain:
                    instance.pretrain = pretrain.get("recipe") or instance.pretrain
                    instance.pretrain_overrides = pretrain.get("overrides")
            result = instance.fit_predict(data, data.n_classes, seed=seed, device=device)
            if getattr(instance, "run_info", None):
                record["run_info"] = instance.run_info
        labels = np.asarray(result.labels).astype(np.int64).ravel()
        if labels.shape[0] != data.n_samples:
            raise ValueError(f"{method} returned {labels.shape[0]} labels for {data.n_samples} samples")
        status, reason = "ok", None
    except DivergenceError as error:
        result, labels, status, reason = None, None, "failed", f"diverged: {error}"
    record["wall_s"] = time.perf_counter() - wall0
    record["cpu_s"] = time.process_time() - cpu0
    record["peak_rss_mb"] = memory.peak_mb
    record["peak_gpu_mb"] = _gpu_peak_mb(device)
    record["status"], record["reason"] = status, reason
    directory.mkdir(parents=True, exist_ok=True)
    if status == "ok":
        record["metrics"] = evaluate(data.y, labels)
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
        with atomic_path(directory / "labels.npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
        write_text(directory / "history.csv", _history_csv(result.history))
        scored = getattr(cls, "scored_history", None)
        if scored is not None:  # per-step scores against the labels, after the fit (figures only)
            write_text(directory / "scored_history.csv", _history_csv(scored(result, data.y)))
    record["provenance"] = provenance(device)
    record["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    write_json(directory / "record.json", record)
    return record


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
    chash = run_hash(method, dataset, profile, config, pretrain)
    todo = [s for s in seeds if force or not is_finished(seed_dir(out, profile, dataset, method, s), chash)]
    records = []
    if todo and data is None:
        try:
            data = load_dataset(dataset, mirror=mirror)
        except DatasetUnavailable as error:
            if strict:
                raise
            log(f"[{method}/{dataset}] dataset unavailable: {error}")
            for s in todo:
                record = _base_record(method, dataset, profile, s, config, device)
                record.update(status="unavailable", reason=f"dataset unavailable: {error}")
                write_json(seed_dir(out, profile, dataset, method, s) / "record.json", record)
            data = None
    for s in seeds:
        directory = seed_dir(out, profile, dataset, method, s)
        if s in todo and data is not None:
            log(f"[{method}/{dataset}] seed {s} ...")
            record = run_one(cls, config, data, method=method, profile=profile, seed=s, device=device,
                             directory=directory, pretrain=pretrain)
            summary = (f"ACC {record['metrics']['acc']:.4f} NMI {record['metrics']['nmi']:.4f}"
                       if record["status"] == "ok" else record["reason"])
            log(f"[{method}/{dataset}] seed {s}: {record['status']} {summary} ({record['wall_s']:.1f} s)")
        records.append(read_json(directory / "record.json"))
    return records


def load_records(root: Path) -> list[dict]:
    """Every record.json under ``root``."""
    return [read_json(p) for p in sorted(Path(root).rglob("record.json"))]

