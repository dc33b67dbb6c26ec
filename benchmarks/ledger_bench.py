"""Benchmark the provenance ledger: signed, chained appends per second, and offline verification time.

    python benchmarks/ledger_bench.py [--sizes 100000,1000000] [--batch 512] [--json] [--keep]

One run, one state store in a temporary folder (``--keep``: in ``benchmarks/.data/ledger/``, reused by the next
``--keep`` run, so verification can be measured again without appending a million entries first):

* appends: ``Ledger.append`` of gateway-like routing entries (request and response digests, the route's
  manifest hash, two policy results, autonomy level, cost, trace and span ids, a small decision), each
  signed with Ed25519, chained to the one before, in transactions of ``--batch`` entries, each transaction
  with a signed checkpoint; measured over the first size. Then the same through ``Writer`` (submit on the
  calling thread, sign and append on the background thread, ``close()`` flushes), over 20,000 entries.
* verify: ``maestro.ledger.query.verify_store`` at each size (every envelope signature, every chain link,
  the Merkle root at every checkpoint, every checkpoint signature, consistency between checkpoints), on as
  many worker processes as there are CPUs; the store grows to each size between measurements.
  The CPU seconds of all processes are recorded beside the wall clock: on a machine other jobs share, CPU
  seconds divided by the cores is what the wall clock would be on an idle one.
* the peer: securesystemslib's ``Envelope.from_dict`` + ``Envelope.verify`` on a sample of the same
  envelopes, extrapolated to each size on the same CPUs (sample rate x CPUs), and the Ed25519 verification of
  OpenSSL (``cryptography``) against libsodium (PyNaCl), per signature.

Targets (2 cores): >= 5,000 appends/s; verify 1,000,000 entries in <= 60 s. Missed targets are reported, not
fatal; a ledger that does not verify stops the run with exit status 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maestro.ledger import statement as st  # noqa: E402
from maestro.ledger.keys import Keyring, SigningKey, read_signing_key, write_signing_key  # noqa: E402
from maestro.ledger.query import verify_store  # noqa: E402
from maestro.ledger.store import Ledger  # noqa: E402
from maestro.ledger.writer import Writer  # noqa: E402

APPENDS_TARGET, VERIFY_1M_TARGET_S = 5000.0, 60.0


def routing_action(i: int) -> st.Action:
    request = b'{"model":"chat","messages":[{"role":"user","content":"request %d"}]}' % i
    return st.Action(
        action="route",
        actor="gateway:bench",  # the actor is bound to the signer: the key is "bench"
        subjects=[st.Subject.of("request", request), st.Subject.of("response", request[::-1])],
        manifests={"Route/support-chat": hashlib.sha256(b"route").hexdigest()},
        policies=[
            st.PolicyResult("default/no-credentials-to-training-providers", "pass"),
            st.PolicyResult("default/warn-long-retention", "pass"),
        ],
        autonomy_level="L2",
        cost_usd=0.000123,
        trace_id=f"{i:032x}",
        span_id=f"{i:016x}",
        details={"provider": "mistral-eu", "model": "mistral-small", "latencyMs": 412, "fallback": False},
    )


def append_until(ledger: Ledger, key: SigningKey, size: int, batch: int) -> float:
    """Append until the ledger holds ``size`` entries; return the seconds it took."""
    start = time.perf_counter()
    n = ledger.size()
    while n < size:
        take = min(batch, size - n)
        ledger.append([routing_action(i) for i in range(n, n + take)], key)
        n += take
    return time.perf_counter() - start


def writer_rate(folder: Path, key: SigningKey, count: int) -> float:
    start = time.perf_counter()
    writer = Writer(folder / "writer.db", key)
    for i in range(count):
        writer.submit(routing_action(i))
    writer.close()
    return count / (time.perf_counter() - start)


def peer_rate(ledger: Ledger, key: SigningKey, sample: int) -> float:
    """securesystemslib DSSE verifications per CPU second (signatures only: no chain, no tree)."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    sslib_key = SSlibKey(key.keyid, "ed25519", "ed25519", {"public": key.public.raw.hex()})
    lines = [line for _, line in zip(range(sample), ledger.entries(), strict=False)]
    start = time.process_time()
    for _, line in lines:
        Envelope.from_dict(json.loads(line)).verify([sslib_key], 1)
    return len(lines) / (time.process_time() - start)


