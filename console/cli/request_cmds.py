"""Promotion requests from the command line: open, list and show them, approve, reject, withdraw."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from console.cli.options import Invocation, common, invocation, print_json, table

if TYPE_CHECKING:
    from console.release.request_reads import RequestView


def _print_request(view: RequestView) -> None:
    click.echo(f"request {view.id}: {view.model}:{view.version} -> {view.stage}  [{view.status}]")
    click.echo(f"  requested by {view.requester} at {view.created_at[:19]}: {view.comment}")
    click.echo(f"  expires      {view.expires_at[:19]}")
    plan = " -> ".join(f"{p}%" for p in view.canary_plan) or "none (direct)"
    click.echo(f"  canary plan  {plan}")
    click.echo(f"  evidence     {view.evidence_digest}")
    evidence = view.evidence
    click.echo(f"    artifact   {evidence.get('artifact_sha256')}")
    click.echo(f"    validation {evidence.get('validation_report_sha256') or 'none'}")
    click.echo(f"    policy     {evidence.get('policy_sha256')}")
    if view.evidence_changed:
        click.echo("  ! the evidence changed since the request: its approvals are void")
    click.echo("  gates")
    for gate in view.gates:
        click.echo(f"    {'PASS' if gate.passed else 'FAIL'}  {gate.name}: {gate.detail}")
    if not view.gates:
        click.echo("    (none for this stage)")
    tier = f", risk tier {view.tier}" if view.tier else ""
    click.echo(
        f"  approvals    {len(view.counted)} of {view.required} counted "
        f"(quorum: {view.quorum}{tier})"
    )
    if view.status == "open" and view.missing_approvals:
        click.echo(f"  missing      {'; '.join(view.missing_approvals)}")
    for approval in view.approvals:
        mark = " (void: " + approval.void_reason + ")" if approval.void else ""
        click.echo(
            f"    {approval.decision:7} {approval.approver} ({approval.role}) "
            f"{approval.decided_at[:19]}: {approval.comment}{mark}"
        )
    if view.status == "open":
        if view.needed:
            click.echo("  still needed")
            for item in view.needed:
                click.echo(f"    - {item}")
        else:
            click.echo("  ready: `signoff promote " + str(view.id) + "`")


@click.command("request")
@click.argument("ref")
@click.option("--to", "stage", required=True, help="The target stage.")
@click.option("--canary", type=int, help="Start as a canary at this traffic share (percent).")
@click.option("--comment", required=True, help="Why this version should move.")
@common(json_output=True)
def request_cmd(ref: str, stage: str, canary: int | None, comment: str, **kwargs: Any) -> None:
    """Request promotion of MODEL:VERSION to a stage; gates are evaluated at once.

    \b
    Example:
        signoff request credit-risk:2 --to staging --comment "beats v1 on AUC" --as dana
    """
    from console.registry.refs import parse_ref
    from console.release.requests import request_promotion

    run = invocation(kwargs)
    model, version = parse_ref(ref, version_required=True)
    assert version is not None
    store = run.store()
    view = request_promotion(store, run.signer(store), model, version, stage, comment, canary)
    if run.as_json:
        print_json(view.as_dict())
        return
    _print_request(view)


@click.command("requests")
@click.option("--mine", is_flag=True, help="Only requests you opened.")
@click.option("--pending", is_flag=True, help="Only open requests.")
@click.option("--awaiting-me", is_flag=True, help="Open requests you may still decide.")
@click.option("--model", help="Only this model.")
@common(json_output=True)
def requests_cmd(
    mine: bool, pending: bool, awaiting_me: bool, model: str | None, **kwargs: Any
) -> None:
    """List promotion requests, newest first.

    \b
    Example:
        signoff requests --pending --awaiting-me --as rita
    """
    from console.errors import BadInput
    from console.release.policy import read_policy
    from console.release.request_reads import read_log_time, read_requests
    from console.store.rows import utc_now

    run = invocation(kwargs)
    if (mine or awaiting_me) and not run.user:
        raise BadInput("--mine and --awaiting-me need --as USER (or SIGNOFF_USER)")
    with run.rows() as store:  # the policy and the requests: one read of the store
        views = read_requests(
            store,
            read_policy(store),
            read_log_time(store, utc_now()),
            mine=run.user if mine else None,
            pending=pending,
            awaiting=run.user if awaiting_me else None,
            model=model,
        )
    if run.as_json:
        print_json([v.as_dict() for v in views])
        return
    if not views:
        click.echo("no requests")
        return
    rows = [
        [
            str(v.id),
            f"{v.model}:{v.version}",
            v.stage,
            v.status,
            v.requester,
            f"{len(v.counted)}/{v.required}",
            "yes" if all(g.passed for g in v.gates) else "no",
            v.created_at[:16],
        ]
        for v in views
    ]
    click.echo(
        table(
            rows, ["ID", "VERSION", "STAGE", "STATUS", "REQUESTER", "APPROVALS", "GATES", "OPENED"]
        )
    )


@click.command("show-request")
@click.argument("request")
@common(json_output=True)
def show_request_cmd(request: str, **kwargs: Any) -> None:
    """Show a request: evidence, gates, approvals so far, what is still needed, and its review.

    The review puts the paired comparison with the champion first (same rows), then every check
    of the run, the metric deltas read each metric's way (flagged when the two runs used
    different data) and the version's earlier runs.

    \b
    Example:
        signoff show-request 3
    """
    from console.cli.review_text import review_lines
    from console.release.policy import read_policy
    from console.release.request_reads import parse_request_id, read_log_time, read_request
    from console.release.review import read_review
    from console.store.rows import utc_now

    run = invocation(kwargs)
    request_id = parse_request_id(request)
    with run.rows() as rows:  # the request and its review: one read of the store
        policy = read_policy(rows)
        now = read_log_time(rows, utc_now())
        if run.as_json:
            view, review = read_request(rows, policy, now, request_id), None
        else:
            review = read_review(rows, policy, now, request_id)
            view = review.request
    if run.as_json:
        print_json(view.as_dict())
        return
    _print_request(view)
    assert review is not None
    for line in review_lines(review):
        click.echo(line)


def _decision(request: str, comment: str, decision: str, kwargs: dict[str, Any]) -> None:
    from console.release.decisions import check_decision, decide_in
    from console.release.policy import read_policy
    from console.release.request_reads import parse_request_id
    from console.store.rows import utc_now

    run = invocation(kwargs)
    request_id = parse_request_id(request)
    check_decision(decision, comment)
    with run.signed_write() as fast:  # a DuckDB store: the driver alone, one transaction
        if fast is not None:
            rows, signer = fast
            view = decide_in(
                rows, signer, read_policy(rows), request_id, decision, comment, utc_now
            )
    if fast is None:
        view = _decide_in_store(run, request_id, decision, comment)
    if run.as_json:
        print_json(view.as_dict())
        return
    verb = "approved" if decision == "approve" else "rejected"
    click.echo(
        f"{verb} request {request_id}; {len(view.counted)} of {view.required} approvals counted"
    )
    if view.status == "open" and not view.needed:
        click.echo(f"ready to execute: signoff promote {request_id}")


def _decide_in_store(run: Invocation, request_id: int, decision: str, comment: str) -> RequestView:
    """A team store, or one to upgrade or refuse first: the decision through `Store`."""
    from console.release.decisions import decide

    store = run.store()
    signer = run.signer(store)  # outside the block below: a passphrase prompt holds no store
    with store.reading():  # the policy and the decision's transaction: one opening of the store
        return decide(store, signer, request_id, decision, comment)


@click.command("approve")
@click.argument("request")
@click.option("--comment", required=True, help="What you reviewed and why you approve.")
@common(json_output=True)
def approve_cmd(request: str, comment: str, **kwargs: Any) -> None:
    """Approve a request: a signed decision over its evidence digest.

    \b
    Example:
        signoff approve 3 --comment "metrics and fairness reviewed" --as rita
    """
    _decision(request, comment, "approve", kwargs)


@click.command("reject")
@click.argument("request")
@click.option("--comment", required=True, help="Why you reject.")
@common(json_output=True)
def reject_cmd(request: str, comment: str, **kwargs: Any) -> None:
    """Reject a request: a signed decision that closes it.

    \b
    Example:
        signoff reject 3 --comment "fairness gap too large" --as raj
    """
    _decision(request, comment, "reject", kwargs)


@click.command("withdraw")
@click.argument("request")
@click.option("--reason", default="", help="Why you withdraw it.")
@common()
def withdraw_cmd(request: str, reason: str, **kwargs: Any) -> None:
    """Withdraw a request you opened.

    \b
    Example:
        signoff withdraw 3 --reason "superseded by v4" --as dana
    """
    from console.release.policy import read_policy
    from console.release.request_reads import parse_request_id
    from console.release.withdrawal import check_reason, withdraw_in
    from console.store.rows import utc_now

    run = invocation(kwargs)
    request_id = parse_request_id(request)
    check_reason(reason)
    with run.signed_write() as fast:  # a DuckDB store: the driver alone, one transaction
        if fast is not None:
            rows, signer = fast
            view = withdraw_in(rows, signer, read_policy(rows), request_id, reason, utc_now)
    if fast is None:  # a team store, or one to upgrade or refuse first: through `Store`
        from console.release.requests import withdraw

        store = run.store()
        view = withdraw(store, run.signer(store), request_id, reason)
    click.echo(f"withdrew request {view.id}")


def register(cli: click.Group) -> None:
    for command in (
        request_cmd,
        requests_cmd,
        show_request_cmd,
        approve_cmd,
        reject_cmd,
        withdraw_cmd,
    ):
        cli.add_command(command)
