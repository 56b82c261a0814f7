"""Method registry and configuration resolution.

Each ``config/methods/{name}.yaml`` registers one method::

    display: K-Means                      # row label in reports
    implementation: clusterbench.baselines.kmeans:KMeans
    kind: baseline                        # baseline | method
    paper: macqueen1967                   # bibliography key
    params: {}                            # overrides of the Config defaults, every dataset
    datasets: {usps: {...}}               # per-dataset values (e.g. R-DC's alpha/beta)
    profiles: {smoke: {...}, quick: {...}, paper: {...}}   # per-profile budgets
    only_datasets: [coil20, ...]          # optional: the method runs on these datasets only

Without ``only_datasets`` a method runs on every dataset of a profile; with it,
the DAG, the aggregate and the reports skip the other datasets and
:func:`resolve_config` refuses them (a method whose paper covers only some
datasets, e.g. NMCE, is not run on the rest).

The resolved configuration is ``Config()`` ← params ← datasets[dataset] ←
profiles[profile]; an unknown key anywhere is an error naming it. Reading the
registry imports nothing heavy: the implementation is imported on demand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .. import PROJECT_ROOT

PROFILES = ("smoke", "quick", "cpu", "paper")


class ConfigError(ValueError):
    """A configuration names something that does not exist or has a wrong value."""


def config_dir() -> Path:
    """``$CLUSTERBENCH_CONFIG``, else ``./config`` when present, else the checkout's ``config/``."""
    if os.environ.get("CLUSTERBENCH_CONFIG"):
        return Path(os.environ["CLUSTERBENCH_CONFIG"])
    local = Path("config")
    return local if (local / "methods").is_dir() else PROJECT_ROOT / "config"


@dataclass(frozen=True)
class MethodEntry:
    name: str
    display: str
    implementation: str
    kind: str
    paper: str
    params: dict = field(default_factory=dict)
    datasets: dict = field(default_factory=dict)
    profiles: dict = field(default_factory=dict)
    notes: str = ""
    pretrain: str | None = None  # shared pretraining recipe whose weights the method reuses
    only_datasets: tuple[str, ...] | None = None  # None: every dataset
    order: int = 100             # row position in reports (then by name)
    path: Path | None = None

    def applies_to(self, dataset: str) -> bool:
        """Whether the method runs on ``dataset``: any dataset unless ``only_datasets`` lists some."""
        return self.only_datasets is None or dataset in self.only_datasets

    def load_class(self):
        module_name, _, class_name = self.implementation.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, class_name)


_ENTRY_KEYS = {"display", "implementation", "kind", "paper", "params", "datasets", "profiles", "notes", "pretrain", "order",
               "only_datasets"}


def _read_entry(path: Path) -> MethodEntry:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: invalid YAML ({error})") from None
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}")
    for key in ("display", "implementation", "kind"):
        if key not in raw:
            raise ConfigError(f"{path}: missing required key {key!r}")
    if raw["kind"] not in ("baseline", "method"):
        raise ConfigError(f"{path}: kind must be 'baseline' or 'method', got {raw['kind']!r}")
    bad_profiles = set(raw.get("profiles") or {}) - set(PROFILES)
    if bad_profiles:
        raise ConfigError(f"{path}: unknown profile(s) {sorted(bad_profiles)}; known: {list(PROFILES)}")
    only = _only_datasets(path, raw)
    return MethodEntry(
        name=path.stem, display=raw["display"], implementation=raw["implementation"], kind=raw["kind"],
        paper=raw.get("paper", ""), params=raw.get("params") or {}, datasets=raw.get("datasets") or {},
        profiles=raw.get("profiles") or {}, notes=raw.get("notes", ""), pretrain=raw.get("pretrain"),
        order=int(raw.get("order", 100)), only_datasets=only, path=path)


def _only_datasets(path: Path, raw: dict) -> tuple[str, ...] | None:
    """``only_datasets`` validated: known dataset names, and every ``datasets:`` key among them."""
    only = raw.get("only_datasets")
    if only is None:
        return None
    if not (isinstance(only, list) and only and all(isinstance(d, str) for d in only)):
        raise ConfigError(f"{path}: only_datasets must be a non-empty list of dataset names")
    from ..data import DATASETS

    unknown = [d for d in only if d not in DATASETS]
    if unknown:
        raise ConfigError(f"{path}: only_datasets names unknown dataset(s) {unknown}")
    outside = [d for d in (raw.get("datasets") or {}) if d not in only]
    if outside:
        raise ConfigError(f"{path}: datasets {outside} have values but are not in only_datasets")
    return tuple(only)


