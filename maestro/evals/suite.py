"""An EvalSuite manifest as an immutable record: target, assertions, thresholds, repeats, SLO.

The schema has checked the shape; this module only reads it, adds where each assertion is written (line),
and computes the suite's content hash (the manifest, its dataset and any Python scorer or prompt file), the
key under which baseline results are cached.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from maestro.evals.errors import EvalError
from maestro.manifests.kinds.evalsuite import EvalSuite
from maestro.manifests.loader import Document, ManifestSet
from maestro.manifests.metrics import assertion_metric

FileReader = Callable[[str, str], bytes | None]  # (base_dir, relative path) -> bytes, None if missing

DEFAULT_THRESHOLDS = {"similarity": 0.8, "llm-judge": 0.5, "groundedness": 1.0}


@dataclass(frozen=True, slots=True)
class Check:
    """One assertion of the suite, applied to every case."""

    name: str
    type: str
    line: int
    value: Any = None
    has_value: bool = False
    threshold: float = 1.0
    weight: float = 1.0
    route: str | None = None
    rubric: str | None = None
    max: float | None = None

    def key(self) -> str:
        """A stable text of what this check does (part of the grading cache key)."""
        return json.dumps(
            [self.name, self.type, self.value, self.has_value, self.threshold, self.route, self.rubric, self.max],
            sort_keys=True,
            default=str,
        )


@dataclass(frozen=True, slots=True)
class Target:
    """Where each case is sent: a route by name, optionally through a prompt (system text, user template)."""

    route: str
    system: str | None = None
    template: str | None = None

    def messages(self, text: str, variables: Mapping[str, Any]) -> list[dict[str, str]]:
        user = text if self.template is None else _fill(self.template, text, variables)
        messages = [{"role": "system", "content": self.system}] if self.system else []
        return [*messages, {"role": "user", "content": user}]


@dataclass(frozen=True, slots=True)
class Bound:
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Slo:
    """The service-level objective the suite's target serves, for the burn forecast."""

    target: float  # e.g. 0.995: share of good requests
    window_days: float
    requests_per_day: float
    latency_ms: float | None = None  # a request slower than this counts as bad


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    file: str
    line: int
    base_dir: str
    target: Target
    checks: tuple[Check, ...]
    dataset: Mapping[str, Any]
    pass_rate: float | None = None
    metrics: Mapping[str, Bound] = field(default_factory=dict)
    repeats: int = 1
    concurrency: int = 4
    max_tokens: int | None = None  # the request's max_tokens
    temperature: float | None = None
    baseline_ref: str | None = None
    min_delta: float = 0.0
    slo: Slo | None = None
    digest: str = ""

    def thresholds(self) -> dict[str, Any]:
        """The suite's thresholds as plain data (copied into each scorecard so the gate needs only that)."""
        return {
            "passRate": self.pass_rate,
            "metrics": {k: {"min": b.min, "max": b.max} for k, b in self.metrics.items()},
            "minDelta": self.min_delta,
        }


def _fill(template: str, text: str, variables: Mapping[str, Any]) -> str:
    out = template.replace("{{input}}", text)
    for name, value in variables.items():
        out = out.replace("{{vars." + name + "}}", value if isinstance(value, str) else json.dumps(value))
    return out


def suites_of(manifests: ManifestSet, names: list[str], read: FileReader, *, target: str | None = None) -> list[Suite]:
    """The named suites (all when ``names`` is empty), in manifest order; unknown names are an EvalError."""
    docs = manifests.of_kind("EvalSuite")
    if names:
        known = {d.name: d for d in docs}
        missing = [n for n in names if n not in known]
        if missing:
            raise EvalError(
                f"no EvalSuite named {', '.join(missing)}; known: {', '.join(sorted(known)) or 'none'} "
                "(run `maestro validate` to list the manifests it reads)"
            )
        docs = [known[n] for n in names]
    if not docs:
        raise EvalError("the manifests hold no EvalSuite; add one (see docs/evals.md)")
    if target is not None and manifests.get("Route", target) is None:
        routes = ", ".join(sorted(d.name for d in manifests.of_kind("Route"))) or "none"
        raise EvalError(f"--target '{target}' is not a Route; known routes: {routes}")
    return [suite_of(manifests, d, read, target=target) for d in docs]


def suite_of(manifests: ManifestSet, doc: Document, read: FileReader, *, target: str | None = None) -> Suite:
    record: EvalSuite = doc.record
    suite = Suite(
        name=record.name,
        file=doc.file,
        line=doc.line,
        base_dir=doc.base_dir,
        target=_target(record, read, target),
        checks=tuple(_check(manifests, doc, i, a) for i, a in enumerate(record.assertions)),
        dataset=record.dataset,
        pass_rate=record.pass_rate,
        metrics={k: Bound(low, high) for k, (low, high) in record.metrics.items()},
        repeats=record.repeats,
        concurrency=4 if record.concurrency is None else int(record.concurrency),
        max_tokens=record.max_tokens,
        temperature=record.temperature,
        baseline_ref=record.baseline_ref,
        min_delta=record.min_delta,
        slo=_slo(record.slo),
    )
    return _with_digest(suite, doc, read)


def _check(manifests: ManifestSet, doc: Document, index: int, data: Mapping[str, Any]) -> Check:
    kind = data["type"]
    line, _ = manifests.locator.at(doc, ("spec", "assertions", index))
    return Check(
        name=assertion_metric(data, index),
        type=kind,
        line=line,
        value=data.get("value"),
        has_value="value" in data,
        threshold=float(data.get("threshold", DEFAULT_THRESHOLDS.get(kind, 1.0))),
        weight=float(data.get("weight", 1.0)),
        route=data.get("route"),
        rubric=data.get("rubric"),
        max=data.get("max"),
    )


def _target(suite: EvalSuite, read: FileReader, override: str | None) -> Target:
    where = f"{suite.source.where}: {suite.name}"
    prompt = suite.prompt
    if prompt is not None:
        system = prompt.system
        if prompt.file is not None:
            raw = read(suite.source.base_dir, prompt.file)
            if raw is None:
                raise EvalError(f"{where}: cannot read the prompt file {prompt.file}")
            system = raw.decode("utf-8", "replace")
        return Target(override or prompt.route, system, prompt.template)
    if suite.target_kind == "route" or override:
        return Target(override or suite.target_name or "")
    kind = suite.target_kind
    raise EvalError(
        f"{where} targets {kind} '{suite.target_name}'; maestro eval runs route and prompt "
        f"targets (the {kind} runtime is not part of maestro yet); pass --target ROUTE to evaluate a route instead"
    )


_UNIT_DAYS = {"h": 1 / 24, "d": 1.0, "w": 7.0}


def _slo(data: Mapping[str, Any] | None) -> Slo | None:
    if not data:
        return None
    window = str(data.get("window", "30d"))
    days = int(window[:-1]) * _UNIT_DAYS[window[-1]]
    return Slo(float(data["target"]), days, float(data["requestsPerDay"]), data.get("latencyMs"))


def _with_digest(suite: Suite, doc: Document, read: FileReader) -> Suite:
    h = hashlib.sha256(json.dumps(doc.data, sort_keys=True, default=str).encode())
    if "file" in suite.dataset:
        h.update(read(doc.base_dir, suite.dataset["file"]) or b"<missing>")
    for check in suite.checks:
        if check.type == "python" and isinstance(check.value, str):
            h.update(read(doc.base_dir, check.value.rsplit(":", 1)[0]) or b"<missing>")
    if suite.target.system:
        h.update(suite.target.system.encode())
    return replace(suite, digest=h.hexdigest()[:16])
