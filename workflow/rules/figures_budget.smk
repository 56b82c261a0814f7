# Accuracy against budget of the deep methods on the embedded sets (issue 15, part 5): drawn from the
# measured curves in results/budget_curves/curves.csv (workflow/scripts/budget_curves.py measure, about
# 40 CPU-minutes for the grid there; never re-measured by the plot).


rule budget_curves:
    """ACC against the fraction of the paper's training budget, digits and mnist5k, one line per method."""
    input:
        "results/budget_curves/curves.csv",
    output:
        report("reports/budget_curves.png", caption="../report/budget_curves.rst", category="Suite"),
    log:
        "logs/figures/budget_curves.log",
    benchmark:
        "benchmarks/figures/budget_curves.tsv"
    conda:
        "../envs/reporting.yaml"
    shell:
        "python workflow/scripts/budget_curves.py plot --curves {input} --out {output} > {log} 2>&1"


# aggregation, rendering and drawing run on the submitting host under a cluster executor
localrules:
    budget_curves,
