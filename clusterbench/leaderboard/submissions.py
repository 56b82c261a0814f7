"""Submitted results: a method the suite does not implement, brought by a researcher.

A submission is a folder ``submissions/{name}/`` with ``submission.yaml`` (checked against
``schemas/submission.schema.json``: method, display name, paper, code URL, profiles, budget,
hardware) and per-seed values, either a CSV (``results: results.csv``; columns ``dataset``,
``seed`` and metric columns as fractions like run records, optionally ``wall_s``,
``peak_rss_mb``) or suite run records (``records: records/``). Any problem raises
:class:`SubmissionError` with one line naming the file, line and key.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from ..framework.metrics import METRICS
from ..framework.registry import ConfigError

#: columns a results CSV may have besides the metrics
CSV_KEYS = ("dataset", "seed")
CSV_OPTIONAL = ("wall_s", "peak_rss_mb", "peak_gpu_mb")


class SubmissionError(ConfigError):
    """A submission that cannot be shown; the message names file, line and key."""


@dataclass
class Submission:
    name: str
    path: Path
    meta: dict
    #: (dataset, seed) → {metric: fraction, "wall_s": s, ...}
    values: dict[tuple[str, int], dict] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.meta["method"]

    @property
    def source_file(self) -> Path:
        return self.path / (self.meta.get("results") or self.meta.get("records"))


def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("schemas/submission.schema.json").read_text())


def _check_meta(meta, where: Path) -> None:
    import jsonschema

    if not isinstance(meta, dict):
        raise SubmissionError(f"{where}: expected a mapping of keys, got {type(meta).__name__}")
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(meta), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        e = errors[0]
        key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        if e.validator == "oneOf":
            raise SubmissionError(f"{where}: give exactly one of 'results' (a CSV) or 'records' (a folder)")
        raise SubmissionError(f"{where}: {key}: {e.message}")


def _metric_value(text: str, where: str, key: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SubmissionError(f"{where}: {key} {text!r} is not a number") from None
    low = -1.0 if key == "ari" else 0.0
    if not math.isfinite(value) or not low <= value <= 1.0:
        raise SubmissionError(f"{where}: {key} {text!r} outside [{low:g}, 1] (metrics are fractions, as in run records)")
    return value


def _read_csv(path: Path, datasets: set[str]) -> dict[tuple[str, int], dict]:
    if not path.exists():
        raise SubmissionError(f"{path}: no such file (named by 'results' in submission.yaml)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [k for k in CSV_KEYS if k not in header]
        if missing:
            raise SubmissionError(f"{path}: line 1: missing column(s) {missing}")
        unknown = [k for k in header if k not in CSV_KEYS + CSV_OPTIONAL + tuple(METRICS)]
        if unknown:
            raise SubmissionError(f"{path}: line 1: unknown column(s) {unknown}; metrics: {list(METRICS)}")
        if not any(k in METRICS for k in header):
            raise SubmissionError(f"{path}: line 1: no metric column (one of {list(METRICS)})")
        out: dict[tuple[str, int], dict] = {}
        for row in reader:
            where = f"{path}: line {reader.line_num}"
            dataset = (row.get("dataset") or "").strip()
            if dataset not in datasets:
                raise SubmissionError(f"{where}: dataset {dataset!r} is not a suite dataset (clusterbench list)")
            try:
                seed = int(row["seed"])
                if seed < 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise SubmissionError(f"{where}: seed {row.get('seed')!r} is not a non-negative integer") from None
            if (dataset, seed) in out:
                raise SubmissionError(f"{where}: duplicate (dataset, seed) ({dataset}, {seed})")
            values = {}
            for key in header:
                if key in CSV_KEYS or (row.get(key) or "").strip() == "":
                    continue
                if key in METRICS:
                    values[key] = _metric_value(row[key].strip(), where, key)
                else:
                    try:
                        values[key] = float(row[key])
                    except ValueError:
                        raise SubmissionError(f"{where}: {key} {row[key]!r} is not a number") from None
            out[(dataset, seed)] = values
    if not out:
        raise SubmissionError(f"{path}: no rows")
    return out


def _read_records(folder: Path, datasets: set[str]) -> dict[tuple[str, int], dict]:
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: no such folder (named by 'records' in submission.yaml)")
    out: dict[tuple[str, int], dict] = {}
    for path in sorted(folder.rglob("record.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise SubmissionError(f"{path}: not JSON ({error})") from None
        for key in ("dataset", "seed", "status"):
            if key not in record:
                raise SubmissionError(f"{path}: missing key {key!r}")
        if record["dataset"] not in datasets:
            raise SubmissionError(f"{path}: dataset {record['dataset']!r} is not a suite dataset")
        key = (record["dataset"], int(record["seed"]))
        if key in out:
            raise SubmissionError(f"{path}: duplicate (dataset, seed) {key}")
        if record["status"] != "ok":
            out[key] = {}  # a failed seed counts in n, not in the mean
            continue
        metrics = record.get("metrics") or {}
        values = {k: _metric_value(str(v), str(path), k) for k, v in metrics.items() if k in METRICS}
        if not values:
            raise SubmissionError(f"{path}: metrics has none of {list(METRICS)}")
        for extra in CSV_OPTIONAL:
            if record.get(extra) is not None:
                values[extra] = float(record[extra])
        out[key] = values
    if not any(out.values()):
        raise SubmissionError(f"{folder}: no record.json with status ok")
    return out


def load_submission(folder: Path) -> Submission:
    """One submission folder, validated (metadata against the schema, values row by row)."""
    from ..data import DATASETS
    from ..framework.registry import methods

    folder = Path(folder)
    meta_path = folder / "submission.yaml"
    if not meta_path.exists():
        raise SubmissionError(f"{meta_path}: missing (every submission folder has one)")
    try:
        meta = yaml.safe_load(meta_path.read_text())
    except yaml.YAMLError as error:
        raise SubmissionError(f"{meta_path}: not YAML ({str(error).splitlines()[0]})") from None
    _check_meta(meta, meta_path)
    if meta["method"] in methods():
        raise SubmissionError(f"{meta_path}: method: {meta['method']!r} is implemented by the suite; "
                              "run it (clusterbench run) instead of submitting numbers")
    from ..framework.resources import config_files

    known_profiles = set(config_files("profiles"))
    for profile in meta["profiles"]:
        if profile not in known_profiles:
            raise SubmissionError(f"{meta_path}: profiles: unknown profile {profile!r}; known: {sorted(known_profiles)}")
    datasets = set(DATASETS)
    if meta.get("results"):
        values = _read_csv(folder / meta["results"], datasets)
    else:
        values = _read_records(folder / meta["records"], datasets)
    return Submission(folder.name, folder, meta, values)


def load_submissions(root: Path | None) -> list[Submission]:
    """Every ``{root}/*/submission.yaml``; two submissions of one method are an error."""
    if root is None or not Path(root).is_dir():
        return []
    out, seen = [], {}
    for meta in sorted(Path(root).glob("*/submission.yaml")):
        sub = load_submission(meta.parent)
        if sub.method in seen:
            raise SubmissionError(f"{meta}: method: {sub.method!r} already submitted in {seen[sub.method]}")
        seen[sub.method] = meta
        out.append(sub)
    return out


def submission_files(root: Path | None) -> list[str]:
    """The files of every submission (the DAG's inputs)."""
    if root is None or not Path(root).is_dir():
        return []
    return sorted(str(p) for p in Path(root).rglob("*") if p.is_file() and p.suffix in (".yaml", ".csv", ".json"))
