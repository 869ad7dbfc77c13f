-- Upload records. Timestamps are INTEGER unix microseconds (UTC): they sort
-- correctly and match Postgres' timestamptz precision.
CREATE TABLE uploads (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    bucket       TEXT    NOT NULL,
    object_key   TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    content_type TEXT    NOT NULL,
    etag         TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    vars         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(vars)),
    created_at   INTEGER NOT NULL,
    -- one record per object, however often OSS repeats the callback
    CONSTRAINT uploads_bucket_key UNIQUE (bucket, object_key)
) STRICT;

-- GET /api/uploads: one user's records, newest first, keyset-paged.
CREATE INDEX uploads_user_created ON uploads (user_id, created_at DESC, id DESC);
