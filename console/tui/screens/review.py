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
from console.registry.views import VersionView, get_model, get_version
from console.release.decisions import decide
from console.release.evidence import CheckView, ValidationView, latest_validation
from console.release.requests import RequestView, get_request
from console.tui.screens.base import SignoffScreen, reads_store
from console.tui.widgets.keybar import KeyBar
from console.tui.widgets.modals import Decision, DecisionModal
from console.tui.widgets.text import Part, line, lines
from console.tui.widgets.titlebar import TitleBar


@dataclass
class ReviewLoaded(Message):
    request: RequestView
    candidate: VersionView
    champion: VersionView | None
    candidate_run: ValidationView | None
    champion_run: ValidationView | None
    card_changes: list[str]


def _interval(check: CheckView) -> str:
    detail = check.detail
    for low, high in (("ci_low", "ci_high"), ("lower", "upper"), ("ci_lower", "ci_upper")):
        if low in detail and high in detail:
            return f" [{float(detail[low]):.3f}, {float(detail[high]):.3f}]"  # type: ignore[arg-type]
    interval = detail.get("interval") or detail.get("ci95")
    if isinstance(interval, list) and len(interval) == 2:
        return f" [{float(interval[0]):.3f}, {float(interval[1]):.3f}]"
    return ""


def _lower_is_better(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in {"rmse", "mae", "mape", "log_loss", "brier_score"}


def _performance(run: ValidationView | None) -> dict[str, CheckView]:
    if run is None:
        return {}
    return {c.name: c for c in run.by_category("performance") if c.value is not None}


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
        request = get_request(self.store, self.request_id)
        candidate = get_version(self.store, request.model, request.version)
        holder = get_model(self.store, request.model).stages.get(request.stage)
        champion = get_version(self.store, request.model, holder) if holder else None
        changes: list[str] = []
        if champion is not None:
            try:
                from console.registry.cards import card_fields

                mine = card_fields(self.store, request.model, request.version)
                theirs = card_fields(self.store, request.model, champion.number)
                changes = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            except ImportError:
                changes = []
        self.post_message(
            ReviewLoaded(
                request,
                candidate,
                champion,
                latest_validation(self.store, request.model, request.version),
                latest_validation(self.store, request.model, champion.number) if champion else None,
                changes,
            )
        )

    @on(ReviewLoaded)
    def show(self, data: ReviewLoaded) -> None:
        self.request = data.request
        r = data.request
        self.query_one("#review-title", Static).update(
            Text(
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
        self.query_one("#evidence-body", Static).update(lines(items))
        self.query_one("#champion-body", Static).update(self._comparison(data))

    def _comparison(self, data: ReviewLoaded) -> Text:
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
        mine, theirs = _performance(data.candidate_run), _performance(data.champion_run)
        if mine:
            items.append(
                line(("Validation metrics", "bold"), " (candidate vs champion, 95% interval)")
            )
            for name, check in sorted(mine.items()):
                value = check.value or 0.0
                other = theirs.get(name)
                delta: list[Part] = []
                if other is not None and other.value is not None:
                    diff = value - other.value
                    better = diff <= 0 if _lower_is_better(name) else diff >= 0
                    colour = "green" if better else "red"
                    delta = ["  ", (f"{diff:+.4f}", colour), f" vs {other.value:.4f}"]
                mark = {"pass": "✓", "fail": "✗", "warn": "!"}.get(check.status, " ")
                metric = name.removeprefix("performance.")
                items.append(line(f"  {mark} {metric}: {value:.4f}{_interval(check)}", *delta))
        else:
            items.append(line(("Training metrics", "bold"), " (no validation run yet)"))
            for name, value in sorted(candidate.metrics.items()):
                other_value = champion.metrics.get(name) if champion else None
                shift = f"  {value - other_value:+.4f}" if other_value is not None else ""
                items.append(f"  {name}: {value:.4f}{shift}")
        if data.candidate_run is not None:
            run = data.candidate_run
            failed = [c.name for c in run.checks if c.status == "fail"]
            items += [
                "",
                line((f"Validation run {run.id}", "bold"), f" {run.status} on {run.dataset_name}"),
            ]
            if failed:
                items.append("  failed: " + ", ".join(failed))
        if data.card_changes:
            items += [
                "",
                line(
                    ("Card fields changed vs champion", "bold"), " " + ", ".join(data.card_changes)
                ),
            ]
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
