"""Run records on disk: how a seed's files are written, read back and validated.

One seed directory ``{runs}/{profile}/{dataset}/{method}/seed{S}/`` is one unit:
``labels.npz``, ``history.csv`` (and ``scored_history.csv``) first, ``record.json``
last. The record lists the sha256 of every file written with it (``files``), so
it is believed only beside exactly its own files; a writer holds the seed's lock
(:func:`seed_lock`) and removes the old record before writing, so two runs of
one seed (e.g. two configurations) never leave one's record beside the other's
labels. Every consumer reads through :func:`read_record`: resume
(:func:`seed_state`), aggregation and the reports (:func:`collect`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Iterable

from .atomic import atomic_path, file_lock, remove_stale_parts, write_json

RECORD = "record.json"
LOCK = ".lock"
#: files a seed's unit may hold besides the record (removed when a new record does not list them)
UNIT_FILES = ("labels.npz", "history.csv", "scored_history.csv")
FINISHED = ("ok", "failed")
REQUIRED_KEYS = ("method", "dataset", "profile", "seed", "status", "config_hash")
#: 2: records list their files' sha256 under ``files``
RECORD_VERSION = 2


class RecordError(ValueError):
    """A run's file is missing, does not parse, or does not belong to its record; the message names the file."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"{path}: {why}")
        self.path = Path(path)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def seed_lock(directory: Path):
    """Exclusive lock of one seed directory (context manager); a second writer of the seed waits."""
    return file_lock(Path(directory) / LOCK)


def begin(directory: Path) -> None:
    """Start (re)writing a seed (hold its lock): the old record goes first, so an interrupted write leaves
    no record, and part files of dead processes go too."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RECORD).unlink(missing_ok=True)
    remove_stale_parts(directory)


def write_file(directory: Path, name: str, write: Callable[[Path], None]) -> str:
    """Write one unit file atomically with ``write(tmp_path)``; returns its sha256 (for the record)."""
    with atomic_path(Path(directory) / name) as tmp:
        write(tmp)
        digest = sha256(tmp)
    return digest


def commit(directory: Path, record: dict, files: dict[str, str]) -> dict:
    """Write ``record`` (with ``files``: {name: sha256}) last; unit files it does not list are removed."""
    directory = Path(directory)
    for name in UNIT_FILES:
        if name not in files:
            (directory / name).unlink(missing_ok=True)
    record = dict(record, files=dict(files), record_version=RECORD_VERSION)
    write_json(directory / RECORD, record)
    return record


def read_record(directory: Path, verify: bool = True) -> dict:
    """The validated record of a seed directory.

    Raises :class:`RecordError` naming the file when ``record.json`` is missing, is not
    a JSON object with the required keys, or (``verify``) a file it lists is missing or
    differs from its stored sha256; an ``ok`` record of the older layout (no ``files``)
    needs a ``labels.npz`` that loads with one label per sample.
    """
    directory = Path(directory)
    path = directory / RECORD
    if not path.exists():
        raise RecordError(path, "missing")
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise RecordError(path, f"not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise RecordError(path, f"not a JSON object (got {type(record).__name__})")
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise RecordError(path, f"missing key(s) {missing}")
    if record["status"] == "ok" and not isinstance(record.get("metrics"), dict):
        raise RecordError(path, "status ok without metrics")
    if not verify:
        return record
    files = record.get("files")
    if files is not None:
        if not isinstance(files, dict):
            raise RecordError(path, "'files' is not an object")
        for name, digest in files.items():
            file = directory / name
            if not file.exists():
                raise RecordError(file, f"missing (listed in {RECORD})")
            if sha256(file) != digest:
                raise RecordError(file, f"does not match the sha256 in {RECORD} (a file of another run, or damaged)")
    elif record["status"] == "ok":
        _check_labels(directory / "labels.npz", record.get("n_samples"))
    return record


def _check_labels(path: Path, n_samples) -> None:
    import zipfile

    import numpy as np

    if not path.exists():
        raise RecordError(path, f"missing (the {RECORD} beside it says ok)")
    try:
        with np.load(path) as archive:
            labels = archive["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise RecordError(path, f"does not load ({error})") from None
    if n_samples is not None and labels.shape != (n_samples,):
        raise RecordError(path, f"holds {labels.shape} labels, the record says {n_samples} samples")


def seed_state(directory: Path, chash: str | None) -> tuple[bool, str]:
    """(done, why): a seed is done when its record and files validate, it finished (ok or failed) and its
    config hash is ``chash``; otherwise it is (re)run and ``why`` says why."""
    try:
        record = read_record(directory)
    except RecordError as error:
        return False, str(error)
    if record["status"] not in FINISHED:
        return False, f"status {record['status']}"
    if record["config_hash"] != chash:
        return False, f"config hash {record['config_hash']} is not the current {chash}"
    return True, ""


def seed_dirs(method_dir: Path) -> dict[int, Path]:
    """{seed: directory} of the ``seed{S}`` folders under one (profile, dataset, method) folder."""
    out = {}
    if Path(method_dir).is_dir():
        for p in Path(method_dir).iterdir():
            if p.is_dir() and p.name.startswith("seed") and p.name[4:].isdigit():
                out[int(p.name[4:])] = p
    return out


def collect(root: Path, profile: str, pairs: Iterable[tuple[str, str]], seeds: list[int],
            expected_hash: Callable[[str, str], str | None]) -> tuple[list[dict], list[str]]:
    """The records the reports average: for each (dataset, method), the requested ``seeds`` whose record
    has the current ``expected_hash(dataset, method)``. Returns (records, ignored): one line per record
    left out (a seed not requested, another configuration, a record in the wrong folder).

    A requested seed whose files are damaged raises :class:`RecordError` naming the file.
    """
    wanted = set(seeds)
    records, ignored = [], []
    for dataset, method in pairs:
        method_dir = Path(root) / profile / dataset / method
        present = seed_dirs(method_dir)
        if not present:
            continue
        chash = expected_hash(dataset, method)
        for seed in sorted(present):
            directory = present[seed]
            if seed not in wanted:
                if (directory / RECORD).exists():
                    ignored.append(f"{directory}: seed {seed} not requested")
                continue
            if not (directory / RECORD).exists():
                continue  # not run yet (or being rewritten)
            record = read_record(directory)
            where = (record["profile"], record["dataset"], record["method"], record["seed"])
            if where != (profile, dataset, method, seed):
                ignored.append(f"{directory}: the record is of {'/'.join(map(str, where))}")
            elif chash is None:
                ignored.append(f"{directory}: {method!r} is not a registered method for {dataset!r}")
            elif record["config_hash"] != chash:
                ignored.append(f"{directory}: config hash {record['config_hash']} is not the current {chash} "
                               "(another configuration, e.g. a --set override)")
            else:
                records.append(record)
    return records, ignored


def summarize_ignored(ignored: list[str], limit: int = 5) -> list[str]:
    """At most ``limit`` lines of ``ignored`` and a count of the rest (for logs)."""
    if not ignored:
        return []
    lines = [f"ignored {len(ignored)} record(s) outside the requested seeds and configuration:"]
    lines += [f"  {line}" for line in ignored[:limit]]
    if len(ignored) > limit:
        lines.append(f"  ... and {len(ignored) - limit} more")
    return lines

