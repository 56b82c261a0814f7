"""Hand-made run records that the suite accepts: the current config hash, labels and checksums, written
through the runner's own writer (clusterbench.framework.records)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_fake_record(root: Path, profile: str, dataset: str, method: str, seed: int, metrics: dict | None,
                      status: str = "ok", reason: str | None = None, **extra) -> dict:
    """One seed's record.json (+ labels.npz when ok) under ``root``, valid for aggregation."""
    from clusterbench.framework.records import begin, commit, write_file
    from clusterbench.framework.runner import expected_hash, seed_dir

    directory = seed_dir(Path(root), profile, dataset, method, seed)
    record = {"method": method, "dataset": dataset, "profile": profile, "seed": seed, "status": status,
              "reason": reason, "config_hash": expected_hash(dataset, method, profile), **extra}
    files = {}
    begin(directory)
    if status == "ok":
        record.update(metrics=dict(metrics or {}), n_samples=10)

        def save(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, labels=np.zeros(10, dtype=np.int64))

        files["labels.npz"] = write_file(directory, "labels.npz", save)
    return commit(directory, record, files)
