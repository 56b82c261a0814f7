"""clusterbench.budget: a run's budget against the paper's, and the one reproduction rule."""

from __future__ import annotations

import math

import pytest

from clusterbench.budget import budget, caption_line, reproduction, sem, training_steps


# ------------------------------------------------------------------ the reproduction rule

def test_std_16_9_cell_is_not_reproduced_and_is_unstable():
    """AHCL UMIST NMI at the cpu budget: 63.64 ± 16.94 over 10 seeds, published 95.47 (Δ −31.83).

    The old rule (|Δ| ≤ max(3, 2 std) = 33.9) counted it; 2 × SEM = 2 × 16.94 / 3 = 11.3 does not,
    and std > 5 marks it unstable whatever the budget."""
    v = reproduction(63.64, 16.94, 10, 95.47, paper_budget=True)
    assert v.status == "not reproduced" and not v.within and not v.reproduced
    assert v.unstable and v.label == "not reproduced, unstable"
    assert v.sem == pytest.approx(16.94 / 3)
    assert v.allowed == pytest.approx(2 * 16.94 / 3)
    assert abs(v.gap) <= 2 * 16.94  # what the old rule let through


def test_reduced_budget_cell_never_counts_as_reproduced():
    v = reproduction(95.0, 0.4, 10, 95.3, paper_budget=False)
    assert v.within and v.status == "reduced budget" and not v.reproduced
    assert v.gap == pytest.approx(-0.3) and not v.unstable
    assert reproduction(95.0, 0.4, 10, 95.3, paper_budget=True).reproduced


def test_rule_boundaries_and_units():
    # 3 points is the floor: 2 x SEM below it does not shrink the bound
    assert reproduction(53.0, 1.0, 10, 50.0, paper_budget=True).reproduced
    assert not reproduction(53.1, 1.0, 10, 50.0, paper_budget=True).reproduced
    # a wide spread widens the bound through the SEM, not the std: std 9 over 10 seeds -> 2 x 3 = 6
    assert reproduction(55.9, 9.0, 10, 50.0, paper_budget=True).reproduced
    assert not reproduction(56.1, 9.0, 10, 50.0, paper_budget=True).reproduced
    # std exactly 5 is not unstable, above it is
    assert not reproduction(50, 5.0, 10, 50, paper_budget=True).unstable
    assert reproduction(50, 5.01, 10, 50, paper_budget=True).unstable
    # fractions: the same rule in 0.03 / 0.05
    f = reproduction(0.53, 0.06, 10, 0.50, paper_budget=True, scale="fraction")
    assert f.reproduced and f.unstable and f.allowed == pytest.approx(0.04)
    # a single seed has no SEM: the bound is the floor
    assert sem(7.0, 1) == 0.0 and reproduction(52, 0.0, 1, 50, paper_budget=True).allowed == 3.0
    assert sem(3.0, 10) == pytest.approx(3.0 * math.sqrt(10 / 9) / math.sqrt(10))


# ------------------------------------------------------------------ budgets from the YAML

def test_ahcl_cpu_budget_from_the_yaml():
    b = budget("ahcl", "usps", "cpu")
    assert not b.paper_budget
    assert b.fraction == pytest.approx(10 / 140)       # 10 x 20 of 140 x 20 iterations
    assert b.description.startswith("AHCL: 10 of 140 epochs, narrower network")
    assert "batch_size 256 (paper 2,000)" in b.description
    assert "widths 8/16/32 of 32/64/128" in b.details
    assert b.short == "1/14 of the paper's steps"


def test_paper_profile_is_the_paper_budget_and_kmeans_cpu_too():
    for method, dataset in (("ahcl", "usps"), ("dec", "usps"), ("kmeans", "umist")):
        b = budget(method, dataset, "paper")
        assert b.paper_budget and b.description.endswith(": paper budget")
    assert budget("kmeans", "umist", "cpu").paper_budget  # cpu runs K-Means as the paper


def test_pretraining_counts_in_the_budget():
    b = budget("ae_kmeans", "usps", "cpu")                # method config as the paper, pretraining capped
    assert not b.paper_budget and b.fraction is None
    assert b.pretrain == "ae_mse" and b.pretrain_fraction == pytest.approx(300 / (50 * math.ceil(9298 / 256)))
    assert "pretraining ae_mse: 300 of 1,850 steps" in b.description
    dec = budget("dec", "usps", "cpu")
    assert dec.description.startswith("DEC: 1,000 of 20,000 iterations at most; pretraining ae_mse")


def test_nmce_stage_units_differ_between_profiles():
    b = budget("nmce", "coil20", "cpu")
    assert b.description == "NMCE: 100 of 2,000 stage-1 steps" and b.fraction == pytest.approx(0.05)
    q = budget("nmce", "digits", "quick")                  # quick counts steps, the defaults epochs
    assert "100 stage-1 steps of 600 stage-1 epochs" in q.description


def test_training_steps_of_each_length_vocabulary():
    from clusterbench.blocks.pretrain import resolve_recipe
    from clusterbench.framework.registry import resolve_config

    assert training_steps(resolve_config("dec", "usps", "paper")[1]) == 20000
    assert training_steps(resolve_config("rdc", "digits", "quick")[1]) == 100
    assert training_steps(resolve_config("kmeans", "digits", "paper")[1]) is None  # Lloyd's cap is no budget
    assert training_steps(resolve_recipe("acai", "digits", "paper")) == 130000
    assert training_steps(resolve_recipe("ae_mse", "usps", "paper"), 9298) == 50 * 37
    assert training_steps(resolve_recipe("ae_mse", "usps", "cpu"), 9298) == 300


def test_caption_line_groups_datasets():
    line = caption_line([budget("ahcl", d, "cpu") for d in ("umist", "usps")])
    assert line.startswith("AHCL: 10 of 140 epochs") and line.count("AHCL") == 1
    mixed = caption_line([budget("dec", d, "cpu") for d in ("usps", "palm")])
    assert "(usps)" in mixed and "(palm)" in mixed
