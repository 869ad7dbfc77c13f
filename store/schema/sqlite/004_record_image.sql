-- An image's width, height and format, as OSS reported them: JSON
-- {"width":…,"height":…,"format":"…"}, or NULL for other objects.
ALTER TABLE uploads ADD COLUMN image TEXT CHECK (image IS NULL OR json_valid(image));
