"""The sections of a model card as plain blocks, built once from the card and rendered by each format.

The Markdown and PDF renderers only lay these blocks out, so both say the same thing in the same
order: the sections of Mitchell et al. (2019), then the governance record.
"""

from __future__ import annotations

from reports.card_blocks import Block as Block
from reports.card_blocks import Bullets as Bullets
from reports.card_blocks import CardOutline as CardOutline
from reports.card_blocks import Facts as Facts
from reports.card_blocks import Paragraph as Paragraph
from reports.card_blocks import Prose as Prose
from reports.card_blocks import Row as Row
from reports.card_blocks import Section as Section
from reports.card_blocks import Subsection as Subsection
from reports.card_blocks import Table as Table
from reports.card_governance import governance
from reports.card_model import NOT_PROVIDED, CardData, DatasetSummary
from reports.card_text import (
    analysis_heading,
    analysis_line,
    completeness_line,
    evaluation_factors_text,
    group_value,
    interval,
    metrics_intro,
    number,
    plain_value,
    quantitative_none,
    threshold,
    validation_line,
    when,
)

SECTIONS = (
    "Model Details",
    "Intended Use",
    "Factors",
    "Metrics",
    "Evaluation Data",
    "Training Data",
    "Quantitative Analyses",
    "Ethical Considerations",
    "Caveats and Recommendations",
    "Governance Record",
)


def _human(card: CardData, name: str) -> list[Block]:
    """A person-written field, and where it came from when an earlier version's card gave it."""
    field = card.human[name]
    blocks: list[Block] = [Prose(field.value)]
    if field.inherited and field.origin is not None:
        blocks.append(Paragraph(f"({field.origin[0].upper()}{field.origin[1:]}.)"))
        if card.evidence is not None and field.origin.endswith("not confirmed"):
            # The reader must not take text written for another version's evidence as this one's.
            change = card.evidence
            blocks.append(
                Paragraph(
                    f"**{change.heading[0].upper()}{change.heading[1:]}:** "
                    + "; ".join(change.findings())
                    + "."
                )
            )
    return blocks


def card_outline(card: CardData) -> CardOutline:
    """The card's sections, in order; the same card always gives the same outline."""
    summary = [
        ("Risk tier", card.risk_tier),
        ("Owner", card.owner),
        ("Stages", ", ".join(card.current_stages) or "none"),
        ("Validation", validation_line(card)),
        ("Card", completeness_line(card)),
    ]
    sections = [
        _model_details(card),
        _intended_use(card),
        Section(
            "Factors",
            [
                Subsection("Relevant factors", _human(card, "factors")),
                Subsection("Evaluation factors", [Paragraph(evaluation_factors_text(card))]),
            ],
        ),
        _metrics(card),
        _evaluation_data(card),
        _training_data(card),
        _quantitative_analyses(card),
        Section(
            "Ethical Considerations",
            [
                Subsection("Risks", _human(card, "ethical_considerations.risks")),
                Subsection("Mitigations", _human(card, "ethical_considerations.mitigations")),
            ],
        ),
        Section("Caveats and Recommendations", [*_human(card, "caveats_and_recommendations")]),
        governance(card),
    ]
    return CardOutline(card.title, card.model_description, summary, sections)


def details_rows(card: CardData) -> list[Row]:
    features = ", ".join(f["name"] for f in card.features)
    return [
        ["Model", card.model],
        ["Version", card.version],
        ["Version description", card.version_description],
        ["Owner", card.owner],
        ["Risk tier", card.risk_tier],
        ["Task", f"{card.task_type} of `{card.target}`"],
        ["Estimator", card.estimator_class],
        ["Architecture", card.architecture],
        ["Registered by", card.author],
        ["Registered at", when(card.created_at)],
        ["Parent version", card.parent if card.parent is not None else "none (first version)"],
        ["Code reference", card.code_ref or "not recorded"],
        ["Artifact", f"sha256 {card.artifact_sha256} ({card.artifact_format})"],
        [f"Input features ({len(card.features)})", features],
        ["Current stages", ", ".join(card.current_stages) or "none"],
        ["License", card.field_value("license") or NOT_PROVIDED],
        ["Contact", card.field_value("contact") or NOT_PROVIDED],
    ]


