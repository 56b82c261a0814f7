# clusterbench: prepare datasets -> run methods per (dataset, method) over seeds
# -> aggregate -> render reports. See README.md and docs/architecture.md.
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


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


rule all:
    input:
        "reports/table1.md",
        "reports/table2.md",
        "reports/leaderboard.md",
        "reports/site/index.html",
        f"results/{PROFILE_NAME}/runs.csv",
    default_target: True
