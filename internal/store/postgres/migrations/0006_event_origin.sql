-- 0006: which replica wrote an event (issue 14). Every replica relays the
-- events the others committed to its own /events/out subscribers and
-- automation engine; its own it has delivered already. NULL for events
-- written before (or copied from SQLite).
ALTER TABLE events ADD COLUMN origin text;
