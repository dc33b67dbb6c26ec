"""Chaos scenarios: JSON files (``*.chaos.json``, which ``maestro validate`` does not read as manifests).

    {"name": "brownout",
     "upstreams": {"primary": {"faults": {"error_rate": 0.3}}, "fallback": {}},
     "route": {"candidates": ["primary"], "fallback": ["fallback"], "firstTokenTimeout": "1s"},
     "load": {"requests": 1000, "rate_per_s": 100, "concurrency": 32},
     "targets": {"success_rate": 0.999}}

Every key is checked: a typo is an error that names the key and the keys allowed. Every scenario has the
targets ``policy_violations: 0`` and ``silent_truncations: 0`` unless it sets them itself. ``allowed`` maps a
tag to the upstreams that may serve a request carrying it: the scenario author's own statement of the policy,
checked besides the router's allowed set. ``rollout`` runs a Rollout of the route through the real controller
and injects a fault into its canary (``chaos.canary``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from maestro.chaos import canary
from maestro.chaos.canary import RolloutDrill
from maestro.chaos.upstream import Faults
from maestro.errors import UsageError

SUFFIX = ".chaos.json"
TARGETS = (
    "success_rate",
    "policy_violations",
    "p99_added_ms",
    "max_attempts_to_down_provider_per_cooldown",
    "silent_truncations",
    "rescue_p99_ms",
    "time_to_recover_s",
    "time_to_detect_s",
    "mttr_s",
)
_LOWER_IS_BETTER = frozenset(TARGETS) - {"success_rate"}
_TOP = {"name", "description", "upstreams", "route", "breaker", "phases", "load", "targets", "allowed", "rollout"}
_ALWAYS = {"policy_violations": 0.0, "silent_truncations": 0.0}
_UNMEASURED = {
    "rescue_p99_ms": "no answer needed a second attempt",
    "time_to_recover_s": "the healed upstream served no answer after it healed, or no phase heals one",
    "max_attempts_to_down_provider_per_cooldown": "no upstream fails every call",
    "time_to_detect_s": "the canary was not rolled back, or the rollout ended before the fault began",
    "mttr_s": "the canary was not rolled back, or the rollout ended before the fault began",
}
_SCALED = ("time_to_detect_s", "mttr_s")  # targets in seconds of a rollout, shorter when the drill is faster


@dataclass(frozen=True, slots=True)
class UpstreamSpec:
    name: str
    jurisdiction: str = "us"
    faults: Faults = field(default_factory=Faults)
    price_in: float = 1.0
    price_out: float = 2.0


@dataclass(frozen=True, slots=True)
class Phase:
    at_s: float
    faults: Mapping[str, Faults]


@dataclass(frozen=True, slots=True)
class Load:
    requests: int = 1000
    rate_per_s: float = 100.0
    concurrency: int = 32
    stream_share: float = 0.5
    tagged_share: float = 0.0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    upstreams: tuple[UpstreamSpec, ...]
    candidates: tuple[str, ...]
    fallback: tuple[str, ...]
    first_token: str = "1s"
    retries: int = 1
    backoff: str = "20ms"
    failures: int = 3
    cooldown_s: float = 2.0
    stall_s: float = 2.0
    phases: tuple[Phase, ...] = ()
    load: Load = field(default_factory=Load)
    targets: Mapping[str, float] = field(default_factory=dict)
    allowed: Mapping[str, frozenset[str]] = field(default_factory=dict)  # tag -> the upstreams that may serve it
    rollout: RolloutDrill | None = None

    def scaled(self, factor: float) -> Scenario:
        """The drill ``factor`` times faster: the load's rate times ``factor``, the same number of requests, and
        a rollout's fault window and time targets divided by it (a rollout's statistics count requests, so
        its times shrink with the rate). For CI: the same scenario in a fraction of the time."""
        if factor <= 0:
            raise UsageError(f"--scale must be above 0, not {factor:g}")
        targets = {k: v / factor if k in _SCALED else v for k, v in self.targets.items()}
        return replace(
            self,
            load=replace(self.load, rate_per_s=self.load.rate_per_s * factor),
            targets=targets,
            rollout=None if self.rollout is None else self.rollout.scaled(factor),
        )

    def missed(self, values: Mapping[str, float | None]) -> list[str]:
        """The targets the drill's values do not meet."""
        out = []
        for name, target in self.targets.items():
            value = values.get(name)
            if value is None:  # a target the scenario sets must be measured: nothing to measure is a miss
                out.append(f"{name} not measured ({_UNMEASURED.get(name, 'the drill gave no value')})")
                continue
            ok = value <= target if name in _LOWER_IS_BETTER else value >= target
            if not ok:
                out.append(f"{name} {value:g} (target {'<=' if name in _LOWER_IS_BETTER else '>='} {target:g})")
        return out


