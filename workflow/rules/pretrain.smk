# Shared autoencoder pretraining (clusterbench.blocks.pretrain): one job per (profile, dataset, recipe)
# trains every seed of the profile in one process; every method whose YAML says
# `pretrain: <recipe>` waits for it and loads resources/pretrained/{profile}/{dataset}/{recipe}/seed{S}.pt.
rule pretrain:
    """All seeds of one pretraining recipe on one dataset; weights beside done.json (reused when valid)."""
    input:
        dataset="resources/datasets/{dataset}.json",
        recipe="config/pretrain/{recipe}.yaml",
    output:
        "resources/pretrained/{profile}/{dataset}/{recipe}/done.json",
    log:
        "logs/pretrain/{profile}/{dataset}/{recipe}.log",
    benchmark:
        "benchmarks/pretrain/{profile}/{dataset}/{recipe}.tsv"
    wildcard_constraints:
        recipe="[a-z0-9_]+",
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
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "python -m clusterbench pretrain --recipe {wildcards.recipe} --dataset {wildcards.dataset} "
        "--profile {wildcards.profile} --seed {params.seeds} --mirror '{params.mirror}' "
        "--device {params.device} {params.strict} --out {output} > {log} 2>&1"
