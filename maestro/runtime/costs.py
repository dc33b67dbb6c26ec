"""Cost caps of a run, reserved before each model call: per node (a step's ``maxCostUsd``) and per run
(``limits.maxCostUsd``), with auto-downgrade.

Before a call, each deployment the router's decision would try is priced at list price for the messages'
estimated input tokens and the call's ``max_tokens`` of output (``RouteCaller.estimates``). What is left of
the node's cap (less what the node spent) and of the run's (less what the run spent) are budgets with
``onExceed: downgrade`` for the router's governance (``maestro.router.governance.fit_budgets``, as the
gateway's budgets): the deployments that fit are kept, cheapest first, and the call tries only those; when
none fits, the node stops with the reason (``LimitError``, never retried). After the call, what it really
cost is added to the node and the run; ``nodes.end`` fails a node that spent past its cap all the same
(an estimate can be low).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from maestro.router import Budget, Decision
from maestro.router.governance import fit_budgets
from maestro.runtime.errors import LimitError

if TYPE_CHECKING:
    from maestro.calls import RouteCaller
    from maestro.runtime.nodes import Context


def reserve(
    caller: RouteCaller,
    ctx: Context,
    record: Mapping[str, Any],
    *,
    route: str,
    messages: Sequence[Mapping[str, Any]],
    max_tokens: int | None,
) -> tuple[Decision | None, str | None]:
    """The decision to call with, its order cut to what the node's and the run's caps leave (None: no cap
    applies, decide as usual), and the deployment the router preferred when a cap moved the call off it (the
    downgrade); a LimitError when no deployment fits."""
    node_cap, run_cap = ctx.node.max_cost_usd, ctx.run.get("maxCostUsd")
    if node_cap is None and run_cap is None:
        return None, None
    decision = caller.decide(route, messages)
    if decision.refusal is not None or not decision.order:
        return None, None  # the call refuses with the router's reason
    left: dict[str, float] = {}
    if node_cap is not None:
        left["node"] = float(node_cap) - float(record["costUsd"])
    if run_cap is not None:
        left["run"] = float(run_cap) - float(ctx.run.get("spentUsd", 0.0)) - float(record["costUsd"])
    budgets = [Budget(name, cap, "run", "downgrade") for name, cap in left.items()]
    estimates = caller.estimates(decision.order, messages, max_tokens)
    fit = fit_budgets(budgets, lambda b: left[b.name], decision.order, estimates)
    if fit.refused is not None:
        whose = f"node '{ctx.node.id}'" if fit.refused.name == "node" else "run"
        cheapest = min(estimates.values())
        raise LimitError(
            f"stopped before a model call through route '{route}': the cheapest deployment may cost "
            f"${cheapest:.6f} and the {whose} has ${max(fit.remaining, 0.0):.6f} left of its cap"
        )
    if fit.order == decision.order:
        return decision, None
    preferred = decision.order[0] if fit.order[:1] != decision.order[:1] else None
    return replace(decision, order=fit.order), preferred
