"""The store as it stood when the audit log held N events, for reports that can be remade.

A report states the log size N it was made at. Everything it prints comes from here, and
everything here comes from state at N: rows that carry an `event_seq` below N (validation
runs, approvals, deployments, requests, versions through their registration events), and
mutable state replayed from the first N events (request status, card fields, stage holders,
users' keys, the policy, packages). Nothing reads the clock; the report's time is the
timestamp of event N-1. So `as_of=N` gives the same snapshot, and the same PDF, for ever.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, select

from audit.chain import KeyHistory, verify_records
from audit.checkpoint import read_checkpoint
from audit.entry import EventRecord
from audit.keys import keyid as keyid_of
from audit.keys import load_public_pem, public_from_raw
from audit.log import iter_records, log_size
from audit.merkle import root_from_leaf_hashes
from audit.note import NoteError, format_checkpoint
from console.errors import BadInput, NotFound
from console.evidence import (
    ApprovalView,
    CheckView,
    DeploymentView,
    ValidationView,
    approvals_for,
)
from console.policy import Policy, default_policy_text, parse_policy
from console.store.db import Store
from console.store.models import (
    Checkpoint,
    Dataset,
    Deployment,
    ModelVersion,
    PromotionRequest,
    StoreInfo,
    UserKey,
    ValidationCheck,
    ValidationRun,
)
from console.workflow import DECISION_DOMAIN

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Event:
    seq: int
    ts: str
    actor: str
    keyid: str
    action: str
    subject: str
    model: str | None
    payload: dict[str, object]


@dataclass(frozen=True)
class ModelEntry:
    """A model as the log registered it (`model.created`)."""

    name: str
    owner: str
    description: str
    risk_tier: str
    intended_use: str
    created_at: str
    created_by: str
    event_seq: int


@dataclass(frozen=True)
class VersionEntry:
    model: str
    number: int
    artifact_sha256: str
    artifact_format: str
    trusted_pickle: bool
    trusted_types: list[str]
    estimator_class: str
    task_type: str
    target: str
    features: list[str]
    train_dataset_sha256: str
    parent: int | None
    code_ref: str | None
    author: str
    created_at: str
    description: str
    event_seq: int


@dataclass(frozen=True)
class DatasetEntry:
    sha256: str
    name: str
    format: str
    row_count: int
    column_count: int
    registered_at: str
    registered_by: str
    profile_sha256: str
    event_seq: int | None


@dataclass(frozen=True)
class RequestEntry:
    id: int
    model: str
    version: int
    stage: str
    requester: str
    comment: str
    created_at: str
    expires_at: str
    status: str  # at N: open, canary, promoted, rejected, withdrawn, aborted, expired
    evidence_digest: str
    canary_plan: list[int]
    gates: list[dict[str, object]]  # as evaluated when the request was opened
    event_seq: int


@dataclass(frozen=True)
class DecisionEntry:
    """A signed decision and what checking it now says."""

    approval: ApprovalView
    model: str
    version: int
    stage: str
    signature_valid: bool
    key_known: bool
    key_valid_then: bool
    matches_event: bool
    problem: str

    @property
    def sound(self) -> bool:
        return self.signature_valid and self.key_valid_then and self.matches_event


@dataclass(frozen=True)
class StageState:
    model: str
    stage: str
    version: int | None
    canary_version: int | None
    canary_share: int | None


@dataclass(frozen=True)
class PackageEntry:
    model: str
    version: int
    sha256: str
    size: int
    file_name: str
    statement_sha256: str
    actor: str
    ts: str
    event_seq: int


@dataclass(frozen=True)
class CardValue:
    value: str
    updated_at: str
    updated_by: str
    event_seq: int


@dataclass(frozen=True)
class CheckpointEntry:
    id: int
    size: int
    root_hex: str
    note: str
    issued_at: str
    issued_by: str
    event_seq: int
    signature_ok: bool
    matches_log: bool
    problem: str


@dataclass(frozen=True)
class PolicyState:
    policy: Policy
    set_by_seq: int  # 0: the default policy of `store.created`
    set_by: str
    recorded_digest: str  # the digest the log recorded for it

    @property
    def digest(self) -> str:
        return self.policy.digest


@dataclass(frozen=True)
class KeyEntry:
    keyid: str
    user: str
    role: str
    valid_from: int
    revoked_at: int | None


@dataclass
class Snapshot:
    """Everything a report may say, as of log size N."""

    size: int
    as_of_ts: str
    origin: str
    verified: bool
    first_bad_seq: int | None
    failure: str | None
    signatures_checked: int
    root_hex: str
    checkpoint_body: str
    checkpoint: CheckpointEntry | None
    events: list[Event]
    policy: PolicyState
    models: dict[str, ModelEntry]
    versions: dict[tuple[str, int], VersionEntry]
    datasets: dict[str, DatasetEntry]
    runs: list[ValidationView]
    requests: dict[int, RequestEntry]
    decisions: list[DecisionEntry]
    deployments: list[DeploymentView]
    stages: dict[tuple[str, str], StageState]
    packages: list[PackageEntry]
    cards: dict[tuple[str, int], dict[str, CardValue]]
    keys: list[KeyEntry]
    users: dict[str, str]  # name -> role at N
    since: str | None = None
    _by_model: dict[str, list[Event]] = field(default_factory=dict)

    def model_events(self, model: str) -> list[Event]:
        if not self._by_model:
            for event in self.events:
                if event.model:
                    self._by_model.setdefault(event.model, []).append(event)
        return self._by_model.get(model, [])

    def model_versions(self, model: str) -> list[VersionEntry]:
        return sorted(
            (v for (m, _), v in self.versions.items() if m == model), key=lambda v: v.number
        )

    def runs_of(self, model: str, version: int) -> list[ValidationView]:
        return [r for r in self.runs if r.model == model and r.version == version]

    def latest_run(self, model: str, version: int) -> ValidationView | None:
        runs = self.runs_of(model, version)
        return runs[-1] if runs else None

    def stages_of(self, model: str) -> list[StageState]:
        order = {name: i for i, name in enumerate(self.policy.policy.stage_names)}
        found = [s for (m, _), s in self.stages.items() if m == model]
        return sorted(found, key=lambda s: (order.get(s.stage, len(order)), s.stage))

    def held_by(self, model: str, version: int) -> list[str]:
        held = []
        for state in self.stages_of(model):
            if state.version == version:
                held.append(state.stage)
            if state.canary_version == version:
                held.append(f"{state.stage} (canary {state.canary_share}%)")
        return held

    def in_period(self, ts: str) -> bool:
        return self.since is None or ts >= self.since


def parse_since(value: str | None) -> str | None:
    """`--since DATE` as the ISO prefix timestamps compare against; BadInput when malformed."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise BadInput(f"--since {value!r} is not a date; use YYYY-MM-DD") from None


