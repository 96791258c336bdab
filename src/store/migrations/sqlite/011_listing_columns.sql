-- Listings (an agenda, a calendar's or a room's occurrences) show each occurrence with its
-- event's title, location, time zone, organizer and series.  Read from events, every
-- occurrence cost a lookup of a wide, scattered events row, and an agenda also looked up
-- whether its reader takes part: an agenda alone on W200 read 51-60 pages from the OS, 15-41
-- without them (SQLite reads them back each time another connection has committed).  The occurrence
-- now carries the event's columns that listings show, and user_instances says whether its
-- user is a participant (rather than only the calendar's owner).
--
-- Occurrences are written from their event (store_events_reindex and _extend), and an event
-- whose occurrences or people change is re-indexed; the trigger below keeps the copies right
-- when an event's shown columns change otherwise (an override moved to another series).  It
-- never changes an occurrence's times, which event_instances_longest relies on.
ALTER TABLE event_instances ADD COLUMN series_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_instances ADD COLUMN organizer_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_instances ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE event_instances ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE event_instances ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE event_instances ADD COLUMN all_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_instances ADD COLUMN visibility TEXT NOT NULL DEFAULT 'default';
UPDATE event_instances AS i
   SET series_id = COALESCE(e.parent_id, e.id), organizer_id = e.organizer_id, title = e.title,
       location = e.location, time_zone = e.time_zone, all_day = e.all_day,
       visibility = e.visibility
  FROM events e WHERE e.id = i.event_id;

ALTER TABLE user_instances ADD COLUMN participant INTEGER NOT NULL DEFAULT 0;
UPDATE user_instances SET participant = 1
 WHERE EXISTS (SELECT 1 FROM event_instances i JOIN event_participants p
                 ON p.event_id = i.event_id AND p.user_id = user_instances.user_id
                WHERE i.id = user_instances.instance_id);

CREATE TRIGGER event_instances_shown AFTER UPDATE OF parent_id, organizer_id, title, location,
    time_zone, all_day, visibility ON events
    WHEN OLD.parent_id IS NOT NEW.parent_id OR OLD.organizer_id IS NOT NEW.organizer_id
      OR OLD.title IS NOT NEW.title OR OLD.location IS NOT NEW.location
      OR OLD.time_zone IS NOT NEW.time_zone OR OLD.all_day IS NOT NEW.all_day
      OR OLD.visibility IS NOT NEW.visibility
BEGIN
    UPDATE event_instances
       SET series_id = COALESCE(NEW.parent_id, NEW.id), organizer_id = NEW.organizer_id,
           title = NEW.title, location = NEW.location, time_zone = NEW.time_zone,
           all_day = NEW.all_day, visibility = NEW.visibility
     WHERE event_id = NEW.id;
END;
