"""A model card as JSON shaped like the Model Card Toolkit schema.

The layout follows MCT schema 0.0.1 (`model_parameters.data` with `train` and `eval`,
performance metrics with `confidence_interval`, `threshold` and `slice`, considerations as
lists of strings), with 0.0.2's `licenses` list. Facts MCT has no place for (digests, the
validation run, stage history, approvals, what the card still lacks) are kept under
`model_details.signoff`, where the schema allows additional properties.
"""

from __future__ import annotations

import json

from reports.card_model import CardData, DatasetSummary, FairnessAnalysis, MetricRow

SCHEMA_VERSION = "0.0.1"
JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def _metric(metric: MetricRow, slice_name: str | None = None) -> dict[str, JsonValue]:
    item: dict[str, JsonValue] = {"type": metric.name, "value": metric.value}
    if metric.lower is not None and metric.upper is not None:
        item["confidence_interval"] = {"lower_bound": metric.lower, "upper_bound": metric.upper}
    if metric.threshold is not None:
        item["threshold"] = metric.threshold
    if slice_name is not None:
        item["slice"] = slice_name
    return item


def _group_metrics(analysis: FairnessAnalysis) -> list[JsonValue]:
    items: list[JsonValue] = []
    attribute = analysis.attribute or "group"
    for group in analysis.groups:
        for name in analysis.metrics:
            value = group.values.get(name)
            if value is not None:
                items.append({"type": name, "value": value, "slice": f"{attribute}={group.group}"})
    return items


def _dataset(data: DatasetSummary, role: str) -> dict[str, JsonValue]:
    described = f"{role} data, sha256 {data.sha256}"
    if data.registered:
        described += f"; {data.row_count} rows, {data.column_count} columns ({data.format})"
    item: dict[str, JsonValue] = {
        "name": data.name,
        "description": described,
        "sha256": data.sha256,
    }
    if data.row_count is not None:
        item["row_count"] = data.row_count
    return item


def _texts(*values: str | None) -> list[JsonValue]:
    return [v for v in values if v]


def card_json(card: CardData) -> dict[str, JsonValue]:
    """The card as a JSON-ready dict in MCT layout; keys keep a fixed order."""
    contact = card.field_value("contact")
    license_id = card.field_value("license")
    owner: dict[str, JsonValue] = {"name": card.owner}
    if contact:
        owner["contact"] = contact
    details: dict[str, JsonValue] = {
        "name": card.model,
        "overview": " ".join(t for t in (card.model_description, card.version_description) if t),
        "owners": [owner],
        "version": {
            "name": str(card.version),
            "date": card.created_at[:10],
            "diff": card.version_description,
        },
        "licenses": [{"identifier": license_id}] if license_id else [],
        "references": [f"git:{card.code_ref}"] if card.code_ref else [],
        "signoff": _governance(card),
    }
    performance: list[JsonValue] = [_metric(m) for m in card.metrics]
    for analysis in card.fairness:
        performance.extend(_group_metrics(analysis))
    features = ", ".join(f"{f['name']} ({f.get('dtype', '?')})" for f in card.features)
    output = (
        f"the predicted class of {card.target}, with class probabilities"
        if card.task_type == "classification"
        else f"the predicted value of {card.target}"
    )
    data: dict[str, JsonValue] = {"train": _dataset(card.training_data, "training")}
    if card.evaluation_data is not None:
        data["eval"] = _dataset(card.evaluation_data, "evaluation")
    out_of_scope = card.field_value("intended_use.out_of_scope")
    risks = card.field_value("ethical_considerations.risks")
    mitigations = card.field_value("ethical_considerations.mitigations")
    ethical: list[JsonValue] = []
    if risks or mitigations:
        risk: dict[str, JsonValue] = {"name": risks or ""}
        if mitigations:
            risk["mitigation_strategy"] = mitigations
        ethical.append(risk)
    return {
        "schema_version": SCHEMA_VERSION,
        "model_details": details,
        "model_parameters": {
            "model_architecture": card.architecture,
            "data": data,
            "input_format": f"a table with the columns {features}",
            "output_format": output,
            "params": _json_params(card.params),
        },
        "quantitative_analysis": {"performance_metrics": performance},
        "considerations": {
            "users": _texts(card.field_value("intended_use.primary_users")),
            "use_cases": _texts(card.field_value("intended_use.primary_uses")),
            "limitations": _texts(
                card.field_value("caveats_and_recommendations"),
                f"Out of scope: {out_of_scope}" if out_of_scope else None,
            ),
            "tradeoffs": [],
            "ethical_considerations": ethical,
        },
    }


def _json_params(params: dict[str, object]) -> dict[str, JsonValue]:
    # Parameters were stored as canonical JSON, so they load back as JSON values.
    return json.loads(json.dumps(params, sort_keys=True))  # type: ignore[no-any-return]


def _governance(card: CardData) -> dict[str, JsonValue]:
    run = card.validation
    validation: JsonValue = None
    if run is not None:
        validation = {
            "run_id": run.run_id,
            "status": run.status,
            "passed": run.passed,
            "stage": run.stage,
            "finished_at": run.finished_at,
            "actor": run.actor,
            "report_sha256": run.report_sha256,
            "event_seq": run.event_seq,
            "checks": [
                {
                    "name": c.name,
                    "category": c.category,
                    "status": c.status,
                    "value": c.value,
                    "threshold": c.threshold,
                    "rule": c.rule,
                }
                for c in run.checks
            ],
        }
    return {
        "version": card.version,
        "risk_tier": card.risk_tier,
        "task_type": card.task_type,
        "estimator_class": card.estimator_class,
        "author": card.author,
        "registered_at": card.created_at,
        "parent_version": card.parent,
        "code_ref": card.code_ref,
        "artifact_sha256": card.artifact_sha256,
        "artifact_format": card.artifact_format,
        "target": card.target,
        "current_stages": list(card.current_stages),
        "metrics_source": card.metrics_source,
        "training_metrics": dict(card.training_metrics),
        "validation": validation,
        "stage_history": [
            {
                "occurred_at": s.occurred_at,
                "stage": s.stage,
                "kind": s.kind,
                "version": s.version,
                "replaced_version": s.replaced_version,
                "actor": s.actor,
                "reason": s.reason,
                "break_glass": s.break_glass,
                "request_id": s.request_id,
                "event_seq": s.event_seq,
            }
            for s in card.stage_history
        ],
        "approvals": [
            {
                "request_id": a.request_id,
                "approver": a.approver,
                "role": a.role,
                "decision": a.decision,
                "decided_at": a.decided_at,
                "comment": a.comment,
                "void": a.void,
                "event_seq": a.event_seq,
            }
            for a in card.approvals
        ],
        "card_fields": {
            f.name: {
                "value": f.value,
                "updated_at": f.updated_at,
                "updated_by": f.updated_by,
                "event_seq": f.event_seq,
                "origin": f.origin,
            }
            for f in card.human.values()
        },
        "inherited_evidence": _inherited_evidence(card),
        "missing": list(card.missing),
    }


def _inherited_evidence(card: CardData) -> JsonValue:
    """The evidence unconfirmed inherited text was written for, beside the version's own."""
    change = card.evidence
    if change is None:
        return None
    return {
        "written_for": change.source,
        "source_run": change.source_run,
        "own_run": change.own_run,
        "changes": [
            {"check": c.check, "before": c.before, "after": c.after} for c in change.changes
        ],
        "summary": change.summary(),
    }


def render_json(card: CardData) -> str:
    """The card as indented JSON text ending in a newline; the same card gives the same text."""
    return json.dumps(card_json(card), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
