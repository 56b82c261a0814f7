# PAD figures and measurements (Huang et al. 2020), drawn from recorded runs, never recomputed by the plot.
# Figure 4 (average SCS size and precision per epoch, CIFAR-10 in the paper) comes from seed 0 of the PAD
# runs a table already needs: the precision is computed by the runner after the fit from the per-epoch
# subgraphs the method saved (labels never enter training). reports/pad/figure4.png is the paper's
# (paper profile, CIFAR-10); reports/pad/figure4_{profile}_{dataset}.png any other run, e.g.
# reports/pad/figure4_cpu_mnist5k.png (the cpu budget of config/methods/pad.yaml).


rule pad_figure4:
    """PAD Figure 4 from seed 0 of results/runs/{profile}/{dataset}/pad (the paper's: paper profile, CIFAR-10)."""
    input:
        "results/runs/{profile}/{dataset}/pad/summary.json",
    output:
        png=report("reports/pad/figure4_{profile}_{dataset}.png", caption="../report/pad_figure4.rst", category="PAD"),
        csv="reports/pad/figure4_{profile}_{dataset}.csv",
    log:
        "logs/figures/pad_figure4_{profile}_{dataset}.log",
    benchmark:
        "benchmarks/figures/pad_figure4_{profile}_{dataset}.tsv"
    conda:
        "../envs/reporting.yaml"
    shell:
        "python workflow/scripts/pad_figure4.py --runs results/runs --profile {wildcards.profile} "
        "--dataset {wildcards.dataset} --seed 0 --out {output.png} > {log} 2>&1"


rule pad_figure4_paper:
    """reports/pad/figure4.png: the paper's setting (CIFAR-10, paper profile)."""
    input:
        png="reports/pad/figure4_paper_cifar10.png",
        csv="reports/pad/figure4_paper_cifar10.csv",
    output:
        png=report("reports/pad/figure4.png", caption="../report/pad_figure4.rst", category="PAD"),
        csv="reports/pad/figure4.csv",
    log:
        "logs/figures/pad_figure4.log",
    benchmark:
        "benchmarks/figures/pad_figure4.tsv"
    conda:
        "../envs/reporting.yaml"
    shell:
        "cp {input.png} {output.png} && cp {input.csv} {output.csv} 2> {log}"


rule pad_scs_benchmark:
    """Wall time of the SCS search on a 70,000-node 5-NN graph, against scipy's strongly connected components."""
    output:
        report("reports/pad/scs_benchmark.md", caption="../report/pad_scs_benchmark.rst", category="PAD"),
    log:
        "logs/figures/pad_scs_benchmark.log",
    benchmark:
        "benchmarks/figures/pad_scs_benchmark.tsv"
    conda:
        "../envs/training.yaml"
    threads: 1
    shell:
        "OMP_NUM_THREADS=1 python workflow/scripts/pad_scs_benchmark.py --n 70000 --out {output} > {log} 2>&1"


# drawing runs on the submitting host under a cluster executor
localrules:
    pad_figure4,
    pad_figure4_paper,
