"""Checking a package's governance offline: its events prove whether the version may serve a stage.

Every event must be in the log the checkpoint signs and concern this package's model, version and
artifact; a decision must carry its approver's signed statement; `--require-stage STAGE` needs a
promotion of this version to STAGE whose request has every approval the promotion counted,
valid and present, and the version must still hold STAGE at the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.excerpt import ExcerptCheck, verify_excerpt
from audit.export_format import keys_document, record_from_json
from console.auditing import catalogue as actions
from console.auditing.projection import KEY_ACTIONS
from console.packaging.governance import (
    DECISIONS,
    GOVERNANCE,
    GOVERNANCE_FORMAT,
    REQUEST_CLOSED,
    STAGE_CHANGES,
)
from console.release.approvals import DECISION_DOMAIN

# The stage changes after which the stage serves their version in full.
HOLDS = (actions.PROMOTION_EXECUTED, actions.CANARY_COMPLETED, actions.ROLLBACK_EXECUTED)


@dataclass
class GovernanceCheck:
    """What the package's governance proves, and every problem found on the way."""

    problems: list[str] = field(default_factory=list)
    excerpt: ExcerptCheck | None = None
    approvals: list[dict[str, object]] = field(default_factory=list)
    stages: list[dict[str, object]] = field(default_factory=list)
    required_stage: str | None = None  # the stage asked for, when it was proven

    def as_dict(self) -> dict[str, object]:
        excerpt = self.excerpt
        return {
            "checkpoint": None
            if excerpt is None
            else {
                "origin": excerpt.origin,
                "size": excerpt.size,
                "root": excerpt.root.hex(),
                "signer": excerpt.checkpoint_signer,
                "pinned": excerpt.pinned,
            },
            "approvals": self.approvals,
            "stages": self.stages,
            "required_stage": self.required_stage,
        }


def check_governance(
    raw: bytes,
    facts: Mapping[str, object],
    trusted: Sequence[Ed25519PublicKey] | None,
) -> GovernanceCheck:
    """Verify `governance.json` against the checkpoint and the package's model and artifact."""
    check = GovernanceCheck()
    try:
        document = json.loads(raw)
        assert isinstance(document, dict)
        records = [record_from_json(json.dumps(e)) for e in document["events"]]
        proofs = {
            int(e["seq"]): [bytes.fromhex(h) for h in e["inclusion"]] for e in document["events"]
        }
        note = str(document["checkpoint"])
        statements = {int(k): str(v) for k, v in dict(document.get("statements", {})).items()}
    except (AssertionError, ValueError, KeyError, TypeError, AttributeError):
        check.problems.append(f"{GOVERNANCE} is not a governance document")
        return check
    if document.get("format") != GOVERNANCE_FORMAT:
        check.problems.append(f"{GOVERNANCE} is not of format {GOVERNANCE_FORMAT}")
    ref = f"{facts.get('model')}:{facts.get('version')}"
    if (document.get("model"), document.get("version")) != (
        facts.get("model"),
        facts.get("version"),
    ):
        check.problems.append(f"{GOVERNANCE} is about another version than {ref}")
    excerpt = check.excerpt = verify_excerpt(records, proofs, note, trusted)
    check.problems.extend(f"{GOVERNANCE}: {p}" for p in excerpt.problems)
    if document.get("keys") != keys_document(excerpt.history):
        check.problems.append(f"{GOVERNANCE}: its keys are not the ones its key events register")
    _check_concerns(excerpt, facts, statements, check)
    return check


