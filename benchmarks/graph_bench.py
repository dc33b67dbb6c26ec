"""The durable runtime under SIGKILL, and its overhead per node, against LangGraph in the same run.

    python benchmarks/graph_bench.py [--runs 200] [--seed 15] [--json] [--no-langgraph] [--no-drill]

Everything runs against the same fake OpenAI-compatible upstream on 127.0.0.1 (``tests/helpers/eval_upstream``)
and the example MCP server ``examples/mcp_refund_server.py`` served over streamable HTTP on 127.0.0.1 (one
server process per engine, so each one's calls and refunds are counted apart). The peer is LangGraph
(``langgraph`` + ``langgraph-checkpoint-sqlite``, the ``bench`` extra) with its SQLite checkpointer and
``durability="sync"``, its documented durable setup.

1. Overhead per node: a 6-node pipeline of model nodes, run ``--overhead-runs`` times in this process
   (maestro: real DBOS on SQLite in a temporary folder, no ledger keys; LangGraph: ``SqliteSaver`` on a file),
   against the bare call each node makes (maestro: the route-calling core; LangGraph: the ``openai`` client),
   6N times. Overhead per node is a run's wall time divided by 6, less the bare call's median; p50/p95 over
   the runs. CPU per node is this process's CPU time per node, less the bare call's.
2. Resume (maestro): a 2-node pipeline with an approval between them; the time from sending the approval to
   the run's end, less the one bare call after it.
3. Crash drill: ``--runs`` runs of a 6-node pipeline, triage (model) -> lookup_order (tool) -> issue_refund
   (tool, side effect) -> assess (model) -> issue_refund again (a goodwill refund, side effect) -> reply
   (model). The runs are released one per worker life; each life is a fresh worker process forked from a
   server that imported the engine once (``multiprocessing`` forkserver: a worker restarts in tens of
   milliseconds instead of seconds), which recovers every unfinished run, and is SIGKILLed after a seeded
   random delay (uniform in 0..``--max-delay`` seconds after it is up). The MCP server sleeps
   ``--tool-delay`` seconds after paying and before answering, so some kills land after a side effect and
   before its answer was recorded. Counted from the server: side effects repeated (a refund paid twice) and
   lost (a finished run whose refund was never paid); every final output is compared with an uninterrupted
   run's for the same input. maestro's worker is its engine with the run queue (what ``maestro worker``
   runs); LangGraph's worker resumes each unfinished thread with ``invoke(None, config)``. A LangGraph node
   has no idempotency key to pass (nothing stable identifies "this call" across a re-run), so its tool calls
   carry none; its repeats are counted as the refunds paid that no finished run recorded.

``--json`` prints {"runs", "kills", "duplicate_side_effects", "lost_side_effects", "node_overhead_p95_ms",
"resume_p95_ms", ..., "langgraph": {...}}. Exit 1 when the drill repeated or lost a side effect of maestro's,
or a final output differed. benchmarks/runtime_bench.py runs parts 1 and 2 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import eval_upstream

REPO = Path(__file__).resolve().parents[1]
MCP_SERVER = REPO / "examples" / "mcp_refund_server.py"
ORDERS = [("A10432", "damaged"), ("A10001", "wrong-item"), ("A20002", "not-delivered")]
PRELOAD = [  # what a worker imports before it is forked (the forkserver imports them once)
    "maestro.runtime.engine",
    "maestro.runtime.workflow",
    "maestro.runtime.runs",
    "maestro.runtime.tools",
    "maestro.calls",
    "maestro.providers",
    "mcp",
    "mcp.client.streamable_http",
    "jsonschema",
    "openai",
    "langgraph.graph",
    "langgraph.checkpoint.sqlite",
]

MANIFESTS = """apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: fake}}
spec:
  type: openai
  baseUrl: {url}
  jurisdiction: us
  models:
    - {{name: m1, contextWindow: 100000, price: {{inputPer1M: 1.0, outputPer1M: 2.0}}}}
