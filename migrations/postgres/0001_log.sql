-- Migration 1: the log of a PostgreSQL ledger. Applied by `stancelog init`
-- in the ledger's schema, in one transaction; recorded in
-- stancelog_migrations. Never edited once released: a change is a new,
-- higher-numbered file.

-- One row per event, seq 1 onward without gaps (appends are linearised by
-- the ledger's advisory lock). The envelope has a column per field; `record`
-- is the canonical record (the bytes a sled log holds, which the hash
-- chain covers); `payload` is the event in the JSON form of `export`.
CREATE TABLE log (
    seq         bigint PRIMARY KEY CHECK (seq > 0),
    id          uuid NOT NULL UNIQUE,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    type        text NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    record      bytea NOT NULL,
    payload     jsonb NOT NULL
);

-- The committed head and the log's format records, by key.
CREATE TABLE log_meta (
    key   bytea PRIMARY KEY,
    value bytea NOT NULL
);
