"""Benchmark content-tag detection (``maestro.policy.detect``) on a 2 KB prompt, with and without PII, on
adversarial 1 MiB texts, and ``/healthz`` of a real gateway while four clients send 1 MiB adversarial bodies.

    python benchmarks/detect_bench.py [--repeat N] [--adversarial-repeat N] [--healthz-seconds S] [--json]

Both prompts are exactly 2,048 characters of a realistic support-ticket prompt, full of numbers that are
not personal data (order numbers, dates, prices, versions, SKUs); the PII one has a paragraph with an
e-mail address, two telephone numbers, a payment card, an IBAN, a US SSN and an IPv4 address in it. The
run is invalid (exit 1) unless maestro finds exactly the expected tags in each: a benchmark of a
detector that misses or over-reports measures the wrong thing.

In the same run, and on the same texts, it measures the peer: presidio-analyzer's pattern recognizers
for the same entities (credit card, IBAN, e-mail, phone, IP, US SSN), called directly, without spaCy
(``nlp_artifacts=None``), when presidio-analyzer is importable; otherwise that row says so.

Each repetition times every case once, interleaved, so drift on a shared machine hits all alike. Wall
time (``perf_counter_ns``) is what the target is about; the thread's CPU time is shown next to it
because on a busy machine the wall-time tail is mostly the scheduler, not the detector. Target
(issue 3): PII detection on 2 KB at most 1 ms p95.

Adversarial texts (issue 13): each input repeats one unit (an e-mail and an IP address, ``@``, digits, an
IBAN-like or card-like group that fails its checksum, ``:``, JWT and OpenAI-key prefixes, quoted strings)
to 1 MiB, and is timed through ``detect_messages``, the request path, which reads at most
``Limits.characters`` and spends at most ``Limits.checks`` on checking candidates, and otherwise answers every
tag.
Each input is also timed cut to exactly ``Limits.characters``, the largest text a request gets scanned,
which is the worst case the limits leave. Target: p95 at most 100 ms for each 1 MiB input; ``--json``
prints ``adversarial_1mib_p95_ms`` (the worst input's p95) and ``adversarial_at_limit_p95_ms``.

``/healthz`` under load: the fake upstream and ``maestro gateway`` run as processes of their own (the route
goes to one on-prem deployment, so every request is served); four client threads send 1 MiB adversarial
bodies back to back while this process asks ``/healthz`` every 20 ms. Target: ``/healthz`` p99 at most
50 ms (``healthz_p99_ms``). The same again with bodies at the scan limit, which are scanned in full, and
with no client at all: the machine's own share of the tail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from maestro.policy.detect import Limits, detect_messages, detect_tags, detectable_tags

TARGET_P95_MS = 1.0
SIZE = 2048
MIB = 1 << 20
TARGET_ADVERSARIAL_P95_MS = 100.0
TARGET_HEALTHZ_P99_MS = 50.0
ADVERSARIAL = {
    "email+ip": "a@b.cc 8.8.8.8 ",
    "all-at": "@",
    "digits": "1234567890",
    "iban-like": "DE89 3704 0044 0532 0130 01 ",
    "card-like": "4111 1111 1111 1112 ",
    "colons": ":",
    "hex-colons": "2001:db8:",
    "phone-like": "030 1234567 ",
    "jwt-prefix": "eyJ",
    "openai-prefix": "sk-",
    "quoted": "'q8Zr2Lw9Xk4Vt7Nb1Mc6Hd3Jf5Gs0Pa8Ye2Tu' ",
}

CLEAN = """You are a helpful assistant for the support team. Summarise the ticket thread below and propose \
next steps. Keep the answer under 200 words and use bullet points.

Ticket #48213 was opened on 2024-03-15 at 09:42. Order 1234567890 shipped in 3 boxes, version 2.14.3 of \
the app was in use, and the customer paid $1,299.99 for the bundle (SKU 4400-1234-9987). The build \
number was 20240315.1 and the invoice total came to 4,532.10 EUR after a 15% discount; invoice \
2024-000123 is attached. The warehouse code is WH-77 and the parcel weighed 12.5 kg.

{middle}

