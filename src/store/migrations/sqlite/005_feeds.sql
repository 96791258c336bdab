-- Subscription feeds: one secret URL per calendar that calendar apps poll without logging in.
-- Like sessions, only the BLAKE2b hash of the URL's token is stored, never the token; a new
-- feed replaces the calendar's old one (the row is the calendar's), and revoking deletes it.
CREATE TABLE calendar_feeds (
    calendar_id INTEGER PRIMARY KEY REFERENCES calendars (id) ON DELETE CASCADE,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_by  INTEGER NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL
);
