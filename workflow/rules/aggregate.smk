from clusterbench.framework.registry import applicable as _applicable

# (dataset, method) pairs of the profile; a method's `only_datasets` (config/methods/*.yaml) drops the others
PROFILE_PAIRS = [(d, m) for d in DATASETS for m in METHODS if _applicable(m, d)]


rule aggregate:
    """One tidy row per run of the profile: results/{profile}/runs.csv."""
    input:
        profile="config/profiles/{profile}.yaml",
        runs=rebuild_missing(
            lambda wc: [f"results/runs/{wc.profile}/{d}/{m}/summary.json" for d, m in PROFILE_PAIRS],
            "results/{profile}/runs.csv",
        ),
    output:
        report("results/{profile}/runs.csv", caption="../report/runs.rst", category="Suite"),
    log:
        "logs/aggregate/{profile}.log",
    benchmark:
        "benchmarks/aggregate/{profile}.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        pairs=" ".join(f"{d}/{m}" for d, m in PROFILE_PAIRS),
    shell:
        "python -m clusterbench aggregate --profile {wildcards.profile} --runs results/runs "
        "--pairs {params.pairs} --out {output} > {log} 2>&1"


# aggregation, rendering and drawing run on the submitting host under a cluster executor
localrules:
    aggregate,