def dataset_rows(data: DatasetSummary) -> list[Row]:
    rows: list[Row] = [["Name", data.name], ["SHA-256", data.sha256]]
    if data.format is not None:
        rows.append(["Format", data.format])
    if data.row_count is not None:
        rows.append(["Rows", f"{data.row_count:,}"])
    if data.column_count is not None:
        rows.append(["Columns", data.column_count])
    if data.registered:
        rows.append(["Registered", f"{when(data.registered_at)} by {data.registered_by}"])
    return rows


def _model_details(card: CardData) -> Section:
    blocks: list[Block | Subsection] = [Facts(details_rows(card))]
    if card.hyperparameters:
        rows: list[Row] = [[k, plain_value(v)] for k, v in card.hyperparameters.items()]
        table = Table(["Parameter", "Value"], rows, [0.35, 0.65])
        blocks.append(Subsection("Hyperparameters of the final estimator", [table]))
    return Section("Model Details", blocks)


def _intended_use(card: CardData) -> Section:
    blocks: list[Block | Subsection] = []
    if card.registered_intended_use:
        blocks.append(Paragraph(f"Recorded at registration: {card.registered_intended_use}"))
    for name in (
        "intended_use.primary_uses",
        "intended_use.primary_users",
        "intended_use.out_of_scope",
    ):
        blocks.append(Subsection(card.human[name].title, _human(card, name)))
    return Section("Intended Use", blocks)


def _metrics(card: CardData) -> Section:
    blocks: list[Block | Subsection] = [Paragraph(metrics_intro(card))]
    if card.metrics_source == "training":
        rows: list[Row] = [[m.name, number(m.value)] for m in card.metrics]
        blocks.append(Table(["Metric", "Value (in-sample)"], rows, [0.5, 0.5]))
    elif card.metrics:
        rows = [
            [m.name, number(m.value), interval(m), threshold(m.threshold, m.rule), m.status or "-"]
            for m in card.metrics
        ]
        headers = ["Metric", "Value", "Interval", "Threshold", "Status"]
        blocks.append(Table(headers, rows, [0.28, 0.14, 0.28, 0.15, 0.15]))
    else:
        blocks.append(Paragraph("The validation run recorded no performance metric."))
    return Section("Metrics", blocks)


def _evaluation_data(card: CardData) -> Section:
    if card.evaluation_data is None or card.validation is None:
        return Section(
            "Evaluation Data", [Paragraph("None yet: the version has not been validated.")]
        )
    rows = dataset_rows(card.evaluation_data)
    rows += [
        ["Target", f"`{card.validation.target}`"],
        ["Sensitive attribute", card.validation.sensitive or "none named"],
    ]
    return Section("Evaluation Data", [Facts(rows)])


def _training_data(card: CardData) -> Section:
    facts = Facts([*dataset_rows(card.training_data), ["Target", card.target]])
    blocks: list[Block | Subsection] = [facts]
    if card.training_data.columns:
        rows: list[Row] = [
            [
                c.name,
                c.kind,
                c.dtype,
                "-" if c.null_rate is None else f"{c.null_rate:.1%}",
                c.summary,
            ]
            for c in card.training_data.columns
        ]
        headers = ["Column", "Kind", "Type", "Nulls", "Summary"]
        table = Table(headers, rows, [0.22, 0.12, 0.11, 0.08, 0.47])
        blocks.append(Subsection("Profile of the training data", [table]))
    if card.metrics_source == "validation" and card.training_metrics:
        blocks.append(
            Paragraph(
                "In-sample metrics at registration (on the training data): "
                + ", ".join(f"{k} {v:.4f}" for k, v in card.training_metrics.items())
                + "."
            )
        )
    return Section("Training Data", blocks)


def _quantitative_analyses(card: CardData) -> Section:
    blocks: list[Block | Subsection] = []
    if not card.fairness:
        blocks.append(Paragraph(quantitative_none(card)))
    for analysis in card.fairness:
        inner: list[Block] = [Paragraph(analysis_line(analysis))]
        if analysis.groups:
            share = 0.75 / max(1, len(analysis.metrics))
            rows: list[Row] = [
                [g.group, *(group_value(g.values.get(m)) for m in analysis.metrics)]
                for g in analysis.groups
            ]
            widths = [0.25, *([share] * len(analysis.metrics))]
            inner.append(Table(["Group", *analysis.metrics], rows, widths))
        blocks.append(Subsection(analysis_heading(analysis), inner))
    return Section("Quantitative Analyses", blocks)