def _silent(_label: str, _fraction: float) -> None:
    return None


def take_snapshot(
    store: Store,
    *,
    as_of: int | None,
    since: str | None = None,
    progress: Progress | None = None,
) -> Snapshot:
    """Read the store at log size `as_of` (default: now) and verify the first N events."""
    step = progress or _silent
    step("reading the audit log", 0.0)
    with store.session() as session:
        total = log_size(session)
        if total == 0:
            raise BadInput("the audit log is empty; nothing to report")
        if as_of is not None and not 1 <= as_of <= total:
            raise BadInput(f"--as-of {as_of} is outside the log, which holds 1..{total} events")
        size = total if as_of is None else as_of
        records = list(iter_records(session, upto=size))
        rows = _read_rows(session, size)
    step("verifying the audit log", 0.15)
    result = verify_records(
        records,
        expected_total=size,
        progress=lambda done: step("verifying the audit log", 0.15 + 0.2 * done / size),
    )
    events = [_event(r) for r in records]
    history = KeyHistory()
    for event in events:
        history.apply(event.seq, event.actor, event.action, event.payload)
    leaves = [bytes.fromhex(r.entry_hash) for r in records]
    root = root_from_leaf_hashes(leaves)
    origin = rows.origin or (history.origin or "signoff")
    first = result.first
    step("reading the evidence", 0.4)
    snapshot = Snapshot(
        size=size,
        as_of_ts=records[-1].ts,
        origin=origin,
        verified=result.ok,
        first_bad_seq=first.seq if first else None,
        failure=first.reason if first else None,
        signatures_checked=result.size,
        root_hex=root.hex(),
        checkpoint_body=format_checkpoint(origin, size, root),
        checkpoint=_checkpoint(rows.checkpoints, events, leaves, history),
        events=events,
        policy=_policy(events),
        models=_models(events),
        versions={},
        datasets={},
        runs=[],
        requests={},
        decisions=[],
        deployments=[],
        stages={},
        packages=_packages(events),
        cards=_cards(events),
        keys=[
            KeyEntry(k.keyid, k.user, history.role_of(k.user) or "", k.valid_from, k.revoked_at)
            for k in history.keys.values()
        ],
        users={name: user.role for name, user in history.users.items()},
        since=since,
    )
    registered = {
        (str(e.payload.get("model")), int(str(e.payload.get("version")))): e.seq
        for e in events
        if e.action == "version.registered"
    }
    snapshot.versions = {
        (v.model, v.number): _version(v, registered[(v.model, v.number)])
        for v in rows.versions
        if (v.model, v.number) in registered
    }
    dataset_events = {
        str(e.payload.get("sha256")): e for e in events if e.action == "dataset.registered"
    }
    snapshot.datasets = {
        d.sha256: _dataset(d, dataset_events.get(d.sha256))
        for d in rows.datasets
        if d.sha256 in dataset_events
    }
    snapshot.runs = rows.runs
    snapshot.requests = _requests(rows.requests, events, snapshot.as_of_ts)
    snapshot.deployments = rows.deployments
    snapshot.stages = _stages(events)
    snapshot.decisions = _decisions(rows.approvals, snapshot, history, rows.pems)
    step("evidence read", 0.45)
    return snapshot


