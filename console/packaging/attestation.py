"""What a package attests: its files, their manifest, and the signed statement's predicate."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from typing import TYPE_CHECKING

from audit.canonical import canonical_json, sha256_hex
from audit.keys import Signer
from audit.release_keys import ReleaseSigner
from console.errors import NotFound
from console.packaging.governance import GOVERNANCE, governance_member
from console.packaging.oms import MODEL_SIGNATURE, oms_predicate, oms_signature
from console.registry.formats import FILE_NAMES, version_libraries
from console.store.artifacts import ArtifactStore
from console.store.db import Store

if TYPE_CHECKING:
    from console.registry.views import VersionView


PREDICATE_TYPE = "https://signoff.dev/attestation/model-package/v1"
MANIFEST_FORMAT = "https://signoff.dev/package/manifest/v1"
MANIFEST = "MANIFEST.json"
ATTESTATION = "attestation.dsse.json"
ARTIFACT_NAMES = FILE_NAMES
ENVIRONMENT_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "skops")


def package_contents(
    store: Store, signer: Signer, view: VersionView, release: ReleaseSigner | None = None
) -> tuple[dict[str, bytes], dict[str, object]]:
    """Every file of the package but the attestation, and the attestation's predicate.

    With a release key, `model.sig` signs the model files in the OpenSSF Model Signing format.
    """
    from console.registry.views import get_dataset
    from console.release.evidence import latest_validation, model_approvals
    from console.release.history import history
    from console.release.policy import load_policy

    model, version = view.model, view.number
    artifacts = ArtifactStore(store.artifacts_dir)
    artifact = artifacts.read_verified(view.artifact_sha256)
    artifact_name = ARTIFACT_NAMES.get(view.artifact_format, "model.skops")
    files: dict[str, bytes] = {artifact_name: artifact}
    files.update(_card_files(store, model, version))
    run = latest_validation(store, model, version)
    if run is not None:
        files["validation_report.json"] = artifacts.read_verified(run.report_sha256)
    files["environment.lock"] = environment_lock(
        version_libraries(view.artifact_format, view.trusted_types)
    )
    files["input_schema.json"] = canonical_json(
        {"features": view.input_schema, "target": view.target, "task_type": view.task_type}
    )
    governance = governance_member(store, signer, model, version)
    if governance is not None:  # the version's decisions and stages, provable offline
        files[GOVERNANCE] = governance
    if release is not None:
        files[MODEL_SIGNATURE] = oms_signature(f"{model}-v{version}", files, release)
    files[MANIFEST] = canonical_json(
        {
            "format": MANIFEST_FORMAT,
            "model": model,
            "version": version,
            "files": {
                name: {"sha256": sha256_hex(data), "size": len(data)}
                for name, data in sorted(files.items())
            },
        }
    )

    try:
        dataset = get_dataset(store, view.train_dataset_sha256)
        dataset_name: str | None = dataset.name
        dataset_rows: int | None = dataset.row_count
    except NotFound:
        dataset_name, dataset_rows = None, None
    predicate: dict[str, object] = {
        "model": model,
        "version": version,
        "artifact": {
            "name": artifact_name,
            "sha256": view.artifact_sha256,
            "format": view.artifact_format,
            "estimator_class": view.estimator_class,
            "task_type": view.task_type,
        },
        "registered": {"author": view.author, "at": view.created_at, "code_ref": view.code_ref},
        "training_dataset": {
            "sha256": view.train_dataset_sha256,
            "name": dataset_name,
            "rows": dataset_rows,
        },
        "validation": None
        if run is None
        else {
            "run_id": run.id,
            "report_sha256": run.report_sha256,
            "status": run.status,
            "passed": run.passed,
            "dataset_sha256": run.dataset_sha256,
            "finished_at": run.finished_at,
        },
        "approvals": [
            {
                "approver": a.approver,
                "role": a.role,
                "decision": a.decision,
                "request": a.request_id,
                "evidence_digest": a.evidence_digest,
                "decided_at": a.decided_at,
                "void": a.void,
            }
            for a in model_approvals(store, model, version)
        ],
        "stages": sorted(view.stages),
        "stage_history": [
            {
                "stage": d.stage,
                "kind": d.kind,
                "version": d.version,
                "replaced_version": d.replaced_version,
                "request": d.request_id,
                "actor": d.actor,
                "at": d.occurred_at,
                "break_glass": d.break_glass,
                "event_seq": d.event_seq,
            }
            for d in history(store, model).changes
            if version in (d.version, d.replaced_version)
        ],
        "policy_sha256": load_policy(store).digest,
        "packager": {"name": signer.name, "keyid": signer.keyid},
    }
    if release is not None:  # binds the OMS signature's release key to the packager's signature
        predicate["model_signing"] = oms_predicate(release)
    return files, predicate


def _card_files(store: Store, model: str, version: int) -> dict[str, bytes]:
    """The model card in Markdown and JSON, when the card renderers are installed."""
    try:
        from reports.card_data import build_card
        from reports.card_json import render_json
        from reports.card_markdown import render_markdown
    except ImportError:
        return {}
    card = build_card(store, model, version)
    return {
        "model_card.md": render_markdown(card).encode("utf-8"),
        "model_card.json": render_json(card).encode("utf-8"),
    }


def environment_lock(libraries: Iterable[str] = ()) -> bytes:
    """The Python and library versions this environment loads the artifact with: the
    scikit-learn stack, and the framework libraries the version needs (xgboost, ...)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    lines = [
        "# The environment signoff packaged this model in (pip requirements format).",
        f"# python {platform.python_version()} ({platform.python_implementation()})",
    ]
    for name in dict.fromkeys([*ENVIRONMENT_PACKAGES, *libraries]):
        try:
            lines.append(f"{name}=={installed(name)}")
        except PackageNotFoundError:
            lines.append(f"# {name}: not installed")
    return ("\n".join(lines) + "\n").encode("utf-8")
