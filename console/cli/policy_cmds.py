"""The promotion policy from the command line: show it, or replace it with a checked file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json


@click.group("policy", cls=SignoffGroup)
def policy() -> None:
    """The promotion policy (stages, quorum, roles, gates, canary steps)."""


@policy.command("show")
@common(json_output=True)
def policy_show(**kwargs: Any) -> None:
    """Print the policy in force and its digest.

    \b
    Example:
        signoff policy show
    """
    from console.release.policy import load_policy

    run = invocation(kwargs)
    current = load_policy(run.store())
    if run.as_json:
        print_json(
            {
                "sha256": current.digest,
                "stages": [s.__dict__ for s in current.stages],
                "tiers": list(current.tiers),
                "tier_stages": [s.__dict__ for s in current.tier_stages],
                "break_glass_roles": list(current.break_glass_roles),
                "validation": current.validation,
                "monitoring": current.monitoring,
            }
        )
        return
    click.echo(f"# sha256 {current.digest}")
    click.echo(current.text, nl=False)


@policy.command("set")
@click.argument("file", type=click.Path(path_type=Path))
@common()
def policy_set(file: Path, **kwargs: Any) -> None:
    """Replace the policy with FILE (admins only; audited with its digest).

    \b
    Example:
        signoff policy show > policy.toml && $EDITOR policy.toml
        signoff policy set policy.toml --as ada
    """
    from console.errors import BadInput
    from console.release.policy import set_policy
    from console.release.policy_checks import unmet_quorums

    run = invocation(kwargs)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {file}: {exc}") from exc
    store = run.store()
    new = set_policy(store, run.signer(store), text, str(file))
    click.echo(f"policy in force: sha256 {new.digest}; open requests now need new approvals")
    for line in unmet_quorums(store, new):
        click.echo(f"warning: {line}; add the people (`signoff users add`)", err=True)


@policy.command("explain")
@click.argument("ref")
@click.option("--to", "stage", required=True, help="The target stage.")
@common(json_output=True)
def policy_explain(ref: str, stage: str, **kwargs: Any) -> None:
    """Say which approvals and gates apply to MODEL:VERSION moving to STAGE, and why.

    Each rule names where it comes from: the model's tier rule ([tier.T.stage.S]), the
    stage's own table ([stage.S]) or signoff's default.

    \b
    Example:
        signoff policy explain credit-pd:3 --to production
    """
    from console.registry.refs import parse_ref
    from console.release.explain import explain_promotion

    run = invocation(kwargs)
    model, version = parse_ref(ref, version_required=True)
    assert version is not None
    explanation = explain_promotion(run.store(), model, version, stage)
    if run.as_json:
        print_json(explanation.as_dict())
        return
    for line in explanation.lines():
        click.echo(line)


def register(cli: click.Group) -> None:
    for command in (policy,):
        cli.add_command(command)
