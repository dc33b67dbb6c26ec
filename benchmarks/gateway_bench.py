"""Latency the gateway adds over calling the upstream directly, at fixed request rates.

    python benchmarks/gateway_bench.py [--rates 50,200,500] [--seconds 10] [--json]

Three processes on this machine: a fast local upstream (maestro's fake OpenAI upstream, no faults, served
by uvicorn), ``maestro gateway`` in front of it (a one-route manifest set, no budgets, no admin token), and
this process, the load generator. For each rate, an open loop sends the same non-streaming chat request at
fixed intervals for ``--seconds`` (after one untimed second of warm-up), first straight to the upstream,
then through the gateway; then the same again with ``"stream": true`` (timed to the last byte). Requests
go over keep-alive connections with a minimal HTTP/1.1 client: an httpx load generator spends more CPU per
request than the gateway does and, on two cores, would measure itself. Latency is per request, wall clock,
in this process; the added latency is the gateway's percentile minus the direct one at the same rate
(nearest-rank percentiles). One spike in the direct run can make the difference of the tails small or even
negative, so the target reads the gateway's p99 minus the direct median instead. Every answer must be a 200
with the answer's text (other statuses are counted as errors), and through the gateway it must name the
deployment that served it, or the run stops. The gateway's CPU time per request comes from /proc.

The peer named in the anchors, LiteLLM's proxy, runs as a fourth process in the same run, in front of the same
upstream, with one worker like the gateway and the master key its start-up demands (it refuses to start
without one). It lives in its own virtualenv (``--peer-venv``, default ``~/.cache/maestro/bench/litellm``),
which the first run makes with ``pip install 'litellm[proxy]==1.108.7'``: the newest release whose proxy
installs from the package index (later ones move it into ``litellm-proxy``, which the index here lacks).
``--no-peer`` leaves it out. A request that has not answered after ``--request-timeout`` seconds counts as
an error, so a proxy that falls behind ends its run instead of queueing for minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TARGET_ADDED_P99_MS_AT_200 = 5.0
BODY = {"model": "chat", "messages": [{"role": "user", "content": "Say hello."}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_upstream(port: int) -> None:
    import uvicorn

    from maestro.chaos.upstream import FakeUpstream

    class Lean(FakeUpstream):  # keep no per-request history: memory stays flat over a long run
        def _count(self, outcome: str, response: Any) -> Any:
            self.bodies.clear()
            self.headers.clear()
            return response

    uvicorn.run(
        Lean("bench").app(), host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_keep_alive=75
    )


def write_manifests(folder: Path, upstream: str) -> Path:
    provider = {
        "apiVersion": "maestro.dev/v1",
        "kind": "Provider",
        "metadata": {"name": "fast"},
        "spec": {
            "type": "openai-compatible",
            "baseUrl": upstream + "/v1",
            "jurisdiction": "us",
            "models": [{"name": "m1", "contextWindow": 100000, "price": {"inputPer1M": 1, "outputPer1M": 2}}],
        },
    }
    route = {
        "apiVersion": "maestro.dev/v1",
        "kind": "Route",
        "metadata": {"name": "bench"},
        "spec": {
            "alias": "chat",
            "candidates": [{"provider": "fast", "model": "m1", "weight": 100}],
            "limits": {"firstTokenTimeout": "5s"},
        },
    }
    (folder / "manifests").mkdir(parents=True)
    (folder / "manifests" / "bench.yaml").write_text(json.dumps(provider) + "\n---\n" + json.dumps(route) + "\n")
    return folder / "manifests"


def wait_up(url: str, path: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url + path, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


class Connections:
    """Keep-alive HTTP/1.1 connections and a minimal client over them: a Python load generator built on httpx
    spends more CPU per request than the gateway does, and on two cores it would measure itself."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.all: list[asyncio.StreamWriter] = []

    async def request(self, payload: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.all.append(writer)
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                parts.append(await reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        self.idle.append((reader, writer))
        return status, headers, body

    async def close(self) -> None:
        for writer in self.all:
            writer.close()
            with contextlib.suppress(OSError):  # a server that reset the connection has closed it already
                await writer.wait_closed()


async def load(
    url: str,
    model: str,
    rate: float,
    seconds: float,
    *,
    stream: bool,
    served_by: tuple[str, str] | None = None,
    headers: str = "",
    timeout: float = 30.0,
) -> list[float | None]:
    """Latencies in ms of an open loop at ``rate`` for ``seconds``; None for a non-200 answer or one slower than
    ``timeout``. ``served_by`` (header, value) must be on every 200; ``headers`` are extra request lines."""
    host, port = url.removeprefix("http://").split(":")
    data = json.dumps({**BODY, "model": model, "stream": stream}).encode()
    payload = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n{headers}"
        f"content-length: {len(data)}\r\n\r\n"
    ).encode() + data
    connections = Connections(host, int(port))

    async def one() -> float | None:
        started = time.perf_counter()
        try:  # a connection cancelled or closed mid-answer is not put back among the idle ones
            status, answer_headers, body = await asyncio.wait_for(connections.request(payload), timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            return None  # no answer in time, or the server closed the connection: an error
        ms = (time.perf_counter() - started) * 1000
        if status != 200:
            return None  # counted as an error (e.g. a 503 once the first-token deadline passed under overload)
        if b"Hello" not in body or (served_by and answer_headers.get(served_by[0]) != served_by[1]):
            raise SystemExit(f"wrong answer from {url}: {status} {body[:200]!r}")
        return ms

    loop = asyncio.get_running_loop()
    times: list[float | None] = []
    try:
        for phase_seconds in (1.0, seconds):  # an untimed warm-up second, then the measured run
            start, tasks = loop.time(), []
            for i in range(int(rate * phase_seconds)):
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one()))
            times = list(await asyncio.gather(*tasks))
    finally:
        await connections.close()
    return times


