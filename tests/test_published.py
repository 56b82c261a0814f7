"""Tests for the published-number files and their loader."""

import csv
import re
import shutil
from pathlib import Path

import pytest

from clusterbench.framework.published import (
    COLUMNS,
    REQUIRED_TABLES,
    default_directory,
    load_published,
    published_value,
)

PUBLISHED = default_directory()


@pytest.fixture(scope="module")
def df():
    return load_published()


def test_shipped_files_load(df):
    assert tuple(df.columns) == COLUMNS
    assert len(df) > 1000
    assert set(df["paper"]) >= set(REQUIRED_TABLES) | {"dec", "idec", "dynae", "deckeras"}


def test_required_tables_present(df):
    for paper, tables in REQUIRED_TABLES.items():
        present = set(df.loc[df["paper"] == paper, "table"])
        for table in tables:
            assert table in present, (paper, table)


def test_no_hyperparameter_tables(df):
    assert not ((df["paper"] == "rdc") & (df["table"] == "2")).any()
    assert not ((df["paper"] == "nmce") & (df["table"] == "B.1")).any()


def test_method_unique_within_cell(df):
    counts = df.groupby(["paper", "table", "method", "dataset", "metric"]).size()
    assert counts.max() == 1, counts[counts > 1]


def test_values_kept_as_printed():
    """Trailing zeros survive in the CSV text (65.40, 0.0, 84.30)."""
    with open(PUBLISHED / "ahcl.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cell = [r for r in rows if r["table"] == "2" and r["method"] == "ahcl"
            and r["dataset"] == "fmnist_test" and r["metric"] == "acc"]
    assert [r["value"] for r in cell] == ["65.40"]


# (paper, table, method, dataset, metric, value read from the paper text)
SPOT_CHECKS = [
    ("ahcl", "2", "kmeans", "umist", "acc", 42.87),
    ("ahcl", "2", "ahcl", "fmnist_test", "nmi", 70.48),
    ("ahcl", "2", "adagae", "usps", "acc", 91.96),
    ("ahcl", "3", "ahcl_sc_y", "fmnist_test", "acc", 65.14),
    ("ahcl", "3", "ahcl_surface_km_z", "umist", "acc", 43.30),
    ("pad", "1", "pad", "imagenet", "knn_acc", 35.1),
    ("pad", "1", "and", "svhn", "linear_acc", 93.7),
    ("pad", "2", "pad", "cifar10", "acc", 62.6),
    ("pad", "2", "iic", "mnist", "acc", 98.4),
    ("pad", "4", "pad_no_scale", "cifar100", "knn_acc", 1.8),
    ("pad", "6", "pad_s100", "cifar10", "knn_acc", 73.5),
    ("dccm", "2", "dccm", "cifar10", "acc", 0.623),
    ("dccm", "2", "kmeans", "tiny_imagenet", "acc", 0.025),
    ("dccm", "2", "dac", "imagenet_dogs15", "nmi", 0.219),
    ("dccm", "3", "dccm_m3", "cifar10", "ari", 0.358),
    ("dccm", "5", "dccm", "cifar100", "mlp_acc", 0.512),
    ("dccm", "6", "dccm_v4", "cifar10", "mlp_acc", 0.698),
    ("rdc", "3", "rdc", "fmnist", "acc", 66.6),
    ("rdc", "3", "ddc_uco", "fmnist", "f1_macro", 44.2),
    ("rdc", "4", "dynae", "pneumoniamnist", "acc", 62.1),
    ("rdc", "5", "rdc", "bloodmnist", "f1_macro", 55.6),
    ("rdc", "6", "ddc_uco", "fmnist", "runtime_s", 3990),
    ("rdc", "8", "rdc_p1_p3", "pneumoniamnist", "acc", 63.3),
    ("nmce", "1", "nmce", "coil100", "error", 11.53),
    ("nmce", "1", "ssc", "coil20", "error", 14.83),
    ("nmce", "2", "nmce_stage1_pool", "cifar10", "knn_acc", 0.105),
    ("nmce", "3", "nmce", "cifar10_train", "acc", 0.830),
    ("nmce", "3", "nmce_res34", "cifar100_20_train", "nmi", 0.524),
    ("nmce", "3", "crlc", "stl10", "ari", 0.682),
    ("nmce", "A.1", "nmce", "nmce_two_manifold_nonid", "acc", 69.8),
    ("nmce", "A.2", "nmce_before_finetune", "cifar100_20_train", "acc", 0.422),
    ("nmce", "A.3", "nmce_stage1_lambda20", "cifar10", "svm_acc", 0.899),
    ("dec", "ref", "dec", "mnist", "acc", 84.30),
    ("idec", "ref", "idec", "usps", "acc", 76.1),
    ("idec", "ref", "ae_kmeans", "mnist", "acc", 81.8),
    ("dynae", "ref", "dynae", "fmnist", "nmi", 0.642),
    ("dynae", "ref", "dynae", "mnist_test", "acc", 0.987),
    ("deckeras", "README", "dec", "usps", "nmi", 79),
    ("deckeras", "README", "kmeans", "fmnist", "acc", 47),
]


