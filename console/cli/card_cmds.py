"""`signoff card`: render a version's model card, edit its fields, check what it lacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli.options import Invocation, SignoffGroup, common, invocation, print_json

RENDER = "render"


class CardGroup(SignoffGroup):
    """`signoff card MODEL:VERSION …` is short for `signoff card render MODEL:VERSION …`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in self.get_help_option_names(ctx):
            args = [RENDER, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "MODEL:VERSION [--format md|json|pdf] [-o FILE]")
        formatter.write_usage(
            ctx.command_path,
            "edit|check|confirm|diff MODEL:VERSION [OPTIONS]",
            prefix="   or: ",
        )


@click.group("card", cls=CardGroup)
def card() -> None:
    """Render a version's model card, or edit and check the fields people write.

    `signoff card MODEL:VERSION` is short for `signoff card render MODEL:VERSION`.

    \b
    Example:
        signoff card credit-risk:2 --format pdf -o credit-risk-v2-card.pdf
        signoff card edit credit-risk:2 --set license=apache-2.0 --as dana
        signoff card check credit-risk:2
        signoff card diff credit-risk:3
        signoff card confirm credit-risk:3 --as dana
    """


def _ref(ref: str) -> tuple[str, int]:
    from console.registry.refs import parse_ref

    name, number = parse_ref(ref, version_required=True)
    assert number is not None
    return name, number


def _write(output: Path, data: bytes) -> None:
    """Write the whole file or nothing (the same checks and atomic write as `report`)."""
    from console.files import check_output, write_atomically

    check_output(output)
    write_atomically(output, data)


@card.command(RENDER)
@click.argument("ref", metavar="MODEL:VERSION")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json", "pdf"]),
    default="md",
    show_default=True,
    help="Markdown with Hugging Face front matter, Model Card Toolkit JSON, or PDF.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the card to this file (required for pdf; md and json go to stdout otherwise).",
)
@common()
def render_cmd(ref: str, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """Render the model card of MODEL:VERSION from the store's records.

    The same store state always gives the same bytes, in every format.

    \b
    Example:
        signoff card render credit-risk:2 > credit-risk-v2.md
        signoff card credit-risk:2 --format json -o credit-risk-v2.json
        signoff card credit-risk:2 --format pdf -o credit-risk-v2.pdf
    """
    from console.errors import BadInput

    run = invocation(kwargs)
    name, number = _ref(ref)
    if fmt == "pdf" and output is None:
        raise BadInput("a PDF card needs a file: add -o FILE.pdf")
    from reports.card_data import build_card

    data = build_card(run.store(), name, number)
    if fmt == "pdf":
        from reports.card_pdf import render_pdf

        payload = render_pdf(data)
    elif fmt == "json":
        from reports.card_json import render_json

        payload = render_json(data).encode("utf-8")
    else:
        from reports.card_markdown import render_markdown

        payload = render_markdown(data).encode("utf-8")
    if output is None:
        click.echo(payload.decode("utf-8"), nl=False)
        return
    _write(output, payload)
    click.echo(f"model card of {name}:{number} written to {output} ({fmt}, {len(payload)} bytes)")


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    from console.errors import BadInput

    fields: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadInput(f"--set {value!r} is not FIELD=VALUE (e.g. --set license=apache-2.0)")
        if key in fields:
            raise BadInput(f"--set names {key} twice; give each field once")
        fields[key] = text
    return fields


@card.command("edit")
@click.argument("ref", metavar="MODEL:VERSION")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Set one field (repeatable); an empty VALUE clears it. Overrides --from.",
)
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file of fields; tables nest the dotted names ([intended_use] primary_uses = …).",
)
@common()
def edit_cmd(ref: str, sets: tuple[str, ...], from_file: Path | None, **kwargs: Any) -> None:
    """Write the human-written fields of MODEL:VERSION's card, as one signed event.

    Fields: intended_use.primary_uses, intended_use.primary_users, intended_use.out_of_scope,
    factors, ethical_considerations.risks, ethical_considerations.mitigations,
    caveats_and_recommendations, license, contact.

    \b
    Example:
        signoff card edit credit-risk:2 --as dana \\
            --set license=proprietary --set contact="Retail Credit Risk <crr@example.org>"
        signoff card edit credit-risk:2 --from card.toml --as dana
    """
    from console.errors import BadInput
    from console.registry.card_spec import read_card_completeness
    from console.registry.cards import load_card_file, normalized_fields, set_card_fields_in
    from console.registry.views import read_version
    from console.store.rows import utc_now

    run = invocation(kwargs)
    name, number = _ref(ref)
    fields: dict[str, str] = {}
    if from_file is not None:
        fields.update(load_card_file(from_file))
    fields.update(_parse_sets(sets))
    if not fields:
        raise BadInput("nothing to edit: pass --set FIELD=VALUE or --from FILE")
    wanted = normalized_fields(fields)  # bad input is reported before any key is unlocked
    # A DuckDB store: the driver alone, one transaction (an unknown version is refused first).
    with run.signed_write(lambda rows: read_version(rows, name, number)) as fast:
        if fast is not None:
            rows, signer = fast
            changed = set_card_fields_in(rows, signer, name, number, wanted, utc_now)
            missing = read_card_completeness(rows, name, number)
    if fast is None:
        changed, missing = _edit_in_store(run, name, number, fields)
    if changed:
        click.echo(f"updated the card of {name}:{number}: {', '.join(changed)}")
    else:
        click.echo(f"nothing changed: the card of {name}:{number} already says that")
    if missing:
        click.echo(f"still missing: {', '.join(missing)}")
    else:
        click.echo("the card is complete")


