"""Which version serves a model: the one held by the furthest stage, in policy order, that holds one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def serving_stage(order: Sequence[str], held: Mapping[str, int | None]) -> str | None:
    """The furthest stage of `order` that `held` (stage -> version) gives a version, if any."""
    return next((stage for stage in reversed(order) if held.get(stage) is not None), None)


def serving_version(order: Sequence[str], held: Mapping[str, int | None]) -> int | None:
    """The version of `serving_stage`: what a report covers when no version is named."""
    stage = serving_stage(order, held)
    return None if stage is None else held[stage]
