"""Mutable state replayed from the first N events: the policy, models, card fields, packages,
request status, stage holders, the checkpoint in force, and every decision checked again."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.key_history import KeyHistory
from audit.keys import keyid as keyid_of
from audit.keys import load_public_pem, public_from_raw
from audit.merkle import root_from_leaf_hashes
from console.auditing.replay_entries import (
    CardValue,
    CheckpointEntry,
    DecisionEntry,
    Event,
    ModelEntry,
    PackageEntry,
    PolicyState,
    RequestEntry,
    RequestState,
    StageState,
)
from console.errors import BadInput
from console.release.approvals import DECISION_DOMAIN, ApprovalView
from console.release.policy import default_policy_text, parse_policy

if TYPE_CHECKING:
    from console.store.models import Checkpoint, PromotionRequest


def models_from(events: list[Event]) -> dict[str, ModelEntry]:
    from dataclasses import replace

    models: dict[str, ModelEntry] = {}
    for e in events:
        if e.action == "model.tier_changed":
            name = str(e.payload.get("model", e.subject))
            if name in models:
                models[name] = replace(models[name], risk_tier=str(e.payload.get("tier", "")))
            continue
        if e.action != "model.created":
            continue
        p = e.payload
        name = str(p.get("name", e.subject))
        models[name] = ModelEntry(
            name,
            str(p.get("owner", "")),
            str(p.get("description", "")),
            str(p.get("risk_tier", "")),
            str(p.get("intended_use", "")),
            e.ts,
            e.actor,
            e.seq,
        )
    return models


def policy_from(events: list[Event], store_text: str | None) -> PolicyState:
    """The last policy set before N (its text is in `policy.changed`), else the one the store
    was created with: its text is the store's policy or signoff's default, whichever has
    the digest `store.created` recorded."""
    for e in reversed(events):
        if e.action == "policy.changed" and isinstance(e.payload.get("text"), str):
            text = str(e.payload["text"])
            policy = parse_policy(text, f"policy.changed #{e.seq}")
            return PolicyState(policy, e.seq, e.actor, str(e.payload.get("sha256", "")))
    first = events[0]
    recorded = str(first.payload.get("policy_sha256", ""))
    candidates = [t for t in (store_text, default_policy_text()) if t is not None]
    for text in candidates:
        if hashlib.sha256(text.encode("utf-8")).hexdigest() == recorded:
            return PolicyState(
                parse_policy(text, "policy of store.created"), 0, first.actor, recorded
            )
    # Neither: the store predates this release's default and its file was replaced since.
    policy = parse_policy(default_policy_text(), "default policy")
    return PolicyState(policy, 0, first.actor, recorded, known=False)


def cards_from(events: list[Event]) -> dict[tuple[str, int], dict[str, CardValue]]:
    """Card fields as edited (`card.edited`), copied at registration (`card.inherited`) and
    confirmed (`card.confirmed`: the value stays, the row then names the confirming event)."""
    cards: dict[tuple[str, int], dict[str, CardValue]] = {}
    for e in events:
        if e.action not in _CARD_ACTIONS:
            continue
        key = (str(e.payload.get("model")), int(str(e.payload.get("version"))))
        fields = e.payload.get("fields")
        card = cards.setdefault(key, {})
        if not isinstance(fields, dict):
            continue
        source = e.payload.get("from_version")
        source = source if isinstance(source, int) else None
        for name, change in fields.items():
            if e.action == "card.confirmed":
                kept = card.get(str(name))
                if kept is not None:
                    card[str(name)] = CardValue(kept.value, e.ts, e.actor, e.seq, e.action, source)
                continue
            value = change if e.action == "card.inherited" else None
            if isinstance(change, dict):
                value = change.get("value")
            if isinstance(value, str) and value:
                card[str(name)] = CardValue(value, e.ts, e.actor, e.seq, e.action, source)
            else:
                card.pop(str(name), None)
    return cards


_CARD_ACTIONS = frozenset({"card.edited", "card.inherited", "card.confirmed"})


def packages_from(events: list[Event]) -> list[PackageEntry]:
    return [
        PackageEntry(
            str(e.payload.get("model")),
            int(str(e.payload.get("version"))),
            str(e.payload.get("sha256", "")),
            int(str(e.payload.get("size", 0))),
            str(e.payload.get("file_name", "")),
            str(e.payload.get("statement_sha256", "")),
            e.actor,
            e.ts,
            e.seq,
        )
        for e in events
        if e.action == "package.built"
    ]


_CLOSING = {
    "promotion.rejected": "rejected",
    "promotion.withdrawn": "withdrawn",
    "promotion.executed": "promoted",
    "canary.started": "canary",
    "canary.completed": "promoted",
    "canary.aborted": "aborted",
}

_REQUEST_ACTIONS = frozenset({"promotion.requested", *_CLOSING})


def _request_id(event: Event) -> int | None:
    value = event.payload.get("request")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if event.subject.startswith("request:") and event.subject[8:].isdigit():
        return int(event.subject[8:])
    return None


def request_states_from(events: list[Event]) -> dict[int, RequestState]:
    """Each request's status, from its own events and the stage changes that close it."""
    states: dict[int, RequestState] = {}
    subjects: dict[int, tuple[object, object, object]] = {}
    for e in events:
        # Only these actions carry a request (a payload is parsed on each read: ask few).
        number = _request_id(e) if e.action in _REQUEST_ACTIONS else None
        if e.action == "promotion.requested" and number is not None:
            states[number] = RequestState("open", None, None)
            p = e.payload
            subjects[number] = (p.get("model"), p.get("stage"), p.get("version"))
        elif e.action in _CLOSING and number is not None:
            status = _CLOSING[e.action]
            closed = status != "canary"
            states[number] = RequestState(
                status, e.ts if closed else None, e.actor if closed else None
            )
        elif e.action == "rollback.executed" and e.payload.get("aborted_canary") is not None:
            aborted = (e.payload.get("model"), e.payload.get("stage"), e.payload["aborted_canary"])
            for number, state in states.items():
                if state.status == "canary" and subjects.get(number) == aborted:
                    states[number] = RequestState("aborted", e.ts, e.actor)
    return states


