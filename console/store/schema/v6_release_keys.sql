-- Schema v6: ECDSA P-256 release keys, which sign packages in the OpenSSF Model Signing format.
-- Frozen: this file has shipped; a schema change is a new file, never an edit.
-- A user's newest registration is their release key; an older one is retired by it.

CREATE TABLE IF NOT EXISTS release_keys (
    keyid VARCHAR NOT NULL,
    "user" VARCHAR NOT NULL,
    public_key_pem VARCHAR NOT NULL,
    registered_seq INTEGER NOT NULL,
    registered_by VARCHAR NOT NULL,
    retired_seq INTEGER,
    PRIMARY KEY (keyid)
);
CREATE INDEX IF NOT EXISTS ix_release_keys_user ON release_keys ("user");
