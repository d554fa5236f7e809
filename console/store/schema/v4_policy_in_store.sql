-- Schema v4: the promotion policy lives in the store (it was policy.toml in the home), so every
-- client of a team store reads the same one and none can edit it beside the log.
-- Frozen: this file has shipped; a schema change is a new file, never an edit.
-- A DuckDB store's policy.toml is copied in by migrations.import_policy_file after this step.

CREATE TABLE IF NOT EXISTS policies (
    sha256 VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    recorded_at VARCHAR NOT NULL,
    PRIMARY KEY (sha256)
);
