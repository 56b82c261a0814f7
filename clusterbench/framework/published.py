"""Published numbers of the reproduced papers and their baselines.

``results/published/{paper}.csv`` holds one row per printed result cell (see
``results/published/README.md`` for the column meanings and the keys). This
module loads and validates those files and looks single values up.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd

from .. import PROJECT_ROOT

#: Columns of every ``results/published/*.csv`` file, in this order.
COLUMNS = (
    "paper",
    "table",
    "row",
    "method",
    "dataset",
    "dataset_display",
    "metric",
    "value",
    "scale",
    "note",
)

#: Allowed values of the ``scale`` column.
SCALES = frozenset({"percent", "fraction", "seconds", "raw"})

#: Tables each paper's file must contain (table labels as printed).
REQUIRED_TABLES: dict[str, list[str]] = {
    "ahcl": ["2", "3"],
    "pad": ["1", "2", "3", "4", "5", "6"],
    "dccm": ["2", "3", "5", "6"],
    "rdc": ["3", "4", "5", "6", "8"],
    "nmce": ["1", "2", "3", "A.1", "A.2", "A.3"],
}

_KEY = ("paper", "table", "row", "dataset", "metric")
_NONEMPTY = ("paper", "table", "row", "method", "dataset", "dataset_display",
             "metric", "value", "scale")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def default_directory() -> Path:
    """``<repo root>/results/published``, found relative to this file."""
    return PROJECT_ROOT / "results" / "published"


def _read_file(path: Path) -> list[dict[str, str]]:
    """Read and validate one CSV file; raise ValueError naming file and line."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{path}: line 1: empty file, expected header {COLUMNS}") from None
        if tuple(header) != COLUMNS:
            raise ValueError(f"{path}: line 1: columns {tuple(header)} != {COLUMNS}")
        for cells in reader:
            line = reader.line_num
            if not cells:
                continue
            if len(cells) != len(COLUMNS):
                raise ValueError(
                    f"{path}: line {line}: {len(cells)} fields, expected {len(COLUMNS)}")
            row = dict(zip(COLUMNS, cells))
            for col in _NONEMPTY:
                if not row[col].strip():
                    raise ValueError(f"{path}: line {line}: empty {col!r}")
            for col in ("paper", "method", "dataset", "metric"):
                if not _SLUG.match(row[col]):
                    raise ValueError(
                        f"{path}: line {line}: {col} {row[col]!r} is not a lowercase slug")
            if row["paper"] != path.stem:
                raise ValueError(
                    f"{path}: line {line}: paper {row['paper']!r} does not match file name")
            try:
                value = float(row["value"])
            except ValueError:
                raise ValueError(
                    f"{path}: line {line}: value {row['value']!r} is not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"{path}: line {line}: value {row['value']!r} is not finite")
            if row["scale"] not in SCALES:
                raise ValueError(
                    f"{path}: line {line}: scale {row['scale']!r} not in {sorted(SCALES)}")
            row["_file"], row["_line"] = str(path), line
            rows.append(row)
    return rows


def load_published(directory: str | Path | None = None) -> pd.DataFrame:
    """Load and validate every ``*.csv`` in ``directory``.

    Returns a DataFrame with exactly ``COLUMNS``; ``value`` is a float, the
    other columns are strings. Raises ``ValueError`` (naming the file and line)
    on a wrong header, a non-numeric value, an unknown scale, or a duplicate
    (paper, table, row, dataset, metric) key.
    """
    directory = Path(directory) if directory is not None else default_directory()
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise ValueError(f"{directory}: no *.csv files")
    seen: dict[tuple, str] = {}
    records = []
    for path in files:
        for row in _read_file(path):
            key = tuple(row[c] for c in _KEY)
            where = f"{row['_file']}: line {row['_line']}"
            if key in seen:
                raise ValueError(f"{where}: duplicate key {key} (first at {seen[key]})")
            seen[key] = where
            records.append({c: row[c] for c in COLUMNS})
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    df["value"] = df["value"].astype(float)
    return df


def published_value(df: pd.DataFrame, paper: str, table: str, method: str,
                    dataset: str, metric: str) -> float | None:
    """The published value for one cell, or None if there is none.

    Raises ValueError if several rows match with different values (e.g. two
    ablation rows of the same method in one table).
    """
    hit = df[(df["paper"] == paper) & (df["table"] == str(table))
             & (df["method"] == method) & (df["dataset"] == dataset)
             & (df["metric"] == metric)]
    if hit.empty:
        return None
    values = sorted(set(hit["value"].astype(float)))
    if len(values) > 1:
        raise ValueError(
            f"{paper} table {table} {method}/{dataset}/{metric}: several values "
            f"{values} in rows {sorted(hit['row'])}")
    return values[0]
