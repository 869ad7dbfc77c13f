-- Upload records.
CREATE TABLE uploads (
    -- COLLATE "C": byte order, so the (created_at, id) tie-break of List is
    -- the same as SQLite's whatever the database's locale.
    id           text COLLATE "C" NOT NULL PRIMARY KEY,
    user_id      text        NOT NULL,
    bucket       text        NOT NULL,
    object_key   text        NOT NULL,
    size         bigint      NOT NULL CHECK (size >= 0),
    content_type text        NOT NULL,
    etag         text        NOT NULL,
    filename     text        NOT NULL,
    vars         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL,
    -- one record per object, however often OSS repeats the callback
    CONSTRAINT uploads_bucket_key UNIQUE (bucket, object_key)
);

-- GET /api/uploads: one user's records, newest first, keyset-paged.
CREATE INDEX uploads_user_created ON uploads (user_id, created_at DESC, id DESC);
