"""Governance, judged in one place: the kill switch, route rules that deny, budgets, and why a decision that
has nothing to try refuses, as a typed ``Refusal``.

The kill switch is the Policies' (compiled into the table) or the one engaged at run time (the state store's,
read into ``LiveState`` by the gateway); either covers all routes or some. A blocking budget of the route or
the team refuses once its period's spend has reached the limit. The gateway's reservation of a request's
estimated cost (``fit_budgets``) applies the same budgets to the order: block refuses, downgrade keeps the
deployments that still fit (cheapest first), alert lets the request through and names the budget.

The freeze stops configuration changes, not requests: the gateway's reload and the live weights judge it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro.policy.allow import UNKNOWN_TAG
from maestro.router.model import POLICY_STAGES, LiveState, Refusal, RefusalKind, Removal, Stage
from maestro.router.table import Budget, RouterTable, RouteTable

# what a route rule's CEL program may raise while it runs: the rule then holds (fail closed)
EVALUATION_ERRORS = (ValueError, TypeError, LookupError, ArithmeticError, RuntimeError)
_POLICY_STAGES = frozenset({Stage.TAG, Stage.POLICY, Stage.ROUTE_RULE})
_REQUEST_STAGES = frozenset({Stage.CONTEXT, Stage.COST})


def killed(table: RouterTable, state: LiveState, route: str) -> bool:
    """Does a kill switch (the manifests' or the live one) cover ``route``?"""
    return covers(table.kill_all, table.kill_routes, route) or covers(state.kill_all, state.kill_routes, route)


def covers(kill_all: bool, kill_routes: Collection[str], route: str) -> bool:
    """Does one kill switch, engaged for every route (``kill_all``) or for ``kill_routes``, cover ``route``? The
    rollout controller asks this of the live switch (``Switches.kills``), the router of both switches."""
    return kill_all or route in kill_routes


def refusal_before(
    table: RouterTable, route: RouteTable, state: LiveState, view: Mapping[str, Any], team: str
) -> Refusal | None:
    """The refusal made before any deployment is looked at: the kill switch, a denying route rule, a budget."""
    if killed(table, state, route.name):
        return Refusal(RefusalKind.KILL_SWITCH, route.name, f"the kill switch is engaged for route '{route.name}'")
    for rule in route.rules:
        if rule.deny:
            try:
                if bool(rule.program.execute({"request": view})):
                    reason = f"route rule '{rule.name}' denies the request"
                    return Refusal(RefusalKind.ROUTE_RULE, route.name, reason, rule.name)
            except EVALUATION_ERRORS as e:
                reason = (
                    f"route rule '{rule.name}' failed to evaluate ({first_sentence(e)}), so it denies the request "
                    "(a rule that fails holds: fail closed); `maestro validate` finds such rules"
                )
                return Refusal(RefusalKind.ROUTE_RULE, route.name, reason, rule.name)
    for budget in table.budgets:  # a budget of a gateway key is the gateway's to judge: the router knows no key
        spent = state.spend_usd.get(budget.name, 0.0)
        if budget.applies(route.name, team, "") and budget.on_exceed == "block" and spent >= budget.limit_usd:
            reason = f"budget '{budget.name}' (${budget.limit_usd:g}) is spent"
            return Refusal(RefusalKind.BUDGET, route.name, reason, budget.name)
    return None


def refusal_after(route: str, removed: Sequence[Removal]) -> Refusal:
    """Why nothing is left to try, from the removals: an unknown tag first, then a request too large for every
    deployment policy allows, then policy alone, else availability."""
    reason = "no deployment is allowed and available: " + _why_none(removed)
    unknown = next((r for r in removed if r.rule == UNKNOWN_TAG), None)
    if unknown is not None:
        return Refusal(RefusalKind.UNKNOWN_TAG, route, reason, unknown.rule, unknown.reason)
    stages = {r.stage for r in removed}
    if stages & _REQUEST_STAGES and stages <= _POLICY_STAGES | _REQUEST_STAGES:
        return Refusal(RefusalKind.TOO_LARGE, route, reason)
    if stages <= _POLICY_STAGES:
        return Refusal(RefusalKind.POLICY, route, reason)
    return Refusal(RefusalKind.UNAVAILABLE, route, reason)


def _why_none(removed: Sequence[Removal]) -> str:
    """Unknown tags first, then why the allowed deployments are unavailable, then why the rest are not allowed."""

    def rank(r: Removal) -> int:
        return 0 if r.rule == UNKNOWN_TAG else 2 if r.stage in POLICY_STAGES else 1

    reasons = list(dict.fromkeys(r.reason for r in sorted(removed, key=rank)))
    return "; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else "") or "no candidates"


def first_sentence(error: Exception) -> str:
    """The start of a CEL error (its messages run to several sentences of advice)."""
    text = str(error).split(". ")[0].strip().rstrip(".")
    return f"{type(error).__name__}: {text[:120]}" if text else type(error).__name__


@dataclass(frozen=True, slots=True)
class BudgetFit:
    """What the budgets leave of an order: the deployments kept, the alert budgets gone past, or the budget
    that refuses (with what it has left and what the request may need)."""

    order: tuple[str, ...]
    alerts: tuple[str, ...] = ()
    refused: Budget | None = None
    remaining: float = 0.0
    needed: float = 0.0


def fit_budgets(
    budgets: Sequence[Budget],
    remaining: Callable[[Budget], float],
    order: Sequence[str],
    estimates: Mapping[str, float],
) -> BudgetFit:
    """Apply ``budgets`` (each with ``remaining(budget)`` USD left) to ``order``, whose deployments may cost up
    to ``estimates``: block refuses, downgrade keeps what fits (cheapest first, refusing when nothing does),
    alert lets the request through."""
    kept, alerts = tuple(order), []
    for budget in budgets:
        left = remaining(budget)
        needed = max((estimates[k] for k in kept), default=0.0)
        if needed <= left:
            continue
        if budget.on_exceed == "alert":
            alerts.append(budget.name)
            continue
        fitting = tuple(sorted((k for k in kept if estimates[k] <= left), key=lambda k: estimates[k]))
        if budget.on_exceed == "block" or not fitting:
            return BudgetFit((), tuple(alerts), budget, left, needed)
        kept = fitting
    return BudgetFit(kept, tuple(alerts))
