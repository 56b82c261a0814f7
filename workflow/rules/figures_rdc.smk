# R-DC figures (Shaheen et al.): drawn from recorded embeddings, never recomputed by the plot.


rule rdc_four_curves_record:
    """Figures 2/16 experiment: linear AE to 2-D on rdc_four_curves, DEC's loss vs R-DC's loss."""
    output:
        npz="results/figures/rdc/four_curves_seed0.npz",
        meta="results/figures/rdc/four_curves_seed0.json",
    log:
        "logs/figures/rdc_four_curves_record.log",
    benchmark:
        "benchmarks/figures/rdc_four_curves_record.tsv"
    conda:
        "../envs/training.yaml"
    shell:
        "python workflow/scripts/rdc_figure16.py record --seed 0 --out {output.npz} > {log} 2>&1"


rule rdc_figure16:
    """R-DC Figure 2 (DEC flattens the curved clusters) and Figure 16 (R-DC keeps them)."""
    input:
        npz=rules.rdc_four_curves_record.output.npz,
    output:
        fig2=report("reports/rdc/figure2.png", caption="../report/rdc_figure2.rst", category="R-DC"),
        fig16=report("reports/rdc/figure16.png", caption="../report/rdc_figure16.rst", category="R-DC"),
    log:
        "logs/figures/rdc_figure16.log",
    benchmark:
        "benchmarks/figures/rdc_figure16.tsv"
    conda:
        "../envs/reporting.yaml"
    shell:
        "python workflow/scripts/rdc_figure16.py plot --embeddings {input.npz} "
        "--figure2 {output.fig2} --figure16 {output.fig16} > {log} 2>&1"


# ---- Figures 1, 3, 12-15, 17, 18, 20 and Tables 6, 8 (workflow/scripts/rdc_figures.py records,
# rdc_plots.py draws). Budget: config key rdc_figures_budget, "cpu" (quick network, 1,000 steps per
# phase, minutes on a CPU) or "paper" (the paper profile's network and budgets; for a GPU).
RDC_FIG_BUDGET = config.get("rdc_figures_budget", "cpu")
RDC_FIG_DIR = f"results/figures/rdc/{RDC_FIG_BUDGET}"
# the main data set first (Figures 12, 15 use it alone); Figure 3 uses all
RDC_FIG_DATASETS = ["mnist5k", "usps", "digits"]
RDC_BUDGET_TEXT = {
    "smoke": "smoke (seconds, tests only)",
    "cpu": "network d-64-64-256-10, 1,000 pretraining steps of Adam 3e-3 (acai_frozen), "
    "R-DC refresh every 50 steps, 1,000 steps (alpha-beta and noise sweeps: 500) with Algorithm 1's "
    "stopping rule off; P3 (ablation) DEC at most 1,000 steps, target update every 50",
    "paper": "the paper profile (d-500-500-2000-10, the recipes' and methods' paper budgets)",
}[RDC_FIG_BUDGET]


rule rdc_dynamics_record:
    """One data set: ae_mse -> DEC, IDEC and ACAI -> DynAE, R-DC with geometry and per-update scores."""
    output:
        npz=f"{RDC_FIG_DIR}/dynamics_{{dataset}}.npz",
        meta=f"{RDC_FIG_DIR}/dynamics_{{dataset}}.json",
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_dynamics_{{dataset}}.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_dynamics_{{dataset}}.tsv"
    conda:
        "../envs/training.yaml"
    params:
        budget=RDC_FIG_BUDGET,
        mirror=MIRROR,
        device=DEVICE,
    shell:
        "CLUSTERBENCH_MIRROR={params.mirror:q} python workflow/scripts/rdc_figures.py dynamics "
        "--dataset {wildcards.dataset} --budget {params.budget:q} --device {params.device:q} "
        "--out {output.npz} > {log} 2>&1"


