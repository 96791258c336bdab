-- The recurring series booking a room, for a write's room check past what every series
-- reaches (store_events_series_short): it runs under the writers' lock, where a pass over
-- every series short of the check's end took 2 s at W200 x100.  Only series are in it, and
-- only their room is: a write of a single event, or an extension of a series, leaves it as
-- it was.
CREATE INDEX events_series_room ON events (room_id) WHERE rrule IS NOT NULL AND room_id IS NOT NULL;
