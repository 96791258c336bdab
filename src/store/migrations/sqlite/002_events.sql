-- Calendars shared, rooms, events with their occurrences and participants, notifications and
-- idempotency keys.  Instants are integer microseconds since the Unix epoch, UTC.
--
-- Rows that can be deleted and whose ids clients hold (calendars, events, notifications) take
-- AUTOINCREMENT ids, which SQLite never reuses: a stale id or ETag must not name a newer row.

CREATE TABLE calendars_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL REFERENCES users (id),
    name       TEXT    NOT NULL,
    color      TEXT    NOT NULL DEFAULT '#3b82f6',
    time_zone  TEXT    NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO calendars_new SELECT * FROM calendars;
DROP TABLE calendars;
ALTER TABLE calendars_new RENAME TO calendars;
CREATE INDEX calendars_owner ON calendars (owner_id);

CREATE TABLE calendar_shares (
    calendar_id INTEGER NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('freebusy', 'read', 'write')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (calendar_id, user_id)
);
CREATE INDEX calendar_shares_user ON calendar_shares (user_id);

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    capacity   INTEGER NOT NULL CHECK (capacity > 0),
    location   TEXT    NOT NULL DEFAULT '',
    is_active  INTEGER NOT NULL DEFAULT 1,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE room_features (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    feature TEXT    NOT NULL,
    PRIMARY KEY (room_id, feature)
);
CREATE INDEX room_features_feature ON room_features (feature, room_id);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    uid          TEXT    NOT NULL,
    calendar_id  INTEGER NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    organizer_id INTEGER NOT NULL REFERENCES users (id),
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    location     TEXT    NOT NULL DEFAULT '',
    room_id      INTEGER REFERENCES rooms (id),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    time_zone    TEXT    NOT NULL,
    all_day      INTEGER NOT NULL DEFAULT 0,
    visibility   TEXT    NOT NULL DEFAULT 'default' CHECK (visibility IN ('default', 'private')),
    status       TEXT    NOT NULL DEFAULT 'confirmed'
                         CHECK (status IN ('confirmed', 'tentative', 'cancelled')),
    rrule        TEXT,                      -- recurrence lines; NULL for a single event
    sequence     INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (calendar_id, uid)
);

-- The occurrences that range queries, free/busy and room conflicts read.  A single event has
-- one row; a recurring one a row per occurrence over the materialised horizon.
CREATE TABLE event_instances (
    id            INTEGER PRIMARY KEY,
    event_id      INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    calendar_id   INTEGER NOT NULL,
    room_id       INTEGER,
    recurrence_id INTEGER,                  -- the occurrence's original start; NULL if single
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    status        TEXT    NOT NULL
);
CREATE INDEX event_instances_event ON event_instances (event_id, starts_at);
CREATE INDEX event_instances_calendar ON event_instances (calendar_id, starts_at);
CREATE INDEX event_instances_room ON event_instances (room_id, starts_at);

CREATE TABLE event_participants (
    id       INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id  INTEGER REFERENCES users (id),
    email    TEXT,
    role     TEXT    NOT NULL DEFAULT 'attendee' CHECK (role IN ('organizer', 'attendee')),
    rsvp     TEXT    NOT NULL DEFAULT 'needs-action'
                     CHECK (rsvp IN ('needs-action', 'accepted', 'declined', 'tentative')),
    CHECK ((user_id IS NULL) <> (email IS NULL))
);
CREATE UNIQUE INDEX event_participants_event_user ON event_participants (event_id, user_id)
    WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX event_participants_event_email ON event_participants (event_id, email)
    WHERE email IS NOT NULL;

-- Whose time each occurrence takes: the calendar owner and every participating user.  Agendas,
-- free/busy and find-a-time read one user's week as one range of this index, however many
-- events that user has taken part in over the years.
CREATE TABLE user_instances (
    user_id     INTEGER NOT NULL,
    starts_at   INTEGER NOT NULL,
    instance_id INTEGER NOT NULL REFERENCES event_instances (id) ON DELETE CASCADE,
    ends_at     INTEGER NOT NULL,
    busy        INTEGER NOT NULL,           -- 0 free (declined, cancelled), 1 busy, 2 tentative
    PRIMARY KEY (user_id, starts_at, instance_id)
) WITHOUT ROWID;
CREATE INDEX user_instances_instance ON user_instances (instance_id);

CREATE TABLE event_reminders (
    event_id       INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    minutes_before INTEGER NOT NULL,
    PRIMARY KEY (event_id, minutes_before)
);

-- In-app notifications.  The payload is kept as columns (a snapshot of the event when the
-- notification was made) and rendered as JSON by the API.
CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id      INTEGER,                  -- no foreign key: a cancellation outlives its event
    type          TEXT    NOT NULL
                          CHECK (type IN ('invitation', 'update', 'cancellation', 'rsvp', 'reminder')),
    actor_id      INTEGER,
    title         TEXT    NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    detail        TEXT    NOT NULL DEFAULT '',  -- the RSVP status for 'rsvp'
    created_at    INTEGER NOT NULL,
    scheduled_for INTEGER NOT NULL,
    read_at       INTEGER
);
-- Listings go newest due first: (scheduled_for, id) descending; the rowid ends every index.
CREATE INDEX notifications_user ON notifications (user_id, scheduled_for);
CREATE INDEX notifications_unread ON notifications (user_id, scheduled_for) WHERE read_at IS NULL;
CREATE INDEX notifications_event ON notifications (event_id);

-- POST retries: the first answer, replayed for a retry with the same key and request.
CREATE TABLE idempotency_keys (
    user_id      INTEGER NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,          -- 0 while the first request is running
    body         TEXT,
    location     TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
