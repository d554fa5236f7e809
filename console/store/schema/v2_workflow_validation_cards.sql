-- Schema v2: promotion requests and approvals, validation runs, card fields, packages.
-- Frozen: this file has shipped; a schema change is a new file, never an edit.
-- IF NOT EXISTS keeps a step idempotent, as create_all() (which made these stores) was.

CREATE TABLE IF NOT EXISTS promotion_requests (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    stage VARCHAR NOT NULL,
    requester VARCHAR NOT NULL,
    comment VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    expires_at VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    evidence_digest VARCHAR NOT NULL,
    evidence VARCHAR NOT NULL,
    canary_plan VARCHAR NOT NULL,
    policy_digest VARCHAR NOT NULL,
    validation_run_id INTEGER,
    closed_at VARCHAR,
    closed_by VARCHAR,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_promotion_requests_model ON promotion_requests (model);
CREATE INDEX IF NOT EXISTS ix_promotion_requests_status ON promotion_requests (status);

CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER NOT NULL,
    request_id INTEGER NOT NULL,
    approver VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,
    comment VARCHAR NOT NULL,
    evidence_digest VARCHAR NOT NULL,
    decided_at VARCHAR NOT NULL,
    keyid VARCHAR NOT NULL,
    statement BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    void BOOLEAN NOT NULL,
    void_reason VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_approvals_request_id ON approvals (request_id);

CREATE TABLE IF NOT EXISTS validation_runs (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    dataset_sha256 VARCHAR NOT NULL,
    dataset_name VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    sensitive VARCHAR,
    stage VARCHAR,
    status VARCHAR NOT NULL,
    passed BOOLEAN NOT NULL,
    report_sha256 VARCHAR NOT NULL,
    started_at VARCHAR NOT NULL,
    finished_at VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    summary VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_validation_runs_model ON validation_runs (model);

CREATE TABLE IF NOT EXISTS validation_checks (
    run_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    value DOUBLE PRECISION,
    threshold DOUBLE PRECISION,
    detail VARCHAR NOT NULL,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE IF NOT EXISTS card_fields (
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    field VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL,
    updated_by VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (model, version, field)
);

CREATE TABLE IF NOT EXISTS packages (
    sha256 VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    file_name VARCHAR NOT NULL,
    size INTEGER NOT NULL,
    created_by VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    verified BOOLEAN NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (sha256)
);
CREATE INDEX IF NOT EXISTS ix_packages_model ON packages (model);
