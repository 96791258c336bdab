-- Overlap queries bound their index scan below by "starts_at > from - the longest an
-- occurrence lasts".  With the 31-day limit of the API as that bound, a week's agenda or
-- free/busy walked five weeks of index (a find-a-time over 30 rooms: 1066 rows read for 201
-- wanted).  The longest occurrence actually stored is kept here instead, raised by every
-- insert into event_instances (rows there are only ever inserted and deleted), in the same
-- transaction as the insert, so a query reads a bound that holds for its own snapshot.  It
-- never shrinks when long events go: a larger bound is still correct, only slower.
INSERT INTO meta (key, value)
    SELECT 'max_duration_us', COALESCE(MAX(ends_at - starts_at), 0) FROM event_instances;
CREATE TRIGGER event_instances_longest AFTER INSERT ON event_instances
    WHEN NEW.ends_at - NEW.starts_at > (SELECT value FROM meta WHERE key = 'max_duration_us')
BEGIN
    UPDATE meta SET value = NEW.ends_at - NEW.starts_at WHERE key = 'max_duration_us';
END;
