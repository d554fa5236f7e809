-- Schema v5: the version of the library a model version's framework was loaded with.
-- Frozen: this file has shipped; a schema change is a new file, never an edit.
-- NULL for versions registered before v5 (their library version was not recorded).

ALTER TABLE model_versions ADD COLUMN IF NOT EXISTS framework_version VARCHAR;
