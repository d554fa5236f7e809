-- Schema v1: the store, users and keys, the registry, stages and the audit log.
-- Frozen: this file has shipped; a schema change is a new file, never an edit.
-- IF NOT EXISTS keeps a step idempotent, as create_all() (which made these stores) was.

CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL,
    applied_at VARCHAR NOT NULL,
    PRIMARY KEY (version)
);

CREATE TABLE IF NOT EXISTS store_info (
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (key)
);

CREATE TABLE IF NOT EXISTS users (
    name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    active BOOLEAN NOT NULL,
    added_seq INTEGER NOT NULL,
    revoked_seq INTEGER,
    PRIMARY KEY (name)
);

CREATE TABLE IF NOT EXISTS user_keys (
    keyid VARCHAR NOT NULL,
    "user" VARCHAR NOT NULL,
    public_key_pem VARCHAR NOT NULL,
    valid_from_seq INTEGER NOT NULL,
    revoked_at_seq INTEGER,
    PRIMARY KEY (keyid)
);
CREATE INDEX IF NOT EXISTS ix_user_keys_user ON user_keys ("user");

CREATE TABLE IF NOT EXISTS models (
    name VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    risk_tier VARCHAR NOT NULL,
    intended_use VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    PRIMARY KEY (name)
);

CREATE TABLE IF NOT EXISTS model_versions (
    model VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    artifact_sha256 VARCHAR NOT NULL,
    artifact_format VARCHAR NOT NULL,
    trusted_pickle BOOLEAN NOT NULL,
    trusted_types VARCHAR NOT NULL,
    framework VARCHAR NOT NULL,
    estimator_class VARCHAR NOT NULL,
    task_type VARCHAR NOT NULL,
    input_schema VARCHAR NOT NULL,
    params VARCHAR NOT NULL,
    metrics VARCHAR NOT NULL,
    train_dataset_sha256 VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    parent_number INTEGER,
    code_ref VARCHAR,
    author VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    tags VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    PRIMARY KEY (model, number)
);

CREATE TABLE IF NOT EXISTS datasets (
    sha256 VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    row_count INTEGER NOT NULL,
    column_count INTEGER NOT NULL,
    profile VARCHAR NOT NULL,
    registered_at VARCHAR NOT NULL,
    registered_by VARCHAR NOT NULL,
    PRIMARY KEY (sha256)
);

CREATE TABLE IF NOT EXISTS stages (
    model VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    version INTEGER,
    canary_version INTEGER,
    canary_share INTEGER,
    canary_step INTEGER,
    updated_at VARCHAR NOT NULL,
    PRIMARY KEY (model, stage)
);

CREATE TABLE IF NOT EXISTS deployments (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    replaced_version INTEGER,
    request_id INTEGER,
    actor VARCHAR NOT NULL,
    occurred_at VARCHAR NOT NULL,
    break_glass BOOLEAN NOT NULL,
    reason VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_deployments_model ON deployments (model);

CREATE TABLE IF NOT EXISTS audit_events (
    seq INTEGER NOT NULL,
    ts VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    keyid VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    model VARCHAR,
    payload BYTEA NOT NULL,
    entry BYTEA NOT NULL,
    prev_hash VARCHAR NOT NULL,
    entry_hash VARCHAR NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (seq)
);
CREATE INDEX IF NOT EXISTS ix_audit_events_action ON audit_events (action);
CREATE INDEX IF NOT EXISTS ix_audit_events_actor ON audit_events (actor);
CREATE INDEX IF NOT EXISTS ix_audit_events_model ON audit_events (model);
CREATE INDEX IF NOT EXISTS ix_audit_events_subject ON audit_events (subject);

CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER NOT NULL,
    size INTEGER NOT NULL,
    root_hex VARCHAR NOT NULL,
    note VARCHAR NOT NULL,
    issued_at VARCHAR NOT NULL,
    issued_by VARCHAR NOT NULL,
    PRIMARY KEY (id)
);