def find(name_or_file: str, folders: list[Path]) -> Path:
    path = Path(name_or_file)
    if path.is_file():
        return path
    for folder in folders:
        candidate = folder / f"{name_or_file}{SUFFIX}"
        if candidate.is_file():
            return candidate
    known = sorted(p.name.removesuffix(SUFFIX) for f in folders if f.is_dir() for p in f.glob(f"*{SUFFIX}"))
    raise UsageError(
        f"no chaos scenario '{name_or_file}': not a file, and not in {', '.join(map(str, folders))}; "
        f"known: {', '.join(known) or 'none'}"
    )


def load(path: Path) -> Scenario:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from e
    try:
        return parse(data)
    except (TypeError, ValueError, KeyError) as e:
        raise UsageError(f"{path}: {e}") from e


def parse(data: Any) -> Scenario:
    top = _keys(data, "scenario", _TOP)
    upstreams = tuple(_upstream(name, spec) for name, spec in _keys(top["upstreams"], "upstreams", None).items())
    names = {u.name for u in upstreams}
    route = _keys(
        top["route"], "route", {"candidates", "fallback", "firstTokenTimeout", "retries", "backoff", "stallTimeout"}
    )
    for name in [*route["candidates"], *route.get("fallback", [])]:
        if name not in names:
            raise ValueError(f"route names upstream '{name}', which is not in upstreams ({', '.join(sorted(names))})")
    breaker = _keys(top.get("breaker", {}), "breaker", {"failures", "cooldown_s"})
    load_ = _keys(top.get("load", {}), "load", {f.name for f in fields(Load)})
    targets = {**_ALWAYS, **_keys(top.get("targets", {}), "targets", set(TARGETS))}
    phases = tuple(
        Phase(float(p["at_s"]), {n: _faults(f, n) for n, f in _keys(p["faults"], "phase faults", names).items()})
        for p in (_keys(p, "phase", {"at_s", "faults"}) for p in top.get("phases", []))
    )
    return Scenario(
        name=str(top["name"]),
        description=str(top.get("description", "")),
        upstreams=upstreams,
        candidates=tuple(route["candidates"]),
        fallback=tuple(route.get("fallback", [])),
        first_token=str(route.get("firstTokenTimeout", "1s")),
        retries=int(route.get("retries", 1)),
        backoff=str(route.get("backoff", "20ms")),
        stall_s=float(route.get("stallTimeout", 2.0)),
        failures=int(breaker.get("failures", 3)),
        cooldown_s=float(breaker.get("cooldown_s", 2.0)),
        phases=phases,
        load=Load(**{**load_, "tags": tuple(load_.get("tags", ()))}),
        targets={k: float(v) for k, v in targets.items()},
        allowed=_allowed(top.get("allowed", {}), names),
        rollout=canary.parse(top["rollout"], names) if "rollout" in top else None,
    )


def _allowed(data: Any, names: set[str]) -> dict[str, frozenset[str]]:
    out = {}
    for tag, who in _keys(data, "allowed", None).items():
        if not isinstance(who, list) or not all(isinstance(n, str) for n in who):
            raise TypeError(f"allowed['{tag}'] must be a list of upstream names")
        if not set(who) <= names:
            unknown, known = ", ".join(sorted(set(who) - names)), ", ".join(sorted(names))
            raise ValueError(f"allowed['{tag}'] names upstream(s) {unknown}, not in upstreams ({known})")
        out[str(tag)] = frozenset(who)
    return out


def _upstream(name: str, spec: Any) -> UpstreamSpec:
    spec = _keys(spec, f"upstream '{name}'", {"jurisdiction", "faults", "price_in", "price_out"})
    return UpstreamSpec(
        name,
        str(spec.get("jurisdiction", "us")),
        _faults(spec.get("faults", {}), name),
        float(spec.get("price_in", 1.0)),
        float(spec.get("price_out", 2.0)),
    )


def _faults(data: Any, name: str) -> Faults:
    return Faults(**_keys(data, f"faults of '{name}'", {f.name for f in fields(Faults)}))


def _keys(data: Any, what: str, allowed: set[str] | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError(f"{what} must be an object")
    if allowed is not None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"{what}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return data
