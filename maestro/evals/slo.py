"""The SLO burn forecast: if the evaluated change served the suite's expected traffic, how fast would it burn
the error budget?

A run is *bad* when the target gave no answer or, with ``latencyMs``, answered slower than that. The burn
rate is the bad share over the budget (1 - target): 1.0 uses the budget exactly over the window, 14.4
uses 2% of a 30-day budget in an hour (the usual page threshold), 6 is the usual ticket threshold. The
forecast is computed for the observed share and for its exact 95% upper bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.evals import stats

PAGE, TICKET = 14.4, 6.0


def forecast(card: Mapping[str, Any]) -> dict[str, Any] | None:
    slo = card.get("slo")
    if not slo:
        return None
    runs = card["cases"]
    limit = slo.get("latencyMs")
    bad = sum(1 for r in runs if r.get("errorKind") == "target" or (limit is not None and r["latencyMs"] > limit))
    n = len(runs)
    budget = 1 - float(slo["target"])
    rate = bad / n if n else 0.0
    upper = stats.upper_bound(bad, n)
    burn, burn_upper = rate / budget, upper / budget
    window = float(slo["windowDays"])
    return {
        "bad": bad,
        "runs": n,
        "badRate": rate,
        "badRateUpper": upper,
        "burnRate": burn,
        "burnRateUpper": burn_upper,
        "daysToExhaust": window / burn if burn > 0 else None,
        "daysToExhaustUpper": window / burn_upper if burn_upper > 0 else None,
        "badRequestsPerDay": rate * float(slo["requestsPerDay"]),
        "budgetRequests": budget * float(slo["requestsPerDay"]) * window,
        "alert": "page" if burn >= PAGE else "ticket" if burn >= TICKET else "over-budget" if burn > 1 else "ok",
    }
