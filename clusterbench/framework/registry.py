"""Method registry and configuration resolution.

Each ``config/methods/{name}.yaml`` registers one method (schema:
``workflow/schemas/method.schema.yaml``)::

    display: K-Means                      # row label in reports
    implementation: clusterbench.baselines.kmeans:KMeans
    kind: baseline                        # baseline | method
    paper: macqueen1967                   # bibliography key
    params: {}                            # overrides of the Config defaults, every dataset
    datasets: {usps: {...}}               # per-dataset values (e.g. R-DC's alpha/beta)
    profiles: {smoke: {...}, quick: {...}, paper: {...}}   # per-profile budgets
    only_datasets: [coil20, ...]          # optional: the method runs on these datasets only
    variant_of: pad                       # optional: an ablation / sweep cell of another entry; it
                                          # inherits that entry's params, datasets, profiles, only_datasets
    diagnostics: [zsim_true_cluster]      # optional: scalar diagnostics it reports (table columns)

The registry is the packaged ``config/methods/`` (:mod:`clusterbench.framework.resources`)
with the user folder's files added over it. Without ``only_datasets`` a method
runs on every dataset of a profile; with it, the DAG, the aggregate and the
reports skip the other datasets and :func:`resolve_config` refuses them.

One resolver, :func:`resolve_layers`, serves methods and pretraining recipes:
``Config()`` ← params ← datasets[dataset] ← profiles[profile] ← command line,
every layer checked against the schema typed from the ``Config`` dataclass
(:func:`clusterbench.framework.schema.config_schema`): an unknown key, a wrong
type or an out-of-range value is an error naming the file and key. Reading the
registry imports nothing heavy: the implementation is imported on demand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .schema import ConfigError, check_overrides, load_yaml

PROFILES = ("smoke", "quick", "cpu", "paper")

__all__ = ["PROFILES", "ConfigError", "MethodEntry", "methods", "get_method", "resolve_config", "resolve_layers",
           "applicable", "config_hash", "validate_names", "load_profile", "check_entry"]


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
    variant_of: str | None = None  # an ablation / sweep cell of this entry
    diagnostics: tuple[str, ...] = ()  # scalar diagnostics the method reports
    path: Path | None = None

    def applies_to(self, dataset: str) -> bool:
        """Whether the method runs on ``dataset``: any dataset unless ``only_datasets`` lists some."""
        return self.only_datasets is None or dataset in self.only_datasets

    def load_class(self):
        """The method's class, or a ConfigError naming the YAML file when ``implementation`` does not resolve."""
        module_name, _, class_name = self.implementation.partition(":")
        where = f"{self.path}: implementation {self.implementation!r}"
        if not module_name or not class_name:
            raise ConfigError(f"{where} is not of the form 'package.module:Class'")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):  # the module itself, not one it imports
                raise ConfigError(f"{where}: no module {error.name!r}") from None
            raise
        if not hasattr(module, class_name):
            raise ConfigError(f"{where}: module {module_name!r} has no {class_name!r}")
        return getattr(module, class_name)


def _read_entry(path) -> MethodEntry:
    raw = load_yaml(path, "method")
    only = _only_datasets(path, raw)
    _known_datasets(path, raw)
    return MethodEntry(
        name=Path(str(path)).stem, display=raw["display"], implementation=raw["implementation"], kind=raw["kind"],
        paper=raw.get("paper", ""), params=raw.get("params") or {}, datasets=raw.get("datasets") or {},
        profiles=raw.get("profiles") or {}, notes=raw.get("notes", ""), pretrain=raw.get("pretrain"),
        order=int(raw.get("order", 100)), only_datasets=only, diagnostics=tuple(raw.get("diagnostics") or ()),
        variant_of=raw.get("variant_of"), path=Path(str(path)))


def _known_datasets(path, raw: dict) -> None:
    """Every ``datasets:`` key names a dataset of the catalogue."""
    from ..data import DATASETS

    unknown = [d for d in (raw.get("datasets") or {}) if d not in DATASETS]
    if unknown:
        raise ConfigError(f"{path}: datasets: unknown dataset(s) {unknown}; known: {', '.join(sorted(DATASETS))}")


def _only_datasets(path, raw: dict) -> tuple[str, ...] | None:
    """``only_datasets`` validated: known dataset names, and every ``datasets:`` key among them."""
    only = raw.get("only_datasets")
    if only is None:
        return None
    from ..data import DATASETS

    unknown = [d for d in only if d not in DATASETS]
    if unknown:
        raise ConfigError(f"{path}: only_datasets names unknown dataset(s) {unknown}")
    outside = [d for d in (raw.get("datasets") or {}) if d not in only]
    if outside:
        raise ConfigError(f"{path}: datasets {outside} have values but are not in only_datasets")
    return tuple(only)


