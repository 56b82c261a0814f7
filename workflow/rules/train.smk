rule run_method:
    """All seeds of one method on one dataset in one process; one record per seed (resumable)."""
    input:
        dataset="resources/datasets/{dataset}.json",
        method="config/methods/{method}.yaml",
        pretrain=pretrain_input,  # shared pretraining named by the method's YAML (workflow/rules/pretrain.smk)
    output:
        "results/runs/{profile}/{dataset}/{method}/summary.json",
    conda:
        "../../environment.yml"
    log:
        "logs/run/{profile}/{dataset}/{method}.log",
    benchmark:
        "benchmarks/run/{profile}/{dataset}/{method}.tsv"
    params:
        seeds=SEEDS_ARG,
        mirror=MIRROR,
        strict=STRICT,
        device=DEVICE,
    threads: 1
    resources:
        mem_mb=8000,
        runtime=720,
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} CLUSTERBENCH_PRETRAINED=resources/pretrained "
        "clusterbench run --method {wildcards.method} --dataset {wildcards.dataset} "
        "--profile {wildcards.profile} --seed {params.seeds} --out results/runs "
        "--mirror={params.mirror:q} --device {params.device:q} {params.strict} "
        "--summary {output} > {log} 2>&1"
