-- Room ranges (bookings, conflict checks, the busy rooms of free/busy and find-a-time) filter
-- on ends_at and status as well as the start.  With only (room_id, starts_at) every row of
-- the scan, which reaches back the longest event's length, cost a lookup in the table: two
-- thirds of a find-a-time request on W200.  With the two columns in the index the busy-room
-- scan reads the index alone.
DROP INDEX event_instances_room;
CREATE INDEX event_instances_room ON event_instances (room_id, starts_at, ends_at, status);