def _check_concerns(
    excerpt: ExcerptCheck,
    facts: Mapping[str, object],
    statements: Mapping[int, str],
    check: GovernanceCheck,
) -> None:
    model, version = facts.get("model"), facts.get("version")
    ref = f"{model}:{version}"
    requests: dict[int, dict[str, object]] = {}
    registered = False
    for seq, payload in sorted(excerpt.payloads.items()):
        action = excerpt.records[seq].action
        named = f"event {seq} ({action})"
        if action == actions.VERSION_REGISTERED or action == actions.PROMOTION_REQUESTED:
            evidence = payload.get("evidence")
            digest = (
                payload.get("artifact_sha256")
                if action == actions.VERSION_REGISTERED
                else evidence.get("artifact_sha256")
                if isinstance(evidence, dict)
                else None
            )
            if (payload.get("model"), payload.get("version")) != (model, version):
                check.problems.append(
                    f"{named} is about {payload.get('model')}:{payload.get('version')}, not {ref}"
                )
            elif digest != facts.get("artifact_sha256"):
                check.problems.append(f"{named} names another artifact than this package's")
            elif action == actions.VERSION_REGISTERED:
                registered = True
            else:
                requests[int(str(payload.get("request")))] = {**payload, "_seq": seq}
        elif action in REQUEST_CLOSED:
            request = requests.get(_int(payload.get("request")) or -1)
            if request is None:
                check.problems.append(
                    f"{named} decides request {payload.get('request')}, not a request for {ref} "
                    "in this package"
                )
            elif action in DECISIONS:
                _check_decision(excerpt, seq, request, statements.get(seq), check)
        elif action in STAGE_CHANGES:
            if payload.get("model") != model or version not in (
                payload.get("version"),
                payload.get("replaced_version"),
                payload.get("champion"),
            ):
                check.problems.append(f"{named} is not a stage change of {ref}")
            else:
                check.stages.append(_stage_entry(seq, action, payload))
        elif action not in KEY_ACTIONS:
            check.problems.append(f"{named} does not belong in a package's governance")
    if not registered and excerpt.ok:
        check.problems.append(f"{GOVERNANCE} lacks the registration of {ref}")


def _check_decision(
    excerpt: ExcerptCheck,
    seq: int,
    request: Mapping[str, object],
    statement: str | None,
    check: GovernanceCheck,
) -> None:
    record, payload = excerpt.records[seq], excerpt.payloads[seq]
    named = f"the decision of event {seq}"
    expected = {
        "request": payload.get("request"),
        "model": request.get("model"),
        "version": request.get("version"),
        "stage": request.get("stage"),
        "evidence_digest": request.get("evidence_digest"),
        "decision": payload.get("decision"),
        "approver": record.actor,
        "role": payload.get("role"),
    }
    body = statement.encode("utf-8") if statement is not None else b""
    try:
        signed = json.loads(body) if body else None
    except ValueError:
        signed = None
    if payload.get("evidence_digest") != request.get("evidence_digest"):
        check.problems.append(f"{named} is over other evidence than request {payload['request']}")
    elif hashlib.sha256(body).hexdigest() != payload.get("statement_sha256") or not isinstance(
        signed, dict
    ):
        check.problems.append(f"{named} lacks the statement its event signed")
    elif any(signed.get(k) != v for k, v in expected.items()):
        check.problems.append(f"{named} has a statement about something else")
    elif payload.get("role") != excerpt.roles.get(seq):
        check.problems.append(f"{named} claims role {payload.get('role')}, not the approver's")
    elif not _statement_signed(excerpt, record.keyid, body, str(payload.get("signature"))):
        check.problems.append(f"{named}: its statement's signature does not verify")
    else:
        check.approvals.append(
            {
                "seq": seq,
                "request": payload.get("request"),
                "stage": request.get("stage"),
                "approver": record.actor,
                "role": payload.get("role"),
                "decision": payload.get("decision"),
            }
        )


