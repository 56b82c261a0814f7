rule table1:
    """Dataset summary of the profile."""
    input:
        expand("resources/datasets/{dataset}.json", dataset=DATASETS),
    output:
        md="reports/table1.md",
        tex="reports/table1.tex",
    conda:
        "../../environment.yml"
    log:
        "logs/reports/table1.log",
    benchmark:
        "benchmarks/reports/table1.tsv"
    params:
        profile=PROFILE_NAME,
        datasets=DATASETS,
    shell:
        "clusterbench datasets-table --profile {params.profile:q} --datasets {params.datasets:q} "
        "--out {output.md} > {log} 2>&1"


rule render_table:
    """A table spec config/tables/{table}.yaml (or {paper}/{table}.yaml) -> markdown + LaTeX."""
    input:
        spec="config/tables/{table}.yaml",
        runs=lambda wc: table_runs(f"config/tables/{wc.table}.yaml"),
    output:
        md="reports/{table}.md",
        tex="reports/{table}.tex",
    conda:
        "../../environment.yml"
    log:
        "logs/reports/{table}.log",
    benchmark:
        "benchmarks/reports/{table}.tsv"
    params:
        profile=PROFILE_NAME,
        datasets=DATASETS,
        table_profile=["--table-profile", TABLES_PROFILE] if TABLES_PROFILE else [],
        seeds=SEEDS_ARG,
    wildcard_constraints:
        table="(?!(?:table1|index|regression(?:_[a-z0-9]+)?)(?:$|\\.))[A-Za-z0-9_/]+",
    shell:
        "clusterbench render --spec {input.spec} --profile {params.profile:q} {params.table_profile:q} "
        "--datasets {params.datasets:q} "
        "--runs-root results/runs --seeds {params.seeds} "
        "--out {output.md} > {log} 2>&1"


rule regression:
    """A regression gate config/{gate}.yaml against the published numbers: regression (CI's, AHCL Table 2
    K-Means / SC-Ncut), regression_ahcl, regression_autoencoders, regression_nmce."""
    input:
        config="config/{gate}.yaml",
        runs=lambda wc: regression_runs(f"config/{wc.gate}.yaml"),
    output:
        "reports/{gate}.md",
    wildcard_constraints:
        gate="regression(_[a-z0-9]+)?",
    conda:
        "../../environment.yml"
    log:
        "logs/reports/{gate}.log",
    benchmark:
        "benchmarks/reports/{gate}.tsv"
    params:
        seeds=SEEDS_ARG,
    shell:
        "clusterbench check --config {input.config} --runs-root results/runs --seeds {params.seeds} "
        "--out {output} > {log} 2>&1"


rule index:
    """reports/index.md: every table report with its status, from the run records present."""
    input:
        specs=TABLE_SPECS,
        reports=[r for r in TABLE_REPORTS if _Path(r).exists()],
    output:
        "reports/index.md",
    conda:
        "../../environment.yml"
    log:
        "logs/reports/index.log",
    benchmark:
        "benchmarks/reports/index.tsv"
    params:
        profile=PROFILE_NAME,
        datasets=DATASETS,
        table_profile=["--table-profile", TABLES_PROFILE] if TABLES_PROFILE else [],
        seeds=SEEDS_ARG,
    shell:
        "clusterbench index --profile {params.profile:q} {params.table_profile:q} --datasets {params.datasets:q} "
        "--tables config/tables "
        "--runs-root results/runs --seeds {params.seeds} --out {output} > {log} 2>&1"