def _event(record: EventRecord) -> Event:
    try:
        payload = json.loads(record.payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        payload = {}
    return Event(
        record.seq,
        record.ts,
        record.actor,
        record.keyid,
        record.action,
        record.subject,
        record.model,
        payload if isinstance(payload, dict) else {},
    )


@dataclass
class _Rows:
    origin: str | None
    checkpoints: list[Checkpoint]
    versions: list[ModelVersion]
    datasets: list[Dataset]
    runs: list[ValidationView]
    requests: list[PromotionRequest]
    approvals: list[ApprovalView]
    deployments: list[DeploymentView]
    pems: dict[str, str]


def _read_rows(session: Session, size: int) -> _Rows:
    """The immutable rows recorded by the first `size` events, in one read snapshot."""
    origin = session.get(StoreInfo, "origin")
    checkpoints = list(session.exec(select(Checkpoint).order_by(col(Checkpoint.id))).all())
    versions = list(session.exec(select(ModelVersion)).all())
    datasets = list(session.exec(select(Dataset)).all())
    runs = [
        _run_view(session, run)
        for run in session.exec(
            select(ValidationRun)
            .where(col(ValidationRun.event_seq) < size)
            .order_by(col(ValidationRun.id))
        ).all()
    ]
    requests = list(
        session.exec(
            select(PromotionRequest)
            .where(col(PromotionRequest.event_seq) < size)
            .order_by(col(PromotionRequest.id))
        ).all()
    )
    approvals = [a for r in requests for a in approvals_for(session, r.id) if a.event_seq < size]
    deployments = [
        DeploymentView(
            d.id,
            d.model,
            d.stage,
            d.kind,
            d.version,
            d.replaced_version,
            d.request_id,
            d.actor,
            d.occurred_at,
            d.break_glass,
            d.reason,
            d.event_seq,
        )
        for d in session.exec(
            select(Deployment).where(col(Deployment.event_seq) < size).order_by(col(Deployment.id))
        ).all()
    ]
    pems = {k.keyid: k.public_key_pem for k in session.exec(select(UserKey)).all()}
    for row in [*checkpoints, *versions, *datasets, *requests]:
        session.expunge(row)
    return _Rows(
        origin.value if origin else None,
        checkpoints,
        versions,
        datasets,
        runs,
        requests,
        approvals,
        deployments,
        pems,
    )


def _run_view(session: Session, run: ValidationRun) -> ValidationView:
    checks = session.exec(
        select(ValidationCheck)
        .where(ValidationCheck.run_id == run.id)
        .order_by(col(ValidationCheck.category), col(ValidationCheck.name))
    ).all()
    return ValidationView(
        id=run.id,
        model=run.model,
        version=run.version,
        dataset_sha256=run.dataset_sha256,
        dataset_name=run.dataset_name,
        target=run.target,
        sensitive=run.sensitive,
        stage=run.stage,
        status=run.status,
        passed=run.passed,
        report_sha256=run.report_sha256,
        started_at=run.started_at,
        finished_at=run.finished_at,
        actor=run.actor,
        summary=json.loads(run.summary),
        event_seq=run.event_seq,
        checks=[
            CheckView(c.name, c.category, c.status, c.value, c.threshold, json.loads(c.detail))
            for c in checks
        ],
    )


def _models(events: list[Event]) -> dict[str, ModelEntry]:
    models: dict[str, ModelEntry] = {}
    for e in events:
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


def _version(row: ModelVersion, seq: int) -> VersionEntry:
    return VersionEntry(
        model=row.model,
        number=row.number,
        artifact_sha256=row.artifact_sha256,
        artifact_format=row.artifact_format,
        trusted_pickle=row.trusted_pickle,
        trusted_types=json.loads(row.trusted_types),
        estimator_class=row.estimator_class,
        task_type=row.task_type,
        target=row.target,
        features=[str(c["name"]) for c in json.loads(row.input_schema)],
        train_dataset_sha256=row.train_dataset_sha256,
        parent=row.parent_number,
        code_ref=row.code_ref,
        author=row.author,
        created_at=row.created_at,
        description=row.description,
        event_seq=seq,
    )


def _dataset(row: Dataset, event: Event | None) -> DatasetEntry:
    return DatasetEntry(
        row.sha256,
        row.name,
        row.format,
        row.row_count,
        row.column_count,
        row.registered_at,
        row.registered_by,
        str(event.payload.get("profile_sha256", "")) if event else "",
        event.seq if event else None,
    )


def _policy(events: list[Event]) -> PolicyState:
    """The last policy set before N (its text is in `policy.changed`), else the default."""
    for e in reversed(events):
        if e.action == "policy.changed" and isinstance(e.payload.get("text"), str):
            text = str(e.payload["text"])
            policy = parse_policy(text, f"policy.changed #{e.seq}")
            return PolicyState(policy, e.seq, e.actor, str(e.payload.get("sha256", "")))
    first = events[0]
    policy = parse_policy(default_policy_text(), "default policy")
    return PolicyState(policy, 0, first.actor, str(first.payload.get("policy_sha256", "")))


def _cards(events: list[Event]) -> dict[tuple[str, int], dict[str, CardValue]]:
    cards: dict[tuple[str, int], dict[str, CardValue]] = {}
    for e in events:
        if e.action != "card.edited":
            continue
        key = (str(e.payload.get("model")), int(str(e.payload.get("version"))))
        fields = e.payload.get("fields")
        card = cards.setdefault(key, {})
        if not isinstance(fields, dict):
            continue
        for name, change in fields.items():
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, str) and value:
                card[str(name)] = CardValue(value, e.ts, e.actor, e.seq)
            else:
                card.pop(str(name), None)
    return cards