def _statement_signed(excerpt: ExcerptCheck, keyid: str, statement: bytes, signature: str) -> bool:
    key = excerpt.history.keys.get(keyid)
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key if key else b"").verify(
            bytes.fromhex(signature), DECISION_DOMAIN + statement
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _stage_entry(seq: int, action: str, payload: Mapping[str, object]) -> dict[str, object]:
    return {
        "seq": seq,
        "action": action,
        "stage": payload.get("stage"),
        "version": payload.get("version"),
        "replaced_version": payload.get("replaced_version"),
        "request": payload.get("request"),
        "approvers": payload.get("approvers"),
        "break_glass": payload.get("break_glass"),
    }


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def stage_problems(check: GovernanceCheck, facts: Mapping[str, object], stage: str) -> list[str]:
    """Why the governance does not show the version approved for and serving `stage`."""
    ref = f"{facts.get('model')}:{facts.get('version')}"
    excerpt = check.excerpt
    if excerpt is None:
        return [f"the package carries no {GOVERNANCE}: nothing shows {ref} was promoted to {stage}"]
    changes = [s for s in check.stages if s["stage"] == stage]
    promotions = [
        s
        for s in changes
        if s["version"] == facts.get("version")
        and s["action"] in (actions.PROMOTION_EXECUTED, actions.CANARY_COMPLETED)
    ]
    if not promotions:
        held = sorted(
            {str(s["stage"]) for s in check.stages if s["version"] == facts.get("version")}
        )
        shown = ", ".join(held) if held else "none"
        return [f"{ref} was never promoted to {stage} (stages in its history: {shown})"]
    problems: list[str] = []
    for promotion in promotions:
        problems = _quorum_problems(check, excerpt, promotion)
        if not problems:
            break
    holder, since = None, None
    for change in changes:
        if change["action"] in HOLDS:
            holder, since = change["version"], change["seq"]
    if holder != facts.get("version"):
        problems.append(
            f"{ref} no longer holds {stage} at the package's checkpoint "
            f"(version {holder} since event {since})"
        )
    if not problems:
        check.required_stage = stage
    return problems


def _quorum_problems(
    check: GovernanceCheck, excerpt: ExcerptCheck, promotion: Mapping[str, object]
) -> list[str]:
    """Every approval the promotion counted must be in the package, valid and independent."""
    seq, request = promotion["seq"], promotion["request"]
    where = f"the promotion of event {seq}"
    if request is None or promotion.get("break_glass"):
        return [f"{where} was made without a request's approvals"]
    asked = [
        s
        for s, p in excerpt.payloads.items()
        if excerpt.records[s].action == actions.PROMOTION_REQUESTED and p.get("request") == request
    ]
    if not asked or excerpt.payloads[asked[0]].get("stage") != promotion["stage"]:
        return [f"{where}: request {request} for {promotion['stage']} is not in the package"]
    requester = excerpt.records[asked[0]].actor
    authors = {r.actor for r in excerpt.records.values() if r.action == actions.VERSION_REGISTERED}
    counted = promotion.get("approvers")
    if promotion["action"] == actions.CANARY_COMPLETED:  # the canary's start counted them
        started = [
            s.get("approvers")
            for s in check.stages
            if s["action"] == actions.CANARY_STARTED and s["request"] == request
        ]
        counted = started[0] if started else None
    if not isinstance(counted, list) or not counted:
        return [f"{where}: no approval of request {request} is counted in the package"]
    valid = {
        a["approver"]
        for a in check.approvals
        if a["request"] == request
        and a["decision"] == "approve"
        and a["approver"] not in authors | {requester}
    }
    problems = [
        f"{where}: the approval of request {request} by {name} is missing or not valid"
        for name in counted
        if name not in valid
    ]
    problems += [
        f"{where}: request {request} was rejected by {a['approver']} (event {a['seq']})"
        for a in check.approvals
        if a["request"] == request and a["decision"] == "reject"
    ]
    return problems


def listed_but_not_carried(predicate: Mapping[str, object], check: GovernanceCheck) -> list[str]:
    """Approvals and stage changes the attestation lists that the governance does not prove."""
    proven = {(a["request"], a["approver"], a["decision"]) for a in check.approvals}
    seqs = {s["seq"] for s in check.stages}
    problems: list[str] = []
    approvals = predicate.get("approvals")
    for item in approvals if isinstance(approvals, list) else []:
        if isinstance(item, dict):
            key = (item.get("request"), item.get("approver"), item.get("decision"))
            if key not in proven:
                problems.append(
                    f"the attestation lists a decision by {item.get('approver')} on request "
                    f"{item.get('request')} that {GOVERNANCE} does not prove"
                )
    history = predicate.get("stage_history")
    for item in history if isinstance(history, list) else []:
        if isinstance(item, dict) and item.get("event_seq") not in seqs:
            problems.append(
                f"the attestation lists a stage change (event {item.get('event_seq')}) that "
                f"{GOVERNANCE} does not prove"
            )
    return problems
