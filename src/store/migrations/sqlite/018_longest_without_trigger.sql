-- The bound on how long an occurrence lasts (migration 010) is raised by the store after it
-- writes an event's occurrences (store/events.c raise_longest), not by a trigger on every
-- row: SQLite copies an INSERT ... SELECT into a table with a trigger through a temporary
-- b-tree first, built and dropped for every event written, under the writers' lock.
DROP TRIGGER event_instances_longest;
