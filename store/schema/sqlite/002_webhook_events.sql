-- The webhook outbox: one row per event, written in the transaction that
-- makes or removes its upload record, delivered (at least once) by the
-- webhook worker. Times are INTEGER unix microseconds (UTC), as in uploads.
CREATE TABLE webhook_events (
    id              TEXT    NOT NULL PRIMARY KEY, -- webhook-id, the same on every attempt
    type            TEXT    NOT NULL,             -- upload.completed, upload.deleted
    upload_id       TEXT    NOT NULL,             -- no foreign key: upload.deleted outlives its record
    data            TEXT    NOT NULL CHECK (json_valid(data)), -- the record, with its user, at the event
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- pending: when the next attempt is due; while leased, when the lease
    -- runs out (a worker that died lets the event fall due again).
    next_attempt_at INTEGER NOT NULL,
    lease           TEXT,                          -- the holder's token while an attempt runs
    last_status     INTEGER NOT NULL DEFAULT 0,    -- HTTP status of the last attempt, 0 for none
    last_error      TEXT    NOT NULL DEFAULT '',
    finished_at     INTEGER                        -- delivered or given up
) STRICT;

-- The worker's poll: due pending events, oldest due first.
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at) WHERE state = 'pending';
-- ossgate webhooks list --failed, and pruning delivered events.
CREATE INDEX webhook_events_state ON webhook_events (state, created_at);
