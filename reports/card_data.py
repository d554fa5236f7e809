"""Everything a model card says about one version, gathered from the store through services.

`build_card` returns the plain data of `reports.card_model` that the Markdown, JSON and PDF
renderers share, so the three formats always say the same thing. Nothing here reads the clock:
every date is one the store recorded, and the same store state always gives the same card.
What it says about the data is built by `card_datasets`, about validation by `card_evidence`.

Without a validation run the card shows the training metrics recorded at registration, and
says that they are in-sample.
"""

from __future__ import annotations

from console.errors import NotFound
from console.registry.card_diff import source_diff
from console.registry.card_inheritance import field_origins
from console.registry.cards import FIELDS, card_completeness, card_field_views
from console.registry.views import VersionView, get_model
from console.release.evidence import latest_validation, model_approvals
from console.release.history import history
from console.store.db import Store
from reports.card_datasets import dataset_summary, evaluation_summary
from reports.card_evidence import card_metrics, fairness_analyses, validation_summary
from reports.card_model import ApprovalRow, CardData, HumanField, StageChange


def build_card(store: Store, model: str, version: int) -> CardData:
    """Read one version's card from the store."""
    model_view = get_model(store, model)
    row = next((v for v in model_view.versions if v.number == version), None)
    if row is None:
        raise NotFound(
            f"model {model!r} has no version {version}"
            + (f"; its versions are 1..{len(model_view.versions)}" if model_view.versions else "")
        )
    run = latest_validation(store, model, version)
    views = {v.field: v for v in card_field_views(store, model, version)}
    origins = field_origins(store, model, version)
    human = {
        spec.name: HumanField(
            spec.name,
            spec.title,
            views[spec.name].value if spec.name in views else None,
            views[spec.name].updated_at if spec.name in views else None,
            views[spec.name].updated_by if spec.name in views else None,
            views[spec.name].event_seq if spec.name in views else None,
            origins[spec.name].label() if spec.name in origins else None,
        )
        for spec in FIELDS
    }
    metrics, source = card_metrics(row, run)
    diff = source_diff(store, model, version)
    return CardData(
        model=model,
        version=version,
        model_description=model_view.description,
        version_description=row.description,
        owner=model_view.owner,
        risk_tier=model_view.risk_tier,
        registered_intended_use=model_view.intended_use,
        model_created_at=model_view.created_at,
        task_type=row.task_type,
        estimator_class=row.estimator_class,
        library=row.estimator_class.split(".", 1)[0],
        architecture=_architecture(row),
        hyperparameters=_hyperparameters(row.params),
        params=dict(sorted(row.params.items())),
        author=row.author,
        created_at=row.created_at,
        parent=row.parent,
        code_ref=row.code_ref,
        artifact_sha256=row.artifact_sha256,
        artifact_format=row.artifact_format,
        target=row.target,
        features=[dict(c) for c in row.input_schema],
        tags=dict(sorted(row.tags.items())),
        current_stages=sorted(row.stages),
        metrics=metrics,
        metrics_source=source,
        training_metrics=dict(sorted(row.metrics.items())),
        training_data=dataset_summary(
            store, row.train_dataset_sha256, row.train_dataset_sha256[:16]
        ),
        evaluation_data=evaluation_summary(store, run) if run is not None else None,
        fairness=fairness_analyses(run) if run is not None else [],
        validation=validation_summary(run) if run is not None else None,
        stage_history=[
            StageChange(
                d.occurred_at,
                d.stage,
                d.kind,
                d.version,
                d.replaced_version,
                d.actor,
                d.reason,
                d.break_glass,
                d.request_id,
                d.event_seq,
            )
            for d in history(store, model).changes
            if version in (d.version, d.replaced_version)
        ],
        approvals=[
            ApprovalRow(
                a.request_id,
                a.approver,
                a.role,
                a.decision,
                a.decided_at,
                a.comment,
                a.void,
                a.void_reason,
                a.event_seq,
            )
            for a in model_approvals(store, model, version)
        ],
        human=human,
        missing=card_completeness(store, model, version),
        changes_against=diff.against if diff is not None else None,
        changes=tuple((f.field, f.state) for f in diff.fields) if diff is not None else (),
        evidence=diff.evidence if diff is not None else None,
    )


# ---- model details ---------------------------------------------------------------------------


def _short(name: object) -> str:
    return str(name).rsplit(".", 1)[-1]


def _architecture(version: VersionView) -> str:
    steps = version.params.get("steps")
    if (
        isinstance(steps, list)
        and steps
        and all(isinstance(s, list) and len(s) == 2 for s in steps)
    ):
        chain = " → ".join(f"{s[0]} ({_short(s[1])})" for s in steps)
        return f"{_short(version.estimator_class)}: {chain}"
    return _short(version.estimator_class)


def _hyperparameters(params: dict[str, object]) -> dict[str, object]:
    """The final estimator's own parameters (a pipeline's last step), sorted by name."""
    steps = params.get("steps")
    if isinstance(steps, list) and steps and isinstance(steps[-1], list) and steps[-1]:
        prefix = f"{steps[-1][0]}__"
        own = {
            k[len(prefix) :]: v
            for k, v in params.items()
            if k.startswith(prefix) and "__" not in k[len(prefix) :]
        }
    else:
        own = {k: v for k, v in params.items() if "__" not in k}
    return dict(sorted(own.items()))
