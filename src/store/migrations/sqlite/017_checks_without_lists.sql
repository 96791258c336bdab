-- SQLite checks "x IN (list)" of more than two constants by building a temporary b-tree of the
-- list, every time a statement runs: every insert of a participant (rsvp, four values), an
-- event (status, three) and a notification (type, five) built, filled and dropped one under
-- the writers' lock, ~7 a create (callgrind: 1,034 k -> 889 k instructions a create, -14 %;
-- an RSVP -10 %, a delete -13 %).  The same constraints written as comparisons cost a few
-- instructions.  They allow and refuse exactly the same values, so no row needs checking and
-- no table needs rebuilding: SQLite's procedure for changing a constraint in place
-- (lang_altertable.html, "Making Other Kinds Of Table Schema Changes") edits the table's
-- CREATE text, reloads the schema and moves the schema cookie, all inside this migration's
-- transaction.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'role IN (''freebusy'', ''read'', ''write'')',
    '(role = ''freebusy'' OR role = ''read'' OR role = ''write'')')
 WHERE type = 'table' AND name = 'calendar_shares';
UPDATE sqlite_schema SET sql = replace(sql,
    'status IN (''confirmed'', ''tentative'', ''cancelled'')',
    '(status = ''confirmed'' OR status = ''tentative'' OR status = ''cancelled'')')
 WHERE type = 'table' AND name = 'events';
UPDATE sqlite_schema SET sql = replace(sql,
    'rsvp IN (''needs-action'', ''accepted'', ''declined'', ''tentative'')',
    '(rsvp = ''needs-action'' OR rsvp = ''accepted'' OR rsvp = ''declined''' ||
    ' OR rsvp = ''tentative'')')
 WHERE type = 'table' AND name = 'event_participants';
UPDATE sqlite_schema SET sql = replace(sql,
    'type IN (''invitation'', ''update'', ''cancellation'', ''rsvp'', ''reminder'')',
    '(type = ''invitation'' OR type = ''update'' OR type = ''cancellation''' ||
    ' OR type = ''rsvp'' OR type = ''reminder'')')
 WHERE type = 'table' AND name = 'notifications';
PRAGMA writable_schema = RESET; -- off, and this connection reads the schema again
-- Every list is gone (else this insert fails, and the migration with it); the table's
-- creation moves the schema cookie, so that every other connection reads the schema again.
CREATE TABLE migration_017 (lists_left INTEGER NOT NULL CHECK (lists_left = 0));
INSERT INTO migration_017 SELECT count(*) FROM sqlite_schema WHERE type = 'table'
    AND (sql LIKE '%role IN (%' AND name = 'calendar_shares' OR sql LIKE '%status IN (%'
         OR sql LIKE '%rsvp IN (%' OR sql LIKE '%type IN (%');
DROP TABLE migration_017;