def _edit_in_store(
    run: Invocation, name: str, number: int, fields: dict[str, str]
) -> tuple[list[str], list[str]]:
    """A team store, or one to upgrade or refuse first: the edit through `Store`."""
    from console.registry.cards import card_completeness, set_card_fields
    from console.registry.views import get_version

    store = run.store()
    get_version(store, name, number)
    signer = run.signer(store)  # outside the block below: a passphrase prompt holds no store
    with store.reading():  # the edit's transaction, then the card's state: one opening
        changed = set_card_fields(store, signer, name, number, fields)
        return changed, card_completeness(store, name, number)


@card.command("check")
@click.argument("ref", metavar="MODEL:VERSION")
@common(json_output=True)
def check_cmd(ref: str, **kwargs: Any) -> None:
    """List what MODEL:VERSION's card still lacks; exit 1 while anything is missing.

    \b
    Example:
        signoff card check credit-risk:2 --json
    """
    from console.registry.cards import card_completeness, describe_missing

    run = invocation(kwargs)
    name, number = _ref(ref)
    missing = card_completeness(run.store(), name, number)
    if run.as_json:
        print_json({"model": name, "version": number, "complete": not missing, "missing": missing})
    elif missing:
        click.echo(f"the card of {name}:{number} is incomplete; still missing:")
        width = max(len(item) for item in missing)
        for item in missing:
            click.echo(f"  {item.ljust(width)}  {describe_missing(item)}")
    else:
        click.echo(f"the card of {name}:{number} is complete")
    if missing:
        raise SystemExit(1)


@card.command("confirm")
@click.argument("ref", metavar="MODEL:VERSION")
@click.option(
    "--field",
    "names",
    multiple=True,
    metavar="FIELD",
    help="Confirm this inherited field (repeatable); without it, every one awaiting confirmation.",
)
@click.option(
    "--acknowledge-evidence",
    is_flag=True,
    help="Confirm although the version's validation differs from the evidence the text was "
    "written for (the signed event records it).",
)
@common()
def confirm_cmd(
    ref: str, names: tuple[str, ...], acknowledge_evidence: bool, **kwargs: Any
) -> None:
    """Confirm the fields MODEL:VERSION's card inherited, as one signed event.

    A new version's card starts from its parent's (or the previous version's); each inherited
    field reads "not confirmed" until you confirm it here or change it with `card edit`. While
    the version's validation differs from the parent's, which the text was written for (see
    `card diff`), confirming needs --acknowledge-evidence: edit what no longer holds first.

    \b
    Example:
        signoff card confirm credit-risk:3 --as dana
        signoff card confirm credit-risk:3 --field license --field contact --as dana
        signoff card confirm credit-risk:3 --acknowledge-evidence --as dana
    """
    from console.registry.card_inheritance import confirm_card_fields, unconfirmed_fields
    from console.registry.cards import field_spec
    from console.registry.views import get_version

    run = invocation(kwargs)
    name, number = _ref(ref)
    for field in names:
        field_spec(field)  # bad input is reported before any key is unlocked
    store = run.store()
    get_version(store, name, number)
    signer = run.signer(store)
    confirmed = confirm_card_fields(
        store, signer, name, number, names, acknowledge_evidence=acknowledge_evidence
    )
    click.echo(f"confirmed on the card of {name}:{number}: {', '.join(confirmed)}")
    waiting = unconfirmed_fields(store, name, number)
    if waiting:
        click.echo(f"still not confirmed: {', '.join(o.field for o in waiting)}")


def _indented(label: str, text: str) -> list[str]:
    from console.freetext import shown

    lines = shown(text).splitlines() or [""]
    pad = " " * len(label)
    return [f"{label}{lines[0]}", *(f"{pad}{line}" for line in lines[1:])]


@card.command("diff")
@click.argument("ref", metavar="MODEL:VERSION")
@click.option(
    "--against",
    type=int,
    metavar="VERSION",
    help="Compare with this version (default: the one the card inherited from, else the parent).",
)
@common(json_output=True)
def diff_cmd(ref: str, against: int | None, **kwargs: Any) -> None:
    """Show what MODEL:VERSION's card says differently from its parent's, field by field.

    Each field is unchanged, edited, new, or inherited-unconfirmed (copied at registration and
    not yet confirmed by its author), with the old and the new text.

    \b
    Example:
        signoff card diff credit-risk:3
        signoff card diff credit-risk:3 --against 1 --json
    """
    from console.registry.card_diff import card_diff

    run = invocation(kwargs)
    name, number = _ref(ref)
    diff = card_diff(run.store(), name, number, against)
    if run.as_json:
        print_json(diff.as_dict())
        return
    click.echo(f"the card of {name}:{number} against {name}:{diff.against}")
    if not diff.fields:
        click.echo("  neither card has a field written")
    for change in diff.fields:
        click.echo(f"  {change.field}: {change.state} ({change.origin})")
        if change.old == change.new:  # unchanged, or inherited as it was
            for line in _indented("      text: ", change.new):
                click.echo(line)
            continue
        for line in _indented("      was:  ", change.old):
            click.echo(line)
        for line in _indented("      now:  ", change.new):
            click.echo(line)
    if diff.unconfirmed:
        click.echo(
            f"not confirmed: {', '.join(diff.unconfirmed)} "
            f"(signoff card confirm {name}:{number}, or card edit)"
        )
    if diff.evidence is not None:
        click.echo(f"the inherited text was {diff.evidence.heading}:")
        for finding in diff.evidence.findings():
            click.echo(f"  {finding}")


def register(cli: click.Group) -> None:
    cli.add_command(card)
