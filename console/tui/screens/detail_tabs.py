"""What the model detail's tabs show, as plain text and table rows (no widgets, no store writes)."""

from __future__ import annotations

from rich.text import Text

from console.registry.views import VersionView
from console.release.evidence import CheckView, ValidationView
from console.release.history import HistoryEntry
from console.store.db import Store
from console.store.models import Dataset
from console.tui.widgets.bars import bar, sparkline, status_text
from console.tui.widgets.text import line, lines
from console.validation.checks import CATEGORIES, run_status
from console.validation.data_details import DistributionTest, PopulationStability
from console.validation.details import details_as, details_of

# Headline metrics, in the order the versions table shows them (two at most).
HEADLINE = {
    "roc_auc": "auc",
    "accuracy": "acc",
    "f1": "f1",
    "r2": "r²",
    "rmse": "rmse",
    "mae": "mae",
}
Row = tuple[str | Text, ...]


def key_metrics(version: VersionView, run: ValidationView | None) -> str:
    """Two headline metrics: the latest run's when there is one, else the training ones."""
    found = run.summary.get("metrics") if run is not None else None
    metrics = found if isinstance(found, dict) and found else version.metrics
    shown = [f"{short} {float(metrics[k]):.3f}" for k, short in HEADLINE.items() if k in metrics]
    return " ".join(shown[:2]) + ("" if run is not None else " (train)")


def card_markdown(store: Store, model: str, version: int) -> str | None:
    """The card rendered by `reports`, without its YAML front matter; None if unavailable."""
    try:
        from reports.card_data import build_card
        from reports.card_markdown import render_markdown
    except ImportError:
        return None
    text = render_markdown(build_card(store, model, version))
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            text = text[end + 5 :]
    return text.lstrip("\n")


