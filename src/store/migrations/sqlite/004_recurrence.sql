-- Recurring events: a series is an event row with recurrence lines; an occurrence changed on
-- its own (an override) is an event row of its own pointing at the series, with the original
-- start it replaces.  Overrides carry the series' UID plus "/<recurrence id>" so that
-- (calendar_id, uid) stays unique; iCalendar export writes the series' UID.

ALTER TABLE events ADD COLUMN parent_id INTEGER REFERENCES events (id) ON DELETE CASCADE;
ALTER TABLE events ADD COLUMN recurrence_id INTEGER;
-- A series' occurrences exist in event_instances up to this instant (see meta below).
ALTER TABLE events ADD COLUMN materialized_until INTEGER;
-- Properties the model does not know (X-*, ATTACH, CATEGORIES, ...), as iCalendar content
-- lines, written back on export so that a round trip keeps them.
ALTER TABLE events ADD COLUMN ical_extra TEXT;

CREATE UNIQUE INDEX events_override ON events (parent_id, recurrence_id) WHERE parent_id IS NOT NULL;
CREATE INDEX events_series ON events (materialized_until) WHERE rrule IS NOT NULL;

-- Server-wide values.  'materialized_until': every series has its occurrences in
-- event_instances at least up to this instant; a range query beyond it first extends every
-- series (and this value) to the end of the range.
CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('materialized_until', 0);

