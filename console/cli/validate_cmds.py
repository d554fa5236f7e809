"""`signoff validate` and `signoff validations`: run a validation suite, list recorded runs."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from console.cli.options import common, invocation, print_json, stage_progress, table
from console.validation.details import details_of

if TYPE_CHECKING:
    from console.release.evidence import CheckView, ValidationView

# Files above this many rows get a progress bar on stderr.
PROGRESS_ROWS = 100_000
# Files smaller than this cannot hold that many rows worth counting for.
_COUNT_FROM_BYTES = 1 << 20


@click.command("validate")
@click.argument("ref")
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet file to validate on (e.g. a holdout).",
)
@click.option("--target", required=True, help="The label column in --data.")
@click.option(
    "--sensitive",
    multiple=True,
    help="A group column (e.g. gender) for fairness checks; repeat it for several attributes "
    "(each is reported, the fairness gate covers all). It need not be a model input.",
)
@click.option(
    "--intersect",
    is_flag=True,
    help="Also compare the groups of the --sensitive columns' intersection (e.g. female & <30).",
)
@click.option(
    "--threshold",
    "decision_threshold",
    type=float,
    help="Decision threshold of the use case: a binary classifier's row is positive when its "
    "score exceeds it (default: the policy's decision_threshold, 0.5). Threshold metrics and "
    "fairness use it; it is recorded in the run.",
)
@click.option(
    "--stage",
    help="Compare with the version holding this stage (default: the next stage up).",
)
@common(json_output=True)
def validate_cmd(
    ref: str,
    data: Path,
    target: str,
    sensitive: tuple[str, ...],
    intersect: bool,
    decision_threshold: float | None,
    stage: str | None,
    **kwargs: Any,
) -> None:
    """Validate MODEL:VERSION on a dataset and record the run; exit 1 if a check fails.

    Runs performance (with bootstrap intervals; for binary scores also Gini, KS, calibration
    and score PSI), data, drift (PSI and KS against the training profile), fairness (with
    --sensitive), champion/challenger, reproducibility, robustness and latency checks, stores
    the JSON report by digest and signs a `validation.completed` event.

    \b
    Example:
        signoff validate credit-risk:2 --data holdout.csv --target default \\
            --sensitive gender --sensitive age_band --threshold 0.3 --as dana
    """
    from console.registry.refs import parse_ref
    from console.validation import run_validation

    run = invocation(kwargs)
    name, number = parse_ref(ref, version_required=True)
    assert number is not None
    store = run.store()
    signer = run.signer(store)
    with _progress(data) as progress:
        view = run_validation(
            store,
            signer,
            name,
            number,
            data,
            target,
            sensitive=list(sensitive),
            stage=stage,
            progress=progress,
            intersect=intersect,
            decision_threshold=decision_threshold,
        )
    if run.as_json:
        print_json(view.as_dict())
    else:
        _print_run(view)
    if not view.passed:
        raise SystemExit(1)


def _progress(data: Path) -> AbstractContextManager[Callable[[str, float], None] | None]:
    """A progress bar on stderr for files of more than PROGRESS_ROWS rows, else nothing."""
    return stage_progress(_is_large(data), "validating", 16)


def _is_large(data: Path) -> bool:
    from console.errors import BadInput
    from console.validation import count_rows

    try:
        if not data.is_file() or data.stat().st_size < _COUNT_FROM_BYTES:
            return False
        return count_rows(data) > PROGRESS_ROWS
    except (OSError, BadInput):
        return False  # the validation itself reports what is wrong with the file


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def _bound(check: CheckView) -> str:
    if check.threshold is None:
        return "-"
    return f"{details_of(check).rule or ''} {check.threshold:.4g}".strip()


def _print_run(view: ValidationView) -> None:
    counts = view.summary.get("counts", {})
    assert isinstance(counts, dict)
    click.echo(
        f"{view.model}:{view.version} on {view.dataset_name} "
        f"({view.summary.get('rows', '?')} rows, target {view.target}"
        + (f", sensitive {view.sensitive}" if view.sensitive else "")
        + (
            f", threshold {cut:g}"
            if isinstance(cut := view.summary.get("decision_threshold"), float)
            else ""
        )
        + f"): {view.status.upper()}"
    )
    click.echo(
        f"run {view.id}: {counts.get('fail', 0)} failed, {counts.get('warn', 0)} warnings, "
        f"{counts.get('pass', 0)} passed, {counts.get('info', 0)} info; "
        f"report sha256 {view.report_sha256}"
    )
    click.echo("")
    rows = [
        [c.status, c.name, _number(c.value), _bound(c), details_of(c).note[:72]]
        for c in _ordered(view.checks)
    ]
    click.echo(table(rows, ["STATUS", "CHECK", "VALUE", "BOUND", "NOTE"]))
    failed = [c.name for c in view.checks if c.status == "fail"]
    if failed:
        click.echo("")
        click.echo(f"failed: {', '.join(failed)}")


def _ordered(checks: list[CheckView]) -> list[CheckView]:
    """Category by category as the suite runs them; drift grouped by feature, PSI before KS."""
    from console.validation import CATEGORIES

    rank = {name: i for i, name in enumerate(CATEGORIES)}

    def key(check: CheckView) -> tuple[int, str, str]:
        if check.category == "drift" and check.name.count(".") >= 2:
            _, test, feature = check.name.split(".", 2)
            return (rank["drift"], feature, "b" if test == "ks" else "a")
        return (rank.get(check.category, len(rank)), check.name, "")

    return sorted(checks, key=key)


@click.command("validations")
@click.argument("ref")
@common(json_output=True)
def validations_cmd(ref: str, **kwargs: Any) -> None:
    """List the validation runs of MODEL or MODEL:VERSION, oldest first.

    \b
    Example:
        signoff validations credit-risk:2
    """
    from console.registry.refs import parse_ref
    from console.registry.views import get_model, get_version
    from console.release.evidence import validation_runs

    run = invocation(kwargs)
    name, number = parse_ref(ref)
    store = run.store()
    if number is None:
        get_model(store, name)
    else:
        get_version(store, name, number)
    views = validation_runs(store, name, number)
    if run.as_json:
        print_json([v.as_dict() for v in views])
        return
    if not views:
        click.echo(
            f"no validation runs of {ref} yet; run `signoff validate {name}:"
            f"{number or 1} --data FILE --target COL`"
        )
        return
    rows = []
    for view in views:
        counts = view.summary.get("counts", {})
        assert isinstance(counts, dict)
        tally = ", ".join(f"{counts[k]} {k}" for k in ("fail", "warn", "pass") if counts.get(k))
        rows.append(
            [
                str(view.id),
                str(view.version),
                view.status,
                tally,
                view.dataset_name,
                view.stage or "-",
                view.actor,
                view.finished_at[:19],
            ]
        )
    click.echo(
        table(rows, ["RUN", "VERSION", "STATUS", "CHECKS", "DATASET", "STAGE", "BY", "FINISHED"])
    )


def register(cli: click.Group) -> None:
    for command in (validate_cmd, validations_cmd):
        cli.add_command(command)
