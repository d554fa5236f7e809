"""Table models of the metadata store; portable SQL so a PostgreSQL URL works later."""

from __future__ import annotations

from sqlalchemy import Column, Double, LargeBinary
from sqlmodel import Field, SQLModel

# Integer keys are assigned by the services (max + 1 inside the writing transaction):
# DuckDB has no SERIAL, and explicit values stay portable to PostgreSQL.
_NO_AUTOINCREMENT = {"autoincrement": False}


class SchemaVersion(SQLModel, table=True):
    """One row per applied migration; the highest is the store's schema version."""

    __tablename__ = "schema_version"
    version: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    applied_at: str


class StoreInfo(SQLModel, table=True):
    """Facts about the store itself (its id, log origin, whether it is a demo)."""

    __tablename__ = "store_info"
    key: str = Field(primary_key=True)
    value: str


class User(SQLModel, table=True):
    """A person who may act on the store, with one role."""

    __tablename__ = "users"
    name: str = Field(primary_key=True)
    role: str
    active: bool = True
    added_seq: int
    revoked_seq: int | None = None


class UserKey(SQLModel, table=True):
    """A public key of a user, valid for events after `valid_from_seq` until revoked."""

    __tablename__ = "user_keys"
    keyid: str = Field(primary_key=True)
    user: str = Field(index=True)
    public_key_pem: str
    valid_from_seq: int
    revoked_at_seq: int | None = None


class ReleaseKey(SQLModel, table=True):
    """A user's ECDSA P-256 release key (schema v6), signing packages' OMS signatures."""

    __tablename__ = "release_keys"
    keyid: str = Field(primary_key=True)
    user: str = Field(index=True)
    public_key_pem: str
    registered_seq: int
    registered_by: str
    retired_seq: int | None = None


class RegisteredModel(SQLModel, table=True):
    """A named line of versions (`credit-risk`)."""

    __tablename__ = "models"
    name: str = Field(primary_key=True)
    owner: str
    description: str = ""
    risk_tier: str = "medium"
    intended_use: str = ""
    created_at: str
    created_by: str


class ModelVersion(SQLModel, table=True):
    """An immutable version of a model: its artifact, data, parameters and lineage."""

    __tablename__ = "model_versions"
    model: str = Field(primary_key=True)
    number: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    artifact_sha256: str
    artifact_format: (
        str  # "skops", "pickle", "xgboost-json", "xgboost-ubj", "lightgbm-text", "onnx"
    )
    trusted_pickle: bool = False
    trusted_types: str = "[]"  # canonical JSON list of skops types trusted at registration
    framework: str
    estimator_class: str
    task_type: str  # "classification" or "regression"
    input_schema: str  # canonical JSON: [{"name", "dtype"}]
    params: str  # canonical JSON of get_params(deep=False), stringified where needed
    metrics: str  # canonical JSON of training metrics
    train_dataset_sha256: str
    target: str
    parent_number: int | None = None
    code_ref: str | None = None
    author: str
    created_at: str
    tags: str = "{}"  # canonical JSON object
    description: str = ""
    framework_version: str | None = None  # the library's version at registration (schema v5)


class Dataset(SQLModel, table=True):
    """A dataset registered by digest, with the profile later drift checks compare against."""

    __tablename__ = "datasets"
    sha256: str = Field(primary_key=True)
    name: str
    format: str
    row_count: int
    column_count: int
    profile: str  # canonical JSON
    registered_at: str
    registered_by: str


class StageAssignment(SQLModel, table=True):
    """Which version a stage of a model points to, and its canary if one runs."""

    __tablename__ = "stages"
    model: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    version: int | None = None
    canary_version: int | None = None
    canary_share: int | None = None
    canary_step: int | None = None
    updated_at: str


class Deployment(SQLModel, table=True):
    """A stage change (promotion, canary step, rollback) with the version it replaced."""

    __tablename__ = "deployments"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    stage: str
    kind: str
    version: int
    replaced_version: int | None = None
    request_id: int | None = None
    actor: str
    occurred_at: str
    break_glass: bool = False
    reason: str = ""
    event_seq: int


class AuditEvent(SQLModel, table=True):
    """One entry of the append-only, hash-chained, signed log; `entry` holds the signed bytes."""

    __tablename__ = "audit_events"
    seq: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    ts: str
    actor: str = Field(index=True)
    keyid: str
    action: str = Field(index=True)
    subject: str = Field(index=True)
    model: str | None = Field(default=None, index=True)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    entry: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    prev_hash: str
    entry_hash: str
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Checkpoint(SQLModel, table=True):
    """A signed statement of the log's size and Merkle root that the store issued."""

    __tablename__ = "checkpoints"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    size: int
    root_hex: str
    note: str
    issued_at: str
    issued_by: str


# ---- schema v2: workflow, validation, cards, packages ---------------------------------------


class PromotionRequest(SQLModel, table=True):
    """A request to move a version to a stage, bound to the evidence its reviewers see."""

    __tablename__ = "promotion_requests"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    version: int
    stage: str
    requester: str
    comment: str
    created_at: str
    expires_at: str
    # open -> promoted | rejected | withdrawn | expired; open -> canary while a canary runs
    status: str = Field(index=True)
    evidence_digest: str
    evidence: str  # canonical JSON of the digest's inputs
    canary_plan: str = "[]"  # canonical JSON list of percentages
    policy_digest: str
    validation_run_id: int | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    event_seq: int


