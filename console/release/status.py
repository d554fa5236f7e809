"""Where each model's stages stand now: holders, running canaries and the change that made them so."""

from __future__ import annotations

import json
from dataclasses import dataclass

from console.release.history import SERVING_KINDS
from console.store.db import Store
from console.store.paging import Paged, name_page


@dataclass(frozen=True)
class StageStatus:
    """A stage of a model now: its holder, its running canary, and the change that made it so."""

    model: str
    stage: str
    version: int | None
    canary_version: int | None
    canary_share: int | None
    canary_plan: list[int]
    last_kind: str | None
    last_at: str | None
    last_actor: str | None
    last_request: int | None
    last_reason: str
    replaced: int | None


def stage_status(
    store: Store, *, first: str | None = None, last: str | None = None, stage: str | None = None
) -> list[StageStatus]:
    """Every assigned stage of every model (or of the models named `first` to `last`; or only
    the stage named `stage`), in three queries whatever the registry's size."""
    from sqlalchemy import text

    kinds = ", ".join(f"'{k}'" for k in SERVING_KINDS)
    within = {"first": first or "", "last": last, "stage": stage}
    span = (
        "model >= :first AND (CAST(:last AS VARCHAR) IS NULL OR model <= :last) "
        "AND (CAST(:stage AS VARCHAR) IS NULL OR stage = :stage)"
    )
    with store.session() as session:
        connection = session.connection()
        assigned = connection.execute(
            text(
                "SELECT model, stage, version, canary_version, canary_share FROM stages "
                f"WHERE (version IS NOT NULL OR canary_version IS NOT NULL) AND {span} "
                "ORDER BY model, stage"
            ),
            within,
        ).all()
        latest = {
            (r[0], r[1]): r
            for r in connection.execute(
                text(
                    "SELECT d.model, d.stage, d.kind, d.occurred_at, d.actor, d.request_id, "
                    "d.reason, d.replaced_version FROM deployments d WHERE d.id = ("
                    "SELECT max(x.id) FROM deployments x WHERE x.model = d.model AND "
                    f"x.stage = d.stage AND x.kind IN ({kinds})) AND d.{span}"
                ),
                within,
            ).all()
        }
        plans = {
            (r[0], r[1]): json.loads(r[2])
            for r in connection.execute(
                text(
                    "SELECT model, stage, canary_plan FROM promotion_requests "
                    "WHERE status = 'canary'"
                )
            ).all()
        }
    result = []
    for model, stage, version, canary, share in assigned:
        row = latest.get((model, stage))
        result.append(
            StageStatus(
                model=model,
                stage=stage,
                version=version,
                canary_version=canary,
                canary_share=share,
                canary_plan=plans.get((model, stage), []) if canary is not None else [],
                last_kind=row[2] if row else None,
                last_at=row[3] if row else None,
                last_actor=row[4] if row else None,
                last_request=row[5] if row else None,
                last_reason=row[6] if row else "",
                replaced=row[7] if row else None,
            )
        )
    return result


@dataclass(frozen=True)
class StagePage(Paged):
    """The stages of one page of models (those holding a stage or a canary), in name order."""

    statuses: list[StageStatus]
    models: list[str]

    def _shown(self) -> int:
        return len(self.models)


HELD_MODELS = (
    "SELECT DISTINCT model AS name FROM stages "
    "WHERE (version IS NOT NULL OR canary_version IS NOT NULL) AND strpos(lower(model), :match) > 0"
)


def stage_page(
    store: Store,
    *,
    match: str = "",
    after: str | None = None,
    before: str | None = None,
    at: str | None = None,
    limit: int = 50,
) -> StagePage:
    """The stages of `limit` models holding one, by keyset on the model's name."""
    with store.session() as session:
        page = name_page(
            session.connection(), HELD_MODELS, match, after=after, before=before, at=at, limit=limit
        )
    models = [row[0] for row in page.rows]
    if not models:
        return StagePage(page.offset, page.total, [], [])
    wanted = set(models)
    statuses = [
        s for s in stage_status(store, first=models[0], last=models[-1]) if s.model in wanted
    ]
    return StagePage(page.offset, page.total, statuses, models)
