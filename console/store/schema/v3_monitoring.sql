-- Schema v3: prediction logs, outcomes, monitoring windows and alerts, retraining jobs.
-- Frozen: this file has shipped; a schema change is a new file, never an edit.
-- IF NOT EXISTS keeps a step idempotent, as create_all() (which made these stores) was.

CREATE TABLE IF NOT EXISTS prediction_logs (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    stage VARCHAR,
    artifact_sha256 VARCHAR NOT NULL,
    source_name VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    source_format VARCHAR NOT NULL,
    rows INTEGER NOT NULL,
    versions VARCHAR NOT NULL,
    first_ts VARCHAR NOT NULL,
    last_ts VARCHAR NOT NULL,
    columns VARCHAR NOT NULL,
    ingested_at VARCHAR NOT NULL,
    ingested_by VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_prediction_logs_model ON prediction_logs (model);

CREATE TABLE IF NOT EXISTS outcome_batches (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    artifact_sha256 VARCHAR NOT NULL,
    source_name VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    rows INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    unmatched INTEGER NOT NULL,
    ingested_at VARCHAR NOT NULL,
    ingested_by VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_outcome_batches_model ON outcome_batches (model);

CREATE TABLE IF NOT EXISTS monitoring_windows (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    window_start VARCHAR NOT NULL,
    window_end VARCHAR NOT NULL,
    rows INTEGER NOT NULL,
    basis_sha256 VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    result VARCHAR NOT NULL,
    recorded_at VARCHAR NOT NULL,
    recorded_by VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_monitoring_windows_model ON monitoring_windows (model);

CREATE TABLE IF NOT EXISTS monitoring_alerts (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    window_start VARCHAR NOT NULL,
    window_end VARCHAR NOT NULL,
    window_id INTEGER NOT NULL,
    value DOUBLE PRECISION,
    threshold DOUBLE PRECISION,
    detail VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    opened_at VARCHAR NOT NULL,
    opened_by VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    resolved_at VARCHAR,
    resolved_by VARCHAR,
    resolution VARCHAR NOT NULL,
    resolved_seq INTEGER,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_monitoring_alerts_model ON monitoring_alerts (model);
CREATE INDEX IF NOT EXISTS ix_monitoring_alerts_status ON monitoring_alerts (status);

CREATE TABLE IF NOT EXISTS retraining_jobs (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    stage VARCHAR,
    triggers VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    event_seq INTEGER NOT NULL,
    result_version INTEGER,
    request_id INTEGER,
    closed_at VARCHAR,
    closed_by VARCHAR,
    closed_seq INTEGER,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_retraining_jobs_model ON retraining_jobs (model);
CREATE INDEX IF NOT EXISTS ix_retraining_jobs_status ON retraining_jobs (status);
