"""The statistics behind scorecards and the gate: bootstrap intervals, paired tests, exact binomial bounds.

Library choice: numpy for the resampling (one vectorised draw of ``resamples x n`` indices, no Python loop),
scipy for the exact binomial and Beta quantiles (McNemar's exact test is a binomial test on the discordant
pairs; Clopper-Pearson bounds are Beta quantiles). Every function is pure; randomness comes from a seeded
``numpy.random.Generator`` so the same numbers give the same intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

ALPHA = 0.05
RESAMPLES = 2000
SEED = 20260101


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate and its two-sided (1 - alpha) interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Head minus base on the same cases: the mean difference, its interval, and a two-sided p-value."""

    delta: float
    low: float
    high: float
    p_value: float
    n: int
    test: str  # "paired-bootstrap" or "mcnemar-exact"
    worse: int = 0  # mcnemar: cases that passed on base and fail on head
    better: int = 0  # mcnemar: cases that failed on base and pass on head


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(SEED if seed is None else seed)


def _indices(n: int, resamples: int, seed: int | None) -> np.ndarray:
    return _rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_mean(values: Sequence[float], *, resamples: int = RESAMPLES, seed: int | None = None) -> Interval:
    """The mean of ``values`` with a percentile-bootstrap (1 - ALPHA) interval; one value gives a point."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    mean = float(data.mean())
    if data.size == 1 or np.all(data == data[0]):
        return Interval(mean, mean, mean)
    means = data[_indices(data.size, resamples, seed)].mean(axis=1)
    low, high = np.quantile(means, [ALPHA / 2, 1 - ALPHA / 2])
    return Interval(mean, float(low), float(high))


def bootstrap_quantile(
    values: Sequence[float], q: float, *, resamples: int = RESAMPLES, seed: int | None = None
) -> Interval:
    """The ``q`` quantile (0..1) of ``values`` with a percentile-bootstrap interval (latency p95)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    point = float(np.quantile(data, q))
    if data.size == 1:
        return Interval(point, point, point)
    quantiles = np.quantile(data[_indices(data.size, resamples, seed)], q, axis=1)
    low, high = np.quantile(quantiles, [ALPHA / 2, 1 - ALPHA / 2])
    return Interval(point, float(low), float(high))


def paired_bootstrap(
    head: Sequence[float], base: Sequence[float], *, resamples: int = RESAMPLES, seed: int | None = None
) -> PairedTest:
    """Paired bootstrap of head - base over the same cases (same order): the mean delta, interval, p-value.

    The p-value is twice the smaller tail of the resampled mean deltas around 0 (at least 1/resamples).
    """
    h, b = np.asarray(head, dtype=float), np.asarray(base, dtype=float)
    if h.shape != b.shape:
        raise ValueError("paired samples must have the same length")
    diffs = h - b
    n = int(diffs.size)
    if n == 0:
        return PairedTest(math.nan, math.nan, math.nan, 1.0, 0, "paired-bootstrap")
    delta = float(diffs.mean())
    if np.all(diffs == diffs[0]):
        p = 1.0 if delta == 0 else 0.0
        return PairedTest(delta, delta, delta, p, n, "paired-bootstrap")
    means = diffs[_indices(n, resamples, seed)].mean(axis=1)
    low, high = np.quantile(means, [ALPHA / 2, 1 - ALPHA / 2])
    tail = min(float(np.mean(means <= 0)), float(np.mean(means >= 0)))
    p = min(1.0, max(2 * tail, 1 / resamples))
    return PairedTest(delta, float(low), float(high), p, n, "paired-bootstrap")


