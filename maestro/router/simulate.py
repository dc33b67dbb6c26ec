"""Replaying many requests, under outage scenarios, to see where traffic goes and whether policy holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from maestro.router.decide import decide, estimate_tokens
from maestro.router.model import Circuit, Decision, DeploymentState, LiveState, Request
from maestro.router.table import RouterError, RouterTable


@dataclass
class TagClass:
    """The requests that carried one set of tags."""

    tags: str
    requests: int = 0
    served: int = 0
    denied: Counter[str] = field(default_factory=Counter)
    primaries: Counter[str] = field(default_factory=Counter)
    cost_usd: float = 0.0

    @property
    def always_served(self) -> bool:
        return self.served == self.requests

    @property
    def expected_cost_usd(self) -> float:
        return self.cost_usd / self.served if self.served else 0.0


@dataclass(frozen=True)
class Simulation:
    outages: tuple[str, ...]
    classes: tuple[TagClass, ...]
    providers: Mapping[str, int]
    decisions: int

    @property
    def unserved_classes(self) -> list[str]:
        return [c.tags for c in self.classes if not c.always_served]

    def fails(self, fail_on: str) -> bool:
        """Whether the run fails under ``--fail-on``: ``unserved`` when a tag class was not always served."""
        return fail_on == "unserved" and bool(self.unserved_classes)


FAIL_ON = ("never", "unserved")


def outage_state(table: RouterTable, providers: Iterable[str]) -> LiveState:
    """Live state in which every deployment of ``providers`` has an open circuit."""
    down = set(providers)
    missing = down - {d.provider.name for d in table.deployments.values()}
    if missing:
        raise RouterError(f"--outage names unknown provider(s): {', '.join(sorted(missing))}")
    return LiveState(
        {k: DeploymentState(circuit=Circuit.OPEN) for k, d in table.deployments.items() if d.provider.name in down}
    )


def simulate(
    table: RouterTable, requests: Iterable[Request], outages: Iterable[str] = (), *, seed: int = 0
) -> Simulation:
    state = outage_state(table, outages)
    classes: dict[str, TagClass] = {}
    providers: Counter[str] = Counter()
    count = 0
    for i, request in enumerate(requests):
        decision = decide(table, request, state, seed=seed + i)
        count += 1
        key = ", ".join(sorted(decision.tags)) or "(untagged)"
        tag_class = classes.setdefault(key, TagClass(key))
        _count(table, tag_class, request, decision, providers, down=state)
    return Simulation(tuple(outages), tuple(sorted(classes.values(), key=lambda c: c.tags)), dict(providers), count)


def _count(
    table: RouterTable, c: TagClass, request: Request, decision: Decision, providers: Counter[str], *, down: LiveState
) -> None:
    """Count who serves ``request``: the first of the order that is up. In panic (see ``Decision.panic``) the
    order holds deployments whose circuit is open; in a simulated outage they are down, and fail."""
    c.requests += 1
    serving = next((k for k in decision.order if down.of(k).circuit != Circuit.OPEN), None)
    if serving is None:
        why = decision.denied or "no allowed deployment"
        if decision.order:
            why = "every allowed deployment is down (tried in panic, each failed)"
        c.denied[why] += 1
        return
    c.served += 1
    c.primaries[serving] += 1
    providers[serving.split("/", 1)[0]] += 1
    tokens = request.input_tokens if request.input_tokens is not None else estimate_tokens(request.messages)
    c.cost_usd += table.deployments[serving].cost(tokens, request.max_output_tokens)