def requests_from(
    rows: list[PromotionRequest], events: list[Event], now: str
) -> dict[int, RequestEntry]:
    states = request_states_from(events)
    status = {number: state.status for number, state in states.items()}
    gates: dict[int, list[dict[str, object]]] = {}
    for e in events:
        if e.action != "promotion.requested":
            continue
        number = _request_id(e)
        if number is not None:
            raw = e.payload.get("gates")
            gates[number] = [g for g in raw if isinstance(g, dict)] if isinstance(raw, list) else []
    found: dict[int, RequestEntry] = {}
    for row in rows:
        state = status.get(row.id, "open")
        if state == "open" and now > row.expires_at:
            state = "expired"
        found[row.id] = RequestEntry(
            row.id,
            row.model,
            row.version,
            row.stage,
            row.requester,
            row.comment,
            row.created_at,
            row.expires_at,
            state,
            row.evidence_digest,
            json.loads(row.canary_plan),
            gates.get(row.id, []),
            row.event_seq,
        )
    return found


_STAGE_ACTIONS = (
    "promotion.executed",
    "canary.started",
    "canary.step",
    "canary.completed",
    "canary.aborted",
    "rollback.executed",
    "stage.retired",
)


def stages_from(events: list[Event]) -> dict[tuple[str, str], StageState]:
    """Replay the stage changes: which version (and canary) each stage served at N."""
    state: dict[tuple[str, str], StageState] = {}
    for e in events:
        if e.action not in _STAGE_ACTIONS:
            continue
        model, stage = str(e.payload.get("model")), str(e.payload.get("stage"))
        version = e.payload.get("version")
        share = e.payload.get("canary_share")
        number = version if isinstance(version, int) else None
        percent = share if isinstance(share, int) else None
        now = state.get((model, stage), StageState(model, stage, None, None, None))
        if e.action in ("promotion.executed", "canary.completed", "rollback.executed"):
            now = StageState(model, stage, number, None, None, None, e.ts)
        elif e.action == "canary.started":
            now = StageState(model, stage, now.version, number, percent, 0, e.ts)
        elif e.action == "stage.retired":  # a retired version leaves; nothing serves
            now = StageState(model, stage, None, None, None, None, e.ts)
        elif e.action == "canary.step":
            step = (now.canary_step or 0) + 1
            now = StageState(model, stage, now.version, number, percent, step, e.ts)
        else:
            now = StageState(model, stage, now.version, None, None, None, e.ts)
        state[(model, stage)] = now
    return state