rule rdc_dynamics_figures:
    """Figures 1 (ID/LID of DEC), 3 (phase 1 vs 2), 12-14 (learning dynamics), 15 (ID/LID DynAE vs R-DC), 18 (PCA)."""
    input:
        main=f"{RDC_FIG_DIR}/dynamics_{RDC_FIG_DATASETS[0]}.json",
        two=expand(f"{RDC_FIG_DIR}/dynamics_{{dataset}}.json", dataset=RDC_FIG_DATASETS[:2]),
        all=expand(f"{RDC_FIG_DIR}/dynamics_{{dataset}}.json", dataset=RDC_FIG_DATASETS),
        npz=expand(f"{RDC_FIG_DIR}/dynamics_{{dataset}}.npz", dataset=RDC_FIG_DATASETS),
    output:
        fig1=report("reports/rdc/figure1.png", caption="../report/rdc_figure1.rst", category="R-DC"),
        fig3=report("reports/rdc/figure3.png", caption="../report/rdc_figure3.rst", category="R-DC"),
        fig12=report("reports/rdc/figure12.png", caption="../report/rdc_figure12.rst", category="R-DC"),
        fig13=report("reports/rdc/figure13.png", caption="../report/rdc_figure13.rst", category="R-DC"),
        fig14=report("reports/rdc/figure14.png", caption="../report/rdc_figure14.rst", category="R-DC"),
        fig15=report("reports/rdc/figure15.png", caption="../report/rdc_figure15.rst", category="R-DC"),
        fig18=report("reports/rdc/figure18.png", caption="../report/rdc_figure18.rst", category="R-DC"),
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_dynamics_figures.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_dynamics_figures.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        text=RDC_BUDGET_TEXT,
    shell:
        "(python workflow/scripts/rdc_plots.py figure1 --dynamics {input.two} --out {output.fig1} && "
        "python workflow/scripts/rdc_plots.py figure3 --dynamics {input.all} --out {output.fig3} && "
        "python workflow/scripts/rdc_plots.py figure12 --dynamics {input.main} --out {output.fig12} && "
        "python workflow/scripts/rdc_plots.py figure13 --dynamics {input.two} --out {output.fig13} && "
        "python workflow/scripts/rdc_plots.py figure14 --dynamics {input.two} --out {output.fig14} && "
        "python workflow/scripts/rdc_plots.py figure15 --dynamics {input.main} --out {output.fig15} && "
        "python workflow/scripts/rdc_plots.py figure18 --dynamics {input.two} --out {output.fig18}) > {log} 2>&1"


# Sweeps (Figure 17's alpha x beta grid of Section 4.2.4, Figure 20's noise levels, Table 8's ablation
# variants): a registry of named cells, one job per cell; the cells share one pretraining job
# (acai_frozen on the clean data) and their records and weights under RDC_FIG_DIR (--root), so a cell
# resumes from finished seeds and deleting one cell's CSV recomputes that cell only.
RDC_SWEEP_DATASET = "mnist5k"
RDC_SWEEP_CELLS = {
    "alpha-beta": {
        f"a{a}_b{b}": f"--alphas {a} --betas {b} --seeds 0 1"
        for a in (0.1, 0.6, 0.8, 0.9, 1.0)
        for b in (0.1, 0.3, 0.7, 1.0, 1.2)
    },
    "noise": {f"noise{level}": f"--levels {level} --seeds 0 1" for level in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)},
    "ablation": {
        f"{RDC_SWEEP_DATASET}_{tag}": f"--datasets {RDC_SWEEP_DATASET} --variants {tag} --seeds 0 1 2"
        for tag in ("p1", "p1_p2", "p1_p3", "p1_p2_p3")
    },
}
# cells trained on the clean data reuse the shared pretraining (the noised levels pretrain on their own data)
RDC_SWEEP_SHARED = {
    "alpha-beta": list(RDC_SWEEP_CELLS["alpha-beta"]),
    "noise": ["noise0.0"],
    "ablation": list(RDC_SWEEP_CELLS["ablation"]),
}


rule rdc_sweep_pretrain:
    """The sweeps' shared phase 1: acai_frozen at the budget on one data set, seeds 0-2."""
    output:
        f"{RDC_FIG_DIR}/pretrained/{{dataset}}_acai_frozen.json",
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_sweep_pretrain_{{dataset}}.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_sweep_pretrain_{{dataset}}.tsv"
    conda:
        "../envs/training.yaml"
    threads: 1
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    params:
        budget=RDC_FIG_BUDGET,
        mirror=MIRROR,
        device=DEVICE,
        root=lambda wc, output: _Path(output[0]).parents[1],  # RDC_FIG_DIR
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} CLUSTERBENCH_MIRROR={params.mirror:q} "
        "python workflow/scripts/rdc_figures.py pretrain --dataset {wildcards.dataset} --seeds 0 1 2 "
        "--budget {params.budget:q} --device {params.device:q} --root {params.root:q} --out {output} > {log} 2>&1"


rule rdc_sweep_cell:
    """One cell of a sweep: R-DC on one alpha/beta, noise level or ablation variant; run records + rows CSV."""
    input:
        lambda wc: (
            [f"{RDC_FIG_DIR}/pretrained/{RDC_SWEEP_DATASET}_acai_frozen.json"]
            if wc.cell in RDC_SWEEP_SHARED[wc.sweep]
            else []
        ),
    output:
        f"{RDC_FIG_DIR}/cells/{{sweep}}/{{cell}}.csv",
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_{{sweep}}_{{cell}}.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_{{sweep}}_{{cell}}.tsv"
    wildcard_constraints:
        sweep="alpha-beta|noise|ablation",
        cell="|".join(re.escape(c) for cells in RDC_SWEEP_CELLS.values() for c in cells),
    conda:
        "../envs/training.yaml"
    threads: 1
    resources:
        gpu=1 if DEVICE.startswith("cuda") else 0,
    params:
        budget=RDC_FIG_BUDGET,
        mirror=MIRROR,
        device=DEVICE,
        args=lambda wc: RDC_SWEEP_CELLS[wc.sweep][wc.cell],
        root=lambda wc, output: _Path(output[0]).parents[2],  # RDC_FIG_DIR
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} CLUSTERBENCH_MIRROR={params.mirror:q} "
        "python workflow/scripts/rdc_figures.py {wildcards.sweep} {params.args} --budget {params.budget:q} "
        "--device {params.device:q} --root {params.root:q} --out {output} > {log} 2>&1"


