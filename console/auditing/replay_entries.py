"""What a replay of the log yields: plain frozen records of the store at log size N."""

from __future__ import annotations

import json
from dataclasses import dataclass

from audit.entry import EventRecord
from console.release.approvals import ApprovalView
from console.release.policy import Policy


@dataclass(frozen=True, slots=True)  # a long log's report holds every event
class Event:
    """An event as replays read it. Its payload is kept as the stored JSON text and parsed on
    each read of `payload`: a long log's report holds every event, and few payloads are read."""

    seq: int
    ts: str
    actor: str
    keyid: str
    action: str
    subject: str
    model: str | None
    body: bytes | dict[str, object]  # the stored JSON text, or a payload already parsed

    @property
    def payload(self) -> dict[str, object]:
        """The payload as a dict (empty when the text is not a JSON object)."""
        body = self.body
        if isinstance(body, dict):
            return body
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}
        return parsed if isinstance(parsed, dict) else {}


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
    canary_step: int | None = None  # index in the request's canary plan
    updated_at: str = ""  # the time of the last stage change


@dataclass(frozen=True)
class RequestState:
    """A request's status as its events left it (expiry is read-time, not an event)."""

    status: str
    closed_at: str | None
    closed_by: str | None


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
    action: str = "card.edited"  # or card.inherited (not confirmed yet), card.confirmed
    from_version: int | None = None  # the version an inherited or confirmed value came from

    def origin(self) -> str:
        """How the value came to be on this card, for a report or a checklist."""
        if self.action == "card.inherited":
            return f"inherited from v{self.from_version}, not confirmed"
        if self.action == "card.confirmed":
            return f"inherited from v{self.from_version}, confirmed by {self.updated_by}"
        return f"by {self.updated_by}"


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
    known: bool = True  # False: that text is lost; `policy` is this release's default

    @property
    def note(self) -> str:
        if self.known:
            return ""
        return (
            f"the text of the policy in force (sha256 {self.recorded_digest[:16]}…) is no "
            "longer available; rules shown are this signoff release's default policy"
        )

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


def to_event(record: EventRecord) -> Event:
    return Event(
        record.seq,
        record.ts,
        record.actor,
        record.keyid,
        record.action,
        record.subject,
        record.model,
        record.payload,
    )
