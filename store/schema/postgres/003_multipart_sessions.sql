-- Multipart uploads ossgate authorised: what each step is checked against.
CREATE TABLE multipart_sessions (
    upload_id    text        NOT NULL PRIMARY KEY,
    user_id      text        NOT NULL,
    bucket       text        NOT NULL,
    object_key   text        NOT NULL,
    size         bigint      NOT NULL CHECK (size > 0),
    content_type text        NOT NULL,
    filename     text        NOT NULL,
    vars         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    part_size    bigint      NOT NULL CHECK (part_size > 0),
    part_count   integer     NOT NULL CHECK (part_count BETWEEN 1 AND 10000),
    state        text        NOT NULL CHECK (state IN ('open', 'completed', 'aborted')),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

-- The sweeper: open sessions past their expiry, oldest first.
CREATE INDEX multipart_sessions_open_expiry ON multipart_sessions (state, expires_at);
