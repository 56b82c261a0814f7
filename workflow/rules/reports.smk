rule table1:
    """Dataset summary of the profile."""
    input:
        expand("resources/datasets/{dataset}.json", dataset=DATASETS),
    output:
        md=report("reports/table1.md", caption="../report/table1.rst", category="Suite"),
        tex="reports/table1.tex",
    log:
        "logs/reports/table1.log",
    benchmark:
        "benchmarks/reports/table1.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        profile=PROFILE_NAME,
        datasets=DATASETS,
    shell:
        "python -m clusterbench datasets-table --profile {params.profile:q} --datasets {params.datasets:q} "
        "--out {output.md} > {log} 2>&1"


rule render_table:
    """A table spec config/tables/{table}.yaml (or {paper}/{table}.yaml) -> markdown + LaTeX, from the spec's
    own profile's runs (paper tables: paper; the main tables: the DAG's profile)."""
    input:
        spec="config/tables/{table}.yaml",
        runs=rebuild_missing(
            lambda wc: table_runs(f"config/tables/{wc.table}.yaml"), "reports/{table}.md", "reports/{table}.tex"
        ),
    output:
        md=report("reports/{table}.md", caption="../report/table.rst", category="Tables"),
        tex="reports/{table}.tex",
    log:
        "logs/reports/{table}.log",
    benchmark:
        "benchmarks/reports/{table}.tsv"
    wildcard_constraints:
        table="|".join(re.escape(name) for name in TABLE_NAMES),
    conda:
        "../envs/reporting.yaml"
    params:
        profile=PROFILE_NAME,
        datasets=DATASETS,
        seeds=SEEDS_ARG,
    shell:
        "python -m clusterbench render --spec {input.spec} --profile {params.profile:q} "
        "--datasets {params.datasets:q} "
        "--runs-root results/runs --seeds {params.seeds} "
        "--out {output.md} > {log} 2>&1"


rule render_table_profile:
    """The same spec from another profile's runs: reports/{tprofile}/{table}.md, e.g. reports/cpu/ahcl/table2.md
    (AHCL Table 2 at the cpu budget). It never writes the spec's own path; captions and cells name the budget."""
    input:
        spec="config/tables/{table}.yaml",
        runs=rebuild_missing(
            lambda wc: table_runs(f"config/tables/{wc.table}.yaml", wc.tprofile),
            "reports/{tprofile}/{table}.md",
            "reports/{tprofile}/{table}.tex",
        ),
    output:
        md=report("reports/{tprofile}/{table}.md", caption="../report/table.rst", category="Tables"),
        tex="reports/{tprofile}/{table}.tex",
    log:
        "logs/reports/{tprofile}/{table}.log",
    benchmark:
        "benchmarks/reports/{tprofile}/{table}.tsv"
    wildcard_constraints:
        tprofile="|".join(REPORT_PROFILES),
        table="|".join(re.escape(name) for name in TABLE_NAMES),
    conda:
        "../envs/reporting.yaml"
    params:
        profile=PROFILE_NAME,
    shell:
        "python -m clusterbench render --spec {input.spec} --profile {params.profile} "
        "--table-profile {wildcards.tprofile} "
        "--runs-root results/runs "
        "--out {output.md} > {log} 2>&1"


rule regression:
    """A regression gate config/{gate}.yaml against the published numbers: regression (CI's, AHCL Table 2
    K-Means / SC-Ncut), regression_ahcl, regression_autoencoders, regression_nmce."""
    input:
        config="config/{gate}.yaml",
        runs=rebuild_missing(lambda wc: regression_runs(f"config/{wc.gate}.yaml"), "reports/{gate}.md"),
    output:
        report("reports/{gate}.md", caption="../report/regression.rst", category="Suite"),
    log:
        "logs/reports/{gate}.log",
    benchmark:
        "benchmarks/reports/{gate}.tsv"
    wildcard_constraints:
        gate="regression(_[a-z0-9]+)?",
    conda:
        "../envs/reporting.yaml"
    params:
        seeds=SEEDS_ARG,
    shell:
        "python -m clusterbench check --config {input.config} --runs-root results/runs --seeds {params.seeds} "
        "--out {output} > {log} 2>&1"


rule index:
    """reports/index.md: every table report with its status, from the run records present; after the
    reports of the profile the DAG runs (the others are listed as found)."""
    input:
        specs=TABLE_SPECS,
        reports=index_reports(),
    output:
        report("reports/index.md", caption="../report/index.rst", category="Suite"),
    log:
        "logs/reports/index.log",
    benchmark:
        "benchmarks/reports/index.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        profile=PROFILE_NAME,
        datasets=DATASETS,
        seeds=SEEDS_ARG,
    shell:
        "python -m clusterbench index --profile {params.profile:q} --datasets {params.datasets:q} "
        "--tables config/tables "
        "--runs-root results/runs --seeds {params.seeds} --out {output} > {log} 2>&1"


# aggregation, rendering and drawing run on the submitting host under a cluster executor
localrules:
    table1,
    render_table,
    render_table_profile,
    regression,
    index,
