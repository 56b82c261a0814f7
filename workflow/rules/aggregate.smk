rule aggregate:
    """One tidy row per run of the profile: results/{profile}/runs.csv."""
    input:
        expand(
            "results/runs/{{profile}}/{dataset}/{method}/summary.json",
            dataset=DATASETS,
            method=METHODS,
        ),
    output:
        "results/{profile}/runs.csv",
    conda:
        "../../environment.yml"
    log:
        "logs/aggregate/{profile}.log",
    benchmark:
        "benchmarks/aggregate/{profile}.tsv"
    params:
        pairs=" ".join(f"{d}/{m}" for d in DATASETS for m in METHODS),
    shell:
        "clusterbench aggregate --profile {wildcards.profile} --runs results/runs "
        "--pairs {params.pairs} --out {output} > {log} 2>&1"
