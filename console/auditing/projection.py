"""The derived tables as the signed log alone says they must be: one replay, row by row.

`project(events)` builds, from events only, the rows of every table a service derives from its
own events (stages, deployments, requests and decisions, users and keys, models and versions,
card fields, validation runs and checks, monitoring windows, alerts and jobs, packages,
checkpoints, release keys). `console/auditing/state_check.py` compares them with the tables. Fed the events
of one model (with the key-management events), it yields that model's rows only.
Monitoring's handlers live in `console/auditing/projection_monitoring.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from cryptography.exceptions import InvalidSignature

from audit.key_history import KeyHistory
from audit.keys import public_from_raw
from console.auditing.projected_rows import Projection, as_int, as_text
from console.auditing.projection_monitoring import MONITORING_HANDLERS
from console.auditing.replay import (
    cards_from,
    models_from,
    packages_from,
    request_states_from,
    stages_from,
)
from console.auditing.replay_entries import Event
from console.release.approvals import DECISION_DOMAIN

KEY_ACTIONS = ("store.created", "user.added", "user.revoked", "user.role_changed", "key.rotated")
_DEPLOYMENT_KINDS = {
    "promotion.executed": "promotion",
    "canary.started": "canary.started",
    "canary.step": "canary.step",
    "canary.completed": "canary.completed",
    "canary.aborted": "canary.aborted",
    "rollback.executed": "rollback",
    "stage.retired": "retirement",
}


def decision_signature_valid(
    history: KeyHistory, keyid: str, statement: bytes, signature: bytes
) -> bool:
    """Does `signature` over the statement verify with the key the log registered as `keyid`?"""
    key = history.keys.get(keyid)
    if key is None:
        return False
    try:
        public_from_raw(key.public_key).verify(signature, DECISION_DOMAIN + statement)
    except (InvalidSignature, ValueError):
        return False
    return True


def _decision(p: Projection, e: Event) -> None:
    """A signed decision: its role and key are what the log said of the approver at the time."""
    payload = e.payload
    p.table("approvals")[(e.seq,)] = {
        "request_id": as_int(payload.get("request")),
        "approver": e.actor,
        "role": p.history.role_of(e.actor),
        "decision": payload.get("decision"),
        "comment": payload.get("comment"),
        "evidence_digest": payload.get("evidence_digest"),
        "decided_at": e.ts,
        "keyid": e.keyid,
        "key_valid_then": p.history.check_signer(e.seq, e.actor, e.keyid) is None,
        "statement_sha256": payload.get("statement_sha256"),
        "signature": payload.get("signature"),
        "signature_verifies": True,
        "void": False,
    }


def _deployment(p: Projection, e: Event) -> None:
    payload = e.payload
    p.table("deployments")[(e.seq,)] = {
        "model": payload.get("model"),
        "stage": payload.get("stage"),
        "kind": _DEPLOYMENT_KINDS[e.action],
        "version": as_int(payload.get("version")),
        "replaced_version": as_int(payload.get("replaced_version")),
        "request_id": as_int(payload.get("request")),
        "actor": e.actor,
        "occurred_at": e.ts,
        "break_glass": bool(payload.get("break_glass")),
        "reason": payload.get("reason", ""),
    }


def _request(p: Projection, e: Event) -> None:
    payload = e.payload
    evidence = payload.get("evidence")
    evidence = evidence if isinstance(evidence, dict) else {}
    p.table("promotion_requests")[(as_int(payload.get("request")),)] = {
        "model": payload.get("model"),
        "version": as_int(payload.get("version")),
        "stage": payload.get("stage"),
        "requester": e.actor,
        "comment": payload.get("comment"),
        "created_at": e.ts,
        "expires_at": payload.get("expires_at"),
        "evidence_digest": payload.get("evidence_digest"),
        "evidence": as_text(evidence),
        "canary_plan": as_text(payload.get("canary_plan", [])),
        "policy_digest": evidence.get("policy_sha256"),
        "validation_run_id": as_int(evidence.get("validation_run")),
        "event_seq": e.seq,
    }


def _validation(p: Projection, e: Event) -> None:
    payload = e.payload
    run = as_int(payload.get("run_id"))
    counts = payload.get("counts")
    p.table("validation_runs")[(run,)] = {
        "model": payload.get("model"),
        "version": as_int(payload.get("version")),
        "dataset_sha256": payload.get("dataset_sha256"),
        "dataset_name": payload.get("dataset_name"),
        "target": payload.get("target"),
        "sensitive": payload.get("sensitive"),
        "stage": payload.get("stage"),
        "status": payload.get("status"),
        "passed": payload.get("passed"),
        "report_sha256": payload.get("report_sha256"),
        "finished_at": e.ts,
        "actor": e.actor,
        "event_seq": e.seq,
        "check_counts": as_text(
            {k: v for k, v in counts.items() if v} if isinstance(counts, dict) else {}
        ),
    }
    statuses = payload.get("checks")
    if isinstance(statuses, dict):  # carried since this release; older runs prove counts only
        checks = p.table("validation_checks")
        for name, status in statuses.items():
            checks[(run, str(name))] = {"status": status}


def _version(p: Projection, e: Event) -> None:
    payload = e.payload
    p.table("model_versions")[(payload.get("model"), as_int(payload.get("version")))] = {
        "artifact_sha256": payload.get("artifact_sha256"),
        "artifact_format": payload.get("artifact_format"),
        "trusted_pickle": payload.get("trusted_pickle"),
        "trusted_types": as_text(payload.get("trusted_types", [])),
        "estimator_class": payload.get("estimator_class"),
        "task_type": payload.get("task_type"),
        "train_dataset_sha256": payload.get("train_dataset_sha256"),
        "target": payload.get("target"),
        "metrics": as_text(payload.get("metrics", {})),
        "parent_number": as_int(payload.get("parent")),
        "code_ref": payload.get("code_ref"),
        "author": e.actor,
        "created_at": e.ts,
    }


def _dataset(p: Projection, e: Event) -> None:
    payload = e.payload
    p.table("datasets")[(payload.get("sha256"),)] = {
        "name": payload.get("name"),
        "row_count": as_int(payload.get("rows")),
        "profile_sha256": payload.get("profile_sha256"),
        "registered_at": e.ts,
        "registered_by": e.actor,
    }


def _release_key(p: Projection, e: Event) -> None:
    """A release key registered; the user's previous one is retired by this event."""
    payload = e.payload
    keys = p.table("release_keys")
    for row in keys.values():
        if row["user"] == payload.get("name") and row["retired_seq"] is None:
            row["retired_seq"] = e.seq
    keys[(payload.get("keyid"),)] = {
        "user": payload.get("name"),
        "public_key_pem": payload.get("public_key"),
        "registered_seq": e.seq,
        "registered_by": e.actor,
        "retired_seq": None,
    }


