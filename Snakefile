# clusterbench: prepare datasets -> run methods per (dataset, method) over seeds
# -> aggregate -> render reports. See README.md and docs/architecture.md.
import shlex

from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


# rules call this checkout's package (`python -m clusterbench`), also inside the per-rule conda envs
# (workflow/envs/), which hold its dependencies only
shell.prefix(f"set -euo pipefail; export PYTHONPATH={shlex.quote(workflow.basedir)}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; ")


include: "workflow/rules/common.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/reports.smk"
include: "workflow/rules/leaderboard.smk"
include: "workflow/rules/figures_ahcl.smk"
include: "workflow/rules/figures_rdc.smk"
include: "workflow/rules/figures_nmce.smk"
include: "workflow/rules/figures_budget.smk"
include: "workflow/rules/figures_dccm.smk"
include: "workflow/rules/figures_pad.smk"
include: "workflow/rules/performance.smk"


rule all:
    default_target: True
    input:
        "reports/table1.md",
        "reports/table2.md",
        "reports/leaderboard.md",
        "reports/site/index.html",
        f"results/{PROFILE_NAME}/runs.csv",


# aggregation, rendering and drawing run on the submitting host under a cluster executor
localrules:
    all,