def pct(values: list[float | None], q: float) -> float:
    ordered = sorted(v for v in values if v is not None)
    return ordered[min(len(ordered) - 1, max(0, int(-(-q * len(ordered) // 1)) - 1))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PEER_REQUIREMENT = "litellm[proxy]==1.108.7"


def ensure_peer(venv: Path) -> tuple[Path | None, str]:
    """LiteLLM's proxy in its own virtualenv (made on the first run): (its executable, its version), or
    (None, why not)."""
    exe, python = venv / "bin" / "litellm", venv / "bin" / "python"
    if not exe.exists():
        print(f"installing the peer ({PEER_REQUIREMENT}) into {venv} ...", file=sys.stderr)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", PEER_REQUIREMENT],
                check=True,
                capture_output=True,
                text=True,
                timeout=1800,
            )
        except subprocess.CalledProcessError as e:
            tail = ((e.stderr or "") + (e.stdout or "")).strip().splitlines()[-1:] or ["no output"]
            return None, f"pip could not install {PEER_REQUIREMENT}: {tail[0]}"
        except subprocess.TimeoutExpired:
            return None, f"installing {PEER_REQUIREMENT} took over 30 minutes"
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        check=False,
        capture_output=True,
        text=True,
    )
    if version.returncode != 0 or not exe.exists():
        return None, f"{venv} holds no working litellm (remove it and run again to reinstall)"
    return exe, version.stdout.strip()


def start_peer(exe: Path, folder: Path, upstream: str, port: int, key: str) -> subprocess.Popen[bytes]:
    config = {
        "model_list": [
            {
                "model_name": "chat",
                "litellm_params": {"model": "openai/m1", "api_base": upstream + "/v1", "api_key": "unused"},
            }
        ]
    }
    (folder / "litellm.json").write_text(json.dumps(config))  # JSON is YAML
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LITELLM_"))},
        "LITELLM_MASTER_KEY": key,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list from GitHub
        "LITELLM_LOG": "ERROR",
    }
    command = [str(exe), "--config", str(folder / "litellm.json"), "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--num_workers", "1"], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def summary(
    name: str, times: list[float | None], direct: list[float | None], cpu_ms: float, timeout_ms: float
) -> dict[str, Any]:
    """Percentiles of the answered requests; the tail the targets read counts each error as the timeout (a
    request that failed or never came back is no faster than that)."""
    ok = [t for t in times if t is not None]
    row: dict[str, Any] = {f"{name}_errors": len(times) - len(ok), f"{name}_cpu_ms_per_request": cpu_ms}
    if not ok:  # every request failed: no latency to report
        row |= {f"{name}_{k}": None for k in ("p50_ms", "p99_ms", "added_p50_ms", "added_p99_ms")}
        return row | {f"{name}_p99_vs_direct_p50_ms": timeout_ms}
    row[f"{name}_p50_ms"], row[f"{name}_p99_ms"] = pct(times, 0.5), pct(times, 0.99)
    row[f"{name}_added_p50_ms"] = row[f"{name}_p50_ms"] - pct(direct, 0.5)
    row[f"{name}_added_p99_ms"] = row[f"{name}_p99_ms"] - pct(direct, 0.99)
    # a spike in the direct run can make the difference of tails small or negative; the target reads the
    # conservative figure: the tail over the direct median
    tail = pct([timeout_ms if t is None else t for t in times], 0.99)
    row[f"{name}_p99_vs_direct_p50_ms"] = tail - pct(direct, 0.5)
    return row


def settle(pid: int, limit_s: float = 120.0) -> None:
    """Wait until the process has stopped working off requests that timed out here (an overloaded proxy goes
    on with them), so that it does not take CPU from the next measurement."""
    deadline, last = time.monotonic() + limit_s, cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return
        last = now


def measure(args: argparse.Namespace, peer_exe: Path | None) -> list[dict[str, Any]]:
    """One row per (stream, rate): the direct run, the gateway's and, with a peer, LiteLLM's."""
    up_port, gw_port, peer_port = free_port(), free_port(), free_port()
    upstream, gateway = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{gw_port}"
    peer, peer_key = f"http://127.0.0.1:{peer_port}", "sk-bench-" + os.urandom(16).hex()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        manifests = write_manifests(Path(tmp), upstream)
        procs = [subprocess.Popen([sys.executable, __file__, "--serve-upstream", str(up_port)])]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        gateway_command = [sys.executable, "-m", "maestro.cli.main", "gateway", "-m", str(manifests)]
        gateway_command += ["--port", str(gw_port), "--state", str(Path(tmp) / "state.db"), "--log-level", "warning"]
        procs.append(subprocess.Popen(gateway_command, env=env, cwd=tmp))
        if peer_exe is not None:
            procs.append(start_peer(peer_exe, Path(tmp), upstream, peer_port, peer_key))
        try:
            wait_up(upstream, "/v1/models")
            wait_up(gateway, "/healthz")
            if peer_exe is not None:
                wait_up(peer, "/health/liveliness", seconds=180)
            for stream in (False, True):
                for rate in (float(r) for r in args.rates.split(",")):
                    timed = {"seconds": args.seconds, "stream": stream, "timeout": args.request_timeout}
                    direct = asyncio.run(load(upstream, "m1", rate, **timed))
                    cpu0 = cpu_seconds(procs[1].pid)
                    through = asyncio.run(
                        load(gateway, "chat", rate, served_by=("x-maestro-served-by", "fast/m1"), **timed)
                    )
                    cpu = (cpu_seconds(procs[1].pid) - cpu0) / max(len(through), 1) * 1000
                    row: dict[str, Any] = {"rate": rate, "stream": stream, "n": len(through)}
                    row |= {"direct_errors": sum(1 for t in direct if t is None)}
                    row |= {"direct_p50_ms": pct(direct, 0.5), "direct_p99_ms": pct(direct, 0.99)}
                    row |= summary("gateway", through, direct, cpu, args.request_timeout * 1000)
                    if peer_exe is not None:
                        cpu0 = cpu_seconds(procs[2].pid)
                        auth = f"authorization: Bearer {peer_key}\r\n"
                        served = ("x-litellm-model-group", "chat")
                        peered = asyncio.run(load(peer, "chat", rate, served_by=served, headers=auth, **timed))
                        row |= summary(
                            "litellm",
                            peered,
                            direct,
                            (cpu_seconds(procs[2].pid) - cpu0) / len(peered) * 1000,
                            args.request_timeout * 1000,
                        )
                        settle(procs[2].pid)
                    rows.append({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
    return rows


def print_report(rows: list[dict[str, Any]], names: list[str]) -> None:
    print(
        "| req/s | stream | n | direct p50 | direct p99 | "
        + " | ".join(
            f"{n} errors | {n} p50 | {n} p99 | {n} added p50 | {n} p99 - direct p50 | {n} CPU/request" for n in names
        )
        + " |"
    )
    print(
        "| ---: | --- | ---: | ---: | ---: | "
        + " | ".join("---: | ---: | ---: | ---: | ---: | ---:" for _ in names)
        + " |"
    )
    for r in rows:
        cells = [
            f"{r['rate']:g}",
            "yes" if r["stream"] else "no",
            str(r["n"]),
            ms(r["direct_p50_ms"]),
            ms(r["direct_p99_ms"]),
        ]
        for n in names:
            cells.append(str(r[f"{n}_errors"]))
            cells += [ms(r[f"{n}_{k}"]) for k in ("p50_ms", "p99_ms", "added_p50_ms", "p99_vs_direct_p50_ms")]
            cells.append(ms(r[f"{n}_cpu_ms_per_request"]))
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-peer", action="store_true", help="leave LiteLLM's proxy out")
    parser.add_argument("--peer-venv", type=Path, default=Path.home() / ".cache" / "maestro" / "bench" / "litellm")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return
    peer_exe, peer_version = (None, "left out (--no-peer)") if args.no_peer else ensure_peer(args.peer_venv)
    load_before = os.getloadavg()
    rows = measure(args, peer_exe)
    at_200 = [r for r in rows if r["rate"] == 200 and not r["stream"]]
    value = at_200[0]["gateway_p99_vs_direct_p50_ms"] if at_200 else None
    target: dict[str, Any] = {
        "target": f"gateway p99 - direct p50 <= {TARGET_ADDED_P99_MS_AT_200} ms at 200 req/s (non-streaming)",
        "value": value,
        "met": value is not None and value <= TARGET_ADDED_P99_MS_AT_200,
    }
    peer_value = at_200[0].get("litellm_p99_vs_direct_p50_ms") if at_200 else None
    versus: dict[str, Any] = {
        "target": "gateway p99 below LiteLLM's proxy p99 at 200 req/s (non-streaming), both over the direct p50",
        "litellm": peer_version,
        "value": peer_value,
        "met": None if value is None or peer_value is None else value < peer_value,
    }
    environment = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps({"rows": rows, "target": target, "peer": versus, "environment": environment}, indent=2))
        return
    print_report(rows, ["gateway"] + (["litellm"] if peer_exe is not None else []))
    verdict = {True: "met", False: "MISSED", None: "not measured (no 200 req/s run)"}
    print(f"\ntarget: {target['target']}: {verdict[None if value is None else target['met']]} ({value} ms)")
    if peer_exe is None:
        print(f"peer: LiteLLM's proxy {peer_version}")
    else:
        figures = f"maestro {value} ms, LiteLLM {peer_version} {peer_value} ms"
        print(f"peer: {versus['target']}: {verdict[versus['met']]} ({figures})")
    print(f"environment: {environment}")


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


if __name__ == "__main__":
    main()
