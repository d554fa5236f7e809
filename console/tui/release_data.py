"""What the release screen reads: each stage's holder and canary, and palette entries."""

from __future__ import annotations

from dataclasses import dataclass

from console.release.deployments import StageChange
from console.release.policy import load_policy
from console.release.requests import list_requests
from console.release.status import StagePage, stage_page, stage_status
from console.store.db import Store


@dataclass(frozen=True)
class StageRow:
    """One stage of one model, as the registry and its deployments record it."""

    model: str
    stage: str
    version: int | None
    since: str
    by: str
    how: str
    replaced: int | None
    canary: int | None
    share: int | None
    plan: list[int]


@dataclass(frozen=True)
class ReleaseCommand:
    """A palette entry: promote a ready request, or roll back a stage (after confirmation)."""

    name: str
    help: str
    request_id: int | None = None
    model: str = ""
    stage: str = ""


def release_commands(store: Store) -> list[ReleaseCommand]:
    """Palette entries for every ready request and every version serving the last stage.

    Earlier stages are rolled back from the release screen (its filter finds any model): one
    entry per stage of a large registry would bury the palette.
    """
    commands = [
        ReleaseCommand(
            f"Promote request {r.id}: {r.model}:{r.version} → {r.stage}",
            f"ready: approved by {', '.join(r.counted) or 'nobody needed'}",
            request_id=r.id,
        )
        for r in list_requests(store, pending=True)
        if r.ready
    ]
    last = load_policy(store).stage_names[-1]
    for status in stage_status(store):
        if status.version is not None and status.stage == last:
            commands.append(
                ReleaseCommand(
                    f"Roll back {status.model} {status.stage}",
                    f"break-glass: {status.stage} holds v{status.version}",
                    model=status.model,
                    stage=status.stage,
                )
            )
    return commands


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _since(at: str) -> str:
    return at[:16].replace("T", " ")


@dataclass(frozen=True)
class StagesRead:
    rows: list[StageRow]
    page: StagePage


def read_stages(
    store: Store,
    *,
    match: str = "",
    after: str | None = None,
    before: str | None = None,
    at: str | None = None,
    limit: int = 50,
) -> StagesRead:
    """The stages of a page of models (holders and canaries), in policy order, with how each
    got there."""
    order = {name: i for i, name in enumerate(load_policy(store).stage_names)}
    page = stage_page(store, match=match, after=after, before=before, at=at, limit=limit)
    rows: list[StageRow] = []
    for status in sorted(page.statuses, key=lambda s: (s.model, order.get(s.stage, 99))):
        how = ""
        if status.last_kind is not None:
            how = {
                "promotion": f"promoted (request {status.last_request})",
                "canary.completed": f"canary completed (request {status.last_request})",
                "rollback": f"ROLLBACK: {_clip(status.last_reason, 40)}",
            }.get(status.last_kind, status.last_kind)
        rows.append(
            StageRow(
                model=status.model,
                stage=status.stage,
                version=status.version,
                since=_since(status.last_at) if status.last_at else "",
                by=status.last_actor or "",
                how=how,
                replaced=status.replaced,
                canary=status.canary_version,
                share=status.canary_share,
                plan=status.canary_plan,
            )
        )
    return StagesRead(rows, page)


def describe(change: StageChange, what: str = "") -> str:
    where = f"{change.model} {change.stage}"
    text = {
        "promotion": f"Promoted {change.model}:{change.version} to {change.stage}",
        "canary.started": f"Canary of v{change.version} started in {where} at "
        f"{change.canary_share}%",
        "canary.step": f"Canary of v{change.version} in {where} now at {change.canary_share}%",
        "canary.completed": f"Canary completed: v{change.version} now holds {where}",
        "canary.aborted": f"Canary of v{change.version} aborted in {where}",
        "rollback": f"Rolled back {where} to v{change.version} (break-glass)",
    }.get(change.kind, f"{change.kind} {where}")
    return f"{text} (event {change.event_seq}{', ' + what if what else ''})."
