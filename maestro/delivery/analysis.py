"""Sequential analysis of a canary against stable: the mSPRT, always valid however often it is read.

The judge is the mixture sequential probability ratio test of Johari, Koomen, Pekelis and Walsh ("Peeking at
A/B Tests", KDD 2017): for the difference ``theta`` of the canary's and stable's means, estimated by
``d = mean_c - mean_s`` with variance ``V = var_c/n_c + var_s/n_s``, and a normal mixture ``N(theta0, tau^2)``
over the alternatives, the likelihood ratio of the paper's equation (11) is

    Lambda(theta0) = sqrt(V / (V + tau^2)) * exp( tau^2 (d - theta0)^2 / (2 V (V + tau^2)) )

and rejecting ``theta = theta0`` once ``Lambda >= 1/alpha`` keeps the error below ``alpha`` at every sample
size, so the controller may look after every request. The values of ``theta0`` not rejected form a confidence
sequence, an interval valid at all times:

    |d - theta0| < sqrt( 2 V (V + tau^2) / tau^2 * (log(1/alpha) + 1/2 log((V + tau^2) / V)) )

(the ``confseq`` package implements these sequences but ships only a source archive that needs Boost to
build, so the two formulas above are written out here.)

A metric fails when the interval lies wholly above its failure margin (the canary is worse, at level alpha)
and passes when it lies wholly below its pass margin. Too little data is inconclusive and holds: a verdict
never passes without ``min_samples`` on both sides. The variance of each side is floored, so a run of
successes cannot make the interval collapse to a point. The hard guard fails at once, without the test,
when the canary's error rate is over 50% after 20 requests.

Rolling back on errors uses a second, one-sided test built for that job (``harm``): a change detector on error
counts. Per second of the rollout, conditional on how many requests each side got, a failed request is the
canary's with probability ``s`` (its share of that second's requests) when both fail alike, and
``s rho / (s rho + 1 - s)`` when the canary fails ``rho`` times as often (the conditional count test of Lindon,
Sanden and Shirikian, "Rapid Regression Detection in Software Deployments through Sequential Testing", KDD 2022;
sampling without replacement only makes it conservative, Hoeffding 1963). Its likelihood ratio is mixed over
harm only (``rho`` from 1.25 to 30, a log-normal prior around 4: a one-sided test) and over the second the
change began (a Shiryaev-Roberts mixture: half the prior on the rollout's start, the other half spread over its
later seconds, ``H / (2 (H + t - 1)(H + t))`` for second ``t``, H = 60), so a fault that starts late is judged on
the requests after it rather than diluted by the healthy ones before. The mixture is a nonnegative martingale
with mean 1 while the canary fails like stable, so by Ville's inequality it ever reaches ``1/alpha`` with
probability at most ``alpha`` over the whole rollout, however often it is read (Ramdas et al., "Game-theoretic
statistics and safe anytime-valid inference", 2023; Shin, Ramdas and Rinaldo, "E-detectors", 2022). It needs
no knowledge of how the router splits traffic and tolerates a stable error rate that drifts, since each second
is judged on its own split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

GUARD_MIN_REQUESTS = 20
GUARD_ERROR_RATE = 0.5
CHANGE_METRIC = "error_rate_change"  # the change detector's verdicts, apart from the analysis' error_rate
CHANGE_HORIZON_S = 60.0  # the change detector spreads half its prior over the seconds at about this scale
_RATIOS = np.geomspace(1.25, 30.0, 32)  # the canary's error rate over stable's, under harm
_LOG_PRIOR = -((np.log(_RATIOS) - math.log(4.0)) ** 2) / (2 * 0.8**2)
_LOG_PRIOR -= np.logaddexp.reduce(_LOG_PRIOR)


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Arm:
    """One side's measurements of a metric: how many, their mean and (population) variance."""

    n: int
    mean: float
    var: float

    @classmethod
    def of_sums(cls, n: int, total: float, squares: float) -> Arm:
        if n <= 0:
            return cls(0, 0.0, 0.0)
        mean = total / n
        return cls(n, mean, max(squares / n - mean * mean, 0.0))


