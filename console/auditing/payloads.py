"""The payload of each audit action, typed, so that writers and readers agree on its keys.

Monitoring's actions are typed in `console/auditing/monitoring_payloads.py`.

Values are what the canonical JSON holds: a version is an int, a digest a hex string, a time an
ISO 8601 string. A leaf module (standard library only): any layer may read it.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

# Identity and the store


class FirstAdmin(TypedDict):
    name: str
    role: str
    public_key: str  # raw Ed25519 public key, hex


class StoreCreated(TypedDict):
    store_id: str
    origin: str  # the checkpoint origin, signoff/<store id>
    demo: bool
    policy_sha256: str
    admin: FirstAdmin


class _UserAddedKeys(TypedDict):
    name: str
    role: str
    public_key: str
    keyid: str


class UserAdded(_UserAddedKeys, total=False):
    # Which identity of this name: 1, then 2, 3, … for a revoked name registered again
    # (absent in logs written before it was recorded).
    generation: int


class UserRevoked(TypedDict):
    name: str


class UserRoleChanged(TypedDict):
    name: str
    role: str
    previous_role: str
    reason: str


class KeyRotated(TypedDict):
    name: str
    old_keyid: str
    keyid: str
    public_key: str
    endorsed_by: str  # "self" or "admin"


class ReleaseKeyRegistered(TypedDict):
    name: str  # the user whose release key it is
    keyid: str  # sha256 of the SubjectPublicKeyInfo PEM (the OMS bundle's key hint)
    public_key: str  # ECDSA P-256 public key, SubjectPublicKeyInfo PEM
    retired_keyid: str | None  # the user's release key this one replaces


class PolicyChanged(TypedDict):
    sha256: str
    previous_sha256: str
    stages: list[str]
    text: str  # the whole new policy.toml


# Registry


class ModelCreated(TypedDict):
    name: str
    owner: str
    description: str
    risk_tier: str
    intended_use: str


class ModelTierChanged(TypedDict):
    model: str
    tier: str
    previous_tier: str
    reason: str


class DatasetRegistered(TypedDict):
    sha256: str
    name: str
    rows: int
    profile_sha256: str


class _VersionRegisteredKeys(TypedDict):
    model: str
    version: int
    artifact_sha256: str
    artifact_format: (
        str  # "skops", "pickle", "xgboost-json", "xgboost-ubj", "lightgbm-text", "onnx"
    )
    trusted_pickle: bool
    trusted_types: list[str]
    framework: NotRequired[str]  # "scikit-learn", "xgboost", ...; absent before schema v5
    framework_version: NotRequired[str | None]  # the library's version at registration
    estimator_class: str
    task_type: str
    train_dataset_sha256: str
    target: str
    params_sha256: str
    metrics: dict[str, float | None]
    parent: int | None
    code_ref: str | None  # git commit of --code-dir, "+dirty" when it had changes
    tags: dict[str, str]


class VersionRegistered(_VersionRegisteredKeys, total=False):
    # The version already holding this artifact, registered again with --allow-duplicate;
    # null otherwise (absent in logs written before it was recorded).
    duplicate_of: int | None


class CardFieldChange(TypedDict):
    value: str  # empty when the field was cleared
    sha256: str
    previous_sha256: str | None


class CardEdited(TypedDict):
    model: str
    version: int
    fields: dict[str, CardFieldChange]


class CardInherited(TypedDict):
    model: str
    version: int  # the new version, whose card starts from `from_version`'s
    from_version: int  # its parent, or else the version registered before it
    fields: dict[str, str]  # each human-written field copied, with its value


class EvidenceCheckChange(TypedDict):
    check: str  # a validation check's name
    before: str  # its status in the source version's latest results, or "not run"
    after: str  # its status in the confirmed version's latest run, or "not run"


class ConfirmedEvidence(TypedDict):
    source_run: int | None  # the source version's newest validation run, null when none
    own_run: int | None  # the confirmed version's latest run, null when none
    changes: list[EvidenceCheckChange]  # the checks whose outcome differs
    acknowledged: bool  # the author confirmed knowing that `changes` is not empty


class CardConfirmed(TypedDict):
    model: str
    version: int
    from_version: int  # the version the confirmed fields were inherited from
    fields: dict[str, str]  # each inherited field the author confirmed, with its value's sha256
    # The evidence the author was shown (absent in logs written before it was recorded).
    evidence: NotRequired[ConfirmedEvidence]


class ValidationCompleted(TypedDict):
    run_id: int
    model: str
    version: int
    artifact_sha256: str
    dataset_sha256: str
    dataset_name: str
    rows: int
    target: str
    sensitive: str | None
    stage: str | None
    champion_version: int | None
    policy_sha256: str
    report_sha256: str
    status: str
    passed: bool
    counts: dict[str, int]  # number of checks per status: pass, warn, fail, info
    failed: list[str]  # names of the failed checks
    checks: dict[str, str]  # each check's status, so the log proves what the run's rows say


class PackageBuilt(TypedDict):
    model: str
    version: int
    sha256: str
    size: int
    file_name: str
    members: dict[str, str]  # member name -> sha256
    statement_sha256: str


# Promotion


class Evidence(TypedDict):
    model: str
    version: int
    artifact_sha256: str
    validation_report_sha256: str | None
    validation_run: int | None
    policy_sha256: str
    stage: str
    canary_plan: list[int]


class Gate(TypedDict):
    name: str
    passed: bool
    detail: str


class PromotionRequested(TypedDict):
    request: int
    model: str
    version: int
    stage: str
    comment: str
    evidence: Evidence
    evidence_digest: str
    canary_plan: list[int]
    expires_at: str
    gates: list[Gate]


class PromotionDecided(TypedDict):
    request: int
    decision: str  # "approve" or "reject"
    evidence_digest: str
    comment: str
    role: str
    statement_sha256: str
    signature: str  # Ed25519 over the decision statement, hex


class PromotionWithdrawn(TypedDict):
    request: int
    reason: str


class StageChanged(TypedDict):
    model: str
    stage: str
    version: int
    replaced_version: int | None
    request: int | None
    break_glass: bool
    reason: str


class PromotionExecuted(StageChanged):
    canary_share: int | None
    approvers: list[str]


class CanaryComparison(TypedDict):
    """What `monitor compare` said when the step was taken (console.release.canary)."""

    recommendation: str  # step | wait | abort
    metric: str | None
    reason: str
    difference: float | None
    ci95: list[float] | None
    champion_rows: int
    canary_rows: int


class CanaryStepped(StageChanged):
    canary_share: int
    comparison: NotRequired[CanaryComparison]  # absent before steps were held to the comparison


class CanaryAborted(StageChanged):
    champion: int | None


class RollbackExecuted(StageChanged):
    aborted_canary: int | None


# Audit and reports


class StageRetired(StageChanged):
    pass  # version and replaced_version: the retired version the stage stops serving


class VersionRetired(TypedDict):
    model: str
    version: int
    reason: str
    stages: list[str]  # the stages it stopped serving, each its own stage.retired event


class ModelRetired(TypedDict):
    model: str
    versions: list[int]  # the versions not retired before
    reason: str
    stages: list[str]


class CheckpointSigned(TypedDict):
    size: int
    root: str  # Merkle root, hex
    origin: str


class ReportGenerated(TypedDict):
    model: str | None  # None for a registry-wide report
    version: int | None
    framework: str | None
    since: str | None
    log_size: int
    sha256: str
    pages: int
    bytes: int


class SettingChanged(TypedDict):
    key: str  # one of reports.document_control.SETTINGS
    value: str  # empty: cleared
    previous: str
