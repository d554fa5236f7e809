"""Pages of the signed log as people read them (`audit log`, the console's audit screen), in plain SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from console.errors import NotFound
from console.store.rows import Rows


@dataclass(frozen=True)
class EventView:
    seq: int
    ts: str
    actor: str
    action: str
    subject: str
    model: str | None
    payload: dict[str, object]

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def read_events(
    rows: Rows,
    *,
    model: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    actions: Sequence[str] = (),
    before: int | None = None,
    limit: int = 50,
    newest_first: bool = True,
) -> list[EventView]:
    """A page of the log (keyset pagination on seq), filtered; never loads the whole log.

    `action` keeps actions starting with it; `actions`, those equal to one of them.
    """
    if model is not None and not rows.all(
        "SELECT 1 FROM models WHERE name = :name", {"name": model}
    ):
        # a typo must not read as "nothing happened to it"
        raise NotFound(f"no model {model!r} in this store; see `signoff models`")
    where: list[str] = []
    params: dict[str, object] = {"limit": int(limit)}
    if actions:
        where.append("action IN (" + ", ".join(f":a{i}" for i in range(len(actions))) + ")")
        params.update({f"a{i}": name for i, name in enumerate(actions)})
    if model:
        where.append("model = :model")
        params["model"] = model
    if actor:
        where.append("actor = :actor")
        params["actor"] = actor
    if action:
        where.append("action LIKE :prefix || '%'")  # as the ORM's startswith() spelled it
        params["prefix"] = action
    if before is not None:
        where.append("seq < :before")
        params["before"] = before
    condition = " AND ".join(where) or "TRUE"
    order = "DESC" if newest_first else "ASC"
    found = rows.all(
        "SELECT seq, ts, actor, action, subject, model, payload FROM audit_events "
        f"WHERE {condition} ORDER BY seq {order} LIMIT :limit",
        params,
    )
    return [
        EventView(int(seq), ts, who, what, subject, about, json.loads(bytes(payload)))
        for seq, ts, who, what, subject, about, payload in found
    ]
