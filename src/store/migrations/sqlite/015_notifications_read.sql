-- A new notification went into two indexes of the same key, (user_id, scheduled_for): the
-- index of every row and the covering index of unread rows (migration 012).  Each is a page
-- of its own to write, for every invited participant: about 2.8 of a create's ~31 WAL frames
-- and 3.2 of a delete's.  The index of every row served only the full listing (not the bell,
-- which reads the unread index); it now holds the read rows alone, so that a row is in one
-- of the two, and the full listing merges the two walks (store_notifications_list).  Marking
-- a row read moves it from one to the other, as it already left the unread index.
DROP INDEX notifications_user;
CREATE INDEX notifications_read ON notifications (user_id, scheduled_for) WHERE read_at IS NOT NULL;