def _inherit(entry: MethodEntry, parents: dict[str, MethodEntry]) -> MethodEntry:
    """A variant takes its parent's params, per-dataset values, budgets and datasets; its own
    ``params`` (the ablated or swept setting) come last among the params, its own ``datasets`` /
    ``profiles`` values (if any) after the parent's."""
    parent = parents.get(entry.variant_of)
    if parent is None:
        raise ConfigError(f"{entry.path}: variant_of names unknown method {entry.variant_of!r}")
    if parent.variant_of is not None:
        raise ConfigError(f"{entry.path}: variant_of must name a main entry, {parent.name!r} is itself a variant")

    def merged(a: dict, b: dict) -> dict:
        return {key: {**(a.get(key) or {}), **(b.get(key) or {})} for key in dict.fromkeys([*a, *b])}

    return dataclasses.replace(
        entry, implementation=entry.implementation or parent.implementation,
        params={**parent.params, **entry.params}, datasets=merged(parent.datasets, entry.datasets),
        profiles=merged(parent.profiles, entry.profiles), pretrain=entry.pretrain or parent.pretrain,
        only_datasets=entry.only_datasets if entry.only_datasets is not None else parent.only_datasets)


@lru_cache(maxsize=8)
def _methods(user: str | None) -> dict[str, MethodEntry]:
    from .resources import config_files

    entries = [_read_entry(p) for p in config_files("methods").values()]
    mains = {e.name: e for e in entries if e.variant_of is None}
    entries = [e if e.variant_of is None else _inherit(e, mains) for e in entries]
    # baselines first, then the paper methods; within each by `order`, then by name
    entries.sort(key=lambda e: (e.kind != "baseline", e.order, e.name))
    return {e.name: e for e in entries}


def methods() -> dict[str, MethodEntry]:
    """Registered methods (packaged, then the user folder's), baselines first (variants included)."""
    from .resources import user_dir

    user = user_dir()
    return _methods(str(user.resolve()) if user is not None else None)


def main_methods() -> dict[str, MethodEntry]:
    """Registered methods without the ablation / sweep variants (``methods: all``, ``rows: registered``)."""
    return {name: entry for name, entry in methods().items() if entry.variant_of is None}


def get_method(name: str) -> MethodEntry:
    registry = methods()
    if name not in registry:
        raise ConfigError(f"unknown method {name!r}; registered: {', '.join(registry)}")
    return registry[name]


def resolve_layers(config_cls, entry, dataset: str, profile: str, extra: dict | None = None,
                   extra_source: str = "command-line overrides"):
    """The one resolver: ``config_cls()`` ← params ← datasets[dataset] ← profiles[profile] ← extra.

    ``entry`` has ``params``, ``datasets``, ``profiles`` and ``path`` (a method entry or a
    pretraining recipe). Every layer is validated against the schema typed from ``config_cls``.
    """
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; known: {list(PROFILES)}")
    source = str(entry.path)
    config = config_cls()
    layers = [(entry.params, "params"), ((entry.datasets or {}).get(dataset), f"datasets.{dataset}"),
              ((entry.profiles or {}).get(profile), f"profiles.{profile}")]
    for values, where in layers:
        values = check_overrides(values, config_cls, source, where)
        config = dataclasses.replace(config, **values) if values else config
    if extra:
        values = check_overrides(extra, config_cls, extra_source, "--set")
        config = dataclasses.replace(config, **values)
    return config


def check_entry(entry, config_cls) -> None:
    """Validate every layer of ``entry`` (all datasets and profiles) against ``config_cls``."""
    source = str(entry.path)
    check_overrides(entry.params, config_cls, source, "params")
    for dataset, values in (entry.datasets or {}).items():
        check_overrides(values, config_cls, source, f"datasets.{dataset}")
    for profile, values in (entry.profiles or {}).items():
        check_overrides(values, config_cls, source, f"profiles.{profile}")


def resolve_config(name: str, dataset: str, profile: str, extra: dict | None = None):
    """The fully resolved Config instance of ``name`` for (dataset, profile): (class, config)."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; known: {list(PROFILES)}")
    entry = get_method(name)
    if not entry.applies_to(dataset):
        raise ConfigError(f"method {name!r} does not run on {dataset!r}: {entry.path} limits it to "
                          f"only_datasets {list(entry.only_datasets)}")
    cls = entry.load_class()
    return cls, resolve_layers(cls.Config, entry, dataset, profile, extra)


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


def load_profile(name: str) -> dict:
    """``config/profiles/{name}.yaml`` validated (schema, known datasets and methods).

    Returns {"name", "datasets": [...], "methods": [...], "seeds": [0..n-1] or the listed seeds}.
    """
    from .resources import MissingDataError, config_file

    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; known: {list(PROFILES)}")
    try:
        path = config_file("profiles", f"{name}.yaml")
    except MissingDataError as error:
        raise ConfigError(str(error)) from None
    raw = load_yaml(path, "profile")
    datasets_ = raw["datasets"]
    methods_ = raw.get("methods", "all")
    methods_ = list(main_methods()) if methods_ == "all" else list(methods_)
    from .seeds import check_seed_list

    seeds = check_seed_list(raw.get("seeds", 10), str(path))  # a count or a list; bounded
    try:
        validate_names(methods_, datasets_)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    return {"name": name, "datasets": list(datasets_), "methods": methods_, "seeds": seeds,
            "description": raw.get("description", "")}
