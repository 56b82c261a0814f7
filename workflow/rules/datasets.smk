rule prepare_dataset:
    """Fetch (cache -> mirror -> URL, checksummed) and convert one dataset; status JSON."""
    output:
        "resources/datasets/{dataset}.json",
    conda:
        "../../environment.yml"
    log:
        "logs/prepare/{dataset}.log",
    benchmark:
        "benchmarks/prepare/{dataset}.tsv"
    params:
        mirror=MIRROR,
        strict=STRICT,
    shell:
        "clusterbench prepare --dataset {wildcards.dataset} --mirror={params.mirror:q} "
        "{params.strict} --out {output} > {log} 2>&1"
