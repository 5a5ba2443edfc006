-- Tombstones: a deletion scan marks records whose ids the store no longer has; the data stays.
-- NULL = live. Existing rows are live, so adding the column rewrites nothing.
ALTER TABLE records ADD COLUMN deleted_at timestamptz;

-- Counting and walking the live records of one entity (the deletion scan, count, export).
CREATE INDEX records_live_idx ON records (store, entity, sort_key, id) WHERE deleted_at IS NULL;
