"""Helpers shared by the event, room and notification tests (API.md "Calendars", "Events",
"Rooms", "Notifications"): fresh users with their default calendar, rooms, time slots that no
other test uses, and snapshots of what a refused request must leave unchanged.

The database is read directly (read-only) only where the API cannot show the state: the
room-overlap invariant after the races, and notifications that are not yet due."""
import itertools
import sqlite3
import threading
from datetime import date, datetime, timedelta, timezone

API = "/api/v1"
CALENDARS = f"{API}/calendars"
EVENTS = f"{API}/events"
ROOMS = f"{API}/rooms"
NOTIFICATIONS = f"{API}/notifications"

PASSWORD = "member password"
_seq = itertools.count(1)
# Every call to slot() gets its own day (or days), so tests sharing a server never collide.
_next_day = [1]
_day_lock = threading.Lock()
BASE_DAY = datetime(2031, 1, 6, tzinfo=timezone.utc)  # a Monday, far from "now"


class Person:
    """A member with a token and the id of their default calendar."""

    def __init__(self, server, user, token):
        self.user = user
        self.id = user["id"]
        self.email = user["email"]
        self.token = token
        r = server.request("GET", CALENDARS, token=token)
        assert r.status_code == 200, r.text
        own = [c for c in r.json()["items"] if c["access"] == "owner" and c["is_default"]]
        assert len(own) == 1, r.text
        self.calendar = own[0]["id"]

    def __repr__(self):
        return f"Person({self.email})"


def new_person(server, admin, prefix="member", **extra):
    n = next(_seq)
    email = f"{prefix}.{n}@example.org"  # the dot: "imp2" 5 and "imp" 25 are two people
    u = server.create_user(admin, email, name=extra.pop("name", f"{prefix.title()} {n}"),
                           password=PASSWORD, **extra)
    return Person(server, u, server.login(email, PASSWORD))


def new_room(server, admin, capacity=10, **extra):
    body = {"name": f"Room {next(_seq)}", "capacity": capacity, **extra}
    r = server.request("POST", ROOMS, token=admin, json_body=body)
    assert r.status_code == 201, r.text
    return r.json()


# --- time


def utc(s):
    """Parse an RFC 3339 instant the server returned; it must be UTC with a Z."""
    assert isinstance(s, str) and s.endswith("Z"), s
    return datetime.fromisoformat(s[:-1] + "+00:00")