class Approval(SQLModel, table=True):
    """A reviewer's signed decision on a request, over the request's evidence digest."""

    __tablename__ = "approvals"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    request_id: int = Field(index=True)
    approver: str
    role: str
    decision: str  # approve | reject
    comment: str
    evidence_digest: str
    decided_at: str
    keyid: str
    statement: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    void: bool = False
    void_reason: str = ""
    event_seq: int


class ValidationRun(SQLModel, table=True):
    """One run of a validation suite of one version on one dataset."""

    __tablename__ = "validation_runs"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    version: int
    dataset_sha256: str
    dataset_name: str
    target: str
    sensitive: str | None = None
    stage: str | None = None  # the stage whose thresholds applied
    status: str  # pass | warn | fail
    passed: bool
    report_sha256: str  # the JSON report, stored as an artifact
    started_at: str
    finished_at: str
    actor: str
    summary: str = "{}"  # canonical JSON: headline metrics and counts
    event_seq: int


class ValidationCheck(SQLModel, table=True):
    """One check of a validation run: status, value, threshold and detail."""

    __tablename__ = "validation_checks"
    run_id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    name: str = Field(primary_key=True)
    category: str  # performance | data | drift | fairness | champion | reproducibility | ...
    status: str  # pass | warn | fail | info
    # Double, not SQL FLOAT: DuckDB's FLOAT is 32-bit and would round 0.7 to 0.699999988.
    value: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    threshold: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    detail: str = "{}"  # canonical JSON


class CardField(SQLModel, table=True):
    """A human-written model card field of one version (intended use, caveats, …)."""

    __tablename__ = "card_fields"
    model: str = Field(primary_key=True)
    version: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    field: str = Field(primary_key=True)
    value: str
    updated_at: str
    updated_by: str
    event_seq: int


class PackageRecord(SQLModel, table=True):
    """A deployment package built from a version, by digest."""

    __tablename__ = "packages"
    sha256: str = Field(primary_key=True)
    model: str = Field(index=True)
    version: int
    file_name: str
    size: int
    created_by: str
    created_at: str
    verified: bool = True
    event_seq: int


# ---- schema v3: monitoring, alerts, retraining ------------------------------------------------


class PredictionLog(SQLModel, table=True):
    """A batch of production predictions, kept as a content-addressed Parquet artifact."""

    __tablename__ = "prediction_logs"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    stage: str | None = None  # the stage that served these rows, when known
    artifact_sha256: str  # the normalised Parquet file (ts, version, request_id, ..., features)
    source_name: str
    source_sha256: str  # the file as the user gave it
    source_format: str  # csv | parquet | json
    rows: int
    versions: str  # canonical JSON {version: rows}
    first_ts: str
    last_ts: str
    # canonical JSON {"stored": [columns], "sensitive": [kept for fairness]}; a plain list of the
    # stored columns in logs ingested before sensitive columns were kept
    columns: str
    ingested_at: str
    ingested_by: str
    event_seq: int


class OutcomeBatch(SQLModel, table=True):
    """Outcomes (labels) that arrived later, joined to predictions by request id."""

    __tablename__ = "outcome_batches"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    artifact_sha256: str  # Parquet: request_id, outcome
    source_name: str
    source_sha256: str
    rows: int
    matched: int  # rows whose request id was logged when the batch arrived
    unmatched: int  # accepted only with --allow-unmatched
    ingested_at: str
    ingested_by: str
    event_seq: int


class MonitoringWindow(SQLModel, table=True):
    """The drift or performance statistics of one version over one time window, as recorded."""

    __tablename__ = "monitoring_windows"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    version: int
    kind: str  # drift | performance
    window_start: str
    window_end: str
    rows: int
    basis_sha256: str  # digest of the logs (and outcomes) the statistics were computed from
    status: str  # ok | alert | insufficient
    result: str  # canonical JSON of the statistics
    recorded_at: str
    recorded_by: str
    event_seq: int


class MonitoringAlert(SQLModel, table=True):
    """A threshold crossed in one window; open until a person resolves it."""

    __tablename__ = "monitoring_alerts"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    version: int
    kind: str  # drift.psi | drift.ks | drift.prediction | quality.* | performance.decay
    subject: str  # the feature or metric
    window_start: str
    window_end: str
    window_id: int
    value: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    threshold: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    detail: str = "{}"  # canonical JSON
    status: str = Field(index=True)  # open | resolved
    opened_at: str
    opened_by: str
    event_seq: int
    resolved_at: str | None = None
    resolved_by: str | None = None
    resolution: str = ""
    resolved_seq: int | None = None


class RetrainingJob(SQLModel, table=True):
    """A retraining the policy's triggers call for; a person runs `signoff retrain` for it."""

    __tablename__ = "retraining_jobs"
    id: int = Field(primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    model: str = Field(index=True)
    version: int  # the version whose monitoring fired the triggers
    stage: str | None = None
    triggers: str  # canonical JSON list of {trigger, detail}
    status: str = Field(index=True)  # open | retrained
    created_at: str
    created_by: str
    event_seq: int
    result_version: int | None = None
    request_id: int | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    closed_seq: int | None = None


# ---- schema v4: the team store ----------------------------------------------------------------


class PolicyText(SQLModel, table=True):
    """A promotion policy's text by digest; the one in force is `store_info.policy_sha256`."""

    __tablename__ = "policies"
    sha256: str = Field(primary_key=True)
    text: str
    recorded_at: str
