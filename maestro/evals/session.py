"""``maestro eval`` as one function: load the manifests, run each suite (and its baseline), keep scorecards.

    cards = evaluate(Request(paths=[...], suites=["support-quality"], baseline="main"), progress)

Each scorecard is stored in the state store's history (by suite, suite hash and revision) and returned;
with a baseline, the base revision's manifests run the same suite (its cached scorecard is reused when
the suite hash and revision match) and the paired comparison is added as ``comparison``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from maestro import providers
from maestro.evals import drift, scorecard
from maestro.evals.baseline import Revision, base_side, head_revision
from maestro.evals.cache import Store
from maestro.evals.compare import compare
from maestro.evals.datasets import load_dataset
from maestro.evals.errors import EvalError
from maestro.evals.generate import Caller
from maestro.evals.runner import Options, Progress, run_suite
from maestro.evals.suite import FileReader, Suite, suite_of, suites_of
from maestro.evals.trust import confined_reader, refuse_code
from maestro.manifests.kinds.evalsuite import EvalSuite
from maestro.manifests.loader import ManifestSet, SourceFile, discover, read_files
from maestro.manifests.validate import ValidationResult, validate_sources


@dataclass(frozen=True)
class Request:
    paths: Sequence[Path]
    suites: Sequence[str] = ()
    target: str | None = None
    options: Options = field(default_factory=Options)
    baseline: str | None = None
    against: str | None = None  # "last": compare each suite with its previous run (drift)
    state_path: str = ".maestro/state.db"
    cwd: Path = field(default_factory=Path.cwd)
    environ: Mapping[str, str] | None = None
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
    executor: str = "local"  # or "ray"
    ray_address: str | None = None  # None: a new local cluster (or the one this process already joined)


disk_reader = confined_reader  # files a manifest names, read only from inside the repository


def usable(result: ValidationResult, where: str) -> ManifestSet:
    if result.summary.errors:
        first = next(d for d in result.diagnostics if d.severity == "error")
        raise EvalError(
            f"the manifests{where} have {result.summary.errors} error(s), first {first.file}:{first.line}:"
            f"{first.column}: {first.message}; run `maestro validate` and fix them"
        )
    return result.manifests


EXECUTORS = ("local", "ray")
MAX_RAY_WORKERS = 16  # actors per run; each is a process with its own provider clients


def evaluate(request: Request, progress: Progress | None = None) -> list[dict[str, Any]]:
    if request.executor not in EXECUTORS:
        raise EvalError(f"unknown executor '{request.executor}'; use {' or '.join(EXECUTORS)}")
    sources = tuple(read_files(discover(request.paths)))
    manifests = usable(validate_sources(sources), "")
    suites = suites_of(manifests, list(request.suites), disk_reader, target=request.target)
    refuse_code(suites, allowed=request.options.allow_code)
    store = Store.open(request.state_path)
    try:
        return asyncio.run(_evaluate(request, manifests, sources, suites, store, progress=progress))
    finally:
        store.close()


async def _evaluate(
    request: Request,
    manifests: ManifestSet,
    sources: Sequence[SourceFile],
    suites: list[Suite],
    store: Store,
    *,
    progress: Progress | None,
) -> list[dict[str, Any]]:
    head = head_revision(request.cwd)
    cards = []
    async with _Calls(manifests, sources, request) as caller:
        for suite in suites:
            last = next(iter(store.history(suite.name, 1)), None) if request.against == drift.LAST else None
            card = await run_one(suite, _Side(manifests, disk_reader, head), caller, store, request, progress=progress)
            if request.against == drift.LAST:
                drift.against_last(card, last)
            cards.append(card)
    if request.baseline is not None:
        await _with_baseline(request, cards, store, progress)
    return cards


@dataclass(frozen=True)
class _Side:
    """One side of a run: its manifests, how to read the files they name, and which revision it is."""

    manifests: ManifestSet
    read: FileReader
    revision: Revision


async def run_one(
    suite: Suite, side: _Side, caller: Caller, store: Store, request: Request, *, progress: Progress | None
) -> dict[str, Any]:
    dataset = load_dataset(suite, side.manifests, side.read)
    run = await run_suite(suite, dataset, caller, store, side.read, options=request.options, progress=progress)
    revision = side.revision
    card = scorecard.build(run, revision=revision.label)
    card["calls"]["workers"] = caller.workers()
    store.put_scorecard(suite.name, suite.digest, revision.commit, card)
    return card


async def _with_baseline(
    request: Request, cards: list[dict[str, Any]], store: Store, progress: Progress | None
) -> None:
    ref = request.baseline or ""
    side, revision = base_side(ref, request.cwd)
    manifests = usable(validate_sources(side.sources), f" at {ref}")
    async with _Calls(manifests, side.sources, request) as caller:
        for card in cards:
            doc = manifests.get("EvalSuite", card["suite"])
            if doc is None:
                card["baseline"] = {"ref": ref, "revision": revision.commit, "missing": True}
                continue
            suite = suite_of(manifests, doc, side.files, target=request.target)
            refuse_code([suite], allowed=request.options.allow_code, where=f" at {ref}")
            base = store.scorecard(suite.name, suite.digest, revision.commit)
            cached = base is not None
            if base is None:
                base = await run_one(
                    suite, _Side(manifests, side.files, revision), caller, store, request, progress=progress
                )
            base["ref"] = ref
            card["baseline"] = {"ref": ref, "revision": revision.commit, "cached": cached, **scorecard.summary_of(base)}
            card["comparison"] = compare(card, base)


class _Calls:
    """A Caller over a pool of provider clients, closed when the block ends."""

    def __init__(self, manifests: ManifestSet, sources: Sequence[SourceFile], request: Request) -> None:
        self.pool = providers.pool(providers.specs_of(manifests), request.environ, request.transports)
        self.caller: Caller
        if request.executor == "ray":
            from maestro.evals.distributed import RayCaller

            declared = [4 if s.concurrency is None else s.concurrency for s in manifests.records(EvalSuite)]
            workers = min(MAX_RAY_WORKERS, request.options.concurrency or max(declared, default=4))
            self.caller = RayCaller(
                manifests, self.pool, sources, workers=workers, address=request.ray_address, environ=request.environ
            )
        else:
            self.caller = Caller(manifests, self.pool)

    async def __aenter__(self) -> Caller:
        return self.caller

    async def __aexit__(self, *exc: object) -> None:
        self.caller.close()
        await self.pool.aclose()
