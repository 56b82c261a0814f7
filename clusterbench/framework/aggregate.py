"""Records → one tidy table: one row per (profile, dataset, method, seed).

Besides the fixed COLUMNS, each scalar a method reported in ``record["diagnostics"]``
(e.g. NMCE's z-sim cosine similarities) becomes a column of its own name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .metrics import METRICS
from .runner import load_records

COLUMNS = (
    ["profile", "dataset", "method", "seed", "status", "reason"]
    + list(METRICS)
    + ["n_clusters_found", "wall_s", "cpu_s", "peak_rss_mb", "peak_gpu_mb", "config_hash", "git_revision", "device"]
)


def records_to_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r in records:
        row = {c: r.get(c) for c in ("profile", "dataset", "method", "seed", "status", "reason", "wall_s",
                                      "cpu_s", "peak_rss_mb", "peak_gpu_mb", "config_hash", "device")}
        row.update(r.get("metrics") or {})
        row.update({k: v for k, v in (r.get("diagnostics") or {}).items() if k not in COLUMNS})
        row["git_revision"] = (r.get("provenance") or {}).get("git_revision")
        rows.append(row)
    extra = sorted({k for row in rows for k in row} - set(COLUMNS))
    frame = pd.DataFrame(rows, columns=COLUMNS + extra)
    return frame.sort_values(["dataset", "method", "seed"], kind="stable").reset_index(drop=True)


def aggregate(root: Path, profile: str, pairs: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """All records of ``profile`` under ``root`` (optionally only the given (dataset, method) pairs)."""
    base = Path(root) / profile
    if pairs is None:
        records = load_records(base)
    else:
        records = [r for d, m in pairs for r in load_records(base / d / m)]
    return records_to_frame(records)