---
apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: chat-route}}
spec:
  alias: chat
  candidates:
    - {{provider: fake, model: m1, weight: 100}}
---
apiVersion: maestro.dev/v1
kind: AutonomyLevel
metadata: {{name: L2}}
spec:
  level: 2
  allowedWithoutApproval: [read, write]
  requiresApproval: []
---
apiVersion: maestro.dev/v1
kind: Agent
metadata: {{name: refunder}}
spec:
  route: chat-route
  autonomyLevel: L2
  prompt: {{system: "You refund orders."}}
  mcpServers:
    - {{name: refunds, url: "{mcp_url}", idempotencyKeys: true}}
  tools:
    - name: lookup_order
      action: read
      server: refunds
      inputSchema: {{type: object, properties: {{order_id: {{type: string}}}}, required: [order_id]}}
    - name: issue_refund
      action: write
      server: refunds
      inputSchema:
        type: object
        properties: {{order_id: {{type: string}}, amount: {{type: number}}, reason: {{type: string}}}}
        required: [order_id, amount, reason]
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: drill}}
spec:
  steps:
    - {{id: triage, type: model, route: chat-route, prompt: "TRIAGE"}}
    - {{id: lookup, type: tool, agent: refunder, tool: lookup_order}}
    - {{id: refund, type: tool, agent: refunder, tool: issue_refund}}
    - {{id: assess, type: model, route: chat-route, prompt: "ASSESS"}}
    - {{id: goodwill, type: tool, agent: refunder, tool: issue_refund}}
    - {{id: reply, type: model, route: chat-route, prompt: "REPLY"}}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: six}}
spec:
  steps:
{six}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: paused}}
spec:
  steps:
    - {{id: n1, type: model, route: chat-route, prompt: "p"}}
    - {{id: ok, type: approval, approval: {{approvers: 1}}}}
    - {{id: n2, type: model, route: chat-route, prompt: "p"}}
"""
SIX = "\n".join(f"    - {{id: n{i}, type: model, route: chat-route, prompt: 'p'}}" for i in range(6))


def answer(body: dict[str, Any]) -> str:
    """The fake model, for both engines: what a node asks (its system prompt) over the run state (the user message)."""
    messages = body["messages"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    state = json.loads(messages[-1]["content"])
    if system == "TRIAGE":
        return json.dumps({"intent": "refund", "order_id": state["order_id"]})
    if system == "ASSESS":
        return json.dumps({"first_refund": state["refunded"], "amount": 5.0, "reason": "goodwill"})
    if system == "REPLY":
        return f"Dear customer, order {state['order_id']}: refunded {state['first_refund']} and {state['refunded']}."
    return '{"ok": true}'


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# --- the MCP server -------------------------------------------------------------------------------------------

SERVE = (
    "import runpy, sys; "
    "runpy.run_path(sys.argv[1])['server'].run('streamable-http', port=int(sys.argv[2]), stateless_http=True)"
)


@contextlib.contextmanager
def mcp_server(state: Path, delay_s: float, log: Path) -> Iterator[str]:
    """The example MCP server over streamable HTTP on 127.0.0.1; its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MAESTRO_REFUND_STATE": str(state), "MAESTRO_REFUND_DELAY_S": str(delay_s)}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(MCP_SERVER), str(port)], env=env, stderr=out, stdout=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"the MCP server did not start; see {log}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def server_counts(state: Path) -> dict[str, Any]:
    """What the refund server saw: refunds paid per idempotency key, calls per (tool, key), every refund id."""
    with sqlite3.connect(state, timeout=30) as conn:
        paid = conn.execute("SELECT key, count(*) FROM refunds GROUP BY key").fetchall()
        calls = conn.execute("SELECT tool, key, count(*) FROM calls GROUP BY tool, key").fetchall()
        total = conn.execute("SELECT count(*) FROM refunds").fetchone()[0]
        refund_calls = conn.execute("SELECT count(*) FROM calls WHERE tool = 'issue_refund'").fetchone()[0]
    return {"paid": dict(paid), "calls": {(t, k): c for t, k, c in calls}, "total": total, "refund_calls": refund_calls}