def _packages(events: list[Event]) -> list[PackageEntry]:
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


def _request_id(event: Event) -> int | None:
    value = event.payload.get("request")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if event.subject.startswith("request:") and event.subject[8:].isdigit():
        return int(event.subject[8:])
    return None


def _requests(
    rows: list[PromotionRequest], events: list[Event], now: str
) -> dict[int, RequestEntry]:
    status: dict[int, str] = {}
    gates: dict[int, list[dict[str, object]]] = {}
    for e in events:
        number = _request_id(e)
        if e.action == "promotion.requested" and number is not None:
            status[number] = "open"
            raw = e.payload.get("gates")
            gates[number] = [g for g in raw if isinstance(g, dict)] if isinstance(raw, list) else []
        elif e.action in _CLOSING and number is not None:
            status[number] = _CLOSING[e.action]
        elif e.action == "rollback.executed" and e.payload.get("aborted_canary") is not None:
            for row in rows:
                if (
                    status.get(row.id) == "canary"
                    and row.model == e.payload.get("model")
                    and row.stage == e.payload.get("stage")
                    and row.version == e.payload.get("aborted_canary")
                ):
                    status[row.id] = "aborted"
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
)


def _stages(events: list[Event]) -> dict[tuple[str, str], StageState]:
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
            now = StageState(model, stage, number, None, None)
        elif e.action in ("canary.started", "canary.step"):
            now = StageState(model, stage, now.version, number, percent)
        else:
            now = StageState(model, stage, now.version, None, None)
        state[(model, stage)] = now
    return state


def _checkpoint(
    rows: list[Checkpoint], events: list[Event], leaves: list[bytes], history: KeyHistory
) -> CheckpointEntry | None:
    """The newest checkpoint whose `audit.checkpoint` event is among the first N events."""
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


def _public_key(keyid: str, history: KeyHistory, pems: dict[str, str]) -> Ed25519PublicKey | None:
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


def _decisions(
    approvals: list[ApprovalView],
    snapshot: Snapshot,
    history: KeyHistory,
    pems: dict[str, str],
) -> list[DecisionEntry]:
    by_seq = {e.seq: e for e in snapshot.events}
    found: list[DecisionEntry] = []
    for approval in approvals:
        request = snapshot.requests.get(approval.request_id)
        key = _public_key(approval.keyid, history, pems)
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


def check_model(snapshot: Snapshot, model: str, version: int | None) -> int:
    """The version a model report covers: the one asked for, else the one serving the last stage."""
    if model not in snapshot.models:
        raise NotFound(
            f"no model {model!r} in this store at log size {snapshot.size}; see `signoff models`"
        )
    versions = snapshot.model_versions(model)
    if version is not None:
        if (model, version) not in snapshot.versions:
            numbers = ", ".join(str(v.number) for v in versions) or "none"
            raise NotFound(
                f"model {model!r} has no version {version} at log size {snapshot.size} "
                f"(versions: {numbers})"
            )
        return version
    for state in reversed(snapshot.stages_of(model)):
        if state.version is not None:
            return state.version
    if not versions:
        raise NotFound(f"model {model!r} has no version at log size {snapshot.size}")
    return versions[-1].number


__all__ = ["Snapshot", "check_model", "parse_since", "take_snapshot"]