def _checkpoint(p: Projection, e: Event) -> None:
    number = e.subject.removeprefix("checkpoint:")
    p.table("checkpoints")[(int(number) if number.isdigit() else number,)] = {
        "size": as_int(e.payload.get("size")),
        "root_hex": e.payload.get("root"),
        "issued_by": e.actor,
    }


_HANDLERS: dict[str, Callable[[Projection, Event], None]] = {
    "promotion.approved": _decision,
    "promotion.rejected": _decision,
    "promotion.requested": _request,
    "validation.completed": _validation,
    "version.registered": _version,
    "dataset.registered": _dataset,
    "audit.checkpoint": _checkpoint,
    "release_key.registered": _release_key,
    **dict.fromkeys(_DEPLOYMENT_KINDS, _deployment),
    **MONITORING_HANDLERS,
}


def project(events: Iterable[Event]) -> Projection:
    """Every derived row the events prove; keys replayed in order so roles are those at the time."""
    p = Projection()
    seen: list[Event] = []
    for e in events:
        seen.append(e)
        if e.action in KEY_ACTIONS:
            p.history.apply(e.seq, e.actor, e.action, e.payload)
        handler = _HANDLERS.get(e.action)
        if handler is not None:
            handler(p, e)
    requests = p.table("promotion_requests")
    for number, state in request_states_from(seen).items():
        if (number,) in requests:
            requests[(number,)].update(
                status=state.status, closed_at=state.closed_at, closed_by=state.closed_by
            )
    stages = p.table("stages")
    for (model, stage), s in stages_from(seen).items():
        stages[(model, stage)] = {
            "version": s.version,
            "canary_version": s.canary_version,
            "canary_share": s.canary_share,
            "canary_step": s.canary_step,
            "updated_at": s.updated_at,
        }
    cards = p.table("card_fields")
    for (model, version), fields in cards_from(seen).items():
        for name, value in fields.items():
            cards[(model, version, name)] = {
                "value": value.value,
                "updated_at": value.updated_at,
                "updated_by": value.updated_by,
                "event_seq": value.event_seq,
            }
    packages = p.table("packages")
    for package in packages_from(seen):  # the newest build of the same bytes names the row
        packages[(package.sha256,)] = {
            "model": package.model,
            "version": package.version,
            "file_name": package.file_name,
            "size": package.size,
            "created_by": package.actor,
            "created_at": package.ts,
            "event_seq": package.event_seq,
        }
    models = p.table("models")
    for name, entry in models_from(seen).items():
        models[(name,)] = {
            "owner": entry.owner,
            "description": entry.description,
            "risk_tier": entry.risk_tier,
            "intended_use": entry.intended_use,
            "created_at": entry.created_at,
            "created_by": entry.created_by,
        }
    _people(p)
    return p


def _people(p: Projection) -> None:
    users, keys = p.table("users"), p.table("user_keys")
    for name, user in p.history.users.items():
        users[(name,)] = {
            "role": user.role,
            "active": user.revoked_at is None,
            "added_seq": user.added_at,
            "revoked_seq": user.revoked_at,
        }
    for keyid, key in p.history.keys.items():
        keys[(keyid,)] = {
            "user": key.user,
            "public_key": key.public_key.hex(),
            "valid_from_seq": key.valid_from,
            "revoked_at_seq": key.revoked_at,
        }


def statement_sha256(statement: bytes) -> str:
    return hashlib.sha256(statement).hexdigest()
