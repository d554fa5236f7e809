"""Review a request: its evidence beside the current champion, then approve or reject, signed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from audit.keys import Signer
from console.release.decisions import decide
from console.release.evidence import CheckView
from console.release.explain import PolicyExplanation, explain_promotion
from console.release.requests import RequestView
from console.release.review import ReviewEvidence, review_evidence
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.modals import Decision, DecisionModal
from console.tui.widgets.text import Part, line, lines
from console.tui.widgets.titlebar import TitleBar
from console.validation.details import FairnessGap, details_of


@dataclass
class ReviewLoaded(Message):
    evidence: ReviewEvidence
    explanation: PolicyExplanation | None = None


_MARKS = {"pass": "✓", "fail": "✗", "warn": "!"}
_COLOURS = {"pass": "green", "fail": "red", "warn": "yellow"}


def _bound(check: CheckView) -> list[Part]:
    """A fairness gap's bound and the policy section it comes from, dimmed."""
    detail = details_of(check)
    if not isinstance(detail, FairnessGap) or check.threshold is None:
        return []
    return [(f"  ≤ {check.threshold:g} ← {detail.bound_text}", "dim")]


def _paired(data: ReviewEvidence) -> list[Text | str]:
    """The like-for-like number: the run's paired comparison with the champion."""
    paired = data.paired
    if paired is None:
        return []
    detail = paired.detail
    heading = line(
        ("Paired with champion", "bold"),
        f" (same rows of {paired.dataset_name}, run {paired.run_id}) ",
        (paired.status.upper(), _COLOURS.get(paired.status, "")),
    )
    if detail.primary is None:
        return [heading, f"  {detail.note}", ""]
    items: list[Text | str] = [heading]
    for delta in (detail.primary, detail.secondary):
        if delta is None:
            continue
        found = delta.interval
        bounds = f" [{found.low:+.4f}, {found.high:+.4f}]" if found else ""
        colour = "green" if delta.delta >= 0 else "red"
        items.append(
            line(
                f"  {delta.metric} v{data.candidate.number} − v{detail.champion_version}: ",
                (f"{delta.delta:+.4f}", colour),
                f"{bounds}  ({delta.challenger:.4f} vs {delta.champion:.4f})",
            )
        )
    items.append(f"  passes when the lower end ≥ −{detail.tolerance or 0:g}")
    if not paired.current:
        items.append(line(("  compared with another version than the stage's holder", "red")))
    return [*items, ""]


def _metrics_heading(data: ReviewEvidence) -> Text:
    if data.same_dataset is False and data.champion_run is not None:
        return line(
            ("Validation metrics", "bold"),
            " (candidate vs champion's latest run) ",
            (
                f"different datasets: {data.champion_run.dataset_name}, not like-for-like",
                "yellow",
            ),
        )
    return line(("Validation metrics", "bold"), " (candidate vs champion, 95% interval; ↑↓ better)")


def _explanation(explained: PolicyExplanation) -> list[Text | str]:
    """`policy explain` for the panel: each rule, then where it comes from (dimmed)."""
    tier = explained.tier_rule or f"none for tier {explained.tier}; [stage.{explained.stage}]"
    items: list[Text | str] = [
        line(("Policy that applies", "bold"), f"  risk tier {explained.tier}"),
        line("  tier rule: ", tier),
    ]
    for rule in explained.rules:
        items.append(line(f"  {rule.key}: {rule.value}  ", (f"← {rule.source}", "dim")))
        if rule.why:
            items.append(line(("    " + rule.why, "dim")))
    return items


