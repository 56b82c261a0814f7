# R-DC figures (Shaheen et al.): drawn from recorded embeddings, never recomputed by the plot.


rule rdc_four_curves_record:
    """Figures 2/16 experiment: linear AE to 2-D on rdc_four_curves, DEC's loss vs R-DC's loss."""
    output:
        npz="results/figures/rdc/four_curves_seed0.npz",
        meta="results/figures/rdc/four_curves_seed0.json",
    conda:
        "../../environment.yml"
    log:
        "logs/figures/rdc_four_curves_record.log",
    benchmark:
        "benchmarks/figures/rdc_four_curves_record.tsv"
    shell:
        "python workflow/scripts/rdc_figure16.py record --seed 0 --out {output.npz} > {log} 2>&1"


rule rdc_figure16:
    """R-DC Figure 2 (DEC flattens the curved clusters) and Figure 16 (R-DC keeps them)."""
    input:
        npz=rules.rdc_four_curves_record.output.npz,
    output:
        fig2="reports/rdc/figure2.png",
        fig16="reports/rdc/figure16.png",
    conda:
        "../../environment.yml"
    log:
        "logs/figures/rdc_figure16.log",
    benchmark:
        "benchmarks/figures/rdc_figure16.tsv"
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


ruleorder: rdc_table8 > render_table
ruleorder: rdc_table6 > render_table


rule rdc_dynamics_record:
    """One data set: ae_mse -> DEC, IDEC and ACAI -> DynAE, R-DC with geometry and per-update scores."""
    output:
        npz=f"{RDC_FIG_DIR}/dynamics_{{dataset}}.npz",
        meta=f"{RDC_FIG_DIR}/dynamics_{{dataset}}.json",
    params:
        budget=RDC_FIG_BUDGET,
        mirror=MIRROR,
        device=DEVICE,
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_dynamics_{{dataset}}.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_dynamics_{{dataset}}.tsv"
    shell:
        "CLUSTERBENCH_MIRROR='{params.mirror}' python workflow/scripts/rdc_figures.py dynamics "
        "--dataset {wildcards.dataset} --budget {params.budget} --device {params.device} "
        "--out {output.npz} > {log} 2>&1"


rule rdc_dynamics_figures:
    """Figures 1 (ID/LID of DEC), 3 (phase 1 vs 2), 12-14 (learning dynamics), 15 (ID/LID DynAE vs R-DC), 18 (PCA)."""
    input:
        main=f"{RDC_FIG_DIR}/dynamics_{RDC_FIG_DATASETS[0]}.json",
        two=expand(f"{RDC_FIG_DIR}/dynamics_{{dataset}}.json", dataset=RDC_FIG_DATASETS[:2]),
        all=expand(f"{RDC_FIG_DIR}/dynamics_{{dataset}}.json", dataset=RDC_FIG_DATASETS),
        npz=expand(f"{RDC_FIG_DIR}/dynamics_{{dataset}}.npz", dataset=RDC_FIG_DATASETS),
    output:
        fig1="reports/rdc/figure1.png",
        fig3="reports/rdc/figure3.png",
        fig12="reports/rdc/figure12.png",
        fig13="reports/rdc/figure13.png",
        fig14="reports/rdc/figure14.png",
        fig15="reports/rdc/figure15.png",
        fig18="reports/rdc/figure18.png",
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_dynamics_figures.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_dynamics_figures.tsv"
    shell:
        "(python workflow/scripts/rdc_plots.py figure1 --dynamics {input.two} --out {output.fig1} && "
        "python workflow/scripts/rdc_plots.py figure3 --dynamics {input.all} --out {output.fig3} && "
        "python workflow/scripts/rdc_plots.py figure12 --dynamics {input.main} --out {output.fig12} && "
        "python workflow/scripts/rdc_plots.py figure13 --dynamics {input.two} --out {output.fig13} && "
        "python workflow/scripts/rdc_plots.py figure14 --dynamics {input.two} --out {output.fig14} && "
        "python workflow/scripts/rdc_plots.py figure15 --dynamics {input.main} --out {output.fig15} && "
        "python workflow/scripts/rdc_plots.py figure18 --dynamics {input.two} --out {output.fig18}) > {log} 2>&1"


rule rdc_sweep:
    """One job per sweep: alpha-beta (Figure 17), noise (Figure 20), ablation (Table 8); run records + summary CSV."""
    output:
        f"{RDC_FIG_DIR}/{{sweep}}.csv",
    params:
        budget=RDC_FIG_BUDGET,
        mirror=MIRROR,
        device=DEVICE,
    wildcard_constraints:
        sweep="alpha-beta|noise|ablation",
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_{{sweep}}.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_{{sweep}}.tsv"
    shell:
        "CLUSTERBENCH_MIRROR='{params.mirror}' python workflow/scripts/rdc_figures.py {wildcards.sweep} "
        "--budget {params.budget} --device {params.device} --out {output} > {log} 2>&1"


rule rdc_figure17:
    """Figure 17: R-DC's sensitivity to alpha and beta."""
    input:
        f"{RDC_FIG_DIR}/alpha-beta.csv",
    output:
        "reports/rdc/figure17.png",
    params:
        text=RDC_BUDGET_TEXT,
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_figure17.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_figure17.tsv"
    shell:
        "python workflow/scripts/rdc_plots.py figure17 --summary {input} --budget-text {params.text:q} "
        "--out {output} > {log} 2>&1"


rule rdc_figure20:
    """Figure 20: R-DC under Gaussian input noise."""
    input:
        f"{RDC_FIG_DIR}/noise.csv",
    output:
        "reports/rdc/figure20.png",
    params:
        text=RDC_BUDGET_TEXT,
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_figure20.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_figure20.tsv"
    shell:
        "python workflow/scripts/rdc_plots.py figure20 --summary {input} --budget-text {params.text:q} "
        "--out {output} > {log} 2>&1"


rule rdc_table8:
    """Table 8 measured: P1, P1&P2, P1&P3, P1&P2&P3 (clusterbench.methods.rdc options phase2 / dec_phase)."""
    input:
        f"{RDC_FIG_DIR}/ablation.csv",
    output:
        "reports/rdc/table8_measured.md",
    params:
        text=RDC_BUDGET_TEXT,
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_table8.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_table8.tsv"
    shell:
        "python workflow/scripts/rdc_plots.py table8 --summary {input} --budget-text {params.text:q} "
        "--out {output} > {log} 2>&1"


rule rdc_runtime:
    """Table 6 measurement: seconds for 1,000 training iterations of AE+K-means, DEC, IDEC, DynAE, R-DC."""
    output:
        f"{RDC_FIG_DIR}/runtime.json",
    params:
        budget=RDC_FIG_BUDGET,
        device=DEVICE,
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_runtime.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_runtime.tsv"
    shell:
        "python workflow/scripts/rdc_figures.py runtime --budget {params.budget} --device {params.device} "
        "--out {output} > {log} 2>&1"


rule rdc_table6:
    """Table 6 measured, on the machine that ran rdc_runtime (named in the table)."""
    input:
        f"{RDC_FIG_DIR}/runtime.json",
    output:
        "reports/rdc/table6_measured.md",
    params:
        text=RDC_BUDGET_TEXT,
    conda:
        "../../environment.yml"
    log:
        f"logs/figures/rdc_{RDC_FIG_BUDGET}_table6.log",
    benchmark:
        f"benchmarks/figures/rdc_{RDC_FIG_BUDGET}_table6.tsv"
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