# --- the kill loop, shared by both engines ---------------------------------------------------------------------


def kill_loop(
    ctx: Any,
    *,
    worker: Callable[..., None],
    worker_args: Callable[[], tuple[Any, ...]],
    release: Callable[[], bool],
    in_flight: Callable[[], set[str]],
    rng: random.Random,
    max_delay: float,
    deadline: float,
    window: int,
) -> dict[str, Any]:
    """Worker lives until every run is released and finished: each life starts a worker after releasing one
    more run (while fewer than ``window`` are unfinished: a worker that recovers hundreds of runs at once does
    nothing else), waits a random delay once it is up, and SIGKILLs it. At most one run is released a life, so
    there are at least as many kills as runs. Returns the counts."""
    kills = hit = 0
    interrupted: set[str] = set()
    started = time.monotonic()
    while time.monotonic() < deadline:
        more = len(in_flight()) < window and release()  # one more run a life, while fewer than window are open
        ready = ctx.Event()
        proc = ctx.Process(target=worker, args=(*worker_args(), ready), daemon=True)
        proc.start()
        if not ready.wait(60):
            proc.kill()
            raise SystemExit("a worker did not come up in 60 s")
        until = time.monotonic() + rng.uniform(0, max_delay)
        running = in_flight()
        while time.monotonic() < until and (running or more):
            time.sleep(0.02)
            running = in_flight()
        if not running and not more:  # everything released has finished: this worker is not killed mid-run
            proc.kill()
            proc.join()
            if not release():
                break
            continue
        proc.kill()  # SIGKILL
        proc.join()
        kills += 1
        hit += bool(running)
        interrupted |= running
    return {
        "kills": kills,
        "kills_during_runs": hit,
        "runs_interrupted": len(interrupted),
        "seconds": round(time.monotonic() - started, 1),
    }