The customer reports that sync stopped working after the upgrade from 2.13.0 to 2.14.3, and that the \
desktop client shows error 0x80070005 when opening projects larger than 500 MB. They reinstalled twice, \
cleared the cache and rebooted the laptop (ThinkPad X1 Carbon Gen 11, 32 GB RAM, Windows 11 23H2). \
Support suggested rolling back to 2.13.0, but the customer needs the new export for a deadline on \
2024-04-01. Engineering thinks the new file watcher hits the default limit of 8192 handles; a fix is \
planned for 2.14.4, due in about two weeks. Meanwhile the workaround is to raise the limit, or to split \
the project into parts of at most 200 MB. The customer has been with us since 2019, has 45 seats on the \
enterprise plan and renews on 2024-09-30 for 54,000 USD a year. Draft a reply that apologises, explains \
the workaround step by step, offers a 10% credit on the renewal, and asks whether a call on Thursday \
between 14:00 and 16:00 CET would suit them. List the three most likely root causes, with a one-line \
test for each, and say whether the ticket should go to tier 3 and why.
"""

NO_PII = """Their account manager noted that the same build runs fine on 12 other machines at the site, \
that the problem started on 2024-03-14 after the 02:00 update window, and that tickets 48190 and 48207 \
describe similar symptoms on version 2.14.2 of the macOS client."""

WITH_PII = """Reach the customer at jane.doe+billing@example.co.uk, on +44 20 7946 0958 or on \
(212) 555-0123. They paid with card 4111 1111 1111 1111 and want refunds to IBAN \
DE89 3704 0044 0532 0130 00. SSN on file: 536-90-4399; they last logged in from 192.168.10.24."""

EXPECTED = {
    "clean": frozenset(),
    "pii": frozenset({"pii.email", "pii.phone", "pii.payment-card", "pii.iban", "pii.national-id", "pii.ip-address"}),
}


def prompt(middle: str) -> str:
    """The ticket prompt with ``middle`` as its second paragraph, cut or padded to exactly SIZE characters."""
    text = CLEAN.format(middle=middle)
    return text[:SIZE] if len(text) >= SIZE else text + " " * (SIZE - len(text))


@dataclass
class Stats:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float
    found: list[str]


def percentile(sorted_ns: list[int], q: float) -> float:
    return round(sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1e6, 4)


def stats(wall: list[int], cpu: list[int], found: list[str]) -> Stats:
    wall, cpu = sorted(wall), sorted(cpu)
    return Stats(
        percentile(wall, 0.50),
        percentile(wall, 0.95),
        percentile(wall, 0.99),
        round(wall[-1] / 1e6, 4),
        percentile(cpu, 0.50),
        percentile(cpu, 0.95),
        found,
    )


Case = tuple[str, str, Callable[[str], object]]


def measure(cases: list[Case], texts: dict[str, str], repeat: int) -> dict[str, dict[str, Stats]]:
    """Time each (tool, text) case ``repeat`` times, interleaved, after 100 untimed warm-up rounds."""
    wall: dict[tuple[str, str], list[int]] = {(tool, name): [] for tool, name, _ in cases}
    cpu: dict[tuple[str, str], list[int]] = {(tool, name): [] for tool, name, _ in cases}
    for round_ in range(100 + repeat):
        for tool, name, run in cases:
            text = texts[name]
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            run(text)
            spent_cpu, spent = time.thread_time_ns() - started_cpu, time.perf_counter_ns() - started
            if round_ >= 100:
                wall[tool, name].append(spent)
                cpu[tool, name].append(spent_cpu)
    out: dict[str, dict[str, Stats]] = {}
    for tool, name, run in cases:
        out.setdefault(tool, {})[name] = stats(wall[tool, name], cpu[tool, name], _found(run(texts[name])))
    return out


def _found(result: object) -> list[str]:
    if isinstance(result, frozenset):
        return sorted(result)
    return sorted({str(item) for item in result}) if isinstance(result, list) else []


def presidio() -> Callable[[str], object] | None:
    """presidio-analyzer's pattern recognizers for the same entities, or None when it is not installed."""
    try:
        from presidio_analyzer.predefined_recognizers import (  # type: ignore[import-not-found]
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            PhoneRecognizer,
            UsSsnRecognizer,
        )
    except ImportError:
        return None
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)  # it tries to fetch the suffix list once
    recognizers = [
        cls() for cls in (CreditCardRecognizer, IbanRecognizer, EmailRecognizer, PhoneRecognizer, IpRecognizer)
    ]
    recognizers.append(UsSsnRecognizer())

    def run(text: str) -> list[str]:
        return [
            result.entity_type
            for recognizer in recognizers
            for result in recognizer.analyze(text, entities=recognizer.supported_entities, nlp_artifacts=None)
        ]

    return run


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for dist in ("maestro-ai", "phonenumbers", "python-stdnum", "presidio-analyzer"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "date": dt.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def check(texts: dict[str, str]) -> None:
    for name, text in texts.items():
        found = detect_tags(text)
        if len(text) != SIZE or found != EXPECTED[name]:
            raise SystemExit(
                f"INVALID BENCHMARK: the {name} prompt ({len(text)} characters) must yield "
                f"{sorted(EXPECTED[name])}; maestro found {sorted(found)}"
            )


def table(result: dict[str, Any]) -> str:
    info = result["machine"]
    lines = [
        f"detect on {SIZE} characters: {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"load {info['load_average']}, {info['date']}",
        "",
        f"{'tool':<10} {'prompt':<6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'cpu p50':>8} {'cpu p95':>8}  found",
    ]
    for tool in ("maestro", "presidio"):
        if result[tool] is None:
            lines.append(f"{tool:<10} not installed (pip install presidio-analyzer to compare)")
            continue
        for name, row in result[tool].items():
            lines.append(
                f"{tool:<10} {name:<6} {row['p50_ms']:>8.3f} {row['p95_ms']:>8.3f} {row['p99_ms']:>8.3f} "
                f"{row['max_ms']:>8.3f} {row['cpu_p50_ms']:>8.3f} {row['cpu_p95_ms']:>8.3f}  "
                f"{', '.join(row['found']) or '-'}"
            )
    lines.append("")
    lines += [f"target {t['check']}: {t['value']} ms, {'met' if t['met'] else 'MISSED'}" for t in result["targets"]]
    return "\n".join(lines)


def fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def adversarial(repeat: int) -> dict[str, dict[str, Any]]:
    """Each adversarial input at 1 MiB and at the scan limit, through ``detect_messages``, interleaved."""
    sizes = {"1mib": MIB, "at_limit": Limits().characters}
    bodies = {
        (name, size): [{"role": "user", "content": fill(unit, chars)}]
        for name, unit in ADVERSARIAL.items()
        for size, chars in sizes.items()
    }
    wall: dict[tuple[str, str], list[int]] = {key: [] for key in bodies}
    cpu: dict[tuple[str, str], list[int]] = {key: [] for key in bodies}
    for round_ in range(2 + repeat):
        for key, messages in bodies.items():
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            detect_messages(messages)
            spent_cpu, spent = time.thread_time_ns() - started_cpu, time.perf_counter_ns() - started
            if round_ >= 2:
                wall[key].append(spent)
                cpu[key].append(spent_cpu)
    out: dict[str, dict[str, Any]] = {}
    for (name, size), messages in bodies.items():
        tags = detect_messages(messages)
        outcome = "fail-closed" if tags == detectable_tags() else "scanned"
        row = asdict(stats(wall[name, size], cpu[name, size], sorted(tags)))
        out.setdefault(size, {})[name] = row | {"outcome": outcome}
    return out


def write_gateway_manifests(folder: Path, upstream: str) -> Path:
    """One on-prem deployment behind ``chat``: every request is served, whatever detection finds."""
    provider = {
        "apiVersion": "maestro.dev/v1",
        "kind": "Provider",
        "metadata": {"name": "lane"},
        "spec": {
            "type": "openai-compatible",
            "baseUrl": upstream + "/v1",
            "jurisdiction": "onprem",
            "models": [{"name": "m1", "contextWindow": 10_000_000, "price": {"inputPer1M": 0, "outputPer1M": 0}}],
        },
    }
    route = {
        "apiVersion": "maestro.dev/v1",
        "kind": "Route",
        "metadata": {"name": "bench"},
        "spec": {"alias": "chat", "candidates": [{"provider": "lane", "model": "m1"}]},
    }
    (folder / "manifests").mkdir(parents=True)
    (folder / "manifests" / "bench.yaml").write_text(json.dumps(provider) + "\n---\n" + json.dumps(route) + "\n")
    return folder / "manifests"


def healthz_under_load(seconds: float, chars: int, clients: int = 4) -> dict[str, Any]:
    """``/healthz`` latency while ``clients`` clients send adversarial bodies of ``chars`` characters."""
    from gateway_bench import free_port, wait_up  # the sibling benchmark's process helpers

    up_port, gw_port = free_port(), free_port()
    upstream, gateway = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{gw_port}"
    bench = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        manifests = write_gateway_manifests(Path(tmp), upstream)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        serve = [sys.executable, str(bench / "gateway_bench.py"), "--serve-upstream", str(up_port)]
        command = [sys.executable, "-m", "maestro.cli.main", "gateway", "-m", str(manifests), "--port", str(gw_port)]
        command += ["--state", str(Path(tmp) / "state.db"), "--log-level", "warning", "--no-ledger"]
        command += ["--max-body-bytes", str(4 * MIB)]
        procs = [subprocess.Popen(serve, env=env), subprocess.Popen(command, env=env, cwd=tmp)]
        try:
            wait_up(upstream, "/v1/models")
            wait_up(gateway, "/healthz")
            return _load_and_poll(gateway, seconds, chars, clients)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)


