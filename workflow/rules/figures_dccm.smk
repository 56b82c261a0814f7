# DCCM figures (Wu et al. 2019): drawn from recorded runs, never recomputed by the plot
# (workflow/scripts/dccm_figures.py). Figures 3, 5 and 6(a) read seed 0 of the Table 2 cell's run of `dccm`
# (the same job as reports/dccm/table2.md's cell); 6(b) sweeps thres2 with its own runs. Configurable:
# dccm_figures_profile (default paper: CIFAR-10 at the paper budget, for a GPU), dccm_figures_dataset
# (default cifar10), dccm_figures_seeds (seeds per thres2 value, default 1). A CPU demonstration:
#   snakemake --cores all --config dccm_figures_profile=cpu dccm_figures_dataset=mnist5k -- dccm_figures
# Figure 4 (classification accuracy of a supervised MLP on frozen features) is rendered as "metric not
# computed" with the reason. reports/dccm/cpu.md summarises the cpu-budget runs on mnist5k and USPS.
DCCM_FIG_PROFILE = config.get("dccm_figures_profile", "paper")
DCCM_FIG_DATASET = config.get("dccm_figures_dataset", "cifar10")
DCCM_FIG_SEEDS = ",".join(str(s) for s in range(int(config.get("dccm_figures_seeds", 1))))
DCCM_FIG_RUN = f"results/runs/{DCCM_FIG_PROFILE}/{DCCM_FIG_DATASET}/dccm"
DCCM_FIG_SWEEP = f"results/figures/dccm/{DCCM_FIG_PROFILE}/{DCCM_FIG_DATASET}"
DCCM_THRES2 = ["0.5", "0.6", "0.7", "0.8", "0.9", "0.95"]
DCCM_CPU_DATASETS = ["mnist5k", "usps"]


rule dccm_figures:
    """DCCM Figures 3-6 (Figure 4 as a 'metric not computed' note)."""
    input:
        "reports/dccm/figure3.png",
        "reports/dccm/figure4.md",
        "reports/dccm/figure5.png",
        "reports/dccm/figure6.png",


rule dccm_thres2_run:
    """One thres2 value of Figure 6(b): DCCM with thres2 = {t} (other settings as the profile's)."""
    input:
        dataset=f"resources/datasets/{DCCM_FIG_DATASET}.json",
        method="config/methods/dccm.yaml",
    output:
        f"{DCCM_FIG_SWEEP}/thres2_{{t}}/summary.json",
    log:
        f"logs/figures/dccm_{DCCM_FIG_PROFILE}_{DCCM_FIG_DATASET}_thres2_{{t}}.log",
    benchmark:
        f"benchmarks/figures/dccm_{DCCM_FIG_PROFILE}_{DCCM_FIG_DATASET}_thres2_{{t}}.tsv"
    wildcard_constraints:
        t="|".join(x.replace(".", "\\.") for x in DCCM_THRES2),
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        profile=DCCM_FIG_PROFILE,
        dataset=DCCM_FIG_DATASET,
        seeds=DCCM_FIG_SEEDS,
        out=lambda wc: f"{DCCM_FIG_SWEEP}/thres2_{wc.t}",
        mirror=MIRROR,
        device=DEVICE,
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "python -m clusterbench run --method dccm --dataset '{params.dataset}' --profile '{params.profile}' "
        "--seed '{params.seeds}' --set '{{\"thres2\": {wildcards.t}}}' --out '{params.out}' "
        "--mirror '{params.mirror}' --device '{params.device}' --summary {output} > {log} 2>&1"


rule dccm_figure3:
    """DCCM Figure 3: t-SNE of the D features at stages of training (seed 0)."""
    input:
        f"{DCCM_FIG_RUN}/summary.json",
    output:
        report("reports/dccm/figure3.png", caption="../report/dccm_figure3.rst", category="DCCM"),
    log:
        "logs/figures/dccm_figure3.log",
    benchmark:
        "benchmarks/figures/dccm_figure3.tsv"
    conda:
        "../envs/training.yaml"
    params:
        run=f"{DCCM_FIG_RUN}/seed0",
        mirror=MIRROR,
    shell:
        "python workflow/scripts/dccm_figures.py figure3 --run '{params.run}' --mirror '{params.mirror}' "
        "--out {output} > {log} 2>&1"


rule dccm_figure4:
    """DCCM Figure 4: classification accuracy, not computed by the suite (the note says why)."""
    output:
        report("reports/dccm/figure4.md", caption="../report/dccm_figure4.rst", category="DCCM"),
    log:
        "logs/figures/dccm_figure4.log",
    benchmark:
        "benchmarks/figures/dccm_figure4.tsv"
    conda:
        "../envs/reporting.yaml"
    shell:
        "python workflow/scripts/dccm_figures.py figure4 --out {output} > {log} 2>&1"


rule dccm_figure5:
    """DCCM Figure 5: BCubed precision / recall of the pseudo-graph per epoch (seed 0's scored_history.csv)."""
    input:
        f"{DCCM_FIG_RUN}/summary.json",
    output:
        report("reports/dccm/figure5.png", caption="../report/dccm_figure5.rst", category="DCCM"),
    log:
        "logs/figures/dccm_figure5.log",
    benchmark:
        "benchmarks/figures/dccm_figure5.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        run=f"{DCCM_FIG_RUN}/seed0",
    shell:
        "python workflow/scripts/dccm_figures.py figure5 --run '{params.run}' --out {output} > {log} 2>&1"


rule dccm_figure6:
    """DCCM Figure 6: (a) largest-probability distribution, initial vs final; (b) ACC / NMI against thres2."""
    input:
        main=f"{DCCM_FIG_RUN}/summary.json",
        sweep=expand(f"{DCCM_FIG_SWEEP}/thres2_{{t}}/summary.json", t=DCCM_THRES2),
    output:
        report("reports/dccm/figure6.png", caption="../report/dccm_figure6.rst", category="DCCM"),
    log:
        "logs/figures/dccm_figure6.log",
    benchmark:
        "benchmarks/figures/dccm_figure6.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        run=f"{DCCM_FIG_RUN}/seed0",
        sweep=" ".join(f"'{DCCM_FIG_SWEEP}/thres2_{t}'" for t in DCCM_THRES2),
    shell:
        "python workflow/scripts/dccm_figures.py figure6 --run '{params.run}' --sweep {params.sweep} "
        "--out {output} > {log} 2>&1"


rule dccm_cpu_report:
    """DCCM at the cpu budget on mnist5k and USPS, 10 seeds: metrics, wall time, learning signal."""
    input:
        expand("results/runs/cpu/{dataset}/dccm/summary.json", dataset=DCCM_CPU_DATASETS),
    output:
        report("reports/dccm/cpu.md", caption="../report/dccm_cpu.rst", category="DCCM"),
    log:
        "logs/reports/dccm_cpu.log",
    benchmark:
        "benchmarks/reports/dccm_cpu.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        runs=" ".join(f"results/runs/cpu/{d}/dccm" for d in DCCM_CPU_DATASETS),
    shell:
        "python workflow/scripts/dccm_figures.py cpu --runs {params.runs} --out {output} > {log} 2>&1"
