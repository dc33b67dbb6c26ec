"""Which side of a running Agent or Pipeline rollout a new run takes, by a hash of its sticky key.

``pick(rollout, weight, key)``: a key hashes to a point in [0, 1) (``maestro.router.sticky``, the rule the
gateway uses for Route targets) and the canary gets the keys below its share, so a key on the canary stays there
as the canary's weight rises, and one on stable moves at most once.

``for_run`` gives the variants a new run uses: for each rollout of a Pipeline or Agent that is running, the
name of the side it picked. Without stickiness (or without the key it asks for) a run is picked by its own id.
"""

from __future__ import annotations

import sqlite3

from maestro.delivery.store import RolloutStore
from maestro.router.sticky import key_of, point


def pick(rollout: str, canary_percent: float, key: str) -> bool:
    """Whether ``key`` goes to the canary of ``rollout`` when the canary has ``canary_percent`` of the runs."""
    return point(rollout, key) * 100 < canary_percent


def for_run(conn: sqlite3.Connection, pipeline: str, run_id: str, *, caller: str, session: str) -> dict[str, str]:
    """``{"Pipeline/NAME" or "Agent/NAME": the version this run uses}`` for the running rollouts of ``pipeline``
    and of every Agent (a node that names one runs the version picked here); empty when none is running."""
    chosen = {}
    for stored in RolloutStore(conn).active():
        spec = stored.spec
        if not spec.splits_runs or not (spec.route == f"Pipeline/{pipeline}" or spec.route.startswith("Agent/")):
            continue
        key = key_of(spec.stickiness, caller=caller, metadata={"session": session}, headers={}) or run_id
        canary = pick(spec.name, stored.state.canary_weight, key)
        chosen[spec.route] = spec.canary if canary else spec.stable
    return chosen
