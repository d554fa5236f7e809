"""What the release screen reads: each stage's holder and canary, and palette entries."""

from __future__ import annotations

from dataclasses import dataclass

from console.auditing import list_events
from console.deployments import SERVING_KINDS, StageChange
from console.evidence import stage_history
from console.policy import load_policy
from console.registry import list_models
from console.store.db import Store
from console.workflow import get_request, list_requests

CANARY_KINDS = ("canary.started", "canary.step")


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
    """Palette entries for every ready request and every stage that holds a version."""
    commands = [
        ReleaseCommand(
            f"Promote request {r.id}: {r.model}:{r.version} → {r.stage}",
            f"ready: approved by {', '.join(r.counted) or 'nobody needed'}",
            request_id=r.id,
        )
        for r in list_requests(store, pending=True)
        if r.ready
    ]
    for model in list_models(store):
        for stage, version in sorted(model.stages.items()):
            if version is not None:
                commands.append(
                    ReleaseCommand(
                        f"Roll back {model.name} {stage}",
                        f"break-glass: {stage} holds v{version}",
                        model=model.name,
                        stage=stage,
                    )
                )
    return commands


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _since(at: str) -> str:
    return at[:16].replace("T", " ")


def read_stages(store: Store) -> list[StageRow]:
    """Every model × policy stage: its holder, how it got there, and any running canary."""
    stages = load_policy(store).stage_names
    rows: list[StageRow] = []
    for model in list_models(store):
        deployments = stage_history(store, model.name)
        for stage in stages:
            mine = [d for d in deployments if d.stage == stage]
            serving = [d for d in mine if d.kind in SERVING_KINDS]
            last = serving[-1] if serving else None
            canary = next(
                (v.number for v in model.versions if f"{stage} (canary)" in v.stages), None
            )
            share: int | None = None
            plan: list[int] = []
            started = [d for d in mine if d.kind in CANARY_KINDS]
            if canary is not None and started:
                latest = started[-1]
                # The share is what the signed event of the last canary step recorded.
                events = list_events(store, model=model.name, before=latest.event_seq + 1, limit=1)
                if events and events[0].seq == latest.event_seq:
                    value = events[0].payload.get("canary_share")
                    share = int(value) if isinstance(value, int | float) else None
                if latest.request_id is not None:
                    plan = get_request(store, latest.request_id).canary_plan
            how = ""
            if last is not None:
                how = {
                    "promotion": f"promoted (request {last.request_id})",
                    "canary.completed": f"canary completed (request {last.request_id})",
                    "rollback": f"ROLLBACK: {_clip(last.reason, 40)}",
                }.get(last.kind, last.kind)
            rows.append(
                StageRow(
                    model=model.name,
                    stage=stage,
                    version=model.stages.get(stage),
                    since=_since(last.occurred_at) if last else "",
                    by=last.actor if last else "",
                    how=how,
                    replaced=last.replaced_version if last else None,
                    canary=canary,
                    share=share,
                    plan=plan,
                )
            )
    return rows


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
