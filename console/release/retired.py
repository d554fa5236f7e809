"""What the signed retirement events say is retired, read with plain SQL (console and CLI alike)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from console.auditing import catalogue as actions
from console.store.rows import Rows


@dataclass(frozen=True)
class Retirements:
    """What the log says is retired in one model: the whole model, or some of its versions."""

    model_retired: bool = False
    versions: frozenset[int] = frozenset()

    def covers(self, version: int) -> bool:
        return self.model_retired or version in self.versions


def retirements_in(rows: Rows, models: list[str] | None = None) -> dict[str, Retirements]:
    """Per model, what its signed retirement events retired (all models, or those named)."""
    where = "action IN (:version, :model)"
    params: dict[str, object] = {
        "version": actions.VERSION_RETIRED,
        "model": actions.MODEL_RETIRED,
    }
    if models is not None:
        if not models:
            return {}
        where += " AND model IN (" + ", ".join(f":m{i}" for i in range(len(models))) + ")"
        params.update({f"m{i}": name for i, name in enumerate(models)})
    found: dict[str, Retirements] = {}
    for model, action, payload in rows.all(
        f"SELECT model, action, payload FROM audit_events WHERE {where} ORDER BY seq", params
    ):
        now = found.get(str(model), Retirements())
        if action == actions.MODEL_RETIRED:
            found[str(model)] = Retirements(True, now.versions)
            continue
        number = json.loads(bytes(payload)).get("version")
        if isinstance(number, int):
            found[str(model)] = Retirements(now.model_retired, now.versions | {number})
    return found
