from clusterbench.framework.registry import applicable as _applicable


# (dataset, method) pairs of the profile; a method's `only_datasets` (config/methods/*.yaml) drops the others
PROFILE_PAIRS = [(d, m) for d in DATASETS for m in METHODS if _applicable(m, d)]


rule aggregate:
    """One tidy row per run of the profile: results/{profile}/runs.csv."""
    input:
        [
            f"results/runs/{{profile}}/{d}/{m}/summary.json"
            for d, m in PROFILE_PAIRS
        ],
    output:
        "results/{profile}/runs.csv",
    conda:
        "../../environment.yml"
    log:
        "logs/aggregate/{profile}.log",
    benchmark:
        "benchmarks/aggregate/{profile}.tsv"
    params:
        pairs=" ".join(f"{d}/{m}" for d, m in PROFILE_PAIRS),
    shell:
        "clusterbench aggregate --profile {wildcards.profile} --runs results/runs "
        "--pairs {params.pairs} --out {output} > {log} 2>&1"