@lru_cache(maxsize=8)
def _methods(directory: str) -> dict[str, MethodEntry]:
    folder = Path(directory) / "methods"
    entries = [_read_entry(p) for p in sorted(folder.glob("*.yaml"))]
    # baselines first, then the paper methods; within each by `order`, then by name
    entries.sort(key=lambda e: (e.kind != "baseline", e.order, e.name))
    return {e.name: e for e in entries}


def methods() -> dict[str, MethodEntry]:
    """Registered methods, baselines first."""
    return _methods(str(config_dir().resolve()))


def get_method(name: str) -> MethodEntry:
    registry = methods()
    if name not in registry:
        raise ConfigError(f"unknown method {name!r}; registered: {', '.join(registry)}")
    return registry[name]


def _apply(config, overrides: dict, where: str):
    names = {f.name for f in dataclasses.fields(config)}
    unknown = set(overrides) - names
    if unknown:
        raise ConfigError(f"{where}: unknown parameter(s) {sorted(unknown)}; "
                          f"{type(config).__name__} has {sorted(names)}")
    return dataclasses.replace(config, **overrides)


def resolve_config(name: str, dataset: str, profile: str, extra: dict | None = None):
    """The fully resolved Config instance of ``name`` for (dataset, profile)."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; known: {list(PROFILES)}")
    entry = get_method(name)
    if not entry.applies_to(dataset):
        raise ConfigError(f"method {name!r} does not run on {dataset!r}: {entry.path} limits it to "
                          f"only_datasets {list(entry.only_datasets)}")
    cls = entry.load_class()
    config = cls.Config()
    config = _apply(config, entry.params, f"{entry.path} params")
    for ds, values in entry.datasets.items():
        if ds == dataset:
            config = _apply(config, values or {}, f"{entry.path} datasets.{ds}")
    config = _apply(config, entry.profiles.get(profile) or {}, f"{entry.path} profiles.{profile}")
    if extra:
        config = _apply(config, extra, "command-line overrides")
    return cls, config


def applicable(method: str, dataset: str) -> bool:
    """Whether ``method`` runs on ``dataset`` (its entry's ``only_datasets``)."""
    return get_method(method).applies_to(dataset)


def config_hash(config) -> str:
    """Short stable hash of a resolved config (records are reused only when it matches)."""
    payload = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def validate_names(methods_: list[str], datasets_: list[str]) -> None:
    """Raise ConfigError naming any unknown method or dataset."""
    from ..data import DATASETS

    registry = methods()
    for m in methods_:
        if m not in registry:
            raise ConfigError(f"unknown method {m!r}; registered: {', '.join(registry)}")
    for d in datasets_:
        if d not in DATASETS:
            raise ConfigError(f"unknown dataset {d!r}; known: {', '.join(sorted(DATASETS))}")


_PROFILE_KEYS = {"description", "datasets", "seeds", "methods"}


def load_profile(name: str) -> dict:
    """``config/profiles/{name}.yaml`` validated: known datasets and methods, seeds ≥ 1.

    Returns {"name", "datasets": [...], "methods": [...], "seeds": [0..n-1] or the listed seeds}.
    """
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; known: {list(PROFILES)}")
    path = config_dir() / "profiles" / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(f"profile file {path} is missing")
    raw = yaml.safe_load(path.read_text()) or {}
    unknown = set(raw) - _PROFILE_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_PROFILE_KEYS)}")
    datasets_ = raw.get("datasets") or []
    methods_ = raw.get("methods", "all")
    methods_ = list(methods()) if methods_ == "all" else list(methods_)
    seeds = raw.get("seeds", 10)
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"{path}: seeds must be at least 1")
        seeds = list(range(seeds))
    elif not (isinstance(seeds, list) and all(isinstance(s, int) and s >= 0 for s in seeds)):
        raise ConfigError(f"{path}: seeds must be a count or a list of non-negative integers")
    validate_names(methods_, datasets_)
    return {"name": name, "datasets": list(datasets_), "methods": methods_, "seeds": seeds,
            "description": raw.get("description", "")}
