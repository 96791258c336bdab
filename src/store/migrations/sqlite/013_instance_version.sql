-- Listings keep each event's participant list in the worker's memory between requests, under
-- the event's version (store/cache.h): a list found under the version the reader has just
-- read is the current list.  Reading that version from events would cost a lookup of a
-- scattered events row per occurrence again (migration 011), so the occurrence carries it.
--
-- Occurrences are written from their event (INSTANCE_SHOWN_SQL), and the trigger keeps the
-- copy right whenever the version moves without a re-index: an answer (an RSVP) or a new name
-- of a participant.
ALTER TABLE event_instances ADD COLUMN event_version INTEGER NOT NULL DEFAULT 0;
UPDATE event_instances AS i SET event_version = e.version FROM events e WHERE e.id = i.event_id;

CREATE TRIGGER event_instances_version AFTER UPDATE OF version ON events
    WHEN OLD.version IS NOT NEW.version
BEGIN
    UPDATE event_instances SET event_version = NEW.version WHERE event_id = NEW.id;
END;
