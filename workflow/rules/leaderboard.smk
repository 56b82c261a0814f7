# Leaderboards of the profile (clusterbench/leaderboard/): tidy results, ranks, markdown, JSON, site.
from clusterbench.leaderboard.build import LEADERBOARD_METRICS as _LB_METRICS
from clusterbench.leaderboard.submissions import submission_files as _submission_files


rule leaderboard:
    """reports/leaderboard.md|.json, reports/results.csv (every result the suite knows) and the
    critical-difference diagrams of the profile, from its run summaries, results/published/ and submissions/."""
    input:
        runs=[f"results/runs/{PROFILE_NAME}/{d}/{m}/summary.json" for d, m in PROFILE_PAIRS],
        published=sorted(str(p) for p in _Path("results/published").glob("*.csv")),
        submissions=_submission_files("submissions"),
        table2="reports/table2.md",  # linked from the leaderboard (with any paper table already rendered)
    output:
        md=report("reports/leaderboard.md", caption="../report/leaderboard.rst", category="Leaderboard"),
        json="reports/leaderboard.json",
        csv="reports/results.csv",
        cd_acc=report("reports/leaderboard_cd_acc.png", caption="../report/leaderboard_cd.rst", category="Leaderboard"),
        cd_nmi=report("reports/leaderboard_cd_nmi.png", caption="../report/leaderboard_cd.rst", category="Leaderboard"),
        cd_ari=report("reports/leaderboard_cd_ari.png", caption="../report/leaderboard_cd.rst", category="Leaderboard"),
    log:
        "logs/reports/leaderboard.log",
    benchmark:
        "benchmarks/reports/leaderboard.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        profile=PROFILE_NAME,
        metric=config.get("leaderboard_metric", "acc"),
        test=config.get("leaderboard_test", "welch"),
        # the submissions folder, from its files (submissions/{name}/submission.yaml)
        submissions=lambda w, input: (str(_Path(input.submissions[0]).parents[1]) if input.submissions else ""),
    shell:
        "python -m clusterbench leaderboard --profile {params.profile:q} --metric {params.metric:q} "
        "--test {params.test:q} --runs-root results/runs --published results/published "
        "--submissions={params.submissions:q} "
        "--out-md {output.md} --out-json {output.json} --out-csv {output.csv} "
        "--cd-prefix reports/leaderboard_cd_ > {log} 2>&1"


rule site:
    """reports/site/index.html: the static leaderboard site (works from file://, no network)."""
    input:
        json="reports/leaderboard.json",
        cd=expand("reports/leaderboard_cd_{metric}.png", metric=_LB_METRICS),
    output:
        "reports/site/index.html",
    log:
        "logs/reports/site.log",
    benchmark:
        "benchmarks/reports/site.tsv"
    conda:
        "../envs/reporting.yaml"
    shell:
        "python -m clusterbench site --leaderboard {input.json} --out {output} > {log} 2>&1"


# aggregation, rendering and drawing run on the submitting host under a cluster executor
localrules:
    leaderboard,
    site,