class ReviewScreen(SignoffScreen):
    """What a reviewer reads before signing."""

    BINDINGS = [
        Binding(
            "a", "decide('approve')", "Approve", id="review.approve", tooltip="Sign an approval"
        ),
        Binding("x", "decide('reject')", "Reject", id="review.reject", tooltip="Sign a rejection"),
        Binding("escape", "app.pop_screen", "Back", id="review.back", tooltip="Back to the list"),
        Binding("r", "reload", "Reload", id="review.reload", tooltip="Read the store again"),
    ]

    def __init__(self, request_id: int) -> None:
        super().__init__()
        self.request_id = request_id
        self.request: RequestView | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(f"Request {self.request_id}", id="review-title", classes="pane-title")
        with Horizontal():
            with VerticalScroll(id="evidence", classes="panel"):
                yield Static("loading…", id="evidence-body")
            with VerticalScroll(id="champion", classes="panel"):
                yield Static("", id="champion-body")
        yield KeyBar()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="review")
    @reads_store
    def load(self) -> None:
        evidence = review_evidence(self.store, self.request_id)
        r = evidence.request
        explanation = explain_promotion(self.store, r.model, r.version, r.stage)
        self.post_message(ReviewLoaded(evidence, explanation))

    @on(ReviewLoaded)
    def show(self, message: ReviewLoaded) -> None:
        data = message.evidence
        self.request = data.request
        r = data.request
        self.query_one("#review-title", Static).update(
            line(
                f"Request {r.id}: {r.model}:{r.version} → {r.stage}   [{r.status}]   "
                f"by {r.requester}"
            )
        )
        items: list[Text | str] = [
            line(("Why", "bold"), f"  {r.comment}"),
            line(("Evidence digest", "bold"), f"  {r.evidence_digest[:32]}…"),
            f"  artifact    {str(r.evidence.get('artifact_sha256'))[:32]}…",
            f"  validation  {str(r.evidence.get('validation_report_sha256') or 'none')[:32]}",
            f"  policy      {str(r.evidence.get('policy_sha256'))[:32]}…",
            f"  canary plan {' → '.join(f'{p}%' for p in r.canary_plan) or 'direct'}",
        ]
        if r.evidence_changed:
            items.append(
                line(("The evidence changed since the request: approvals are void.", "red bold"))
            )
        items += ["", line(("Gates", "bold"))]
        for gate in r.gates:
            mark = ("PASS", "green") if gate.passed else ("FAIL", "red")
            items.append(line("  ", mark, f" {gate.name}: {gate.detail}"))
        if not r.gates:
            items.append("  none for this stage")
        items += [
            "",
            line(
                ("Approvals", "bold"),
                f" {len(r.counted)} of {r.required} counted ({', '.join(r.approver_roles)})",
            ),
        ]

        for approval in r.approvals:
            void = (f" (void: {approval.void_reason})", "red") if approval.void else ""
            items.append(
                line(
                    f"  {approval.decision} · {approval.approver} ({approval.role}) · "
                    f"{approval.decided_at[:16]}: {approval.comment}",
                    void,
                )
            )
        if r.status == "open":
            items.append("")
            if r.needed:
                items.append(line(("Still needed", "bold")))
                items.extend(f"  • {item}" for item in r.needed)
            else:
                items.append(line(("Ready to promote.", "green bold")))
        if message.explanation is not None:
            items += ["", *_explanation(message.explanation)]
        self.query_one("#evidence-body", Static).update(lines(items))
        self.query_one("#champion-body", Static).update(self._comparison(data))

    def _comparison(self, data: ReviewEvidence) -> Text:
        candidate, champion = data.candidate, data.champion
        estimator = candidate.estimator_class.rsplit(".", 1)[-1]
        items: list[Text | str] = [
            line(
                ("Candidate", "bold"), f" v{candidate.number} · {estimator} · by {candidate.author}"
            )
        ]
        if champion is None:
            items.append(
                line(("Champion", "bold"), f" none: {data.request.stage} holds no version yet")
            )
        else:
            held = champion.estimator_class.rsplit(".", 1)[-1]
            items.append(
                line(("Champion", "bold"), f" v{champion.number} · {held} · by {champion.author}")
            )
        items.append("")
        items += _paired(data)
        if data.metrics:
            items.append(_metrics_heading(data))
            for row in data.metrics:
                delta: list[Part] = []
                if row.delta is not None and row.champion_value is not None:
                    colour = "green" if row.improves else "red"
                    delta = ["  ", (f"{row.delta:+.4f}", colour), f" vs {row.champion_value:.4f}"]
                interval = row.interval
                bounds = f" [{interval.low:.3f}, {interval.high:.3f}]" if interval else ""
                mark = _MARKS.get(row.status, " ")
                arrow = "↓" if row.direction == "lower is better" else "↑"
                items.append(
                    line(f"  {mark} {row.metric} {arrow}: {row.value:.4f}{bounds}", *delta)
                )
        else:
            items.append(line(("Training metrics", "bold"), " (no validation run yet)"))
            for metric in data.training:
                shift = f"  {metric.shift:+.4f}" if metric.shift is not None else ""
                items.append(f"  {metric.metric}: {metric.value:.4f}{shift}")
        if data.candidate_run is not None:
            run = data.candidate_run
            items += [
                "",
                line((f"Validation run {run.id}", "bold"), f" {run.status} on {run.dataset_name}"),
            ]
            if data.failed_checks:
                items.append("  failed: " + ", ".join(data.failed_checks))
            for check in data.checks:
                value = f" {check.value:.4g}" if check.value is not None else ""
                colour = _COLOURS.get(check.status, "")
                items.append(
                    line(
                        "  ", (f"{check.status:4}", colour), f" {check.name}{value}", *_bound(check)
                    )
                )
        if data.earlier_runs:
            items += ["", line(("Earlier runs", "bold"), f" of v{candidate.number}")]
            items += [
                f"  run {r.id} {r.status} on {r.dataset_name} · {r.finished_at[:16]}"
                for r in data.earlier_runs
            ]
        if data.card_changes:
            items += [
                "",
                line(
                    ("Card fields changed vs champion", "bold"), " " + ", ".join(data.card_changes)
                ),
            ]
        diff = data.card_diff
        if diff is not None:
            changed = [f"{f.field} {f.state}" for f in diff.fields if f.state in ("edited", "new")]
            items += [
                "",
                line(
                    (f"Card against v{diff.against}", "bold"),
                    " " + (", ".join(changed) or "no field changed"),
                ),
            ]
            if diff.unconfirmed:
                items.append(
                    line(
                        ("  not confirmed", "bold yellow"),
                        f" (inherited from v{diff.against}): {', '.join(diff.unconfirmed)}",
                    )
                )
            if diff.evidence is not None:
                style = "bold red" if diff.evidence.contradicted else "bold"
                items.append(line((f"  {diff.evidence.heading}", style), ":"))
                items += [f"    {finding}" for finding in diff.evidence.findings()]
        return lines(items)

    def action_decide(self, verdict: str) -> None:
        request = self.request
        if request is None:
            return
        summary = f"request {request.id} ({request.model}:{request.version} → {request.stage})"

        def chosen(decision: Decision | None) -> None:
            if decision is not None:
                self.signoff.with_signer(lambda signer: self.sign(signer, decision))

        self.app.push_screen(DecisionModal(verdict, summary), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign")
    def sign(self, signer: Signer, decision: Decision) -> None:
        view = decide(self.store, signer, self.request_id, decision.verdict, decision.comment)
        verb = "Approved" if decision.verdict == "approve" else "Rejected"
        self.app.call_from_thread(
            self.app.notify,
            f"{verb} request {view.id}: {len(view.counted)} of {view.required} approvals.",
        )
        self.app.call_from_thread(self.reload)
