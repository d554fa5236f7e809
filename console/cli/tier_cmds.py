"""A model's risk tier from the command line: changed only by a signed, reasoned event."""

from __future__ import annotations

from typing import Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json


@click.group("model", cls=SignoffGroup)
def model() -> None:
    """A model line's governance settings (its risk tier)."""


@model.command("set-tier")
@click.argument("name")
@click.argument("tier")
@click.option("--reason", required=True, help="Why the model's risk changed.")
@common(json_output=True)
def set_tier(name: str, tier: str, reason: str, **kwargs: Any) -> None:
    """Move model NAME to risk TIER; the policy's tier rules for TIER apply from now on.

    Only a role holding set-tier may (see the roles table); open requests are judged by
    the new tier's rules.

    \b
    Example:
        signoff model set-tier credit-pd high --reason "now used for credit limits" --as raj
    """
    from console.release.tiers import set_model_tier

    run = invocation(kwargs)
    store = run.store()
    change = set_model_tier(store, run.signer(store), name, tier, reason)
    if run.as_json:
        print_json(change.__dict__)
        return
    click.echo(
        f"{change.model}: risk tier {change.previous_tier} -> {change.tier} "
        f"(event #{change.event_seq})"
    )


def register(cli: click.Group) -> None:
    cli.add_command(model)
