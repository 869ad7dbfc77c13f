-- The webhook outbox: one row per event, written in the transaction that
-- makes or removes its upload record, delivered (at least once) by the
-- webhook workers of every instance; FOR UPDATE SKIP LOCKED leases keep two
-- instances off one event.
CREATE TABLE webhook_events (
    id              text COLLATE "C" NOT NULL PRIMARY KEY, -- webhook-id, the same on every attempt
    type            text        NOT NULL,                  -- upload.completed, upload.deleted
    upload_id       text        NOT NULL,                  -- no foreign key: upload.deleted outlives its record
    -- text, not jsonb: the bytes signed are the bytes stored, key order and all
    data            text        NOT NULL,
    created_at      timestamptz NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- pending: when the next attempt is due; while leased, when the lease
    -- runs out (a worker that died lets the event fall due again).
    next_attempt_at timestamptz NOT NULL,
    lease           text,                                  -- the holder's token while an attempt runs
    last_status     integer     NOT NULL DEFAULT 0,        -- HTTP status of the last attempt, 0 for none
    last_error      text        NOT NULL DEFAULT '',
    finished_at     timestamptz                            -- delivered or given up
);

-- The workers' poll: due pending events, oldest due first.
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at) WHERE state = 'pending';
-- ossgate webhooks list --failed, and pruning delivered events.
CREATE INDEX webhook_events_state ON webhook_events (state, created_at);
