"""What the release screen reads: each stage's holder and canary, and palette entries."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from console.release.canary import ABORT, StepAdvice
from console.release.deployments import StageChange
from console.release.policy import load_policy
from console.release.requests import RequestView, list_requests
from console.release.status import StagePage, stage_page, stage_status
from console.store.db import Store
from console.tui.widgets.bars import share_bar


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
    for status in stage_status(store, stage=last):  # only the last stage's rows are read
        if status.version is not None:
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


def stage_cells(item: StageRow) -> tuple[str | Text, ...]:
    """One row of the stages table: holder (rolled back in red), canary with its share."""
    canary: Text | str = "-"
    if item.canary is not None:
        canary = Text(f"v{item.canary} ") + share_bar(item.share or 0, 8)
    how = Text(item.how, style="bold red" if item.how.startswith("ROLLBACK") else "")
    holds = Text("-", style="dim")
    if item.version is not None:
        rolled_back = item.how.startswith("ROLLBACK")
        holds = Text(f"v{item.version}" + (" ↩" if rolled_back else ""))
        holds.stylize("bold red" if rolled_back else "")
    return (item.model, item.stage, holds, canary, item.by, item.since, how)


def request_cells(view: RequestView) -> tuple[str | Text, ...]:
    """One row of the open requests table: ready ones show their plan, others what they need."""
    plan = " → ".join(f"{p}%" for p in view.canary_plan) or "direct"
    return (
        str(view.id),
        f"{view.model}:{view.version}",
        view.stage,
        f"{len(view.counted)}/{view.required}",
        Text("✓ ready", "green") if view.ready else Text("waiting", "yellow"),
        view.requester,
        plan if view.ready else "; ".join(view.needed),
    )


def step_prompt(row: StageRow, advice: StepAdvice) -> tuple[str, str]:
    """The title and text of a canary step's confirmation, with what `monitor compare` says."""
    if advice.recommendation == ABORT:
        return (
            f"The canary of {row.model}:{row.canary} in {row.stage} cannot step:",
            f"compare says {advice.summary()}. Abort it with x.",
        )
    plan = " → ".join(f"{p}%" for p in row.plan)
    detail = (
        f"It serves {row.share}% now (plan {plan}); the last step makes v{row.canary} the "
        f"version of {row.stage}. Compare: {advice.summary()}."
    )
    if advice.needs_override:
        detail += (
            " The comparison is inconclusive: the step needs an override reason, signed and "
            "flagged in every report."
        )
    return f"Step the canary of {row.model}:{row.canary} in {row.stage}?", detail


def page_status(stages: StagesRead | None, match: str) -> str:
    """Which models the stages table shows, and the keys that page or filter it."""
    if stages is None:
        return ""
    page = stages.page
    if not page.models:
        return f"no model matches {match!r} · /: filter" if match else "no stage holds a version"
    first, last = page.offset + 1, page.offset + len(page.models)
    keys = [k for k, ok in (("[", page.has_before), ("]", page.has_after)) if ok]
    where = f"models {first}–{last} of {page.total:,}"
    return where + (f" · {' '.join(keys)}: page" if keys else "") + " · /: filter"
