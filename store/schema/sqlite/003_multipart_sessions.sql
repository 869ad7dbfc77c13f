-- Multipart uploads ossgate authorised: what each step is checked against.
-- Timestamps are INTEGER unix microseconds (UTC), as in uploads.
CREATE TABLE multipart_sessions (
    upload_id    TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    bucket       TEXT    NOT NULL,
    object_key   TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    content_type TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    vars         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(vars)),
    part_size    INTEGER NOT NULL CHECK (part_size > 0),
    part_count   INTEGER NOT NULL CHECK (part_count BETWEEN 1 AND 10000),
    state        TEXT    NOT NULL CHECK (state IN ('open', 'completed', 'aborted')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

-- The sweeper: open sessions past their expiry, oldest first.
CREATE INDEX multipart_sessions_open_expiry ON multipart_sessions (state, expires_at);
