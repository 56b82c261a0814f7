rule performance:
    """reports/performance.md: the suite's speed against scikit-learn, faiss, ClustPy and plain PyTorch loops,
    the cheap wins and the per-iteration cost of every deep method (benchmarks/performance.py; also refreshes
    results/costs.csv for `clusterbench plan`). Size and repeats: --config perf_size=full perf_repeats=3."""
    output:
        report("reports/performance.md", caption="../report/performance.rst", category="Suite"),
    log:
        "logs/reports/performance.log",
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        size=config.get("perf_size", "full"),
        repeats=config.get("perf_repeats", 3),
        mirror=MIRROR,
    shell:
        "OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 CLUSTERBENCH_MIRROR={params.mirror:q} "
        "python benchmarks/performance.py --size {params.size:q} --repeats {params.repeats:q} "
        "--out {output:q} > {log:q} 2>&1"


rule hotpaths:
    """reports/hotpaths.md: where AHCL's, NMCE's and R-DC's CPU time goes at their cpu / quick budgets (torch
    profiler and cProfile over one shortened fit each; benchmarks/hotpaths.py)."""
    output:
        report("reports/hotpaths.md", caption="../report/hotpaths.rst", category="Suite"),
    log:
        "logs/reports/hotpaths.log",
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        mirror=MIRROR,
    shell:
        "OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 CLUSTERBENCH_MIRROR={params.mirror:q} "
        "python benchmarks/hotpaths.py --out {output:q} > {log:q} 2>&1"
