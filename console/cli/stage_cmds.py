"""Stage changes from the command line: promote, canary steps and aborts, rollback, history."""

from __future__ import annotations

from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json, table


@click.command("promote")
@click.argument("request")
@common(json_output=True)
def promote_cmd(request: str, **kwargs: Any) -> None:
    """Execute a request whose quorum is reached and whose gates pass.

    \b
    Example:
        signoff promote 3 --as rel
    """
    from console.release.deployments import promote
    from console.release.requests import parse_request_id

    run = invocation(kwargs)
    store = run.store()
    change = promote(store, run.signer(store), parse_request_id(request))
    if run.as_json:
        print_json(change.__dict__)
        return
    if change.kind == "canary.started":
        click.echo(
            f"{change.model}:{change.version} is the {change.stage} canary at {change.canary_share}%"
            f"; step it with `signoff canary step {change.model} --stage {change.stage}`"
        )
    else:
        replaced = f" (replaced v{change.replaced})" if change.replaced else ""
        click.echo(f"{change.model}:{change.version} now holds {change.stage}{replaced}")


@click.group("canary", cls=SignoffGroup)
def canary() -> None:
    """Step or abort a running canary."""


@canary.command("step")
@click.argument("model")
@click.option("--stage", required=True, help="The stage whose canary moves.")
@click.option(
    "--override",
    metavar="REASON",
    help="Step although `monitor compare` is inconclusive (signed, flagged in every report).",
)
@common(json_output=True)
def canary_step_cmd(model: str, stage: str, override: str | None, **kwargs: Any) -> None:
    """Move the canary to its next traffic share; the last step completes the promotion.

    Held to `signoff monitor compare` on the stage's primary metric: refused (exit 3) when it
    recommends abort, or when newer evidence (a validation run, the policy) voided the
    request's approvals; an inconclusive comparison needs --override REASON.

    \b
    Example:
        signoff canary step credit-risk --stage production --as rel
        signoff canary step credit-risk --stage production --override "CAB-77: deadline" --as rel
    """
    from console.release.canary import canary_step

    run = invocation(kwargs)
    store = run.store()
    change = canary_step(store, run.signer(store), model, stage, override)
    if run.as_json:
        print_json(change.__dict__)
        return
    click.echo(f"compare: {change.comparison}")
    if change.kind == "canary.completed":
        click.echo(f"{model}:{change.version} now holds {stage} (canary complete)")
    else:
        click.echo(f"{model}:{change.version} canary in {stage} at {change.canary_share}%")
    if change.override:
        click.echo("recorded as an override of an inconclusive comparison (flagged in reports)")


@canary.command("abort")
@click.argument("model")
@click.option("--stage", required=True, help="The stage whose canary stops.")
@click.option("--reason", required=True, help="Why the canary stops.")
@common()
def canary_abort_cmd(model: str, stage: str, reason: str, **kwargs: Any) -> None:
    """Stop a canary: all traffic returns to the stage's champion.

    \b
    Example:
        signoff canary abort credit-risk --stage production --reason "latency" --as rel
    """
    from console.release.canary import canary_abort

    run = invocation(kwargs)
    store = run.store()
    change = canary_abort(store, run.signer(store), model, stage, reason)
    click.echo(f"aborted the canary of {model}:{change.version} in {stage}")


@click.command("rollback")
@click.argument("model")
@click.option("--stage", required=True, help="The stage to roll back.")
@click.option("--to", "to_version", type=int, help="A version that held the stage before.")
@click.option("--reason", required=True, help="What went wrong (recorded as break-glass).")
@common(json_output=True)
def rollback_cmd(
    model: str, stage: str, to_version: int | None, reason: str, **kwargs: Any
) -> None:
    """Break-glass: return a stage to an earlier version without approvals.

    \b
    Example:
        signoff rollback credit-risk --stage production --reason "INC-4411 drift" --as rel
    """
    from console.release.deployments import rollback

    run = invocation(kwargs)
    store = run.store()
    change = rollback(store, run.signer(store), model, stage, reason, to_version)
    if run.as_json:
        print_json(change.__dict__)
        return
    click.echo(
        f"rolled back {model} {stage} to v{change.version} (was v{change.replaced}); "
        "recorded as break-glass"
    )


@click.command("history")
@click.argument("model")
@click.option("--stage", help="Only this stage.")
@common(json_output=True)
def history_cmd(model: str, stage: str | None, **kwargs: Any) -> None:
    """Every request, decision, promotion, canary step and rollback of MODEL.

    \b
    Example:
        signoff history credit-risk --stage production
    """
    from console.release.history import read_history

    run = invocation(kwargs)
    with run.rows() as store:
        entries = read_history(store, model, stage).entries
    if run.as_json:
        print_json([e.as_dict() for e in entries])
        return
    if not entries:
        click.echo(f"no requests or stage changes for {model} yet")
        return
    rows = [
        [str(e.seq), e.at[:19], e.actor, e.detail + ("  [BREAK-GLASS]" if e.break_glass else "")]
        for e in entries
    ]
    click.echo(table(rows, ["SEQ", "TIME (UTC)", "ACTOR", "WHAT"]))


@click.command("retire")
@click.argument("ref")
@click.option("--reason", required=True, help="Why it is decommissioned (recorded in the log).")
@common(json_output=True)
def retire_cmd(ref: str, reason: str, **kwargs: Any) -> None:
    """Retire MODEL:VERSION, or MODEL with all its versions (release managers, admins).

    Each stage it holds stops serving it (a signed stage change per stage; a running canary
    must be stepped to the end or aborted first), then the retirement is recorded with its
    reason: no new requests or promotions for it, nor new versions of a retired model. The
    report checklists cite it as the decommissioning record.

    \b
    Example:
        signoff retire credit-risk:1 --reason "replaced by v3; MRM-212" --as rel
    """
    from console.registry.refs import parse_ref
    from console.release.retire import retire

    run = invocation(kwargs)
    name, number = parse_ref(ref)
    store = run.store()
    done = retire(store, run.signer(store), name, number, reason)
    if run.as_json:
        print_json(done.__dict__)
        return
    what = f"{name}:{number}" if number is not None else f"{name} (versions {done.versions})"
    left = ", ".join(f"{stage} (v{version})" for stage, version in done.stages) or "no stage"
    click.echo(f"retired {what}; it left {left}; recorded at log sequence {done.event_seq}")


def register(cli: click.Group) -> None:
    for command in (promote_cmd, canary, rollback_cmd, history_cmd, retire_cmd):
        cli.add_command(command)