@dataclass(frozen=True, slots=True)
class Test:
    """The settings of one sequential test: level, mixing scale, minimum sample, variance floor, margins."""

    alpha: float = 0.01
    tau: float = 0.05
    min_samples: int = 100
    var_floor: float = 0.01 * 0.99
    fail_margin: float = 0.0
    pass_margin: float = 0.02


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one look at the data concluded, with the numbers it rests on (stored and recorded as they are)."""

    metric: str
    outcome: Outcome
    n_canary: int
    n_stable: int
    estimate: float  # canary mean - stable mean
    low: float
    high: float
    alpha: float
    reason: str

    def as_json(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "outcome": str(self.outcome),
            "n": {"canary": self.n_canary, "stable": self.n_stable},
            "estimate": self.estimate,
            "interval": [self.low, self.high],
            "alpha": self.alpha,
            "reason": self.reason,
        }


def half_width(v: float, tau: float, alpha: float) -> float:
    """Half the width of the mSPRT confidence sequence for an estimate of variance ``v`` (the formula above)."""
    t2 = tau * tau
    return math.sqrt(2 * v * (v + t2) / t2 * (math.log(1 / alpha) + 0.5 * math.log((v + t2) / v)))


def compare(metric: str, canary: Arm, stable: Arm, test: Test) -> Verdict:
    """The verdict on ``metric`` (higher is worse) of ``canary`` against ``stable``."""
    estimate = canary.mean - stable.mean
    if min(canary.n, stable.n) < test.min_samples:
        reason = (
            f"too little data: {canary.n} canary and {stable.n} stable measurements, "
            f"{test.min_samples} needed on each side; holding"
        )
        return Verdict(
            metric, Outcome.INCONCLUSIVE, canary.n, stable.n, estimate, -math.inf, math.inf, test.alpha, reason
        )
    v = max(canary.var, test.var_floor) / canary.n + max(stable.var, test.var_floor) / stable.n
    w = half_width(v, test.tau, test.alpha)
    low, high = estimate - w, estimate + w
    if low > test.fail_margin:
        outcome, reason = (
            Outcome.FAIL,
            f"canary worse than stable by more than {test.fail_margin:g} at alpha {test.alpha:g}",
        )
    elif high < test.pass_margin:
        outcome, reason = Outcome.PASS, f"canary within {test.pass_margin:g} of stable at alpha {test.alpha:g}"
    else:
        outcome, reason = Outcome.INCONCLUSIVE, "the interval still spans the margins; holding for more data"
    return Verdict(metric, outcome, canary.n, stable.n, estimate, low, high, test.alpha, reason)


def guard(canary_errors: Arm) -> Verdict | None:
    """The hard guard on the canary's error rate: a failing verdict, or None when it holds."""
    if canary_errors.n >= GUARD_MIN_REQUESTS and canary_errors.mean > GUARD_ERROR_RATE:
        reason = (
            f"hard guard: canary error rate {canary_errors.mean:.0%} over {GUARD_ERROR_RATE:.0%} "
            f"after {canary_errors.n} requests"
        )
        m = canary_errors.mean
        return Verdict("error_rate", Outcome.FAIL, canary_errors.n, 0, m, m, m, 0.0, reason)
    return None


def error_rate_test(alpha: float = 0.01, min_samples: int = 100) -> Test:
    """Error rate (0 or 1 per request): fail on any significant rise, pass within 2 points of stable."""
    return Test(
        alpha=alpha, tau=0.05, min_samples=min_samples, var_floor=0.01 * 0.99, fail_margin=0.0, pass_margin=0.02
    )