@pytest.mark.parametrize("paper,table,method,dataset,metric,expected", SPOT_CHECKS)
def test_spot_checks(df, paper, table, method, dataset, metric, expected):
    assert published_value(df, paper, table, method, dataset, metric) == pytest.approx(expected)


def test_missing_cells_are_none(df):
    # printed as "-" in AHCL Table 2 and NMCE Table 3
    assert published_value(df, "ahcl", "2", "can", "fmnist_test", "acc") is None
    assert published_value(df, "nmce", "3", "mice", "imagenet10", "acc") is None
    assert published_value(df, "nmce", "3", "crlc", "imagenet10", "acc") is None


def test_doubtful_cells_are_noted(df):
    def note(paper, table, method, dataset, metric):
        hit = df[(df.paper == paper) & (df.table == table) & (df.method == method)
                 & (df.dataset == dataset) & (df.metric == metric)]
        assert len(hit) == 1
        return hit.iloc[0]["note"]

    assert 'printed as "44,2"' in note("rdc", "3", "ddc_uco", "fmnist", "f1_macro")
    assert "upper bound" in note("dccm", "5", "deepcluster", "cifar10", "acc")
    assert "doubtful" in note("rdc", "3", "ddc_uco", "fmnist", "f1_micro")


def test_bib_has_every_paper_key(df):
    text = (PUBLISHED / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{(\w+),", text))
    assert keys == set(df["paper"])


def _copy_published(tmp_path: Path) -> Path:
    for path in PUBLISHED.glob("*.csv"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_copy_loads(tmp_path):
    assert len(load_published(_copy_published(tmp_path))) == len(load_published())


def test_malformed_value_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        ",".join(COLUMNS) + "\n"
        "bad,1,K-Means,kmeans,mnist,MNIST,acc,42.0,percent,\n"
        "bad,1,DEC,dec,mnist,MNIST,acc,not-a-number,percent,\n",
        encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv: line 3"):
        load_published(tmp_path)


def test_wrong_header_raises(tmp_path):
    (tmp_path / "hdr.csv").write_text("paper,table,value\nhdr,1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"hdr\.csv: line 1"):
        load_published(tmp_path)


def test_bad_scale_raises(tmp_path):
    (tmp_path / "sc.csv").write_text(
        ",".join(COLUMNS) + "\nsc,1,A,a,mnist,MNIST,acc,1.0,percentage,\n",
        encoding="utf-8")
    with pytest.raises(ValueError, match=r"sc\.csv: line 2.*scale"):
        load_published(tmp_path)


def test_duplicate_key_raises(tmp_path):
    line = "dup,1,A,a,mnist,MNIST,acc,1.0,percent,\n"
    (tmp_path / "dup.csv").write_text(",".join(COLUMNS) + "\n" + line + line,
                                      encoding="utf-8")
    with pytest.raises(ValueError, match=r"dup\.csv: line 3.*duplicate"):
        load_published(tmp_path)
