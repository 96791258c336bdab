-- Participants by event alone: the two partial unique indexes of 002 cannot serve
-- "WHERE event_id = ?" (replacing a list, reading it, the foreign key on delete), which made
-- those full scans of the table.
CREATE INDEX event_participants_event ON event_participants (event_id);
