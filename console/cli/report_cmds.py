"""`signoff report` (a PDF compliance report of a version or the registry) and its `settings`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from console.cli.options import SignoffGroup, common, invocation, print_json, stage_progress

if TYPE_CHECKING:
    from reports.compliance import ReportResult

FRAMEWORKS = "eu-ai-act, sr-11-7, nist-ai-rmf, iso-42001"


@click.command("report")
@click.argument("ref", required=False, metavar="MODEL[:VERSION]")
@click.option(
    "--all", "registry", is_flag=True, help="Report on every model instead of one version."
)
@click.option(
    "--framework",
    metavar="NAME",
    help=f"The checklist to map the evidence to: {FRAMEWORKS} (default eu-ai-act).",
)
@click.option("--since", metavar="DATE", help="Only events from DATE (YYYY-MM-DD) on.")
@click.option(
    "--as-of",
    "as_of",
    metavar="N",
    help="Remake the report as it was at audit log size N (the same bytes as then).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),  # checked by check_writable: one line, not click's usage
    help="The PDF file to write (required).",
)
@common(json_output=True)
def report_cmd(
    ref: str | None,
    registry: bool,
    framework: str | None,
    since: str | None,
    as_of: str | None,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Write a PDF compliance report of MODEL[:VERSION], or of all models with --all.

    The report covers the version's card and lineage, validation results with charts,
    signed approvals (each signature verified again), the timeline of requests, promotions,
    canary steps and rollbacks, the audit trail with its verification and signed
    checkpoint, and a checklist mapping the framework's items to the evidence or a GAP.
    Without VERSION it covers the version serving the last stage. It states the audit log
    size N it was made at; `--as-of N` remakes it byte for byte. A new report (without
    --as-of) is recorded as a signed `report.generated` event with its sha256. For
    auditors, risk officers, reviewers and admins.

    \b
    Example:
        signoff report credit-risk:2 --framework sr-11-7 -o credit-risk-v2.pdf --as aud
        signoff report credit-risk --as-of 120 -o credit-risk-at-120.pdf --as aud
        signoff report --all --since 2026-01-01 -o registry-2026.pdf --as aud
    """
    from console.errors import BadInput
    from console.store.staged_output import check_writable
    from reports.framework_catalog import load_framework
    from reports.snapshot import parse_since

    run = invocation(kwargs)
    if output is None:
        raise BadInput("a report needs a file to write: add -o FILE.pdf")
    if registry and ref:
        raise BadInput("give either MODEL[:VERSION] or --all, not both")
    if not registry and not ref:
        raise BadInput("name a model (MODEL[:VERSION]) or pass --all for every model")
    if registry and framework:
        raise BadInput("--framework applies to a model report, not to --all")
    if framework:
        load_framework(framework)  # an unknown name fails here, before any work
    parse_since(since)
    size = _as_of(as_of)
    check_writable(output)
    name, number = _ref(ref) if ref else (None, None)

    store = run.store()
    signer = run.signer(store)
    from reports.compliance import generate_registry_report, generate_report

    with _progress() as progress:
        if name is None:
            result = generate_registry_report(
                store, signer, since=since, as_of=size, progress=progress, output=output
            )
        else:
            result = generate_report(
                store,
                signer,
                name,
                number,
                framework,
                since=since,
                as_of=size,
                progress=progress,
                output=output,  # written with its event, or neither
            )
    _print(result, output, run.as_json)


def _ref(ref: str) -> tuple[str, int | None]:
    from console.registry.refs import parse_ref

    return parse_ref(ref)


def _as_of(value: str | None) -> int | None:
    from console.errors import BadInput

    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or int(text) < 1:
        raise BadInput(f"--as-of {value!r} is not an audit log size (a whole number from 1)")
    return int(text)


def _progress() -> AbstractContextManager[Callable[[str, float], None] | None]:
    """A progress bar on stderr when it is a terminal (a long log takes a while to lay out)."""
    return stage_progress(sys.stderr.isatty(), "reading the audit log", 28)


def _print(result: ReportResult, output: Path, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "path": str(output),
                "pages": result.pages,
                "sha256": result.sha256,
                "log_size": result.log_size,
                "model": result.model,
                "version": result.version,
                "framework": result.framework,
                "since": result.since,
                "event_seq": result.event_seq,
                "findings": [
                    {"kind": f.kind, "what": f.what, "ref": f.ref} for f in result.findings
                ],
            }
        )
        return
    what = (
        f"{result.model} v{result.version}, {result.framework}"
        if result.model
        else "every model" + (f" since {result.since}" if result.since else "")
    )
    click.echo(f"report written to {output}")
    click.echo(f"  {what}: {result.pages} pages")
    click.echo(f"  sha256 {result.sha256}")
    recorded = (
        f"; recorded as event #{result.event_seq} (report.generated)"
        if result.event_seq is not None
        else f"; remade with --as-of {result.log_size}, nothing recorded"
    )
    click.echo(f"  as of audit log size {result.log_size}{recorded}")
    if result.model:
        found = len(result.findings)
        click.echo(f"  {found} open finding(s)" + (f": {result.finding_counts()}" if found else ""))


@click.group("settings", cls=SignoffGroup)
def settings() -> None:
    """The reports' document control: owner, classification, distribution."""


@settings.command("show")
@common(json_output=True)
def settings_show(**kwargs: Any) -> None:
    """Print each setting, and the event that set it.

    \b
    Example:
        signoff settings show
    """
    from reports.document_control import SETTINGS, current_settings

    run = invocation(kwargs)
    held = current_settings(run.store())
    if run.as_json:
        print_json(
            {
                key: {"value": s.value, "set_by": s.set_by, "event_seq": s.event_seq}
                for key, s in held.items()
            }
        )
        return
    for key, setting in held.items():
        source = f" (#{setting.event_seq} by {setting.set_by})" if setting.event_seq else ""
        click.echo(f"{key:<22} {setting.shown}{source}")
        click.echo(f"{'':<22} {SETTINGS[key]}")


@settings.command("set")
@click.argument("key", metavar="KEY")
@click.argument("value", metavar="TEXT")
@common()
def settings_set(key: str, value: str, **kwargs: Any) -> None:
    """Set KEY to TEXT ("" clears it): signed and audited; every report prints it.

    KEY is report.owner, report.classification or report.distribution. For admins.

    \b
    Example:
        signoff settings set report.owner "Model Risk Office" --as ada
        signoff settings set report.classification Confidential --as ada
    """
    from reports.document_control import set_setting

    run = invocation(kwargs)
    store = run.store()
    done = set_setting(store, run.signer(store), key, value)
    click.echo(f"{done.key} is now {done.shown!r} (settings.changed #{done.event_seq})")


def register(cli: click.Group) -> None:
    cli.add_command(report_cmd)
    cli.add_command(settings)
