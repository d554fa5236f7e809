"""The serving version: the furthest stage in policy order that holds one, whatever later ones hold."""

from __future__ import annotations

from console.release.serving import serving_stage, serving_version

ORDER = ["dev", "staging", "production"]


def test_the_furthest_stage_holding_a_version_serves() -> None:
    assert serving_version(ORDER, {"dev": 3, "staging": 2, "production": 1}) == 1
    assert serving_version(ORDER, {"dev": 3, "staging": 2, "production": None}) == 2
    assert serving_stage(ORDER, {"dev": 3, "staging": 2}) == "staging"


def test_nothing_serves_when_no_stage_holds_a_version() -> None:
    assert serving_version(ORDER, {}) is None
    assert serving_stage(ORDER, {"dev": None}) is None
    assert serving_version(ORDER, {"retired": 4}) is None  # a stage the policy no longer names
