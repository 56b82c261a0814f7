# Shared state: the validated profile and the registries it expands over.
import os
from pathlib import Path as _Path

from clusterbench.framework.gate import load_config as _load_regression
from clusterbench.framework.registry import ConfigError, load_profile, validate_names
from clusterbench.framework.registry import get_method as _get_method
from clusterbench.framework.report.tables import load_spec, spec_pairs, spec_profile

PROFILE_NAME = config["profile"]
try:
    PROFILE = load_profile(PROFILE_NAME)
    DATASETS = list(config.get("datasets") or PROFILE["datasets"])
    METHODS = list(config.get("methods") or PROFILE["methods"])
    validate_names(METHODS, DATASETS)
    if config.get("tables_profile"):
        raise ConfigError(
            f"tables_profile={config['tables_profile']} is replaced by report paths per profile: request "
            f"reports/{config['tables_profile']}/ahcl/table2.md (any spec: reports/{{profile}}/{{table}}.md); "
            "reports/ahcl/table2.md is always the paper profile's"
        )
    REPORT_PROFILES = ("smoke", "quick", "cpu", "paper")  # reports/{profile}/{table}.md: from that profile's runs
except ConfigError as error:
    raise WorkflowError(f"configuration error: {error}")
SEEDS = list(range(config["seeds"])) if config.get("seeds") else PROFILE["seeds"]
MIRROR = config.get("mirror") or os.environ.get("CLUSTERBENCH_MIRROR", "")
STRICT = "--strict" if config.get("strict") else ""
DEVICE = config.get("device", "cpu")


wildcard_constraints:
    dataset="[a-z0-9_]+",
    method="[a-z0-9_]+",
    profile="[a-z]+",


def table_runs(spec_path, table_profile=None):
    """The run summaries a table spec needs: under ``table_profile`` (the ``reports/{profile}/...`` path) if
    given, else the spec's own ``profile`` (paper tables), else the current one."""
    if not _Path(spec_path).exists():
        return []  # no spec: another rule makes this report (e.g. ahcl_table1); the spec input is missing
    spec = load_spec(spec_path)
    profile = spec_profile(spec, PROFILE_NAME, table_profile)
    own = load_profile(profile) if table_profile else None
    datasets = own["datasets"] if own else DATASETS
    methods = (config.get("methods") or own["methods"]) if own else METHODS
    pairs = spec_pairs(spec, datasets)
    pairs = [(d, m) for d, m in pairs if m in methods]  # --config methods=[...] restricts every table
    if table_profile and spec.get("profile") not in (None, table_profile):
        # a paper table from a smaller profile runs that profile's datasets only (cpu: COIL20, not COIL100);
        # the other cells render "not run"
        pairs = [(d, m) for d, m in pairs if d in datasets]
    return [f"results/runs/{profile}/{d}/{m}/summary.json" for d, m in pairs]


def pretrain_input(wildcards):
    """The done.json of the recipe a method's YAML names under `pretrain:`; nothing for other methods."""
    recipe = _get_method(wildcards.method).pretrain
    if not recipe:
        return []
    return f"resources/pretrained/{wildcards.profile}/{wildcards.dataset}/{recipe}/done.json"


def regression_runs(path="config/regression.yaml"):
    """The run summaries of a regression gate's cells (under the gate file's profile)."""
    gate = _load_regression(path)
    profile = gate.get("profile", "paper")
    pairs = dict.fromkeys((c["dataset"], c["method"]) for c in gate.get("gated") or [])
    return [f"results/runs/{profile}/{d}/{m}/summary.json" for d, m in pairs]


TABLE_SPECS = sorted(str(p) for p in _Path("config/tables").rglob("*.yaml"))
TABLE_REPORTS = [s.replace("config/tables/", "reports/", 1)[: -len(".yaml")] + ".md" for s in TABLE_SPECS]
