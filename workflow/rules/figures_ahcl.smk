# AHCL reports beyond the table specs: Table 1 (datasets) and Figures 2-4 (Zhang et al., Section 5),
# drawn from recorded AHCL runs (Z snapshots, histories).
# Like the tables, reports/ahcl/figure{N}.png show the paper profile's runs and reports/{profile}/ahcl/...
# another profile's (reports/cpu/ahcl/figure4.png: the cpu budget).
AHCL_FIGURE_PROFILE = "paper"
AHCL_FIGURE_DATASETS = ["umist", "coil20", "palm", "fmnist_test", "usps"]


rule ahcl_figure2_3:
    """AHCL Figures 2 (t-SNE of Z on USPS through training) and 3 (class-block affinity of Y)."""
    input:
        f"results/runs/{AHCL_FIGURE_PROFILE}/usps/ahcl/summary.json",
    output:
        fig2=report("reports/ahcl/figure2.png", caption="../report/ahcl_figure2.rst", category="AHCL"),
        fig3=report("reports/ahcl/figure3.png", caption="../report/ahcl_figure3.rst", category="AHCL"),
    log:
        "logs/figures/ahcl_figure2_3.log",
    benchmark:
        "benchmarks/figures/ahcl_figure2_3.tsv"
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        run=f"results/runs/{AHCL_FIGURE_PROFILE}/usps/ahcl/seed0",
        mirror=MIRROR,
    shell:
        "OMP_NUM_THREADS={threads} python workflow/scripts/ahcl_figures.py snapshots --run {params.run} "
        "--mirror '{params.mirror}' --figure2 {output.fig2} --figure3 {output.fig3} > {log} 2>&1"


rule ahcl_figure4:
    """AHCL Figure 4: the objective over epochs on the five datasets (mean and range over seeds)."""
    input:
        rebuild_missing(
            expand(
                "results/runs/{profile}/{dataset}/ahcl/summary.json",
                profile=AHCL_FIGURE_PROFILE,
                dataset=AHCL_FIGURE_DATASETS,
            ),
            "reports/ahcl/figure4.png",
        ),
    output:
        report("reports/ahcl/figure4.png", caption="../report/ahcl_figure4.rst", category="AHCL"),
    log:
        "logs/figures/ahcl_figure4.log",
    benchmark:
        "benchmarks/figures/ahcl_figure4.tsv"
    conda:
        "../envs/reporting.yaml"
    shell:
        "python workflow/scripts/ahcl_figures.py convergence --summaries {input} --figure4 {output} > {log} 2>&1"


rule ahcl_table1:
    """AHCL Table 1: its five datasets as the suite holds them, beside the paper's N / D / classes."""
    input:
        expand("resources/datasets/{dataset}.json", dataset=AHCL_FIGURE_DATASETS),
    output:
        md=report("reports/ahcl/table1.md", caption="../report/ahcl_table1.rst", category="AHCL"),
        tex="reports/ahcl/table1.tex",
    log:
        "logs/reports/ahcl/table1.log",
    benchmark:
        "benchmarks/reports/ahcl/table1.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        datasets=" ".join(AHCL_FIGURE_DATASETS),
    shell:
        "python -m clusterbench datasets-table --profile cpu --datasets {params.datasets} --published ahcl:1 "
        "--out {output.md} > {log} 2>&1"


use rule ahcl_figure2_3 as ahcl_figure2_3_profile with:
    input:
        "results/runs/{fprofile}/usps/ahcl/summary.json",
    output:
        fig2="reports/{fprofile}/ahcl/figure2.png",
        fig3="reports/{fprofile}/ahcl/figure3.png",
    log:
        "logs/figures/{fprofile}/ahcl_figure2_3.log",
    benchmark:
        "benchmarks/figures/{fprofile}/ahcl_figure2_3.tsv"
    wildcard_constraints:
        fprofile="smoke|quick|cpu|paper",
    params:
        run=lambda wc: f"results/runs/{wc.fprofile}/usps/ahcl/seed0",
        mirror=MIRROR,


use rule ahcl_figure4 as ahcl_figure4_profile with:
    input:
        expand("results/runs/{{fprofile}}/{dataset}/ahcl/summary.json", dataset=AHCL_FIGURE_DATASETS),
    output:
        "reports/{fprofile}/ahcl/figure4.png",
    log:
        "logs/figures/{fprofile}/ahcl_figure4.log",
    benchmark:
        "benchmarks/figures/{fprofile}/ahcl_figure4.tsv"
    wildcard_constraints:
        fprofile="smoke|quick|cpu|paper",


# aggregation, rendering and drawing run on the submitting host under a cluster executor
localrules:
    ahcl_figure4,
    ahcl_table1,
