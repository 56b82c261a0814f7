"""PAD: SCS search on hand-built graphs, losses against direct evaluation, memory, kNN protocol, fits."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from clusterbench.framework.base import DivergenceError, seed_everything
from clusterbench.data import Dataset
from clusterbench.framework.protocols import train_test_split, weighted_knn_predict
from clusterbench.methods.pad import (PAD, PADConfig, ema_update, hard_positives, hpe_fcs, hpe_kl, knn_graph, positive_mask,
                         scs_loss, scs_precision, scs_statistics, search_scs, step_lr)

NONE = -1


def _graph(rows, k=None):
    """(N, k) neighbour array from lists (−1 pads missing edges)."""
    k = k or max(len(r) for r in rows)
    return np.array([list(r) + [NONE] * (k - len(r)) for r in rows], dtype=np.int64)


def _groups(groups):
    """Group ids → sorted list of member sets (isolated vertices left out)."""
    return sorted((sorted(np.flatnonzero(groups == g).tolist()) for g in np.unique(groups[groups >= 0])))


# --- SCS search (Fig. 3) ------------------------------------------------------------------------


def test_cycle_found_and_one_way_visitor_left_isolated():
    # 0 → 1 → 2 → 0 is a cycle; 3 → 0 only enters it; 4 has no edges
    nbr = _graph([[1], [2], [0], [0], []])
    for order in ([3, 0, 1, 2, 4], [0, 1, 2, 3, 4], [4, 2, 3, 1, 0]):
        groups = search_scs(nbr, scale=10, order=np.array(order))
        assert _groups(groups) == [[0, 1, 2]]
        assert groups[3] == NONE and groups[4] == NONE


def test_cyclic_constraint_rejects_a_one_way_chain():
    chain = _graph([[1], [2], [3], []])                       # 0 → 1 → 2 → 3, no way back
    assert (search_scs(chain, scale=10, order=np.arange(4)) == NONE).all()
    # without the constraint the traversal from 0 is taken whole
    assert _groups(search_scs(chain, scale=10, cyclic=False, order=np.arange(4))) == [[0, 1, 2, 3]]


def test_overlapping_cycles_join_the_start_vertex_subgraph():
    # 0 ↔ 1 and 1 ↔ 2: the cycle 1-2 excludes 0 but overlaps the cycle through 0
    nbr = _graph([[1], [0, 2], [1]])
    assert _groups(search_scs(nbr, scale=10, order=np.array([0, 1, 2]))) == [[0, 1, 2]]


def test_nearest_neighbours_first_and_scale_cap():
    # 0's nearest is 1, then 2; both lead straight back to 0; cap 2 keeps the nearest
    nbr = _graph([[1, 2], [0, 2], [0, 1]])
    assert _groups(search_scs(nbr, scale=2, order=np.array([0, 1, 2]))) == [[0, 1]]
    assert _groups(search_scs(nbr, scale=3, order=np.array([0, 1, 2]))) == [[0, 1, 2]]


def test_scale_cap_bounds_every_subgraph_and_no_cap_gives_the_strong_component():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 4)).astype(np.float32)
    nbr = knn_graph(X, 5)
    A = csr_matrix((np.ones(nbr.size), (np.repeat(np.arange(400), 5), nbr.ravel())), shape=(400, 400))
    for s in (3, 10):
        groups = search_scs(nbr, scale=s, seed=1)
        sizes = np.bincount(groups[groups >= 0])
        assert sizes.max() <= s and sizes.min() >= 2
        for members in _groups(groups):                      # each subgraph is strongly connected
            n_comp, _ = connected_components(A[members][:, members], directed=True, connection="strong")
            assert n_comp == 1
    # no cap: the first start vertex gets exactly its strongly connected component of the whole graph
    order = rng.permutation(400)
    groups = search_scs(nbr, scale=0, order=order)
    _, comp = connected_components(A, directed=True, connection="strong")
    first = order[0]
    expected = np.flatnonzero(comp == comp[first])
    if expected.size >= 2:
        assert sorted(np.flatnonzero(groups == groups[first])) == sorted(expected)


def test_isolated_vertices_and_disjointness():
    nbr = _graph([[1], [0], [], [], [2]])                     # 2, 3 have no out-edges; 4 → 2 only
    groups = search_scs(nbr, scale=10, seed=0)
    assert _groups(groups) == [[0, 1]]
    stats = scs_statistics(groups)
    assert stats == {"n_scs": 1, "scs_mean_size": 2.0, "scs_coverage": 0.4}


def test_bad_graphs_are_refused_before_the_compiled_loop():
    with pytest.raises(ValueError, match="indices in"):
        search_scs(_graph([[1], [5]]))                        # 5 is not a vertex
    with pytest.raises(ValueError, match="permutation"):
        search_scs(_graph([[1], [0]]), order=np.array([0, 0]))


def test_scs_precision_against_majority_labels():
    groups = np.array([0, 0, 0, 1, 1, -1])
    y = np.array([2, 2, 1, 0, 0, 5])
    assert scs_precision(groups, y) == pytest.approx(4 / 5)
    assert np.isnan(scs_precision(np.full(3, -1), np.zeros(3, int)))


def test_knn_graph_excludes_self_and_orders_by_cosine():
    X = np.array([[1, 0], [0.9, 0.1], [0.4, 0.6], [0, 1]], dtype=np.float32)
    nbr = knn_graph(X * np.array([[1], [10], [3], [2]], dtype=np.float32), 2)   # scale must not matter
    assert nbr.tolist() == [[1, 2], [0, 2], [3, 1], [2, 1]]


# --- objective ----------------------------------------------------------------------------------


def test_losses_match_direct_evaluation():
    gen = torch.Generator().manual_seed(0)
    n, b, tau = 12, 4, 0.1
    memory = F.normalize(torch.randn(n, 5, generator=gen), dim=1)
    x = F.normalize(torch.randn(b, 5, generator=gen), dim=1)
    x_hp = F.normalize(torch.randn(b, 5, generator=gen), dim=1)
    batch = torch.tensor([0, 3, 5, 9])
    groups = torch.tensor([0, 0, -1, 1, 1, 1, -1, 2, 2, -1, -1, -1])
    mask = positive_mask(batch, groups, None, n)
    expected_mask = np.zeros((b, n), bool)
    for r, i in enumerate(batch.tolist()):
        expected_mask[r, i] = True
        if groups[i] >= 0:
            expected_mask[r, (groups == groups[i]).numpy()] = True
    assert np.array_equal(mask.numpy(), expected_mask)
    logits = x @ memory.T / tau
    P = np.exp(logits.double().numpy())
    P /= P.sum(1, keepdims=True)                               # Eq. 2
    direct = -np.mean([np.log(P[r, expected_mask[r]].sum()) for r in range(b)])   # Eq. 3
    assert float(scs_loss(logits, mask)) == pytest.approx(direct, rel=1e-5)
    Q = np.exp((x_hp @ memory.T / tau).double().numpy())
    Q /= Q.sum(1, keepdims=True)
    kl = np.mean((P * np.log(P / Q)).sum(1))                   # Eq. 4
    assert float(hpe_kl(logits, x_hp @ memory.T / tau)) == pytest.approx(kl, rel=1e-4)
    assert float(hpe_fcs(x, x_hp)) == pytest.approx(float(np.mean(1 - (x * x_hp).sum(1).numpy())), rel=1e-6)
    # isolated samples: Eq. 3 is the instance loss −log p_ii
    iso = positive_mask(torch.tensor([9]), groups, None, n)   # batch row 3 is sample 9, isolated
    assert iso.sum() == 1
    assert float(scs_loss(logits[3:4], iso)) == pytest.approx(-np.log(P[3, 9]), rel=1e-5)


def test_no_diffusion_mask_and_hard_positives():
    neighbours = torch.tensor([[1, 2], [0, 2], [0, 1], [2, 1]])
    mask = positive_mask(torch.tensor([3, 0]), None, neighbours, 4)
    assert mask.tolist() == [[False, True, True, True], [True, True, True, False]]
    affinity = torch.tensor([[0.1, 0.9, 0.3, 1.0], [1.0, 0.2, 0.8, 0.0]])
    hp, has = hard_positives(affinity, mask, torch.tensor([3, 0]))
    assert hp.tolist() == [2, 1] and has.all()                # least similar member other than itself
    lone = positive_mask(torch.tensor([1]), torch.tensor([-1, -1, 0, 0]), None, 4)
    hp, has = hard_positives(torch.rand(1, 4), lone, torch.tensor([1]))
    assert hp.tolist() == [1] and not has.any()                # isolated: itself (a new transformation)


def test_memory_ema_update():
    memory = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dim=1)
    x = torch.tensor([[0.0, 1.0]])
    before = memory.clone()
    ema_update(memory, torch.tensor([0]), x, 0.5)              # Eq. 6 with η = 0.5, re-normalised
    assert torch.allclose(memory[0], F.normalize(torch.tensor([0.5, 0.5]), dim=0))
    assert torch.equal(memory[1:], before[1:])


def test_step_schedule():
    lrs = [step_lr(e, 0.03, 80, 40, 0.1) for e in (0, 79, 80, 119, 120, 160, 199)]
    assert lrs == pytest.approx([0.03, 0.03, 0.003, 0.003, 0.0003, 0.00003, 0.00003])


# --- evaluation protocol ------------------------------------------------------------------------


def test_weighted_knn_uses_exp_similarity_weights():
    # query q; two class-1 neighbours at cosine 0.5, one class-0 neighbour at cosine 0.9:
    # counts say class 1, weights exp(s/0.1) say class 0 (e^9 > 2 e^5)
    angle = lambda c: [c, np.sqrt(1 - c ** 2)]
    train = np.array([angle(0.9), angle(0.5), [0.5, -np.sqrt(0.75)]])
    y = np.array([0, 1, 1])
    q = np.array([[1.0, 0.0]])
    assert weighted_knn_predict(train, y, q, k=3, tau=0.1).tolist() == [0]
    # with a temperature so high that weights are nearly equal, the majority wins
    assert weighted_knn_predict(train, y, q, k=3, tau=100.0).tolist() == [1]
    # only the top k vote
    assert weighted_knn_predict(train, y, q, k=1, tau=100.0).tolist() == [0]
    # against a direct evaluation on random data
    rng = np.random.default_rng(0)
    tr, te, ytr = rng.standard_normal((50, 6)), rng.standard_normal((7, 6)), rng.integers(0, 3, 50)
    trn, ten = tr / np.linalg.norm(tr, axis=1, keepdims=True), te / np.linalg.norm(te, axis=1, keepdims=True)
    expected = []
    for s in ten @ trn.T:
        top = np.argsort(-s)[:10]
        expected.append(np.argmax([np.exp(s[top] / 0.1)[ytr[top] == c].sum() for c in range(3)]))
    assert weighted_knn_predict(tr, ytr, te, k=10, tau=0.1, n_classes=3).tolist() == expected


def test_protocol_splits():
    y = np.repeat(np.arange(3), 10)
    train, test, how = train_test_split(y, 20)
    assert train.tolist() == list(range(20)) and test.tolist() == list(range(20, 30)) and how.startswith("official")
    train, test, how = train_test_split(y)
    assert len(train) == 24 and len(test) == 6 and np.bincount(y[test]).tolist() == [2, 2, 2]
    assert np.array_equal(train, train_test_split(y)[0])       # fixed, not seeded by the run
    assert how.startswith("stratified")


# --- fits ---------------------------------------------------------------------------------------

TINY = dict(width=0.0625, fc_dim=16, epochs=2, batch_size=16, lr_decay_offset=1, lr_decay_step=1,
            kmeans_n_init=1, linear_epochs=1)


def _images(n=48, shape=(1, 16, 16), k=3):
    rng = np.random.default_rng(0)
    y = np.arange(n) % k
    X = rng.random((n, *shape)).astype(np.float32) * 0.3
    for c in range(k):                                         # a bright band per class
        X[y == c, :, c * shape[1] // k:(c + 1) * shape[1] // k] += 0.7
    return Dataset("tiny", np.clip(X, 0, 1), y.astype(np.int64), k)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 96, 96), (1, 16, 16), (1, 8, 8)])
def test_fit_on_every_image_shape(shape):
    data = _images(shape=shape)
    seed_everything(0)
    result = PAD(PADConfig(**TINY)).fit_predict(data, 3, seed=0)
    assert result.labels.shape == (48,) and result.embedding.shape == (48, 128)
    assert np.allclose(np.linalg.norm(result.embedding, axis=1), 1, atol=1e-5)
    assert [h["epoch"] for h in result.history] == [0, 1]
    assert {"loss", "loss_scs", "loss_hpe", "n_scs", "scs_mean_size", "scs_coverage"} <= set(result.history[0])
    assert result.extras["scs_groups"].shape == (2, 48)
    rows = PAD.scored_history(result, data.y)
    assert len(rows) == 2 and "scs_precision" in rows[0]
    assert "acc_init" in PAD.scored_diagnostics(result, data.y)


def test_flat_vectors_are_refused_with_a_clear_message():
    data = Dataset("vectors", np.zeros((10, 5), np.float32), np.zeros(10, np.int64), 2)
    with pytest.raises(ValueError, match="needs images"):
        PAD(PADConfig(**TINY)).fit_predict(data, 2, seed=0)


@pytest.mark.parametrize("variant", [{}, {"diffusion": False}, {"cyclic": False, "scale": 0}, {"hpe": "fcs"},
                                     {"hpe": "none"}])
def test_fit_is_deterministic(variant):
    data = _images()
    runs = []
    for _ in range(2):
        seed_everything(5)
        runs.append(PAD(PADConfig(**TINY, **variant)).fit_predict(data, 3, seed=5))
    assert np.array_equal(runs[0].labels, runs[1].labels)
    assert np.array_equal(runs[0].embedding, runs[1].embedding)
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[1].history]


def test_divergence_becomes_a_failed_run(tmp_path):
    from clusterbench.framework.runner import run_one

    data = _images()
    data.X[0, 0, 0, 0] = np.nan
    with pytest.raises(DivergenceError):
        PAD(PADConfig(**TINY)).fit_predict(data, 3, seed=0)
    record = run_one(PAD, PADConfig(**TINY), data, method="pad", profile="smoke", seed=0, device="cpu",
                     directory=tmp_path / "seed0")
    assert record["status"] == "failed" and "diverged" in record["reason"]
    assert json.loads((tmp_path / "seed0" / "record.json").read_text())["status"] == "failed"


def test_runner_records_protocols_and_figure4_history(tmp_path):
    from clusterbench.framework.runner import run_one

    data = _images()
    record = run_one(PAD, PADConfig(**TINY), data, method="pad", profile="smoke", seed=0, device="cpu",
                     directory=tmp_path / "seed0")
    assert record["status"] == "ok"
    assert 0 <= record["metrics"]["knn_acc"] <= 1 and 0 <= record["metrics"]["linear_acc"] <= 1
    assert record["protocol_split"].startswith("stratified")
    assert "acc_init" in record["diagnostics"]
    scored = (tmp_path / "seed0" / "scored_history.csv").read_text().splitlines()
    assert scored[0].split(",")[-1] == "scs_precision" and len(scored) == 3
    # Figure 4 is drawn from these files alone
    import importlib.util

    from clusterbench import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("pad_figure4", PROJECT_ROOT / "workflow/scripts/pad_figure4.py")
    figure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figure)
    (tmp_path / "smoke" / "tiny" / "pad").mkdir(parents=True)
    (tmp_path / "seed0").rename(tmp_path / "smoke" / "tiny" / "pad" / "seed0")
    figure.main(["--runs", str(tmp_path), "--profile", "smoke", "--dataset", "tiny", "--out",
                 str(tmp_path / "figure4.png")])
    assert (tmp_path / "figure4.png").stat().st_size > 0
    plotted = (tmp_path / "figure4.csv").read_text().splitlines()
    assert plotted[0].startswith("epoch,scs_mean_size,scs_precision_percent") and len(plotted) == 3


# --- registry and data path ---------------------------------------------------------------------


def test_variants_inherit_and_stay_out_of_the_main_tables():
    from clusterbench.framework.registry import get_method, load_profile, main_methods, resolve_config

    assert "pad" in main_methods() and "pad_k3" not in main_methods()
    assert "pad_k3" not in load_profile("quick")["methods"]
    _, base = resolve_config("pad", "mnist5k", "cpu")
    _, k3 = resolve_config("pad_k3", "mnist5k", "cpu")
    assert k3.k == 3 and base.k == 5 and (k3.width, k3.epochs) == (base.width, base.epochs)
    _, fcs = resolve_config("pad_hpe_fcs", "stl10", "paper")
    assert fcs.hpe == "fcs" and fcs.input_size == 32
    assert get_method("pad_no_scale").only_datasets == get_method("pad").only_datasets


def test_data_path_from_loopback_files_in_the_real_formats(monkeypatch, tmp_path):
    """CIFAR-10 and USPS served over HTTP in their upstream formats, through the runner's loader."""
    import data_fakes
    from test_data_download import use_fakes

    from clusterbench.data import load_dataset

    monkeypatch.setenv("CLUSTERBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("CLUSTERBENCH_MIRROR", raising=False)
    server = data_fakes.FakeServer()
    try:
        for name in ("cifar10", "usps"):
            use_fakes(monkeypatch, server, name)
            data = load_dataset(name)
            seed_everything(0)
            result = PAD(PADConfig(**{**TINY, "batch_size": 8})).fit_predict(data, data.n_classes, seed=0)
            assert result.labels.shape == (data.n_samples,)
            assert result.features["conv5"].shape[0] == data.n_samples
    finally:
        server.close()
