-- webhook_events_state (state, created_at) held every event, so each new
-- event and each delivery wrote to it: one more index page in every group
-- commit, and two when an entry moved from pending to delivered. What read
-- it is served by partial indexes over the rows it needs, which delivery
-- writes once (delivered) or rarely (failed); the pending count reads
-- webhook_events_due.
DROP INDEX webhook_events_state;
-- Pruning delivered events: the oldest finished first.
CREATE INDEX webhook_events_delivered ON webhook_events (finished_at) WHERE state = 'delivered';
-- ossgate webhooks list --failed and retrying the failed ones.
CREATE INDEX webhook_events_failed ON webhook_events (created_at, id) WHERE state = 'failed';