rule rdc_sweep:
    """A sweep's summary CSV (Figure 17: alpha-beta, Figure 20: noise, Table 8: ablation): its cells' rows."""
    input:
        rebuild_missing(
            lambda wc: expand(f"{RDC_FIG_DIR}/cells/{wc.sweep}/{{cell}}.csv", cell=RDC_SWEEP_CELLS[wc.sweep]),
            f"{RDC_FIG_DIR}/{{sweep}}.csv",
        ),
    output:
        f"{RDC_FIG_DIR}/{{sweep}}.csv",
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_{{sweep}}.log",
    wildcard_constraints:
        sweep="alpha-beta|noise|ablation",
    conda:
        "../envs/reporting.yaml"
    shell:
        "python workflow/scripts/rdc_figures.py concat --cells {input} --out {output} > {log} 2>&1"


rule rdc_figure17:
    """Figure 17: R-DC's sensitivity to alpha and beta."""
    input:
        f"{RDC_FIG_DIR}/alpha-beta.csv",
    output:
        report("reports/rdc/figure17.png", caption="../report/rdc_figure17.rst", category="R-DC"),
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_figure17.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_figure17.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        text=RDC_BUDGET_TEXT,
    shell:
        "python workflow/scripts/rdc_plots.py figure17 --summary {input} --budget-text {params.text:q} "
        "--out {output} > {log} 2>&1"


rule rdc_figure20:
    """Figure 20: R-DC under Gaussian input noise."""
    input:
        f"{RDC_FIG_DIR}/noise.csv",
    output:
        report("reports/rdc/figure20.png", caption="../report/rdc_figure20.rst", category="R-DC"),
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_figure20.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_figure20.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        text=RDC_BUDGET_TEXT,
    shell:
        "python workflow/scripts/rdc_plots.py figure20 --summary {input} --budget-text {params.text:q} "
        "--out {output} > {log} 2>&1"


rule rdc_table8:
    """Table 8 measured: P1, P1&P2, P1&P3, P1&P2&P3 (clusterbench.methods.rdc options phase2 / dec_phase)."""
    input:
        f"{RDC_FIG_DIR}/ablation.csv",
    output:
        report("reports/rdc/table8_measured.md", caption="../report/rdc_table8.rst", category="R-DC"),
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_table8.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_table8.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        text=RDC_BUDGET_TEXT,
    shell:
        "python workflow/scripts/rdc_plots.py table8 --summary {input} --budget-text {params.text:q} "
        "--out {output} > {log} 2>&1"


rule rdc_runtime:
    """Table 6 measurement: seconds for 1,000 training iterations of AE+K-means, DEC, IDEC, DynAE, R-DC."""
    output:
        f"{RDC_FIG_DIR}/runtime.json",
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_runtime.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_runtime.tsv"
    conda:
        "../envs/training.yaml"
    params:
        budget=RDC_FIG_BUDGET,
        device=DEVICE,
        # at the paper budget Table 6's own datasets (its T4 seconds print beside), else MNIST-5k
        datasets=(["fmnist", "vesselmnist3d", "pneumoniamnist"] if RDC_FIG_BUDGET == "paper" else ["mnist5k"]),
    shell:
        "python workflow/scripts/rdc_figures.py runtime --budget {params.budget:q} --device {params.device:q} "
        "--datasets {params.datasets:q} --out {output} > {log} 2>&1"


rule rdc_table6:
    """Table 6 measured, on the machine that ran rdc_runtime (named in the table)."""
    input:
        f"{RDC_FIG_DIR}/runtime.json",
    output:
        report("reports/rdc/table6_measured.md", caption="../report/rdc_table6.rst", category="R-DC"),
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_table6.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_table6.tsv"
    conda:
        "../envs/reporting.yaml"
    params:
        text=RDC_BUDGET_TEXT,
    shell:
        "python workflow/scripts/rdc_plots.py table6 --runtime {input} --budget-text {params.text:q} "
        "--out {output} > {log} 2>&1"


rule rdc_figures:
    """Every R-DC figure and measured table of this file."""
    input:
        rules.rdc_figure16.output,
        rules.rdc_dynamics_figures.output,
        rules.rdc_figure17.output,
        rules.rdc_figure20.output,
        rules.rdc_table8.output,
        rules.rdc_table6.output,


# aggregation, rendering and drawing run on the submitting host under a cluster executor
localrules:
    rdc_figure16,
    rdc_dynamics_figures,
    rdc_sweep,
    rdc_figure17,
    rdc_figure20,
    rdc_table8,
    rdc_table6,
    rdc_figures,
