-- A rename finds the user's events through the occurrences they take part in, not through an
-- index of participants by user (migration 014, dropped here).  That index cost a page of
-- its own for every invited user on every create and delete: 5.1 of a create's ~31 WAL
-- frames and 3.8 of a delete's on W200, all under the writers' lock, for a statement that
-- runs when someone changes their name.  user_instances already holds, keyed by user, a row
-- for every occurrence each participant takes part in (participant = 1).  An event with no
-- occurrence at all (a series whose every occurrence is excluded or moved) has none there:
-- its re-index marks it `bare`, and the rename also looks at those, through a partial index
-- that holds them alone.  The mark may outlive the condition (an extension of the series
-- can add occurrences later), which only makes the rename look at one more event.
ALTER TABLE events ADD COLUMN bare INTEGER NOT NULL DEFAULT 0;
UPDATE events SET bare = 1
 WHERE NOT EXISTS (SELECT 1 FROM event_instances i WHERE i.event_id = events.id);
CREATE INDEX events_bare ON events (id) WHERE bare = 1;
DROP INDEX event_participants_user;
