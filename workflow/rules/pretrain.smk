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
    conda:
        "../../environment.yml"
    log:
        "logs/pretrain/{profile}/{dataset}/{recipe}.log",
    benchmark:
        "benchmarks/pretrain/{profile}/{dataset}/{recipe}.tsv"
    params:
        seeds=",".join(map(str, SEEDS)),
        mirror=MIRROR,
        strict=STRICT,
        device=DEVICE,
    wildcard_constraints:
        recipe="[a-z0-9_]+",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=720,
    shell:
        "OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "clusterbench pretrain --recipe {wildcards.recipe} --dataset {wildcards.dataset} "
        "--profile {wildcards.profile} --seed {params.seeds} --mirror '{params.mirror}' "
        "--device {params.device} {params.strict} --out {output} > {log} 2>&1"
