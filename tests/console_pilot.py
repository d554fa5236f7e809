"""Console tests wait on the app, never on the clock: one `settle` for every Pilot test."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from console.tui.settling import settled


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the console has settled: every load started, finished, handled and drawn
    (`console.tui.settling`). Under load it takes longer; it never returns early."""
    await settled(pilot.app)