def _load_and_poll(gateway: str, seconds: float, chars: int, clients: int) -> dict[str, Any]:
    units = list(ADVERSARIAL.values())
    stop = threading.Event()
    statuses: list[int] = []

    def client(index: int) -> None:
        with httpx.Client(timeout=120) as http:
            turn = index
            while not stop.is_set():
                content = fill(units[turn % len(units)], chars)
                body = {"model": "chat", "messages": [{"role": "user", "content": content}]}
                statuses.append(http.post(f"{gateway}/v1/chat/completions", json=body).status_code)
                turn += clients

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every client has a body in flight
    latencies: list[int] = []
    with httpx.Client(timeout=60) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter_ns()
            http.get(f"{gateway}/healthz").raise_for_status()
            latencies.append(time.perf_counter_ns() - started)
            time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join(120)
    latencies.sort()
    return {
        "clients": clients,
        "body_characters": chars,
        "probes": len(latencies),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": round(latencies[-1] / 1e6, 3),
        "bodies_sent": len(statuses),
        "bodies_ok": sum(1 for status in statuses if status == 200),
    }


def adversarial_table(result: dict[str, Any]) -> str:
    lines = [
        "",
        f"adversarial inputs through detect_messages (limits: {Limits().characters:,} characters, "
        f"{Limits().checks:,} units of checks)",
        "",
        f"{'input':<14} {'size':<9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p95':>8}  outcome",
    ]
    for size, rows in result["adversarial"].items():
        for name, row in rows.items():
            lines.append(
                f"{name:<14} {size:<9} {row['p50_ms']:>8.3f} {row['p95_ms']:>8.3f} {row['max_ms']:>8.3f} "
                f"{row['cpu_p95_ms']:>8.3f}  {row['outcome']}"
            )
    for name, row in result["healthz"].items():
        lines.append(
            f"/healthz with {row['clients']} clients sending {row['body_characters']:,}-character bodies ({name}): "
            f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms over {row['probes']} probes; "
            f"{row['bodies_ok']}/{row['bodies_sent']} bodies answered 200"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000, help="timed runs per case (default 2000)")
    parser.add_argument("--adversarial-repeat", type=int, default=40, help="timed runs per adversarial input")
    parser.add_argument("--healthz-seconds", type=float, default=15.0, help="how long /healthz is probed")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)

    texts = {"clean": prompt(NO_PII), "pii": prompt(WITH_PII)}
    check(texts)
    cases: list[Case] = [("maestro", name, detect_tags) for name in texts]
    peer = presidio()
    if peer is not None:
        cases += [("presidio", name, peer) for name in texts]
    measured = measure(cases, texts, max(1, args.repeat))
    result: dict[str, Any] = {
        "machine": machine(),
        "maestro": {name: asdict(row) for name, row in measured["maestro"].items()},
        "presidio": {name: asdict(row) for name, row in measured["presidio"].items()} if peer else None,
        "adversarial": adversarial(max(1, args.adversarial_repeat)),
        "healthz": {
            "idle": healthz_under_load(args.healthz_seconds, 0, clients=0),
            "1mib": healthz_under_load(args.healthz_seconds, MIB),
            "at_limit": healthz_under_load(args.healthz_seconds, Limits().characters),
        },
    }
    result["adversarial_1mib_p95_ms"] = max(row["p95_ms"] for row in result["adversarial"]["1mib"].values())
    result["adversarial_at_limit_p95_ms"] = max(row["p95_ms"] for row in result["adversarial"]["at_limit"].values())
    result["healthz_p99_ms"] = result["healthz"]["1mib"]["p99_ms"]
    result["targets"] = [
        {
            "check": f"maestro {name} p95 <= {TARGET_P95_MS} ms",
            "value": row["p95_ms"],
            "met": row["p95_ms"] <= TARGET_P95_MS,
        }
        for name, row in result["maestro"].items()
    ]
    result["targets"] += [
        {
            "check": f"adversarial 1 MiB worst p95 <= {TARGET_ADVERSARIAL_P95_MS} ms",
            "value": result["adversarial_1mib_p95_ms"],
            "met": result["adversarial_1mib_p95_ms"] <= TARGET_ADVERSARIAL_P95_MS,
        },
        {
            "check": f"adversarial at the scan limit worst p95 <= {TARGET_ADVERSARIAL_P95_MS} ms",
            "value": result["adversarial_at_limit_p95_ms"],
            "met": result["adversarial_at_limit_p95_ms"] <= TARGET_ADVERSARIAL_P95_MS,
        },
        {
            "check": f"/healthz p99 under 4 x 1 MiB adversarial bodies <= {TARGET_HEALTHZ_P99_MS} ms",
            "value": result["healthz_p99_ms"],
            "met": result["healthz_p99_ms"] <= TARGET_HEALTHZ_P99_MS,
        },
    ]
    print(json.dumps(result, indent=2) if args.json else table(result) + "\n" + adversarial_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