def ed25519_us(n: int = 5000) -> dict[str, float]:
    import nacl.bindings
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    public, message = private.public_key(), b"x" * 1200
    signature = private.sign(message)
    raw = public.public_bytes_raw()
    start = time.perf_counter()
    for _ in range(n):
        public.verify(signature, message)
    openssl = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(n):
        nacl.bindings.crypto_sign_open(signature + message, raw)
    libsodium = (time.perf_counter() - start) / n * 1e6
    return {"openssl_cryptography": round(openssl, 1), "libsodium_pynacl": round(libsodium, 1)}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the verify workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def environment() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def run(sizes: list[int], batch: int, keep: bool) -> dict[str, object]:
    folder = ROOT / "benchmarks" / ".data" / "ledger" if keep else Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    if not (keep and (folder / "bench.key").exists()):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_signing_key(SigningKey.generate("bench"), folder / "bench.key")
    key = read_signing_key(folder / "bench.key")
    keyring = Keyring.of([key.public])
    results: dict[str, object] = {"sizes": sizes, "batch": batch}
    try:
        # the first size: timed appends into a new store, then its verification
        (folder / "first.db").unlink(missing_ok=True)
        first = Ledger.open(folder / "first.db")
        results["appends_per_s"] = round(sizes[0] / append_until(first, key, sizes[0], batch))
        (folder / "writer.db").unlink(missing_ok=True)
        results["writer_appends_per_s"] = round(writer_rate(folder, key, 20_000))
        rate = peer_rate(first, key, 5000)
        verify: dict[str, float] = {}
        verify_cpu: dict[str, float] = {}
        peer: dict[str, float] = {}
        # the larger sizes grow one store (kept and reused with --keep: it only ever grows)
        ledger = Ledger.open(folder / "state.db")
        for size in sizes:
            target = first if size == sizes[0] else ledger
            if target is ledger and ledger.size() > size:
                raise SystemExit(f"the kept store holds {ledger.size()} entries, more than {size}; delete {folder}")
            append_until(target, key, size, batch)
            start, cpu = time.perf_counter(), _cpu()
            report = verify_store(target, keyring)
            verify[str(size)] = round(time.perf_counter() - start, 2)
            verify_cpu[str(size)] = round(_cpu() - cpu, 2)
            if not report.ok or report.entries != size:
                print(f"the ledger of {size} entries does not verify: {report.problems[:3]}", file=sys.stderr)
                raise SystemExit(1)
            peer[str(size)] = round(size / (rate * (os.cpu_count() or 1)), 2)
        first.close()
        (folder / "first.db").unlink()
        results["verify_s"] = verify
        results["verify_cpu_s"] = verify_cpu
        results["verify_cpu_us_per_entry"] = round(verify_cpu[str(sizes[-1])] / sizes[-1] * 1e6, 1)
        results["peer_securesystemslib_cpu_us_per_entry"] = round(1e6 / rate, 1)
        results["peer_securesystemslib_verify_s"] = peer
        results["store_bytes"] = (folder / "state.db").stat().st_size
        ledger.close()
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    results["ed25519_verify_us"] = ed25519_us()
    results["targets"] = targets(results)
    results["environment"] = environment()
    return results


def targets(results: dict[str, object]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [
        {
            "target": f">= {APPENDS_TARGET:,.0f} appends/s",
            "value": results["appends_per_s"],
            "met": float(results["appends_per_s"]) >= APPENDS_TARGET,
        }  # type: ignore[arg-type]
    ]
    verify = results["verify_s"]
    assert isinstance(verify, dict)
    if "1000000" in verify:
        out.append(
            {
                "target": f"verify 1,000,000 in <= {VERIFY_1M_TARGET_S:.0f} s",
                "value": verify["1000000"],
                "met": verify["1000000"] <= VERIFY_1M_TARGET_S,
            }
        )
    return out


def table(results: dict[str, object]) -> str:
    verify, peer = results["verify_s"], results["peer_securesystemslib_verify_s"]
    assert isinstance(verify, dict) and isinstance(peer, dict)
    rows = [
        ("appends/s (Ledger.append, signed, chained)", f"{results['appends_per_s']:,}"),
        ("appends/s (Writer, background thread)", f"{results['writer_appends_per_s']:,}"),
    ]
    cpu = results["verify_cpu_s"]
    assert isinstance(cpu, dict)
    for size, seconds in verify.items():
        rows.append((f"verify {int(size):,} entries, maestro (s)", f"{seconds:.2f}"))
        rows.append((f"verify {int(size):,} entries, maestro CPU (s, all processes)", f"{cpu[size]:.2f}"))
        rows.append((f"verify {int(size):,} entries, securesystemslib on all CPUs, est. (s)", f"{peer[size]:.2f}"))
    rows.append(("verify CPU per entry, maestro, everything (us)", f"{results['verify_cpu_us_per_entry']}"))
    rows.append(
        (
            "verify CPU per entry, securesystemslib, signatures only (us)",
            f"{results['peer_securesystemslib_cpu_us_per_entry']}",
        )
    )
    ed = results["ed25519_verify_us"]
    assert isinstance(ed, dict)
    rows.append(("Ed25519 verify, OpenSSL via cryptography (us)", f"{ed['openssl_cryptography']}"))
    rows.append(("Ed25519 verify, libsodium via PyNaCl (us)", f"{ed['libsodium_pynacl']}"))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'measure':<{width}}  value", f"{'-' * width}  -----"]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    targets_ = results["targets"]
    assert isinstance(targets_, list)
    lines += ["", *(f"{'met' if t['met'] else 'MISSED'}: {t['target']} ({t['value']})" for t in targets_)]
    lines.append(f"environment: {results['environment']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100000,1000000", help="ledger sizes to verify (the first is timed for appends)"
    )
    parser.add_argument("--batch", type=int, default=512, help="entries per append transaction")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--keep", action="store_true", help="keep the store in benchmarks/.data/ledger/ and reuse it next time"
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results = run(sizes, args.batch, args.keep)
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
