"""What the reports screen reads and shows: the choice, the messages its loads post, the result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message

from console.registry.views import ModelPage, ModelView
from reports.framework_catalog import Framework
from reports.output import default_file_name

if TYPE_CHECKING:
    from reports.compliance import ReportResult

FINDINGS_SHOWN = 5  # findings named in the result panel; the PDF lists them all


@dataclass(frozen=True)
class ReportChoice:
    """What the next report covers: one version against a framework, or every model."""

    model: str | None  # None: every model (the registry report)
    version: int | None = None
    framework: str | None = None

    @property
    def file_name(self) -> str:
        return default_file_name(self.model, self.version, self.framework)


@dataclass
class ChoicesLoaded(Message):
    models: ModelPage
    match: str
    frameworks: list[Framework]
    who: str


@dataclass
class VersionsListed(Message):
    model: ModelView
    serving: int | None  # the version of the last stage holding one: what the CLI defaults to


def result_text(result: ReportResult, path: Path) -> Text:
    """The result panel: where the PDF went, what it covers, its digest, its event, and the
    open findings of its executive summary (the first few named)."""
    what = f"{result.model} v{result.version}, {result.framework}" if result.model else ""
    rows: list[tuple[str, str, str]] = [
        ("written", str(path), ""),
        ("report", f"{what or 'every model'} · {result.pages} pages", ""),
        ("sha256", result.sha256, ""),
        (
            "recorded",
            f"event #{result.event_seq} (report.generated), as of log size {result.log_size}",
            "",
        ),
    ]
    if result.model:
        counts = result.finding_counts()
        rows.append(
            ("findings", f"{len(result.findings)} open: {counts}" if counts else "none", "")
        )
        rows += [("", f"{f.kind} {f.what}", "red") for f in result.findings[:FINDINGS_SHOWN]]
        if len(result.findings) > FINDINGS_SHOWN:
            rows.append(("", f"… {len(result.findings) - FINDINGS_SHOWN} more in the PDF", ""))
    return Text("\n").join(
        Text.assemble((f"{label:<9}", "bold"), (value, style)) for label, value, style in rows
    )
