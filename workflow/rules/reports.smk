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
        datasets=" ".join(DATASETS),
    shell:
        "clusterbench datasets-table --profile {params.profile} --datasets {params.datasets} "
        "--out {output.md} > {log} 2>&1"


rule render_table:
    """A table spec config/tables/{table}.yaml (or {paper}/{table}.yaml) -> markdown + LaTeX, from the spec's
    own profile's runs (paper tables: paper; the main tables: the DAG's profile)."""
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
        datasets=" ".join(DATASETS),
    wildcard_constraints:
        table="(?!(?:smoke|quick|cpu|paper)/)(?!(?:table1|index|regression(?:_[a-z0-9]+)?)(?:$|\\.))[A-Za-z0-9_/]+",
    shell:
        "clusterbench render --spec {input.spec} --profile {params.profile} "
        "--datasets {params.datasets} "
        "--runs-root results/runs "
        "--out {output.md} > {log} 2>&1"


rule render_table_profile:
    """The same spec from another profile's runs: reports/{tprofile}/{table}.md, e.g. reports/cpu/ahcl/table2.md
    (AHCL Table 2 at the cpu budget). It never writes the spec's own path; captions and cells name the budget."""
    input:
        spec="config/tables/{table}.yaml",
        runs=lambda wc: table_runs(f"config/tables/{wc.table}.yaml", wc.tprofile),
    output:
        md="reports/{tprofile}/{table}.md",
        tex="reports/{tprofile}/{table}.tex",
    conda:
        "../../environment.yml"
    log:
        "logs/reports/{tprofile}/{table}.log",
    benchmark:
        "benchmarks/reports/{tprofile}/{table}.tsv"
    params:
        profile=PROFILE_NAME,
    wildcard_constraints:
        tprofile="smoke|quick|cpu|paper",
        table="(?!(?:table1|index|regression(?:_[a-z0-9]+)?)(?:$|\\.))[A-Za-z0-9_/]+",
    shell:
        "clusterbench render --spec {input.spec} --profile {params.profile} --table-profile {wildcards.tprofile} "
        "--runs-root results/runs "
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
    shell:
        "clusterbench check --config {input.config} --runs-root results/runs --out {output} > {log} 2>&1"


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
        datasets=" ".join(DATASETS),
    shell:
        "clusterbench index --profile {params.profile} --datasets {params.datasets} "
        "--tables config/tables "
        "--runs-root results/runs --out {output} > {log} 2>&1"
