"""Records → one tidy table: one row per (profile, dataset, method, seed).

Only the requested seeds under the current configuration are taken: a record of
another seed, or with another config hash (a ``--set`` override, an edited YAML),
is left out and named in the log (:func:`clusterbench.framework.records.collect`).

Besides the fixed COLUMNS, each scalar a method reported in ``record["diagnostics"]``
(e.g. NMCE's z-sim cosine similarities) becomes a column of its own name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .metrics import METRICS
from .records import collect, seed_dirs, summarize_ignored

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


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def aggregate(root: Path, profile: str, pairs: list[tuple[str, str]] | None = None,
              seeds: list[int] | None = None, log=_stderr) -> pd.DataFrame:
    """The records of ``profile`` under ``root`` as a frame: the ``seeds`` requested (default: the
    profile's) of the given (dataset, method) pairs (default: every pair on disk), each under the
    method's current configuration. Records left out are logged; ``frame.attrs["ignored"]`` lists them.
    A damaged record of a requested seed raises :class:`clusterbench.framework.records.RecordError`.
    """
    from .registry import load_profile
    from .runner import expected_hash

    base = Path(root) / profile
    if seeds is None:
        seeds = load_profile(profile)["seeds"]
    if pairs is None:
        pairs = sorted((d.name, m.name) for d in (base.iterdir() if base.is_dir() else []) if d.is_dir()
                       for m in d.iterdir() if seed_dirs(m))
    records, ignored = collect(root, profile, pairs, seeds,
                               lambda dataset, method: expected_hash(dataset, method, profile))
    for line in summarize_ignored(ignored):
        log(line)
    frame = records_to_frame(records)
    frame.attrs["ignored"] = ignored
    return frame
