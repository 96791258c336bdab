#!/usr/bin/env python3
"""Check a database made by planner-seed, independently of the C code.

Usage: python3 bench/seed_check.py PATH.db

Prints row counts, the number of overlapping non-cancelled bookings of one room (must be 0),
a few distribution figures, and a SHA-256 digest of the data (password hashes excluded: they are
salted) so that two runs with the same --seed and --now can be compared.  Exits 1 when a room
is double-booked or an invariant does not hold.
"""
import hashlib
import sqlite3
import sys


def main() -> int:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    q = lambda sql: db.execute(sql).fetchall()
    one = lambda sql: db.execute(sql).fetchone()[0]
    ok = True

    counts = {t: one(f"SELECT COUNT(*) FROM {t}") for t in (
        "users", "calendars", "calendar_shares", "rooms", "room_features", "events",
        "event_instances", "event_participants", "user_instances", "event_reminders",
        "notifications")}
    print("counts", counts)

    overlaps = one("""
        SELECT COUNT(*) FROM event_instances a JOIN event_instances b
          ON a.room_id = b.room_id AND a.id < b.id
         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
       WHERE a.room_id IS NOT NULL AND a.status <> 'cancelled' AND b.status <> 'cancelled'""")
    print("room overlaps", overlaps)
    ok &= overlaps == 0

    too_small = one("""
        SELECT COUNT(*) FROM events e JOIN rooms r ON r.id = e.room_id
         WHERE r.capacity < (SELECT COUNT(*) FROM event_participants p WHERE p.event_id = e.id)""")
    print("rooms smaller than their meeting", too_small)
    ok &= too_small == 0

    # Local (UTC+3, Europe/Moscow has no DST since 2014) weekday and hours.
    bad_time = one("""
        SELECT COUNT(*) FROM events
         WHERE strftime('%w', starts_at / 1000000 + 3 * 3600, 'unixepoch') IN ('0', '6')
            OR strftime('%H:%M', starts_at / 1000000 + 3 * 3600, 'unixepoch') < '08:00'
            OR strftime('%H:%M', ends_at / 1000000 + 3 * 3600, 'unixepoch') > '18:00'
            OR (ends_at - starts_at) / 60000000 NOT IN (30, 45, 60, 90)""")
    print("events outside weekdays 08:00-18:00 or with another duration", bad_time)
    ok &= bad_time == 0

    organisers = one("""
        SELECT COUNT(*) FROM events e WHERE (SELECT COUNT(*) FROM event_participants p
         WHERE p.event_id = e.id AND p.role = 'organizer' AND p.user_id = e.organizer_id
           AND p.rsvp = 'accepted') <> 1""")
    print("events without exactly one accepted organiser participant", organisers)
    ok &= organisers == 0

    print("participants per event", q("""SELECT n, COUNT(*) FROM (SELECT COUNT(*) n
        FROM event_participants GROUP BY event_id) GROUP BY n"""))
    print("rsvp", q("SELECT rsvp, COUNT(*) FROM event_participants GROUP BY rsvp"))
    print("notifications", q("""SELECT type, read_at IS NOT NULL, COUNT(*) FROM notifications
        GROUP BY 1, 2"""))
    print("room capacities", q("SELECT capacity, COUNT(*) FROM rooms GROUP BY capacity"))
    print("room features", q("SELECT feature, COUNT(*) FROM room_features GROUP BY feature"))

    digest = hashlib.sha256()
    for table, order in (("users", "id"), ("calendars", "id"), ("calendar_shares", "1, 2"),
                         ("rooms", "id"), ("room_features", "1, 2"), ("events", "id"),
                         ("event_instances", "id"), ("event_participants", "id"),
                         ("user_instances", "1, 2, 3"), ("event_reminders", "1, 2"),
                         ("notifications", "id")):
        cols = [r[1] for r in q(f"PRAGMA table_info({table})") if r[1] != "password_hash"]
        for row in db.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}"):
            digest.update(repr(row).encode())
    print("digest", digest.hexdigest())
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
