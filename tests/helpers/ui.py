"""A throwaway repository for the UI: the example manifests, ledger keys, a ledger with entries, two eval
scorecards of one suite (one case flips), and login keys of each role."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.ledger import key
from helpers.repo import EXAMPLE_DIRS
from maestro.evals.cache import Store
from maestro.ledger import Action, Ledger, Subject
from maestro.ledger.keys import write_public_key
from maestro.ui.config import UiConfig, keys_from_env

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {"viewer": "ui-viewer-token-0001", "approver": "ui-approver-token-0002", "operator": "ui-operator-token-0003"}
KEYS_JSON = json.dumps(
    [
        {"id": "vera", "token": TOKENS["viewer"], "role": "viewer"},
        {"id": "abe", "token": TOKENS["approver"], "role": "approver"},
        {"id": "olga", "token": TOKENS["operator"], "role": "operator"},
    ]
)


@dataclass(frozen=True)
class UiRepo:
    root: Path
    config: UiConfig

    @property
    def state(self) -> Path:
        return Path(self.config.state_path)


def make(root: Path, *, signing: bool = True) -> UiRepo:
    for name in EXAMPLE_DIRS:
        shutil.copytree(ROOT / name, root / name)
    write_public_key(key("alice").public, root)
    state = root / ".maestro" / "state.db"
    with Ledger.open(state) as ledger:
        ledger.append(
            [
                Action("validate", "alice", [Subject.of("manifests", b"v1")], details={"errors": 0}),
                Action("route", "gateway:alice", [Subject.of("request", b"r1")], cost_usd=0.001),
            ],
            key("alice"),
        )
    store = Store.open(str(state))
    store.put_scorecard("support", "d1", "rev-old", scorecard({"c1": True, "c2": False, "c3": True}))
    store.put_scorecard("support", "d1", "rev-new", scorecard({"c1": True, "c2": True, "c3": False}))
    store.close()
    config = UiConfig(
        root=root,
        state_path=state,
        keys=keys_from_env("KEYS", {"KEYS": KEYS_JSON}),
        signing_key=key("alice") if signing else None,
        environ={"OPENAI_API_KEY": "sk-test-never-shown-0001"},
    )
    return UiRepo(root, config)


def scorecard(passed: dict[str, bool]) -> dict[str, Any]:
    """A small scorecard shaped like maestro.evals.scorecard.build's."""
    rate = sum(passed.values()) / len(passed)
    return {
        "suite": "support",
        "repeats": 1,
        "checks": [],
        "summary": {
            "runs": len(passed),
            "cases": len(passed),
            "passRate": {"value": rate, "low": max(rate - 0.3, 0), "high": min(rate + 0.3, 1)},
            "score": {"value": rate, "low": max(rate - 0.3, 0), "high": min(rate + 0.3, 1)},
        },
        "metrics": {},
        "cost": {"totalUsd": 0.003, "perCaseUsd": 0.001},
        "latency": {"p50Ms": 100.0, "p95Ms": 150.0, "p95Low": 120.0, "p95High": 180.0},
        "cases": [
            {"id": cid, "passed": ok, "score": 1.0 if ok else 0.0, "costUsd": 0.001, "latencyMs": 100.0}
            for cid, ok in passed.items()
        ],
    }
