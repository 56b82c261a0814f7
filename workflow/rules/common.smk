# Shared state: the validated profile and the registries it expands over.
import os
import re
from pathlib import Path as _Path

from clusterbench.framework.gate import load_config as _load_regression
from clusterbench.framework.registry import ConfigError, load_profile, validate_names
from clusterbench.framework.registry import get_method as _get_method
from clusterbench.framework.validate import validate_configuration as _validate_configuration
from clusterbench.framework.report.tables import load_spec, spec_pairs, spec_profile
from clusterbench.framework.seeds import check_seed_list, format_seeds

PROFILE_NAME = config["profile"]
try:
    PROFILE = load_profile(PROFILE_NAME)
    DATASETS = list(config.get("datasets") or PROFILE["datasets"])
    METHODS = list(config.get("methods") or PROFILE["methods"])
    validate_names(METHODS, DATASETS)
    # every method entry, recipe, profile, table spec and gate file checked before any job
    _validate_configuration(METHODS)
    if config.get("tables_profile"):
        raise ConfigError(
            f"tables_profile={config['tables_profile']} is replaced by report paths per profile: request "
            f"reports/{config['tables_profile']}/ahcl/table2.md (any spec: reports/{{profile}}/{{table}}.md); "
            "reports/ahcl/table2.md is always the paper profile's"
        )
    REPORT_PROFILES = ("smoke", "quick", "cpu", "paper")  # reports/{profile}/{table}.md: from that profile's runs
    # a count (seeds 0..n-1), at most clusterbench.framework.seeds.MAX_SEEDS
    SEEDS = check_seed_list(config["seeds"], "config seeds") if "seeds" in config else PROFILE["seeds"]
except ConfigError as error:
    raise WorkflowError(f"configuration error: {error}")
# the seeds every job runs and every report averages, as a short list ("0-9"): a record of another seed
# or configuration on disk is left out of the reports (clusterbench.framework.records.collect)
SEEDS_ARG = format_seeds(SEEDS)
MIRROR = config.get("mirror") or os.environ.get("CLUSTERBENCH_MIRROR", "")
STRICT = "--strict" if config.get("strict") else ""
DEVICE = config.get("device", "cpu")
# the methods' GPU numerics: jobs and the reports' record lookup read it from the environment
# (clusterbench.framework.runner.run_precision), so a tf32 / bf16 record is only reported under that setting
PRECISION = config.get("precision", "fp32")
if PRECISION != "fp32" and not DEVICE.startswith("cuda"):
    raise WorkflowError(f"configuration error: precision={PRECISION} needs device=cuda (the CPU runs fp32)")
# set here from the validated config (not read from the user's environment), for every job this run starts
os.environ.update({"CLUSTERBENCH_PRECISION": PRECISION})


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
    # --config methods=[...] restricts every table; an ablation / sweep variant follows its parent method
    pairs = [(d, m) for d, m in pairs if m in methods or _get_method(m).variant_of in methods]
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
    """The run summaries of a regression gate's cells, gated and deviations (the report measures both), under
    the gate file's profile."""
    gate = _load_regression(path)
    profile = gate.get("profile", "paper")
    cells = (gate.get("gated") or []) + (gate.get("deviations") or [])
    pairs = dict.fromkeys((c["dataset"], c["method"]) for c in cells)
    return [f"results/runs/{profile}/{d}/{m}/summary.json" for d, m in pairs]


TABLE_SPECS = sorted(str(p) for p in _Path("config/tables").rglob("*.yaml"))
TABLE_REPORTS = [s.replace("config/tables/", "reports/", 1)[: -len(".yaml")] + ".md" for s in TABLE_SPECS]
# the spec names render_table makes (ahcl/table2, table2, ...): its {table} matches these only, so other
# rules' reports (table1, ahcl/table1, rdc/table8_measured, gates, index) need no ruleorder
TABLE_NAMES = [s[len("config/tables/") : -len(".yaml")] for s in TABLE_SPECS]


def index_reports():
    """The table reports of the profile the DAG runs (specs without their own `profile`; the renderings of
    other profiles lie under reports/{profile}/): fixed by the config, not by which files exist."""
    return [
        path
        for spec, path in zip(TABLE_SPECS, TABLE_REPORTS)
        if spec_profile(load_spec(spec), PROFILE_NAME) == PROFILE_NAME
    ]


