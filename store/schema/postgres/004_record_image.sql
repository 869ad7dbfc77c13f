-- An image's width, height and format, as OSS reported them, or NULL for
-- other objects.
ALTER TABLE uploads ADD COLUMN image jsonb;
