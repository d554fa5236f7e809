"""`show-request`'s review section: the paired comparison, every check, the metric deltas."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from console.registry.card_diff import CardDiff
    from console.release.review import MetricComparison, PairedComparison, ReviewEvidence
    from console.validation.run_details import MetricDelta


def _delta(delta: MetricDelta) -> str:
    found = delta.interval
    interval = f" (95% CI {found.low:+.4f} to {found.high:+.4f})" if found else ""
    return f"{delta.metric} {delta.delta:+.4f}{interval}: {delta.challenger:.4f} vs {delta.champion:.4f}"


def paired_lines(paired: PairedComparison | None, champion: int | None) -> list[str]:
    """The gate's like-for-like comparison, or why there is none."""
    if paired is None:
        return ["    paired: the candidate's run has no champion comparison"]
    detail = paired.detail
    if detail.primary is None:
        return [f"    paired: {paired.status}: {detail.note or 'no champion to compare with'}"]
    who = f"v{detail.champion_version}"
    lines = [
        f"    paired on {paired.dataset_name} (run {paired.run_id}, same rows, candidate minus "
        f"{who}): {paired.status.upper()}",
        f"      {_delta(detail.primary)}; passes when the lower end >= -{detail.tolerance or 0:g}",
    ]
    if detail.secondary is not None:
        lines.append(f"      {_delta(detail.secondary)}")
    if not paired.current:
        held = f"v{champion}" if champion is not None else "no version"
        lines.append(f"      ! compared with {who}, but {held} holds the stage now")
    return lines


def _metric(row: MetricComparison, like_for_like: bool) -> str:
    found = row.interval
    bounds = f" [{found.low:.4f}, {found.high:.4f}]" if found else ""
    text = f"      {row.status:4} {row.metric:32} {row.value:.4f}{bounds}"
    if row.delta is None or row.champion_value is None:
        return text + f"  ({row.direction})"
    colour = "green" if row.improves else "red"
    word = "better" if row.improves else "worse"
    marker = "" if like_for_like else " (other data)"
    shown = click.style(f"{row.delta:+.4f} {word}", fg=colour)
    return f"{text}  {shown} vs {row.champion_value:.4f}{marker} ({row.direction})"


def card_lines(diff: CardDiff | None, ref: str) -> list[str]:
    """The candidate's card against its source, and a warning for each unconfirmed field."""
    if diff is None:
        return []
    changed = [f for f in diff.fields if f.state in ("edited", "new")]
    lines = [
        f"    card against v{diff.against}: "
        + (", ".join(f"{f.field} {f.state}" for f in changed) if changed else "no field changed")
    ]
    if diff.unconfirmed:
        lines.append(
            f"  warning: card fields inherited from v{diff.against} and not confirmed: "
            f"{', '.join(diff.unconfirmed)} (signoff card confirm {ref}, or card edit)"
        )
    if diff.evidence is not None:
        word = "warning" if diff.evidence.contradicted else "note"
        lines.append(f"  {word}: the inherited card text was {diff.evidence.summary()}")
    return lines


def review_lines(evidence: ReviewEvidence) -> list[str]:
    """What a reviewer reads before signing, as `show-request` prints it."""
    candidate = evidence.candidate
    ref = f"{candidate.model}:{candidate.number}"
    return _run_lines(evidence) + card_lines(evidence.card_diff, ref)


def _run_lines(evidence: ReviewEvidence) -> list[str]:
    champion = evidence.champion
    holder = f"v{champion.number}" if champion is not None else "no version"
    lines = [
        f"  review: candidate v{evidence.candidate.number} against {holder} "
        f"holding {evidence.request.stage}"
    ]
    lines += paired_lines(evidence.paired, champion.number if champion is not None else None)
    run = evidence.candidate_run
    if run is None:
        lines.append("    no validation run of the candidate")
        return lines
    counts = {
        s: sum(1 for c in run.checks if c.status == s) for s in ("fail", "warn", "pass", "info")
    }
    lines.append(
        f"    checks of run {run.id} on {run.dataset_name}: {counts['fail']} failed, "
        f"{counts['warn']} warned, {counts['pass']} passed, {counts['info']} info"
    )
    for check in evidence.checks:
        value = f"{check.value:.4g}" if check.value is not None else "-"
        lines.append(f"      {check.status:4} {check.name:44} {value}")
    other = evidence.champion_run
    like = evidence.same_dataset is not False
    if other is None:
        lines.append("    metrics of the candidate's run (no champion run to set them against)")
    elif like:
        lines.append(
            f"    metrics: run {run.id} against the champion's run {other.id}, same dataset"
        )
    else:
        lines.append(
            f"    metrics: run {run.id} on {run.dataset_name} against the champion's run {other.id} "
            f"on {other.dataset_name}: DIFFERENT DATASETS, the deltas are not like-for-like"
        )
    lines += [_metric(row, like) for row in evidence.metrics]
    if evidence.earlier_runs:
        lines.append(f"    earlier runs of v{evidence.candidate.number}")
        lines += [
            f"      run {r.id} {r.status:4} on {r.dataset_name} at {r.finished_at[:19]} by {r.actor}"
            for r in evidence.earlier_runs
        ]
    return lines