def latency_test(stable_mean_ms: float, alpha: float = 0.01, min_samples: int = 100) -> Test:
    """Mean latency (ms): fail when significantly over 10% slower than stable, pass when surely under 10%."""
    margin = max(0.1 * stable_mean_ms, 1.0)
    floor = max((0.05 * stable_mean_ms) ** 2, 1.0)
    return Test(
        alpha=alpha, tau=margin, min_samples=min_samples, var_floor=floor, fail_margin=margin, pass_margin=margin
    )


@dataclass(frozen=True, slots=True)
class Second:
    """One second of a rollout's requests: how many each side got and how many of those failed."""

    canary_n: int = 0
    canary_errors: int = 0
    stable_n: int = 0
    stable_errors: int = 0


def change_log_evalue(seconds: Sequence[Second], horizon_s: float = CHANGE_HORIZON_S) -> tuple[float, int]:
    """The log of the change detector's e-value after ``seconds`` (the rollout's, from its start), and the
    second the most likely change began."""
    if not seconds:
        return 0.0, 0
    counts = np.array([(s.canary_n, s.canary_errors, s.stable_n, s.stable_errors) for s in seconds], dtype=float)
    n = counts[:, 0] + counts[:, 2]
    share = np.divide(counts[:, 0], n, out=np.zeros_like(n), where=n > 0)
    log_rho = np.log(_RATIOS)
    failed = counts[:, 1] + counts[:, 3]
    # log likelihood ratio of each second (rows) at each ratio (columns)
    step = counts[:, 1:2] * log_rho - failed[:, None] * np.log1p(share[:, None] * (_RATIOS - 1))
    since = np.cumsum(step[::-1], axis=0)[::-1]  # row t: the seconds from t on
    t = np.arange(len(seconds), dtype=float)
    log_start = np.where(t == 0, math.log(0.5), np.log(0.5 * horizon_s / ((horizon_s + t - 1) * (horizon_s + t))))
    terms = since + log_start[:, None] + _LOG_PRIOR
    by_start = np.logaddexp.reduce(terms, axis=1)
    return float(np.logaddexp.reduce(by_start)), int(np.argmax(by_start))


def harm(seconds: Sequence[Second], alpha: float, min_canary: int = GUARD_MIN_REQUESTS) -> Verdict:
    """The change detector's verdict on the canary's errors over the rollout so far: FAIL once its e-value
    reaches ``1/alpha``, else INCONCLUSIVE (it never passes: passing is the analysis steps' job). The numbers
    reported are those since the most likely start of the change, with the mSPRT interval on them."""
    log_e, began = change_log_evalue(seconds)
    recent = seconds[began:]
    nc, xc = sum(s.canary_n for s in recent), sum(s.canary_errors for s in recent)
    ns, xs = sum(s.stable_n for s in recent), sum(s.stable_errors for s in recent)
    canary, stable = Arm.of_sums(nc, xc, xc), Arm.of_sums(ns, xs, xs)
    total_canary = sum(s.canary_n for s in seconds)
    if nc and ns:
        shown = compare("error_rate", canary, stable, Test(alpha=alpha, min_samples=1))
        low, high = shown.low, shown.high
    else:
        low, high = -math.inf, math.inf
    evalue = math.exp(min(log_e, 700.0))
    seen = f"{xc} of {nc} canary requests failed against {xs} of {ns} stable since second {began} of the rollout"
    if log_e >= math.log(1 / alpha) and total_canary >= min_canary:
        outcome = Outcome.FAIL
        reason = f"canary errors rose: {seen}; change detector e-value {evalue:.3g} >= 1/alpha = {1 / alpha:g}"
    else:
        outcome = Outcome.INCONCLUSIVE
        reason = f"no sign of more canary errors yet: {seen}; e-value {evalue:.3g} < {1 / alpha:g}"
    return Verdict(CHANGE_METRIC, outcome, nc, ns, canary.mean - stable.mean, low, high, alpha, reason)
