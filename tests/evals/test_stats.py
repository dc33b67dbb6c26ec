"""maestro.evals.stats: exact bounds, paired tests and bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from maestro.evals import stats


def test_rule_of_three_exact_form_299_cases_prove_one_percent() -> None:
    assert stats.cases_to_bound_rate(0.01) == 299
    assert stats.upper_bound(0, 299) <= 0.01 < stats.upper_bound(0, 298)
    assert stats.upper_bound(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000))


def test_clopper_pearson_matches_the_beta_quantiles() -> None:
    low, high = stats.clopper_pearson(7, 20)
    assert low == pytest.approx(sps.beta.ppf(0.025, 7, 14))
    assert high == pytest.approx(sps.beta.ppf(0.975, 8, 13))
    assert stats.clopper_pearson(0, 10)[0] == 0 and stats.clopper_pearson(10, 10)[1] == 1


def test_mcnemar_exact_counts_only_the_discordant_pairs() -> None:
    base = [True] * 90 + [False] * 10
    head = [True] * 80 + [False] * 20  # ten cases got worse, none better
    test = stats.mcnemar_exact(head, base)
    assert (test.worse, test.better, test.delta) == (10, 0, pytest.approx(-0.1))
    assert test.p_value == pytest.approx(2 * 0.5**10)
    assert test.high < 0  # the interval of the change excludes 0
    same = stats.mcnemar_exact(base, base)
    assert same.p_value == 1.0 and same.delta == 0


def test_paired_bootstrap_sees_a_small_shift_an_unpaired_view_would_miss() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, 300)  # cases vary a lot ...
    head = base - 0.02 + rng.normal(0, 0.01, 300)  # ... but each moves down by about 0.02
    test = stats.paired_bootstrap(head.tolist(), base.tolist())
    assert test.p_value < 0.01 and test.high < 0 and test.delta == pytest.approx(-0.02, abs=0.003)
    unpaired_low = stats.bootstrap_mean(head.tolist()).high > stats.bootstrap_mean(base.tolist()).low
    assert unpaired_low  # the two means' intervals overlap


def test_bootstrap_is_seeded_and_vectorised() -> None:
    values = [0.0, 1.0] * 250
    assert stats.bootstrap_mean(values) == stats.bootstrap_mean(values)
    interval = stats.bootstrap_mean(values)
    assert interval.low < 0.5 < interval.high and interval.high - interval.low < 0.1
    assert math.isnan(stats.bootstrap_mean([]).value)
    assert stats.bootstrap_mean([0.3]) == stats.Interval(0.3, 0.3, 0.3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=60))
def test_the_interval_holds_the_mean(values: list[float]) -> None:
    interval = stats.bootstrap_mean(values)
    assert interval.low - 1e-9 <= interval.value <= interval.high + 1e-9


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 200), st.integers(1, 200))
def test_bounds_are_ordered(events: int, n: int) -> None:
    events = min(events, n)
    low, high = stats.clopper_pearson(events, n)
    assert 0 <= low <= events / n <= high <= 1
    assert stats.lower_bound(events, n) <= events / n <= stats.upper_bound(events, n)


def test_sample_sizes_for_a_five_point_change_paired_and_unpaired() -> None:
    # the anchors: +5 points on 80% needs ~310 paired (10% discordant) vs ~900 per arm unpaired
    assert 300 <= stats.cases_for_paired_change(0.8, 0.05, 0.10) <= 320
    assert 880 <= stats.cases_for_unpaired_change(0.8, 0.05) <= 920
