"""A fake upstream in a process of its own, so that a drill measures the gateway and not its own starvation.

``with UpstreamProcess("primary", faults, seed=0) as up:`` starts ``python -m maestro.chaos.process``,
which binds a free loopback port, prints it, and serves a ``FakeUpstream`` with uvicorn. The drill changes the
faults and reads the call log over HTTP (``PUT /_chaos/faults``, ``GET /_chaos/calls``); the call times are
``time.monotonic()``, one clock for every process of the machine. The child ends when its stdin closes (the
drill ended, or died), and is killed when the block ends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

import maestro
from maestro.chaos.upstream import FakeUpstream, Faults
from maestro.gateway.serve import KEEP_ALIVE_S, Background

_START_S = 30.0  # a loaded machine may take long to import starlette and uvicorn


class UpstreamProcess:
    def __init__(self, name: str, faults: Faults | None = None, *, seed: int = 0) -> None:
        self.name = name
        self.faults = faults or Faults()
        self.seed = seed
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> UpstreamProcess:
        self.start()
        return self.ready()

    def start(self) -> None:
        """Start the child; ``ready`` waits for it (start several, then wait for each: they start in parallel)."""
        spec = json.dumps({"name": self.name, "seed": self.seed, "faults": asdict(self.faults)})
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "maestro.chaos.process", spec],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )

    def ready(self) -> UpstreamProcess:
        assert self._proc is not None, "start() first"
        port = _first_line(self._proc, _START_S)
        if not port.isdigit():
            self.stop()
            raise RuntimeError(f"the fake upstream '{self.name}' did not start: {port or 'no port printed'}")
        self.url = f"http://127.0.0.1:{port}"
        return self

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def calls(self) -> list[tuple[float, str]]:
        """The upstream's call log: (monotonic time, outcome), oldest first."""
        answer = httpx.get(self.url + "/_chaos/calls", timeout=30)
        answer.raise_for_status()
        return [(float(t), str(outcome)) for t, outcome in answer.json()["calls"]]

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.communicate(timeout=30)


class UpstreamThread:
    """The same fake upstream, the same interface, on a thread of this process (``serve.Background``)."""

    def __init__(self, name: str, faults: Faults | None = None, *, seed: int = 0) -> None:
        self.name = name
        self.fake = FakeUpstream(name, faults or Faults(), seed=seed)
        self.url = ""
        self._served: Background | None = None

    def start(self) -> None:
        self._served = Background(self.fake.app())

    def ready(self) -> UpstreamThread:
        assert self._served is not None, "start() first"
        self.url = self._served.__enter__()
        return self

    def calls(self) -> list[tuple[float, str]]:
        return list(self.fake.calls)

    def stop(self) -> None:
        served, self._served = self._served, None
        if served is not None and self.url:
            served.__exit__(None, None, None)


def child_env() -> dict[str, str]:
    """The environment for a child ``python -m maestro...``: this one, with this maestro first on the path."""
    env = dict(os.environ)
    root = str(Path(maestro.__file__).resolve().parents[1])  # this maestro, wherever it is imported from
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


async def set_faults(client: httpx.AsyncClient, url: str, faults: Faults) -> None:
    """Tell the upstream at ``url`` to inject ``faults`` from now on."""
    answer = await client.put(url + "/_chaos/faults", json=asdict(faults))
    answer.raise_for_status()


def _first_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    """The child's first line of output (its port), or what it wrote to stderr when it died first."""
    out = proc.stdout
    assert out is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(out.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    if line and line[0].strip():
        return line[0].strip()
    proc.kill()
    _, err = proc.communicate(timeout=30)
    return (err or "").strip().splitlines()[-1] if (err or "").strip() else f"no port within {timeout_s:g} s"


def main(argv: list[str] | None = None) -> None:
    spec = json.loads((argv or sys.argv[1:])[0])
    fake = FakeUpstream(spec["name"], Faults(**spec["faults"]), seed=int(spec["seed"]))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        fake.app(), log_level="critical", access_log=False, lifespan="off", timeout_keep_alive=KEEP_ALIVE_S
    )
    uvicorn.Server(config).run(sockets=[sock])


def _exit_with_parent() -> None:
    sys.stdin.read()  # returns when the drill closes our stdin or dies
    os._exit(0)


if __name__ == "__main__":
    main()
