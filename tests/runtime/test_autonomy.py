"""A tool's action against an AutonomyLevel: allowed, needs approval, forbidden; the stricter level applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro.manifests.validate import validate
from maestro.runtime import autonomy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manifests():  # type: ignore[no-untyped-def]
    return validate([ROOT / "manifests"]).manifests


@pytest.mark.parametrize(
    ("action", "level", "decision"),
    [("read", "L2", "allow"), ("write", "L2", "approval"), ("deploy", "L2", "forbid"), ("write", "L3", "allow")],
)
def test_the_verdict_follows_the_level(manifests, action, level, decision):  # type: ignore[no-untyped-def]
    verdict = autonomy.judge(action, autonomy.level_of(manifests, level))
    assert verdict is not None and verdict.decision == decision


def test_the_stricter_level_applies(manifests):  # type: ignore[no-untyped-def]
    level = autonomy.applicable(manifests, ["L3", "L2", None])
    assert level is not None and level.name == "L2"
    assert autonomy.level_of(manifests, "L4").approvals_required == 2
    assert autonomy.judge("write", None) is None
