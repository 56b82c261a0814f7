import numpy as np
import pytest
from sklearn import metrics as skm

from clusterbench.framework import metrics as M


def test_acc_perfect_under_permutation():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert M.cluster_acc(y, np.array([2, 2, 0, 0, 1, 1])) == 1.0


def test_acc_hand_computed():
    # classes 0,0,0,1,1,1; clusters a=7 gets (0,0,1), b=9 gets (0,1,1): best map 7->0, 9->1 -> 4/6
    y = np.array([0, 0, 0, 1, 1, 1])
    c = np.array([7, 7, 9, 7, 9, 9])
    assert M.cluster_acc(y, c) == pytest.approx(4 / 6)


def test_acc_more_clusters_than_classes():
    y = np.array([0, 0, 1, 1])
    c = np.array([0, 1, 2, 2])  # cluster 1 unmatched -> its sample is wrong
    assert M.cluster_acc(y, c) == pytest.approx(3 / 4)


def test_acc_fewer_clusters_than_classes():
    y = np.array([0, 0, 1, 1, 2, 2])
    c = np.zeros(6, dtype=int)
    assert M.cluster_acc(y, c) == pytest.approx(2 / 6)


def test_non_contiguous_and_string_labels():
    y = np.array([10, 10, 30, 30])
    c = np.array([-5, -5, 99, 99])
    assert M.cluster_acc(y, c) == 1.0
    assert M.f1_macro(y, c) == 1.0
    ys = np.array(["a", "a", "b", "b"])
    assert M.cluster_acc(ys, np.array([1, 1, 0, 0])) == 1.0


def test_nmi_variants_against_sklearn():
    rng = np.random.default_rng(1)
    y, c = rng.integers(0, 4, 200), rng.integers(0, 6, 200)
    for avg in M.NMI_AVERAGES:
        assert M.nmi(y, c, avg) == pytest.approx(skm.normalized_mutual_info_score(y, c, average_method=avg))
    # max-normalised NMI never exceeds the geometric one, which never exceeds the min one
    assert M.nmi(y, c, "max") <= M.nmi(y, c, "geometric") <= M.nmi(y, c, "min")


def test_nmi_hand_computed_max():
    # y: 0,0,1,1 ; c: 0,0,0,1 -> H(Y)=ln2, H(C)=H(3/4,1/4), I = H(Y) - H(Y|C)
    y = np.array([0, 0, 1, 1])
    c = np.array([0, 0, 0, 1])
    hy = np.log(2)
    hc = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    hy_given_c = 0.75 * -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))
    mi = hy - hy_given_c
    assert M.nmi(y, c, "max") == pytest.approx(mi / max(hy, hc))


def test_ari_matches_sklearn():
    rng = np.random.default_rng(2)
    y, c = rng.integers(0, 3, 100), rng.integers(0, 3, 100)
    assert M.ari(y, c) == pytest.approx(skm.adjusted_rand_score(y, c))


def test_f1_hand_computed():
    y = np.array([0, 0, 0, 1, 1, 1])
    c = np.array([5, 5, 6, 6, 6, 6])  # 5->0, 6->1: class0 P=1 R=2/3 ; class1 P=3/4 R=1
    f0 = 2 * 1 * (2 / 3) / (1 + 2 / 3)
    f1 = 2 * 0.75 * 1 / 1.75
    assert M.f1_macro(y, c) == pytest.approx((f0 + f1) / 2)
    assert M.f1_micro(y, c) == pytest.approx(M.cluster_acc(y, c))


def test_f1_micro_with_unmatched_cluster():
    y = np.array([0, 0, 1, 1])
    c = np.array([0, 1, 2, 2])  # cluster 1 unmatched: 3 TP, 1 FN, no FP
    assert M.f1_micro(y, c) == pytest.approx(2 * 1 * 0.75 / 1.75)


def test_bcubed_hand_computed():
    y = np.array([0, 0, 1])
    c = np.array([0, 0, 0])
    p, r = M.bcubed(y, c)
    assert p == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    assert r == pytest.approx(1.0)


def test_evaluate_keys_and_errors():
    out = M.evaluate([0, 1, 1], [1, 0, 0])
    assert set(M.METRICS) <= set(out) and out["acc"] == 1.0 and out["n_clusters_found"] == 2
    with pytest.raises(ValueError, match="labels"):
        M.evaluate([0, 1], [0])
    with pytest.raises(ValueError, match="average"):
        M.nmi([0, 1], [0, 1], "harmonic")
