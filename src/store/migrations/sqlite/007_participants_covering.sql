-- Listings read every participant of the events they show (an agenda: ~25 events x 2-8
-- people).  With the index on event_id alone each participant also cost a lookup in the
-- table; with the columns the listing reads in the index (and id for its order) it reads the
-- index alone.
DROP INDEX event_participants_event;
CREATE INDEX event_participants_event ON event_participants (event_id, id, user_id, email, role, rsvp);
