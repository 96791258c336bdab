-- The series a user takes part in, for a request past what every series reaches
-- (store_events_series_short: an agenda, a free/busy, a find-a-time).  Without an index it was
-- a pass over every series short of the range, each looked up among its participants: 0.4 s
-- at W200 x100 with the pages cached, 3.2 s without, for any read past the mark.  An index of
-- all participants by user costs every create a page or more under the writers' lock
-- (migration 016 dropped one for that); this one holds the participants of series alone, so
-- a single event's writes never touch it.  `of_series` is the event's `rrule IS NOT NULL`:
-- written with the participants (store_events_set_participants), and moved by the trigger
-- when an event becomes a series or stops being one.
ALTER TABLE event_participants ADD COLUMN of_series INTEGER NOT NULL DEFAULT 0;
UPDATE event_participants SET of_series = 1
 WHERE event_id IN (SELECT id FROM events WHERE rrule IS NOT NULL);
CREATE INDEX event_participants_series ON event_participants (user_id, event_id)
    WHERE of_series = 1 AND user_id IS NOT NULL;

CREATE TRIGGER event_participants_of_series AFTER UPDATE OF rrule ON events
    WHEN (OLD.rrule IS NULL) <> (NEW.rrule IS NULL)
BEGIN
    UPDATE event_participants SET of_series = NEW.rrule IS NOT NULL WHERE event_id = NEW.id;
END;