# ---- Cluster resources (workflow/profiles/slurm). Memory and runtime per job from the measured peaks of
# its budget (workflow/resources.yaml, generated by workflow/scripts/measure_resources.py); a GPU only for
# jobs that train with torch when `device` is cuda.
import math as _math
import yaml as _yaml

_MEASURED = _yaml.safe_load(_Path(workflow.basedir, "workflow/resources.yaml").read_text())["peaks"] or {}
# a budget's fallback for a cell not measured: (MiB, minutes per seed)
_UNMEASURED = {"smoke": (2000, 2), "quick": (4000, 10), "cpu": (8000, 30), "paper": (16000, 72)}


def _peak(profile, dataset, job):
    """(peak MiB, wall s per seed) measured for job on dataset in profile; the job's largest in that
    profile when this dataset is not measured; None when neither is."""
    cells = _MEASURED.get(profile, {})
    cell = cells.get(dataset, {}).get(job)
    if cell is None:
        same = [c[job] for c in cells.values() if job in c]
        if not same:
            return None
        cell = max(same, key=lambda c: c["peak_mb"])
    return cell["peak_mb"], cell["wall_s"] / max(cell["seeds"], 1)


def _job(wildcards):
    return f"pretrain/{wildcards.recipe}" if hasattr(wildcards, "recipe") else wildcards.method


def job_mem_mb(wildcards, attempt=1):
    """1.5 x the measured peak + 512 MiB (doubled on each retry); the budget's default if unmeasured."""
    peak = _peak(wildcards.profile, wildcards.dataset, _job(wildcards))
    mem = _UNMEASURED.get(wildcards.profile, (16000, 0))[0] if peak is None else 1.5 * peak[0] + 512
    return int(256 * _math.ceil(mem * 2 ** (attempt - 1) / 256))


def job_runtime(wildcards, attempt=1):
    """Minutes: 3 x the measured wall time per seed x the DAG's seeds + 10; the budget's default if unmeasured."""
    peak = _peak(wildcards.profile, wildcards.dataset, _job(wildcards))
    per_seed = _UNMEASURED.get(wildcards.profile, (0, 72))[1] * 60 if peak is None else 3 * peak[1]
    return int(_math.ceil(per_seed * len(SEEDS) * attempt / 60)) + 10


def job_gpus(wildcards):
    """1 when the job trains with torch and `device` is cuda (pretraining always does), else 0."""
    if not DEVICE.startswith("cuda"):
        return 0
    if hasattr(wildcards, "recipe"):
        return 1
    return int(_get_method(wildcards.method).load_class().needs_torch)


def rebuild_missing(inputs, *outputs):
    """Input function: ``inputs`` (a list or a function of the wildcards) as they are; when one of them is
    missing while the job's ``outputs`` (patterns) exist, those outputs are marked out of date.

    Snakemake does not rebuild a missing intermediate file (a run summary, a sweep cell) whose consumer
    is up to date: it checks missing outputs only of target jobs and of jobs feeding one that reruns, and
    it compares checksums of unchanged inputs. So a report stays "up to date" after its runs are deleted
    or lost. Marking it out of date (mtime 1 s after the epoch, its provenance record dropped, as
    --cleanup-metadata does) makes it rerun, and through it exactly the jobs whose outputs are missing.
    """
    from snakemake.io import _IOFile
    from snakemake.logging import logger

    def function(wildcards):
        paths = inputs(wildcards) if callable(inputs) else inputs
        listed = [paths] if isinstance(paths, str) else list(paths)
        missing = [p for p in listed if not os.path.exists(p)]
        if missing:
            for pattern in outputs:
                path = pattern.format(**dict(wildcards.items()))
                if os.path.exists(path) and os.stat(path).st_mtime > 1:
                    logger.info(f"{path}: out of date, its input {missing[0]} is missing ({len(missing)} in all)")
                    os.utime(path, (1, 1))
                    try:
                        workflow.persistence.cleanup_metadata(_IOFile(path, None))
                    except Exception as error:  # no persistence in this mode (e.g. --lint): the mtime stays
                        logger.debug(f"{path}: provenance record not dropped ({error})")
        return paths

    return function