def fields_markdown(version: VersionView) -> str:
    """The version's own fields, when the card renderer is not installed."""
    rows = [
        ("Estimator", version.estimator_class),
        ("Task", f"{version.task_type} of `{version.target}`"),
        ("Registered", f"{_when(version.created_at)} by {version.author}"),
        ("Stages", ", ".join(version.stages) or "none"),
        ("Description", version.description or "-"),
    ]
    lines = [f"# {version.model} v{version.number}", "", "| Field | Value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def _when(ts: str) -> str:
    return ts[:19].replace("T", " ")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"


def check_bar(check: CheckView, width: int = 16) -> Text:
    """Value against threshold; shares and scores in [0, 1] on a fixed scale."""
    value, threshold = check.value, check.threshold
    if value is None:
        return Text("")
    unit = 0.0 <= value <= 1.0 and (threshold is None or 0.0 <= threshold <= 1.0)
    if not unit and threshold is None:
        return Text("")  # nothing to compare a raw error with
    scale = 1.0 if unit else max(abs(value), abs(threshold or 0.0)) * 1.25 or 1.0
    style = {"fail": "red", "warn": "yellow", "pass": "green"}.get(check.status, "cyan")
    return bar(abs(value), scale, width, mark=threshold, style=style)


def _check_order(check: CheckView) -> tuple[int, int, str]:
    """Failures and warnings first, then in the order the validation report lists them."""
    severity = {"fail": 0, "warn": 1}.get(check.status, 2)
    category = CATEGORIES.index(check.category) if check.category in CATEGORIES else 99
    return severity, category, check.name


# ---- validation -----------------------------------------------------------------------------


def validation_summary(version: VersionView, run: ValidationView | None) -> str | Text:
    if run is None:
        return (
            f"v{version.number} has no validation run yet: "
            f"`signoff validate {version.model}:{version.number} --data FILE`"
        )
    counts = run.summary.get("counts")
    tally = (
        "  ".join(f"{n} {s}" for s, n in sorted(counts.items()) if n)
        if isinstance(counts, dict)
        else ""
    )
    return Text.assemble(
        f"Run {run.id}  ",
        status_text(run.status),
        f"  on {run.dataset_name} ({run.summary.get('rows', '?')} rows)  by {run.actor}  "
        f"{_when(run.finished_at)[:16]}  ·  {tally}",
    )


def validation_rows(run: ValidationView | None) -> list[Row]:
    """Every check but drift (which has its tab), problems first, then one drift summary row."""
    if run is None:
        return []
    rows: list[Row] = [
        (
            check.name,
            status_text(check.status),
            number(check.value),
            number(check.threshold),
            check_bar(check),
            details_of(check).note,
        )
        for check in sorted(run.checks, key=_check_order)
        if check.category != "drift"
    ]
    drift = run.by_category("drift")
    if drift:
        failing = [c for c in drift if c.status in ("fail", "warn")]
        psi = [c for c in drift if c.name.startswith("drift.psi.") and c.value is not None]
        worst = max(psi, key=lambda c: c.value or 0.0, default=None)
        note = f"worst PSI {worst.name[10:]} {worst.value:.3f}; " if worst and worst.value else ""
        rows.append(
            (
                f"drift.* ({len(drift)} checks)",
                status_text(run_status(drift)),
                "",
                "",
                "",
                f"{note}{len(failing)} fail/warn: see the Drift tab (5)",
            )
        )
    return rows


# ---- lineage and history --------------------------------------------------------------------


def lineage_text(version: VersionView, versions: list[VersionView], dataset: Dataset) -> Text:
    """Parent chain, training data, code and artifact of one version (plain text, bold heads)."""
    by_number = {v.number: v for v in versions}
    chain = [version]
    while chain[-1].parent in by_number and by_number[chain[-1].parent] not in chain:
        chain.append(by_number[chain[-1].parent])
    items: list[Text | str] = [
        line(
            (f"{version.model} v{version.number}", "bold"),
            f"  registered {_when(version.created_at)} by {version.author}",
        ),
        f"  {version.description}" if version.description else "",
        "",
        line(("Parent chain", "bold"), "  " + " ← ".join(f"v{v.number}" for v in chain)),
    ]
    items += [
        f"  v{link.number}  {link.created_at[:10]}  {link.estimator_class.rsplit('.', 1)[-1]}"
        f"  data {link.train_dataset_sha256[:12]}  {_clip(link.description, 48)}"
        for link in chain
    ]
    trusted = "  (trusted pickle)" if version.trusted_pickle else ""
    items += [
        "",
        line(("Training dataset", "bold")),
        f"  name     {dataset.name} ({dataset.format})",
        f"  sha256   {dataset.sha256}",
        f"  rows     {dataset.row_count}   columns {dataset.column_count}",
        f"  target   {version.target}",
        f"  added    {_when(dataset.registered_at)} by {dataset.registered_by}",
        "",
        line(("Code", "bold")),
        f"  ref      {version.code_ref or 'not recorded (register with --code-dir)'}",
        "",
        line(("Artifact", "bold")),
        f"  sha256   {version.artifact_sha256}",
        f"  format   {version.artifact_format}{trusted}",
        f"  class    {version.estimator_class}",
    ]
    return lines(items)


def history_rows(entries: list[HistoryEntry]) -> list[Row]:
    """Newest first; break-glass entries in red."""
    rows: list[Row] = [
        (
            str(entry.seq),
            _when(entry.at)[:16],
            entry.actor,
            Text(entry.what, style="bold red" if entry.break_glass else ""),
            entry.detail,
        )
        for entry in reversed(entries)
    ]
    return rows or [("-", "", "", "nothing yet", "no request or stage change for this model")]


# ---- drift ----------------------------------------------------------------------------------


def drift_summary(run: ValidationView | None) -> str:
    if run is None:
        return "No validation run yet, so no drift measured for this version."
    psi = [c for c in run.checks if c.name.startswith("drift.psi.")]
    failing = sum(1 for c in psi if c.status == "fail")
    limit = psi[0].threshold if psi else None
    return (
        f"Run {run.id} on {run.dataset_name}: {len(psi)} features, {failing} over the PSI "
        f"limit {number(limit)}; bars are scaled to 2 × the limit, │ marks it"
    )


def drift_rows(run: ValidationView | None) -> list[Row]:
    """One row per feature, the largest PSI first, with the binned shares as sparklines."""
    if run is None:
        return []
    psi = sorted(
        (c for c in run.checks if c.name.startswith("drift.psi.")), key=lambda c: -(c.value or 0.0)
    )
    rows: list[Row] = []
    for check in psi:
        feature = check.name.removeprefix("drift.psi.")
        ks = run.check(f"drift.ks.{feature}")
        test = details_as(ks, DistributionTest) if ks is not None else None
        ks_p = test.p_value if test is not None else None
        bins = details_as(check, PopulationStability)
        now, train = (bins.share, bins.reference_share) if bins is not None else ([], [])
        top = max([*now, *train], default=0.0)
        style = {"fail": "red", "warn": "yellow"}.get(check.status, "green")
        rows.append(
            (
                feature,
                number(check.value),
                bar(
                    check.value or 0.0,
                    (check.threshold or 0.25) * 2,
                    16,
                    mark=check.threshold,
                    style=style,
                ),
                status_text(check.status),
                f"{ks_p:.2g}" if ks_p is not None else "-",
                Text(sparkline(now, top), style=style)
                + " vs "
                + Text(sparkline(train, top), "dim"),
            )
        )
    return rows
