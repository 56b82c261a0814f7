rule prepare_dataset:
    """Fetch (cache -> mirror -> URL, checksummed) and convert one dataset; status JSON."""
    output:
        "resources/datasets/{dataset}.json",
    log:
        "logs/prepare/{dataset}.log",
    benchmark:
        "benchmarks/prepare/{dataset}.tsv"
    conda:
        "../envs/training.yaml"
    params:
        mirror=MIRROR,
        strict=STRICT,
    shell:
        "python -m clusterbench prepare --dataset {wildcards.dataset} --mirror '{params.mirror}' "
        "{params.strict} --out {output} > {log} 2>&1"