def _quiet(log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# --- maestro ---------------------------------------------------------------------------------------------------


def maestro_worker(root: str, log: str, ready: Any) -> None:
    """One life of a maestro worker: the engine with the run queue, as ``maestro worker`` runs it."""
    _quiet(log)
    from maestro.runtime import engine

    with engine.launched(Path(root), queue=True):
        ready.set()
        threading.Event().wait()


def maestro_inprocess(root: Path, overhead_runs: int) -> dict[str, Any]:
    """Overhead per node and resume, in this process; and an uninterrupted drill run per input."""
    from dbos import DBOS, SetWorkflowID
    from helpers.ledger import key

    from maestro import providers
    from maestro.calls import RouteCaller
    from maestro.ledger.keys import write_public_key
    from maestro.runtime import engine, runs, snapshot
    from maestro.runtime.workflow import run_pipeline

    manifests = snapshot.manifests(snapshot.take(root))

    async def bare(n: int) -> list[float]:
        pool = providers.pool(providers.specs_of(manifests))
        caller, times = RouteCaller(manifests, pool), []
        for _ in range(n):
            t = time.perf_counter()
            await caller.chat("chat-route", [{"role": "user", "content": "{}"}])
            times.append(time.perf_counter() - t)
        await pool.aclose()
        return times

    def run(pipeline: str, data: dict[str, Any]) -> dict[str, Any]:
        r = runs.new_run(root, pipeline, data)
        with SetWorkflowID(r["id"]):
            handle = DBOS.start_workflow(run_pipeline, r)
        result: dict[str, Any] = handle.get_result()  # the workflow's future: no status polling
        assert result["status"] == "succeeded", result
        return result

    out: dict[str, Any] = {}
    with engine.launched(root), engine.client(root) as client:
        out["references"] = {order: run("drill", {"order_id": order, "reason": why})["output"] for order, why in ORDERS}
        run("six", {})  # warm: the snapshot's manifests and the route caller are built once per process
        cpu = time.process_time()
        bare_times = asyncio.run(bare(6 * overhead_runs))
        bare_cpu = (time.process_time() - cpu) / len(bare_times)
        bare_median = statistics.median(bare_times)
        walls = []
        cpu = time.process_time()
        for _ in range(overhead_runs):
            t = time.perf_counter()
            run("six", {})
            walls.append((time.perf_counter() - t) / 6 - bare_median)
        cpu_node = (time.process_time() - cpu) / (6 * overhead_runs) - bare_cpu
        write_public_key(key("bob").public, root)
        resume = []
        for _ in range(max(3, overhead_runs // 4)):
            r = runs.new_run(root, "paused", {"requester": "alice"})
            with SetWorkflowID(r["id"]):
                handle = DBOS.start_workflow(run_pipeline, r)
            paused = runs.follow(client, r["id"], lambda _: None, poll_s=0.002)
            assert paused.interrupt is not None, (paused.status, paused.reason)
            t = time.perf_counter()
            runs.decide(client, r["id"], paused.interrupt["interrupt"], key("bob"), decision="approve")
            assert handle.get_result()["status"] == "succeeded"
            resume.append(time.perf_counter() - t - bare_median)
        shutil.rmtree(root / ".maestro" / "keys")  # the drill keeps no ledger, as the overhead runs
    out.update(
        bare_call_median_ms=ms(bare_median),
        node_overhead_p50_ms=ms(statistics.median(walls)),
        node_overhead_p95_ms=ms(p95(walls)),
        node_cpu_ms=ms(cpu_node),
        resume_p50_ms=ms(statistics.median(resume)),
        resume_p95_ms=ms(p95(resume)),
    )
    return out


def maestro_drill(
    ctx: Any, *, root: Path, state: Path, references: dict[str, Any], args: argparse.Namespace, log: Path
) -> dict[str, Any]:
    from maestro.runtime import engine, runs
    from maestro.runtime.workflow import WORKFLOW

    planned = [
        runs.new_run(root, "drill", dict(zip(("order_id", "reason"), ORDERS[i % 3], strict=True)))
        for i in range(args.runs)
    ]
    released: list[dict[str, Any]] = []
    rng = random.Random(args.seed)
    with engine.client(root) as client:

        def release() -> bool:
            if len(released) < len(planned):
                run = planned[len(released)]
                runs.enqueue(client, run)
                released.append(run)
                return True
            return False

        def in_flight() -> set[str]:
            ids = [r["id"] for r in released]
            return {
                w.workflow_id
                for w in client.list_workflows(workflow_ids=ids, name=WORKFLOW, load_input=False, load_output=False)
                if w.status in ("PENDING", "ENQUEUED")
            }

        deadline = time.monotonic() + args.drill_timeout
        loop = kill_loop(
            ctx,
            worker=maestro_worker,
            worker_args=lambda: (str(root), str(log)),
            release=release,
            in_flight=in_flight,
            rng=rng,
            max_delay=args.max_delay,
            deadline=deadline,
            window=args.window,
        )
        final = {
            w.workflow_id: w for w in client.list_workflows(workflow_ids=[r["id"] for r in planned], name=WORKFLOW)
        }
    counts = server_counts(state)
    duplicates = lost = mismatched = unfinished = retried = 0
    for run in planned:
        wf = final.get(run["id"])
        result = wf.output if wf is not None and wf.status == "SUCCESS" else None
        if result is None or result.get("status") != "succeeded":
            unfinished += 1
        elif result["output"] != references[run["input"]["order_id"]]:
            mismatched += 1
        for node in ("refund", "goodwill"):
            key = f"{run['id']}:{node}:0:0"
            paid = counts["paid"].get(key, 0)
            duplicates += max(0, paid - 1)
            lost += paid == 0 and result is not None
            retried += max(0, counts["calls"].get(("issue_refund", key), 0) - 1)
    return {
        "runs": args.runs,
        **loop,
        "unfinished_runs": unfinished,
        "output_mismatches": mismatched,
        "duplicate_side_effects": duplicates,
        "lost_side_effects": lost,
        "side_effect_calls_retried_same_key": retried,
    }


# --- LangGraph -------------------------------------------------------------------------------------------------


def lg_graph(model_url: str, mcp_url: str | None, saver: Any, six: bool = False) -> Any:
    """The same graphs in LangGraph: each node makes the same one call as maestro's node does."""
    import operator
    from typing import Annotated, TypedDict

    import openai
    from langgraph.graph import END, START, StateGraph

    keys = {"order_id": str, "reason": str, "intent": str, "found": bool, "status": str, "items": list[str]}
    keys |= {"amount": float, "currency": str, "refunded": float, "refund_id": str, "first_refund": float}
    keys |= {"text": str, "ok": bool, "refund_ids": Annotated[list[str], operator.add]}
    State = TypedDict("State", keys, total=False)  # type: ignore[misc]  # the functional form: evaluated now

    client = openai.OpenAI(base_url=model_url, api_key="unused", max_retries=0)

    def chat(system: str) -> Callable[[Any], dict[str, Any]]:
        def node(state):  # type: ignore[no-untyped-def]  # LangGraph reads a node's annotations
            messages: list[Any] = [{"role": "system", "content": system}] if system else []
            messages.append({"role": "user", "content": json.dumps(dict(state), sort_keys=True)})
            stream = client.chat.completions.create(model="m1", messages=messages, stream=True)
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            try:
                parsed = json.loads(text)
            except ValueError:
                return {"text": text}
            return parsed if isinstance(parsed, dict) else {"text": text}

        return node

    def tool(name: str, fields: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
        def node(state):  # type: ignore[no-untyped-def]  # LangGraph reads a node's annotations
            assert mcp_url is not None
            result = asyncio.run(mcp_call(mcp_url, name, {f: state[f] for f in fields}))  # type: ignore[literal-required]
            return {**result, "refund_ids": [result["refund_id"]]} if "refund_id" in result else result

        return node

    builder = StateGraph(State)
    if six:
        names = [f"n{i}" for i in range(6)]
        for n in names:
            builder.add_node(n, chat("p"))
    else:
        names = ["triage", "lookup", "refund", "assess", "goodwill", "reply"]
        builder.add_node("triage", chat("TRIAGE"))
        builder.add_node("lookup", tool("lookup_order", ("order_id",)))
        builder.add_node("refund", tool("issue_refund", ("order_id", "amount", "reason")))
        builder.add_node("assess", chat("ASSESS"))
        builder.add_node("goodwill", tool("issue_refund", ("order_id", "amount", "reason")))
        builder.add_node("reply", chat("REPLY"))
    for a, b in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=saver)


async def mcp_call(url: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One MCP tool call for a LangGraph node, as cheap as maestro's (one TLS context per process, not per call)."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from maestro.runtime.tools import _tls

    timeout = httpx2.Timeout(30.0, read=60.0)
    async with (
        httpx2.AsyncClient(verify=_tls(), timeout=timeout) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        result = await client.call_tool(name, arguments)
    return dict(result.structured_content or {})


def lg_saver(path: Path) -> Any:
    from langgraph.checkpoint.sqlite import SqliteSaver

    saver = SqliteSaver(sqlite3.connect(path, check_same_thread=False, timeout=30))
    saver.setup()
    return saver


def lg_done(graph: Any, thread: str) -> bool:
    """Whether the thread reached the end (the reply). Not ``not get_state().next``: a thread killed after a
    node's writes were saved and before the next checkpoint shows no next node, yet resumes with ``invoke(None)``."""
    return "text" in graph.get_state({"configurable": {"thread_id": thread}}).values


def lg_worker(job: dict[str, Any], ready: Any) -> None:
    """One life of a LangGraph worker: every released thread that has not finished is (re)invoked."""
    from concurrent.futures import ThreadPoolExecutor

    _quiet(job["log"])
    graph = lg_graph(job["model_url"], job["mcp_url"], lg_saver(Path(job["db"])))
    runs: list[tuple[str, dict[str, Any]]] = job["runs"]

    def go(thread: str, data: dict[str, Any]) -> None:
        config = {"configurable": {"thread_id": thread}}
        values = graph.get_state(config).values
        if not values:
            graph.invoke(data, config, durability="sync")
        elif "text" not in values:
            graph.invoke(None, config, durability="sync")  # resume from the last checkpoint

    pool = ThreadPoolExecutor(max_workers=32)
    ready.set()
    for future in [pool.submit(go, t, d) for t, d in runs]:
        try:
            future.result()
        except Exception:  # the run stays unfinished; the next life resumes it
            traceback.print_exc()
    threading.Event().wait()


def langgraph_inprocess(folder: Path, model_url: str, mcp_url: str, overhead_runs: int) -> dict[str, Any]:
    import openai

    client = openai.OpenAI(base_url=model_url, api_key="unused", max_retries=0)

    def bare() -> None:
        stream = client.chat.completions.create(model="m1", messages=[{"role": "user", "content": "{}"}], stream=True)
        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    saver = lg_saver(folder / "overhead.sqlite")
    six = lg_graph(model_url, None, saver, six=True)
    six.invoke({}, {"configurable": {"thread_id": "warm"}}, durability="sync")
    cpu = time.process_time()
    times = []
    for _ in range(6 * overhead_runs):
        t = time.perf_counter()
        bare()
        times.append(time.perf_counter() - t)
    bare_cpu = (time.process_time() - cpu) / len(times)
    bare_median = statistics.median(times)
    walls = []
    cpu = time.process_time()
    for i in range(overhead_runs):
        t = time.perf_counter()
        six.invoke({}, {"configurable": {"thread_id": f"six-{i}"}}, durability="sync")
        walls.append((time.perf_counter() - t) / 6 - bare_median)
    cpu_node = (time.process_time() - cpu) / (6 * overhead_runs) - bare_cpu
    drill = lg_graph(model_url, mcp_url, saver)
    references = {}
    for order, why in ORDERS:
        final = drill.invoke(
            {"order_id": order, "reason": why}, {"configurable": {"thread_id": f"ref-{order}"}}, durability="sync"
        )
        references[order] = final["text"]
    saver.conn.close()
    return {
        "references": references,
        "bare_call_median_ms": ms(bare_median),
        "node_overhead_p50_ms": ms(statistics.median(walls)),
        "node_overhead_p95_ms": ms(p95(walls)),
        "node_cpu_ms": ms(cpu_node),
    }


def langgraph_drill(
    ctx: Any,
    *,
    folder: Path,
    model_url: str,
    mcp_url: str,
    state: Path,
    references: dict[str, str],
    args: argparse.Namespace,
    log: Path,
) -> dict[str, Any]:
    db = folder / "drill.sqlite"
    saver = lg_saver(db)
    graph = lg_graph(model_url, mcp_url, saver)
    planned = [(f"lg-{i}", dict(zip(("order_id", "reason"), ORDERS[i % 3], strict=True))) for i in range(args.runs)]
    released: list[tuple[str, dict[str, Any]]] = []
    before = server_counts(state)

    def release() -> bool:
        if len(released) < len(planned):
            released.append(planned[len(released)])
            return True
        return False

    def in_flight() -> set[str]:
        return {t for t, _ in released if not lg_done(graph, t)}

    job = {"model_url": model_url, "mcp_url": mcp_url, "db": str(db), "log": str(log)}
    loop = kill_loop(
        ctx,
        worker=lg_worker,
        worker_args=lambda: ({**job, "runs": list(released)},),
        release=release,
        in_flight=in_flight,
        rng=random.Random(args.seed),
        max_delay=args.max_delay,
        deadline=time.monotonic() + args.drill_timeout,
        window=args.window,
    )
    recorded: set[str] = set()
    mismatched = unfinished = lost = 0
    for thread, data in planned:
        values = graph.get_state({"configurable": {"thread_id": thread}}).values
        if "text" not in values:
            unfinished += 1
            continue
        ids = set(values.get("refund_ids", []))
        lost += max(0, 2 - len(ids))
        recorded |= ids
        mismatched += values["text"] != references[data["order_id"]]
    after = server_counts(state)
    paid = after["total"] - before["total"]
    saver.conn.close()
    return {
        "runs": args.runs,
        **loop,
        "unfinished_runs": unfinished,
        "output_mismatches": mismatched,
        "duplicate_side_effects": paid - len(recorded) if not unfinished else None,
        "lost_side_effects": lost,
        "side_effect_calls_repeated": after["refund_calls"] - before["refund_calls"] - 2 * (args.runs - unfinished),
    }


# --- the command -----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="crash-drill runs per engine (default 200)")
    parser.add_argument("--overhead-runs", type=int, default=20, help="runs of the 6-node pipeline (default 20)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--max-delay", type=float, default=2.0, help="a worker is killed 0..S s after it is up")
    parser.add_argument("--tool-delay", type=float, default=0.05, help="the MCP server's pause after paying")
    parser.add_argument("--window", type=int, default=16, help="unfinished drill runs at most (default 16)")
    parser.add_argument("--drill-timeout", type=float, default=900.0, help="seconds per engine's drill")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-langgraph", action="store_true", help="measure maestro only")
    parser.add_argument("--no-drill", action="store_true", help="overhead and resume only")
    parser.add_argument("--no-maestro-drill", action="store_true", help="the LangGraph drill only")
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it: state, logs, counts")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # leave through the finally blocks: stop the servers
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD if not args.no_langgraph else PRELOAD[:-2])
    result: dict[str, Any] = {}
    with _folder(args.keep) as folder, eval_upstream.serve(answer) as up:
        log = folder / "workers.log"
        root = folder / "maestro"
        (root / "manifests").mkdir(parents=True)
        state = folder / "maestro-refunds.db"
        with mcp_server(state, args.tool_delay, log) as mcp_url:
            (root / "manifests" / "all.yaml").write_text(MANIFESTS.format(url=up.url, mcp_url=mcp_url, six=SIX))
            cwd = os.getcwd()
            os.chdir(root)
            try:
                inproc = maestro_inprocess(root, args.overhead_runs)
            finally:
                os.chdir(cwd)
            references = inproc.pop("references")
            result.update(inproc)
            if not args.no_drill and not args.no_maestro_drill:
                result.update(maestro_drill(ctx, root=root, state=state, references=references, args=args, log=log))
        if not args.no_langgraph:
            lg_state = folder / "langgraph-refunds.db"
            with mcp_server(lg_state, args.tool_delay, log) as mcp_url:
                lg = langgraph_inprocess(folder, up.url, mcp_url, args.overhead_runs)
                lg_refs = lg.pop("references")
                lg["same_outputs_as_maestro"] = lg_refs == {o: r["text"] for o, r in references.items()}
                if not args.no_drill:
                    lg.update(
                        langgraph_drill(
                            ctx,
                            folder=folder,
                            model_url=up.url,
                            mcp_url=mcp_url,
                            state=lg_state,
                            references=lg_refs,
                            args=args,
                            log=log,
                        )
                    )
            result["langgraph"] = lg
    report(result, args.json)
    bad = (
        result.get("duplicate_side_effects", 0)
        or result.get("lost_side_effects", 0)
        or result.get("output_mismatches", 0)
    )
    return 1 if bad or result.get("unfinished_runs", 0) else 0


@contextlib.contextmanager
def _folder(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    peer = result.get("langgraph", {})
    print(f"{'':<38} {'maestro':>12} {'langgraph':>12}")
    for name in sorted({*result, *peer} - {"langgraph"}):
        print(f"{name:<38} {result.get(name, '-')!s:>12} {peer.get(name, '-')!s:>12}")


if __name__ == "__main__":
    sys.exit(main())