def mcnemar_exact(head: Sequence[bool], base: Sequence[bool]) -> PairedTest:
    """McNemar's exact test on paired pass/fail: a two-sided binomial test on the discordant pairs.

    ``delta`` is the change in pass rate (head - base); the interval is the Newcombe-free, simple
    Clopper-Pearson interval on the share of discordant pairs that got worse, mapped to a pass-rate change.
    """
    if len(head) != len(base):
        raise ValueError("paired samples must have the same length")
    n = len(head)
    worse = sum(1 for h, b in zip(head, base, strict=True) if b and not h)
    better = sum(1 for h, b in zip(head, base, strict=True) if h and not b)
    discordant = worse + better
    delta = (better - worse) / n if n else math.nan
    if discordant == 0:
        return PairedTest(delta, delta, delta, 1.0, n, "mcnemar-exact", worse, better)
    p = float(sps.binomtest(worse, discordant, 0.5).pvalue)
    lo_w, hi_w = clopper_pearson(worse, discordant)
    # pass-rate change = (better - worse) / n = discordant * (1 - 2 * share_worse) / n
    low = discordant * (1 - 2 * hi_w) / n
    high = discordant * (1 - 2 * lo_w) / n
    return PairedTest(delta, low, high, min(1.0, p), n, "mcnemar-exact", worse, better)


def clopper_pearson(successes: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """The exact two-sided (1 - alpha) binomial interval for ``successes`` out of ``n``."""
    if n == 0:
        return 0.0, 1.0
    low = 0.0 if successes == 0 else float(sps.beta.ppf(alpha / 2, successes, n - successes + 1))
    high = 1.0 if successes == n else float(sps.beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return low, high


def upper_bound(events: int, n: int, alpha: float = ALPHA) -> float:
    """The exact one-sided (1 - alpha) upper bound on a rate seen ``events`` times in ``n`` (hallucination).

    With no events this is ``1 - alpha ** (1 / n)``, the exact form of the rule of three (about 3 / n).
    """
    if n == 0:
        return 1.0
    if events >= n:
        return 1.0
    return float(sps.beta.ppf(1 - alpha, events + 1, n - events))


def lower_bound(successes: int, n: int, alpha: float = ALPHA) -> float:
    """The exact one-sided (1 - alpha) lower bound on a rate seen ``successes`` times in ``n`` (pass rate)."""
    if n == 0 or successes == 0:
        return 0.0
    return float(sps.beta.ppf(alpha, successes, n - successes + 1))


def cases_to_bound_rate(limit: float, alpha: float = ALPHA) -> int:
    """Fewest cases, all clean, whose exact upper bound on the rate is at most ``limit`` (0 < limit < 1).

    Proving a hallucination rate <= 1% with none observed needs 299 cases: ``ceil(ln(alpha) / ln(1 - limit))``.
    """
    if not 0 < limit < 1:
        raise ValueError("the limit must lie strictly between 0 and 1")
    return math.ceil(math.log(alpha) / math.log1p(-limit) - 1e-9)


def cases_for_paired_change(
    base_rate: float, change: float, discordant: float, alpha: float = ALPHA, power: float = 0.8
) -> int:
    """Cases a paired (McNemar) test needs to detect a pass-rate change of ``change`` with ``power``.

    ``discordant`` is the share of cases expected to flip either way between two runs (at least |change|).
    Uses the normal approximation of Connor (1987); rounds up.
    """
    psi = max(discordant, abs(change) + 1e-12)
    z_a = float(sps.norm.ppf(1 - alpha / 2))
    z_b = float(sps.norm.ppf(power))
    n = (z_a * math.sqrt(psi) + z_b * math.sqrt(psi - change**2)) ** 2 / change**2
    del base_rate  # the paired size depends on the discordance, not on the base rate
    return math.ceil(n)


def cases_for_unpaired_change(base_rate: float, change: float, alpha: float = ALPHA, power: float = 0.8) -> int:
    """Cases per arm an unpaired two-proportion test needs for the same change (for comparison)."""
    p1, p2 = base_rate, base_rate + change
    z_a = float(sps.norm.ppf(1 - alpha / 2))
    z_b = float(sps.norm.ppf(power))
    pbar = (p1 + p2) / 2
    n = (z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / change**2
    return math.ceil(n)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (linear interpolation); NaN when empty."""
    return float(np.quantile(np.asarray(values, dtype=float), q)) if len(values) else math.nan


def variance(values: Sequence[float]) -> float:
    """Sample variance (n - 1); 0 for fewer than two values."""
    return float(np.var(np.asarray(values, dtype=float), ddof=1)) if len(values) > 1 else 0.0
