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