def checkpoint_from(
    rows: list[Checkpoint], events: list[Event], leaves: list[bytes], history: KeyHistory
) -> CheckpointEntry | None:
    """The newest checkpoint whose `audit.checkpoint` event is among the first N events."""
    # Here, not at the top: a signed write replays a model's events and needs neither the
    # checkpoint's reader nor the chain verifier it imports (with its process pool).
    from audit.checkpoint import read_checkpoint
    from audit.note import NoteError

    issued = {e.subject: e.seq for e in events if e.action == "audit.checkpoint"}
    candidates = [r for r in rows if f"checkpoint:{r.id}" in issued and r.size <= len(leaves)]
    if not candidates:
        return None
    row = max(candidates, key=lambda r: r.id)
    problem = ""
    try:
        _origin, size, root, _signer = read_checkpoint(row.note, history)
        signature_ok = True
    except (NoteError, ValueError) as exc:
        signature_ok, size, root = False, row.size, bytes.fromhex(row.root_hex)
        problem = str(exc)
    matches = size == row.size and root_from_leaf_hashes(leaves[:size]) == root
    if signature_ok and not matches:
        problem = f"the first {size} events of this log do not have the checkpoint's root"
    return CheckpointEntry(
        row.id,
        row.size,
        row.root_hex,
        row.note,
        row.issued_at,
        row.issued_by,
        issued[f"checkpoint:{row.id}"],
        signature_ok,
        matches,
        problem,
    )


def public_key_for(
    keyid: str, history: KeyHistory, pems: dict[str, str]
) -> Ed25519PublicKey | None:
    """The key the log registered under `keyid`; else the store's copy, if it hashes to it."""
    known = history.keys.get(keyid)
    if known is not None:
        return public_from_raw(known.public_key)
    pem = pems.get(keyid)
    if pem is None:
        return None
    try:
        key = load_public_pem(pem.encode(), f"key {keyid[:16]}")
    except BadInput:
        return None
    return key if keyid_of(key) == keyid else None


def decisions_from(
    approvals: list[ApprovalView],
    events: list[Event],
    requests: dict[int, RequestEntry],
    history: KeyHistory,
    pems: dict[str, str],
) -> list[DecisionEntry]:
    by_seq = {e.seq: e for e in events}
    found: list[DecisionEntry] = []
    for approval in approvals:
        request = requests.get(approval.request_id)
        key = public_key_for(approval.keyid, history, pems)
        valid = False
        if key is not None:
            try:
                key.verify(approval.signature, DECISION_DOMAIN + approval.statement)
                valid = True
            except InvalidSignature:
                valid = False
        state = history.keys.get(approval.keyid)
        valid_then = state is not None and (
            state.user == approval.approver
            and state.valid_from <= approval.event_seq
            and (state.revoked_at is None or state.revoked_at >= approval.event_seq)
        )
        event = by_seq.get(approval.event_seq)
        matches = (
            event is not None
            and event.payload.get("statement_sha256")
            == hashlib.sha256(approval.statement).hexdigest()
            and event.payload.get("signature") == approval.signature.hex()
            and event.actor == approval.approver
        )
        problems = []
        if key is None:
            problems.append("the signing key is not registered in the log")
        elif not valid:
            problems.append("the signature does not verify")
        if key is not None and not valid_then:
            problems.append("the key was not the approver's valid key at the time")
        if not matches:
            problems.append("the statement differs from the signed log event")
        found.append(
            DecisionEntry(
                approval,
                request.model if request else "",
                request.version if request else 0,
                request.stage if request else "",
                valid,
                key is not None,
                valid_then,
                matches,
                "; ".join(problems),
            )
        )
    return found