def rfc3339(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fresh_day(span=1):
    """Midnight UTC of a day that starts `span` days no other call has used (with a spare day
    either side, so that time zones do not make neighbours overlap)."""
    with _day_lock:
        n = _next_day[0] + 1
        _next_day[0] += span + 2
    return BASE_DAY + timedelta(days=n)


def slot(hour=10, minutes=60, day=None, start_minute=0):
    """(start, end) datetimes of an interval on a fresh day (or on `day`)."""
    d = day or fresh_day()
    start = d + timedelta(hours=hour, minutes=start_minute)
    return start, start + timedelta(minutes=minutes)


def now_utc():
    return datetime.now(timezone.utc).replace(microsecond=0)


# --- requests


def event_body(start, end, title="Meeting", **extra):
    body = {"title": title, "start": rfc3339(start), "end": rfc3339(end)}
    body.update(extra)
    return body


def post_event(server, person, body, calendar=None, **kw):
    return server.request("POST", f"{CALENDARS}/{calendar or person.calendar}/events",
                          token=person.token, json_body=body, **kw)


def create_event(server, person, start, end, calendar=None, **extra):
    r = post_event(server, person, event_body(start, end, **extra), calendar=calendar)
    assert r.status_code == 201, r.text
    return r.json()


def get_event(server, person, event_id, **kw):
    return server.request("GET", f"{EVENTS}/{event_id}", token=person.token, **kw)


def patch_event(server, person, event_id, body, etag=None, **kw):
    headers = dict(kw.pop("headers", {}) or {})
    if etag:
        headers["If-Match"] = etag
    return server.request("PATCH", f"{EVENTS}/{event_id}", token=person.token, json_body=body,
                          headers=headers, **kw)


def delete_event(server, person, event_id, etag=None):
    return server.request("DELETE", f"{EVENTS}/{event_id}", token=person.token,
                          headers={"If-Match": etag} if etag else None)


def list_events(server, person, frm, to, calendar=None):
    r = server.request("GET", f"{CALENDARS}/{calendar or person.calendar}/events",
                       token=person.token, params={"from": rfc3339(frm), "to": rfc3339(to)})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def bookings(server, person, room_id, frm, to):
    """Every booking in the range, following next_cursor across pages."""
    items, params = [], {"from": rfc3339(frm), "to": rfc3339(to), "limit": 1000}
    for _ in range(100):
        r = server.request("GET", f"{ROOMS}/{room_id}/bookings", token=person.token, params=params)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if r.json()["next_cursor"] is None:
            return items
        params["cursor"] = r.json()["next_cursor"]
    raise AssertionError("bookings did not end within 100 pages")


def notifications(server, person, **params):
    r = server.request("GET", NOTIFICATIONS, token=person.token, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"items", "next_cursor"}, body
    return body["items"]


def notes_for(server, person, event_id=None, type_=None, **params):
    """The due notifications of `person` (about `event_id`, of `type_`)."""
    return [n for n in notifications(server, person, limit=1000, **params)
            if (event_id is None or n["event_id"] == event_id)
            and (type_ is None or n["type"] == type_)]


# --- the database, read-only


def db_path(server):
    assert server.db.startswith("sqlite:"), server.db
    return server.db[len("sqlite:"):]


def db_rows(server, sql, params=()):
    con = sqlite3.connect(f"file:{db_path(server)}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def db_counts(server):
    """Row counts of every table a write to events may touch."""
    tables = ("events", "event_instances", "event_participants", "user_instances",
              "event_reminders", "notifications")
    return {t: db_rows(server, f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables}


def room_overlaps(server):
    """Pairs of non-cancelled occurrences in the same room that overlap (must be none)."""
    return db_rows(server, """
        SELECT a.id, a.event_id, b.id, b.event_id, a.room_id
        FROM event_instances a JOIN event_instances b
          ON a.room_id = b.room_id AND a.id < b.id
         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
        WHERE a.room_id IS NOT NULL AND a.status <> 'cancelled' AND b.status <> 'cancelled'""")


def db_notifications(server, user_id, event_id=None):
    """(type, scheduled_for µs, detail, read_at) of every notification of a user, due or not."""
    sql = ("SELECT type, scheduled_for, detail, read_at FROM notifications WHERE user_id = ?"
           + (" AND event_id = ?" if event_id else "") + " ORDER BY id")
    return db_rows(server, sql, (int(user_id), int(event_id)) if event_id else (int(user_id),))


def micros(dt):
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


class Snapshot:
    """What a refused write must not change: the calendars' occurrences around a slot, each
    person's due notifications, and (from the database) the row counts of the event tables."""

    def __init__(self, server, people, frm, to, calendars=None):
        self.server, self.people, self.frm, self.to = server, people, frm, to
        self.calendars = calendars or [(people[0], people[0].calendar)]
        self.value = self._take()

    def _take(self):
        return {
            "occurrences": [list_events(self.server, p, self.frm, self.to, calendar=c)
                            for p, c in self.calendars],
            "notifications": [notifications(self.server, p, limit=1000) for p in self.people],
            "db": db_counts(self.server),
        }

    def assert_unchanged(self):
        now = self._take()
        for k in self.value:
            assert now[k] == self.value[k], (k, self.value[k], now[k])


def assert_iso_date(s):
    assert isinstance(s, str) and len(s) == 10, s
    date.fromisoformat(s)
