"""A model card as Markdown: Hugging Face YAML front matter, then the sections of Mitchell et al.

The front matter (`license`, `library_name`, `tags`, `datasets`, `metrics`, `model-index`) is
written by a small emitter for exactly the structures used here: block mappings, block
sequences and scalars. A string is written plain only when it cannot be read as anything but
that string in YAML 1.1 or 1.2; every other string is double-quoted with escapes, so a value a
person typed can never change the structure.
"""

from __future__ import annotations

import math
import re

from reports.card_model import NOT_PROVIDED, CardData, DatasetSummary, FairnessAnalysis, MetricRow

YamlValue = str | int | float | bool | None | list["YamlValue"] | dict[str, "YamlValue"]

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
TASK_NAMES = {"classification": "Tabular Classification", "regression": "Tabular Regression"}

# ---- YAML ------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./+-]*")
_RESERVED = frozenset(
    {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "infinity"}
)


def yaml_scalar(value: str | int | float | bool | None) -> str:
    """One scalar, written so that any YAML 1.1 or 1.2 reader gives back the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e:
            # YAML 1.1 wants a dot in the mantissa and a signed exponent: 1e-07 -> 1.0e-07.
            if "." not in mantissa:
                mantissa += ".0"
            if exponent[0] not in "+-":
                exponent = "+" + exponent
            text = f"{mantissa}e{exponent}"
        return text
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return _double_quoted(value)


def _double_quoted(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0xFEFF):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _yaml_key(key: str) -> str:
    return key if _PLAIN.fullmatch(key) and key.lower() not in _RESERVED else _double_quoted(key)


def _yaml_lines(value: YamlValue, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        lines: list[str] = []
        for key, item in value.items():
            head = f"{pad}{_yaml_key(key)}:"
            if isinstance(item, dict) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent + 2))
            elif isinstance(item, list) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent))  # indentless sequence, as HF writes
            else:
                lines.append(f"{head} {_inline(item)}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict) and item:
                inner = _yaml_lines(item, indent + 2)
                inner[0] = f"{pad}- {inner[0][indent + 2 :]}"
                lines.extend(inner)
            elif isinstance(item, list) and item:
                raise ValueError("nested sequences are not used in card front matter")
            else:
                lines.append(f"{pad}- {_inline(item)}")
        return lines
    return [pad + _inline(value)]


def _inline(value: YamlValue) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return yaml_scalar(value)


def yaml_document(mapping: dict[str, YamlValue]) -> str:
    """The mapping as block YAML, one line per scalar, ending in a newline."""
    return "\n".join(_yaml_lines(mapping, 0)) + "\n"


def front_matter(card: CardData) -> dict[str, YamlValue]:
    """The Hugging Face metadata of the card, in a fixed key order."""
    meta: dict[str, YamlValue] = {}
    license_id = card.field_value("license")
    if license_id:
        if license_id.lower() == "proprietary":
            meta["license"] = "other"
            meta["license_name"] = "proprietary"
        else:
            meta["license"] = license_id.lower()
    meta["library_name"] = card.library
    task = f"tabular-{card.task_type}"
    tags: list[YamlValue] = ["signoff", task, card.library, f"risk-tier-{card.risk_tier}"]
    meta["tags"] = tags
    datasets: list[YamlValue] = [card.training_data.name]
    if card.evaluation_data is not None and card.evaluation_data.name not in datasets:
        datasets.append(card.evaluation_data.name)
    meta["datasets"] = datasets
    evaluated = [m for m in card.metrics if card.metrics_source == "validation"]
    names: list[YamlValue] = []
    for metric in evaluated:
        if metric.name not in names:
            names.append(metric.name)
    meta["metrics"] = names
    results: list[YamlValue] = []
    if card.evaluation_data is not None and evaluated:
        results.append(
            {
                "task": {"type": task, "name": TASK_NAMES.get(card.task_type, task)},
                "dataset": {
                    "type": card.evaluation_data.name,
                    "name": card.evaluation_data.name,
                },
                "metrics": [
                    {"type": m.name, "value": m.value} for m in evaluated if m.value is not None
                ],
            }
        )
    meta["model-index"] = [{"name": card.model, "results": results}]
    return meta


# ---- Markdown body -----------------------------------------------------------------------------


def _cell(text: object) -> str:
    value = "-" if text is None or text == "" else str(text)
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>").strip()


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    lines = [
        "| " + " | ".join(_cell(h) for h in headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return [*lines, ""]


def _prose(text: str | None) -> list[str]:
    if not text:
        return [f"*{NOT_PROVIDED}*", ""]
    # A line a person wrote must not become a heading of the card.
    lines = [("\\" + line if line.lstrip().startswith("#") else line) for line in text.split("\n")]
    return [*lines, ""]


def when(ts: str | None) -> str:
    """A store timestamp as `YYYY-MM-DD HH:MM:SS UTC`."""
    if not ts:
        return "-"
    if len(ts) >= 19 and ts[10] == "T":
        return f"{ts[:10]} {ts[11:19]} UTC"
    return ts


def number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def threshold(value: float | None, rule: str | None) -> str:
    """A threshold with its direction: `≥ 0.7000` (the value must be at least this)."""
    if value is None:
        return "-"
    sign = {">=": "≥ ", "<=": "≤ "}.get(rule or "", "")
    return f"{sign}{number(value)}"


def interval(metric: MetricRow) -> str:
    if metric.lower is None and metric.upper is None:
        return "-"
    level = f" ({metric.level * 100:.0f}%)" if metric.level is not None else ""
    return f"{number(metric.lower)} – {number(metric.upper)}{level}"


def plain_value(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        import json

        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def group_value(value: int | float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}"


def analysis_heading(analysis: FairnessAnalysis) -> str:
    return analysis.title + (f" by `{analysis.attribute}`" if analysis.attribute else "")


def analysis_line(analysis: FairnessAnalysis) -> str:
    """The check, its status, and its value with interval and threshold where they apply."""
    line = f"Check `{analysis.check}`: **{analysis.status}**"
    if analysis.value is not None and (analysis.threshold is not None or analysis.note):
        line += f"; value {number(analysis.value)}"
        if analysis.lower is not None and analysis.upper is not None:
            level = f"{analysis.level * 100:.0f}% " if analysis.level is not None else ""
            line += f" ({level}interval {number(analysis.lower)} – {number(analysis.upper)})"
        if analysis.note:
            line += f", the {analysis.note}"
    if analysis.threshold is not None:
        line += f"; threshold {threshold(analysis.threshold, analysis.rule)}"
    return line + "."


def validation_line(card: CardData) -> str:
    run = card.validation
    if run is None:
        return "not validated yet"
    verdict = "passed" if run.passed else "did not pass"
    return f"{verdict} ({run.status}; run {run.run_id}, {when(run.finished_at)})"


def completeness_line(card: CardData) -> str:
    if not card.missing:
        return "complete"
    return "incomplete — missing " + ", ".join(card.missing)


def details_rows(card: CardData) -> list[list[object]]:
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


def dataset_rows(data: DatasetSummary) -> list[list[object]]:
    rows: list[list[object]] = [["Name", data.name], ["SHA-256", data.sha256]]
    if data.format is not None:
        rows.append(["Format", data.format])
    if data.row_count is not None:
        rows.append(["Rows", f"{data.row_count:,}"])
    if data.column_count is not None:
        rows.append(["Columns", data.column_count])
    if data.registered:
        rows.append(["Registered", f"{when(data.registered_at)} by {data.registered_by}"])
    return rows


def evaluation_factors_text(card: CardData) -> str:
    if card.validation is None:
        return "None yet: the version has not been validated, so no results are disaggregated."
    factors = card.evaluation_factors
    if not factors:
        return (
            "None: the latest validation run named no sensitive attribute, so its results "
            "are not disaggregated by group."
        )
    return (
        "Results are disaggregated by "
        + ", ".join(f"`{f}`" for f in factors)
        + f" (validation run {card.validation.run_id})."
    )


def metrics_intro(card: CardData) -> str:
    run = card.validation
    if run is None:
        return (
            "No validation run yet. These are the in-sample metrics recorded at registration, "
            "measured on the training data; they overstate performance on new data."
        )
    stage = f" with the thresholds of the `{run.stage}` stage" if run.stage else ""
    return (
        f"Measured by validation run {run.run_id} on `{run.dataset_name}`{stage}, finished "
        f"{when(run.finished_at)} by {run.actor}. A threshold is the limit the policy sets "
        "for the check and the status says whether the value met it; a metric the policy sets "
        "no limit for is reported for information (`info`). Intervals are bootstrap confidence "
        "intervals computed by the validation run."
    )


def render_markdown(card: CardData) -> str:
    """The card as Markdown with YAML front matter; the same card always gives the same text."""
    out: list[str] = ["---", yaml_document(front_matter(card)).rstrip("\n"), "---", ""]
    out += [f"# Model card: {card.title}", ""]
    if card.model_description:
        out += [card.model_description, ""]
    out += [
        f"**Risk tier:** {card.risk_tier} · **Owner:** {card.owner} · "
        f"**Stages:** {', '.join(card.current_stages) or 'none'} · "
        f"**Validation:** {validation_line(card)} · **Card:** {completeness_line(card)}",
        "",
    ]

    out += ["## Model Details", ""]
    out += _table(["Field", "Value"], details_rows(card))
    if card.hyperparameters:
        out += ["### Hyperparameters of the final estimator", ""]
        out += _table(
            ["Parameter", "Value"], [[k, plain_value(v)] for k, v in card.hyperparameters.items()]
        )

    out += ["## Intended Use", ""]
    if card.registered_intended_use:
        out += [f"Recorded at registration: {card.registered_intended_use}", ""]
    for name in (
        "intended_use.primary_uses",
        "intended_use.primary_users",
        "intended_use.out_of_scope",
    ):
        out += [f"### {card.human[name].title}", "", *_prose(card.field_value(name))]

    out += ["## Factors", "", "### Relevant factors", "", *_prose(card.field_value("factors"))]
    out += ["### Evaluation factors", "", evaluation_factors_text(card), ""]

    out += ["## Metrics", "", metrics_intro(card), ""]
    if card.metrics_source == "training":
        out += _table(
            ["Metric", "Value (in-sample)"], [[m.name, number(m.value)] for m in card.metrics]
        )
    elif card.metrics:
        out += _table(
            ["Metric", "Value", "Interval", "Threshold", "Status"],
            [
                [
                    m.name,
                    number(m.value),
                    interval(m),
                    threshold(m.threshold, m.rule),
                    m.status or "-",
                ]
                for m in card.metrics
            ],
        )
    else:
        out += ["The validation run recorded no performance metric.", ""]

    out += ["## Evaluation Data", ""]
    if card.evaluation_data is None or card.validation is None:
        out += ["None yet: the version has not been validated.", ""]
    else:
        rows = dataset_rows(card.evaluation_data)
        rows += [
            ["Target", f"`{card.validation.target}`"],
            ["Sensitive attribute", card.validation.sensitive or "none named"],
        ]
        out += _table(["Field", "Value"], rows)

    out += ["## Training Data", ""]
    out += _table(["Field", "Value"], [*dataset_rows(card.training_data), ["Target", card.target]])
    if card.training_data.columns:
        out += ["### Profile of the training data", ""]
        out += _table(
            ["Column", "Kind", "Type", "Nulls", "Summary"],
            [
                [
                    c.name,
                    c.kind,
                    c.dtype,
                    "-" if c.null_rate is None else f"{c.null_rate:.1%}",
                    c.summary,
                ]
                for c in card.training_data.columns
            ],
        )
    if card.metrics_source == "validation" and card.training_metrics:
        out += [
            "In-sample metrics at registration (on the training data): "
            + ", ".join(f"{k} {v:.4f}" for k, v in card.training_metrics.items())
            + ".",
            "",
        ]

    out += ["## Quantitative Analyses", ""]
    if not card.fairness:
        out += [quantitative_none(card), ""]
    for analysis in card.fairness:
        out += [f"### {analysis_heading(analysis)}", "", analysis_line(analysis), ""]
        if analysis.groups:
            out += _table(
                ["Group", *analysis.metrics],
                [
                    [g.group, *(group_value(g.values.get(m)) for m in analysis.metrics)]
                    for g in analysis.groups
                ],
            )

    out += ["## Ethical Considerations", ""]
    out += ["### Risks", "", *_prose(card.field_value("ethical_considerations.risks"))]
    out += ["### Mitigations", "", *_prose(card.field_value("ethical_considerations.mitigations"))]

    out += ["## Caveats and Recommendations", ""]
    out += _prose(card.field_value("caveats_and_recommendations"))

    out += ["## Governance Record", "", *governance_markdown(card)]
    out += ["---", "", "Generated by signoff from the records of the store.", ""]
    return "\n".join(out)


def quantitative_none(card: CardData) -> str:
    if card.validation is None:
        return "None yet: the version has not been validated."
    if card.validation.sensitive:
        return (
            f"The latest validation run named the sensitive attribute "
            f"`{card.validation.sensitive}` but recorded no fairness results."
        )
    return "None: the latest validation run named no sensitive attribute."


def governance_markdown(card: CardData) -> list[str]:
    out: list[str] = ["### Validation", ""]
    run = card.validation
    if run is None:
        out += ["No validation run yet.", ""]
    else:
        out += _table(
            ["Field", "Value"],
            [
                ["Run", run.run_id],
                ["Result", "passed" if run.passed else "did not pass"],
                ["Status", run.status],
                ["Stage thresholds", run.stage or "none"],
                ["Started", when(run.started_at)],
                ["Finished", when(run.finished_at)],
                ["Run by", run.actor],
                ["Report SHA-256", run.report_sha256],
                ["Audit event", run.event_seq],
                ["Checks", ", ".join(f"{n} {s}" for s, n in run.counts.items()) or "none"],
            ],
        )
        if run.checks:
            out += _table(
                ["Check", "Category", "Status", "Value", "Threshold"],
                [
                    [c.name, c.category, c.status, number(c.value), threshold(c.threshold, c.rule)]
                    for c in run.checks
                ],
            )
    out += ["### Stage history", ""]
    if card.stage_history:
        out += _table(
            ["When", "Stage", "Change", "Version", "Replaced", "By", "Reason"],
            [
                [
                    when(s.occurred_at),
                    s.stage,
                    s.kind + (" (break-glass)" if s.break_glass else ""),
                    s.version,
                    s.replaced_version if s.replaced_version is not None else "-",
                    s.actor,
                    s.reason,
                ]
                for s in card.stage_history
            ],
        )
    else:
        out += ["This version has not been deployed to any stage.", ""]
    out += ["### Approvals", ""]
    if card.approvals:
        out += _table(
            ["Request", "Reviewer", "Role", "Decision", "When", "Comment"],
            [
                [
                    a.request_id,
                    a.approver,
                    a.role,
                    a.decision + (f" (void: {a.void_reason})" if a.void else ""),
                    when(a.decided_at),
                    a.comment,
                ]
                for a in card.approvals
            ],
        )
    else:
        out += ["No approval decisions are recorded for this version.", ""]
    out += ["### Card fields", ""]
    out += _table(
        ["Field", "Last edited by", "When", "Audit event"],
        [
            [
                f.name,
                f.updated_by or "not filled",
                when(f.updated_at),
                f.event_seq if f.event_seq is not None else "-",
            ]
            for f in card.human.values()
        ],
    )
    out += ["### Completeness", ""]
    if card.missing:
        out += ["Still to be provided before the card is complete:", ""]
        out += [f"- `{name}`" for name in card.missing] + [""]
    else:
        out += ["Every field is filled and the validation evidence is present.", ""]
    return out
