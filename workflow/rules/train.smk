rule run_method:
    """All seeds of one method on one dataset in one process; one record per seed (resumable)."""
    input:
        dataset="resources/datasets/{dataset}.json",
        method="config/methods/{method}.yaml",
        pretrain=pretrain_input,  # shared pretraining named by the method's YAML (workflow/rules/pretrain.smk)
    output:
        "results/runs/{profile}/{dataset}/{method}/summary.json",
    log:
        "logs/run/{profile}/{dataset}/{method}.log",
    benchmark:
        "benchmarks/run/{profile}/{dataset}/{method}.tsv"
    conda:
        "../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=job_mem_mb,  # measured peaks per budget (workflow/resources.yaml)
        runtime=job_runtime,
        gpu=job_gpus,  # 1 only for torch training with device=cuda
    params:
        seeds=",".join(map(str, SEEDS)),
        mirror=MIRROR,
        strict=STRICT,
        device=DEVICE,
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} CLUSTERBENCH_PRETRAINED=resources/pretrained "
        "python -m clusterbench run --method {wildcards.method} --dataset {wildcards.dataset} "
        "--profile {wildcards.profile} --seed {params.seeds} --out results/runs "
        "--mirror '{params.mirror}' --device {params.device} {params.strict} "
        "--summary {output} > {log} 2>&1"
