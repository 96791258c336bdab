"""iCalendar export and subscription feeds (API.md "iCalendar", docs/architecture.md): the
export of a calendar and of one event parse with python3-icalendar and hold what was created;
those who may only see that time is taken (a free/busy share, a read share for private
events, every feed for private events) get busy-only VEVENTs that leak nothing; feeds work
without a login, die when revoked or replaced, and their token is never stored; `planner
export` writes what the owner's HTTP export gives; and an export costs the same number of
queries however many events the calendar holds."""
import os
import re
import sqlite3
import subprocess
from datetime import date, datetime, timedelta, timezone

import icalendar
import pytest
import recurring_ical_events

from conftest import ASAN, BIN, assert_problem
from helpers_events import (API, CALENDARS, EVENTS, create_event, db_path, db_rows, new_person)

ICS_TYPE = "text/calendar; charset=utf-8"
UTC = timezone.utc

# Distinctive strings of the private event: a busy-only reader must never see them.
SECRET_TITLE = "Secret Qx9 acquisition"
SECRET_DESC = "Qx9 confidential notes"
SECRET_LOC = "Qx9 back room"
SECRET_GUEST = "qx9.guest@partner.example"
SECRETS = ("Qx9", SECRET_GUEST)

NORMAL_TITLE = "Design review, phase 2; part A"
NORMAL_DESC = "Agenda:\n1. Status\n2. Risks, issues \\ blockers\n" + "Long line " * 20
NORMAL_LOC = "Room 4.01"


def ics(server, path, token=None, **kw):
    r = server.request("GET", path, token=token, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text)
    assert r.headers["Content-Type"] == ICS_TYPE, r.headers
    assert r.headers.get("ETag", "").startswith('"'), r.headers
    return r


def parse(r):
    """The document as python3-icalendar reads it, after checking its line discipline."""
    raw = r.content
    assert raw.endswith(b"\r\n")
    for line in raw.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
    cal = icalendar.Calendar.from_ical(raw)
    assert cal.name == "VCALENDAR"
    assert str(cal["VERSION"]) == "2.0"
    assert "PRODID" in cal
    return cal


def events_by_uid(cal):
    out = {}
    for ev in cal.walk("VEVENT"):
        out.setdefault(str(ev["UID"]), []).append(ev)
    return out


def attendees(ev):
    a = ev.get("ATTENDEE", [])
    return a if isinstance(a, list) else [a]


def instant(ev, name):
    v = ev.decoded(name)
    assert isinstance(v, datetime) and v.tzinfo is not None, (name, v)
    return v.astimezone(UTC)


def utc(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def queries(r):
    m = re.search(r'db;dur=[0-9.]+;desc="(\d+) queries"', r.headers["Server-Timing"])
    assert m, r.headers["Server-Timing"]
    return int(m.group(1))


# --- a recurring series with an exception and a changed occurrence ---------------------------

SERIES_START = datetime(2033, 3, 1, 9, 0, tzinfo=UTC)  # a Tuesday; 10:00 in Berlin


def recurring_series(server, person, calendar):
    """A weekly series of 4 in Europe/Berlin whose second occurrence is excluded and whose
    third one is moved by two hours (an override).  Made through the API when the server
    accepts recurrence; with the recurrence stub of this tree (src/core/recur.c) it refuses
    every rule, so the rows are written as the API would write them instead, which is all the
    export reads."""
    exdate = SERIES_START + timedelta(days=7)
    moved = SERIES_START + timedelta(days=14)
    body = {"title": "Weekly planning", "start": SERIES_START.isoformat(),
            "end": (SERIES_START + timedelta(hours=1)).isoformat(), "time_zone": "Europe/Berlin",
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4",
                           "EXDATE:" + exdate.strftime("%Y%m%dT%H%M%SZ")]}
    r = server.request("POST", f"{CALENDARS}/{calendar}/events", token=person.token,
                       json_body=body)
    if r.status_code == 201:
        sid = r.json()["id"]
        rid = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
        r = server.request("PATCH", f"{EVENTS}/{sid}/instances/{rid}", token=person.token,
                           json_body={"start": (moved + timedelta(hours=2)).isoformat(),
                                      "end": (moved + timedelta(hours=3)).isoformat(),
                                      "title": "Weekly planning (moved)"})
        assert r.status_code == 200, r.text
        return sid
    # The stub refuses without an error detail, which the server answers with a 500.
    assert r.status_code in (422, 500), r.text
    us = lambda dt: int(dt.timestamp()) * 1000000  # noqa: E731
    con = sqlite3.connect(db_path(server), timeout=30)
    try:
        with con:
            now = us(datetime.now(UTC))
            cur = con.execute(
                "INSERT INTO events (uid, calendar_id, organizer_id, title, starts_at, ends_at,"
                " time_zone, rrule, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ("series-%s@planner" % calendar, int(calendar), int(person.id), "Weekly planning",
                 us(SERIES_START), us(SERIES_START + timedelta(hours=1)), "Europe/Berlin",
                 "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:" + exdate.strftime("%Y%m%dT%H%M%SZ"),
                 now, now))
            sid = cur.lastrowid
            con.execute(
                "INSERT INTO events (uid, calendar_id, organizer_id, title, starts_at, ends_at,"
                " time_zone, parent_id, recurrence_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ("series-%s@planner/%d" % (calendar, us(moved)), int(calendar), int(person.id),
                 "Weekly planning (moved)", us(moved + timedelta(hours=2)),
                 us(moved + timedelta(hours=3)), "Europe/Berlin", sid, us(moved), now, now))
            for eid in (sid, sid + 1):
                con.execute("INSERT INTO event_participants (event_id, user_id, role, rsvp)"
                            " VALUES (?, ?, 'organizer', 'accepted')", (eid, int(person.id)))
    finally:
        con.close()
    return str(sid)


# --- the world ----------------------------------------------------------------------------------


class World:
    def __init__(self, server, admin):
        self.server = server
        self.owner = new_person(server, admin, "icalowner", time_zone="Europe/Berlin")
        self.reader = new_person(server, admin, "icalreader")
        self.fb = new_person(server, admin, "icalfb")
        self.guest = new_person(server, admin, "icalguest", name="Gita Guest")
        self.stranger = new_person(server, admin, "icalstranger")
        self.cal = self.owner.calendar
        for p, role in ((self.reader, "read"), (self.fb, "freebusy")):
            r = server.request("PUT", f"{CALENDARS}/{self.cal}/shares/{p.id}",
                               token=self.owner.token, json_body={"role": role})
            assert r.status_code == 200, r.text
        self.cal_name = server.request("GET", f"{CALENDARS}/{self.cal}",
                                       token=self.owner.token).json()["name"]
        day = datetime(2033, 2, 7, tzinfo=UTC)
        self.normal = create_event(
            server, self.owner, day + timedelta(hours=9), day + timedelta(hours=10),
            title=NORMAL_TITLE, description=NORMAL_DESC, location=NORMAL_LOC,
            participants=[{"user_id": self.guest.id}, {"email": "outside@partner.example"}],
            reminders=[{"minutes_before": 15}, {"minutes_before": 60}])
        self.private = create_event(
            server, self.owner, day + timedelta(hours=13), day + timedelta(hours=14),
            title=SECRET_TITLE, description=SECRET_DESC, location=SECRET_LOC,
            visibility="private", participants=[{"email": SECRET_GUEST}],
            reminders=[{"minutes_before": 5}])
        self.allday = server.request("POST", f"{CALENDARS}/{self.cal}/events",
                                     token=self.owner.token,
                                     json_body={"title": "Offsite", "all_day": True,
                                                "start": "2033-02-09", "end": "2033-02-11"}).json()
        self.newyork = create_event(
            server, self.owner, day + timedelta(hours=15), day + timedelta(hours=16),
            title="Call with New York", time_zone="America/New_York", status="tentative")
        self.series = recurring_series(server, self.owner, self.cal)


@pytest.fixture(scope="module")
def world(server, admin):
    return World(server, admin)


# --- the whole calendar ---------------------------------------------------------------------------


def test_calendar_export_holds_what_was_created(server, world):
    r = ics(server, f"{CALENDARS}/{world.cal}/export.ics", world.owner.token)
    cal = parse(r)
    assert str(cal["X-WR-CALNAME"]) == world.cal_name
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Berlin"
    zones = {str(z["TZID"]) for z in cal.walk("VTIMEZONE")}
    assert zones == {"Europe/Berlin", "America/New_York"}
    by_uid = events_by_uid(cal)

    ev, = by_uid[world.normal["uid"]]
    assert str(ev["SUMMARY"]) == NORMAL_TITLE
    assert str(ev["DESCRIPTION"]) == NORMAL_DESC
    assert str(ev["LOCATION"]) == NORMAL_LOC
    assert str(ev["CLASS"]) == "PUBLIC"
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert instant(ev, "DTSTART") == utc(world.normal["start"])
    assert instant(ev, "DTEND") == utc(world.normal["end"])
    assert str(ev["ORGANIZER"]).lower() == f"mailto:{world.owner.email}"
    people = {str(a).lower()[7:]: a.params for a in attendees(ev)}
    assert set(people) == {world.owner.email, world.guest.email, "outside@partner.example"}
    assert people[world.owner.email]["PARTSTAT"] == "ACCEPTED"
    assert people[world.owner.email]["ROLE"] == "CHAIR"
    assert people[world.guest.email]["PARTSTAT"] == "NEEDS-ACTION"
    assert people[world.guest.email]["CN"] == "Gita Guest"
    triggers = sorted(a.decoded("TRIGGER") for a in ev.walk("VALARM"))
    assert triggers == [timedelta(minutes=-60), timedelta(minutes=-15)]

    priv, = by_uid[world.private["uid"]]
    assert str(priv["CLASS"]) == "PRIVATE"
    assert str(priv["SUMMARY"]) == SECRET_TITLE  # the owner sees it in full

    day, = by_uid[world.allday["uid"]]
    assert day.decoded("DTSTART") == date(2033, 2, 9)
    assert day.decoded("DTEND") == date(2033, 2, 11)

    ny, = by_uid[world.newyork["uid"]]
    assert ny["DTSTART"].params["TZID"] == "America/New_York"
    assert instant(ny, "DTSTART") == utc(world.newyork["start"])
    assert str(ny["STATUS"]) == "TENTATIVE"


def test_recurring_series_with_exception_and_override(server, world):
    """The series carries its RRULE and EXDATE, the changed occurrence is a VEVENT with the
    series' UID and RECURRENCE-ID, and a calendar library expands them as intended."""
    for path in (f"{CALENDARS}/{world.cal}/export.ics", f"{EVENTS}/{world.series}.ics"):
        cal = parse(ics(server, path, world.owner.token))
        uids = {str(ev["UID"]) for ev in cal.walk("VEVENT") if "RRULE" in ev}
        series = [ev for ev in cal.walk("VEVENT") if str(ev["UID"]) in uids]
        assert len(series) == 2, path
        main = next(ev for ev in series if "RECURRENCE-ID" not in ev)
        over = next(ev for ev in series if "RECURRENCE-ID" in ev)
        assert "/" not in str(over["UID"])
        assert instant(over, "RECURRENCE-ID") == SERIES_START + timedelta(days=14)
        assert over["RECURRENCE-ID"].params["TZID"] == "Europe/Berlin"
        starts = sorted(
            (o.decoded("DTSTART").astimezone(UTC), str(o["SUMMARY"]))
            for o in recurring_ical_events.of(cal).between(SERIES_START - timedelta(days=1),
                                                           SERIES_START + timedelta(days=60))
            if str(o["UID"]) in uids)
        assert starts == [
            (SERIES_START, "Weekly planning"),
            (SERIES_START + timedelta(days=14, hours=2), "Weekly planning (moved)"),
            (SERIES_START + timedelta(days=21), "Weekly planning"),
        ], (path, starts, main.to_ical())


def test_export_etag_and_not_modified(server, world):
    path = f"{CALENDARS}/{world.cal}/export.ics"
    first = ics(server, path, world.owner.token)
    again = ics(server, path, world.owner.token)
    assert again.content == first.content, "an unchanged calendar exports the same bytes"
    assert again.headers["ETag"] == first.headers["ETag"]
    r = server.request("GET", path, token=world.owner.token,
                       headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 304 and r.content == b""
    ev = create_event(server, world.owner, datetime(2033, 2, 8, 8, tzinfo=UTC),
                      datetime(2033, 2, 8, 9, tzinfo=UTC), title="One more")
    changed = ics(server, path, world.owner.token)
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert ev["uid"] in changed.text
    r = server.request("DELETE", f"{EVENTS}/{ev['id']}", token=world.owner.token)
    assert r.status_code == 204


def test_calendar_export_access(server, world, admin):
    path = f"{CALENDARS}/{world.cal}/export.ics"
    assert_problem(server.request("GET", path), 401, "unauthorized")
    assert_problem(server.request("GET", path, token=world.stranger.token), 404, "not-found")
    assert_problem(server.request("GET", path, token=admin), 404, "not-found")
    assert_problem(server.request("GET", f"{CALENDARS}/999999/export.ics",
                                  token=world.owner.token), 404, "not-found")


def test_freebusy_share_gets_busy_only_and_nothing_leaks(server, world):
    r = ics(server, f"{CALENDARS}/{world.cal}/export.ics", world.fb.token)
    for s in SECRETS + (NORMAL_TITLE[:12], "Room 4.01", "Offsite", "New York", "outside@",
                        world.guest.email, "Weekly planning", "mailto:", "VALARM", "ATTENDEE",
                        "ORGANIZER", "DESCRIPTION", "\r\nLOCATION", "CLASS:PUBLIC"):
        assert s not in r.text, s
    cal = parse(r)
    evs = cal.walk("VEVENT")
    assert len(evs) == 6  # four events, a series and its override: every busy time shows
    for ev in evs:
        assert str(ev["SUMMARY"]) == "Busy"
        assert str(ev["CLASS"]) == "PRIVATE"
        assert set(ev.keys()) <= {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "CLASS",
                                  "STATUS", "SEQUENCE", "RRULE", "EXDATE", "RDATE",
                                  "RECURRENCE-ID"}, ev.keys()
    by_uid = events_by_uid(cal)
    normal, = by_uid[world.normal["uid"]]
    assert instant(normal, "DTSTART") == utc(world.normal["start"])


def test_read_share_sees_private_events_busy_only(server, world):
    r = ics(server, f"{CALENDARS}/{world.cal}/export.ics", world.reader.token)
    for s in SECRETS:
        assert s not in r.text, s
    by_uid = events_by_uid(parse(r))
    normal, = by_uid[world.normal["uid"]]
    assert str(normal["SUMMARY"]) == NORMAL_TITLE
    priv, = by_uid[world.private["uid"]]
    assert str(priv["SUMMARY"]) == "Busy"
    assert "ATTENDEE" not in priv and "VALARM" not in priv.to_ical().decode()
    assert instant(priv, "DTSTART") == utc(world.private["start"])


def test_participant_without_share_gets_the_event_but_not_the_calendar(server, world):
    r = ics(server, f"{EVENTS}/{world.normal['id']}.ics", world.guest.token)
    cal = parse(r)
    assert "X-WR-CALNAME" not in cal
    ev, = cal.walk("VEVENT")
    assert str(ev["SUMMARY"]) == NORMAL_TITLE
    assert_problem(server.request("GET", f"{CALENDARS}/{world.cal}/export.ics",
                                  token=world.guest.token), 404, "not-found")


# --- one event ------------------------------------------------------------------------------------


def test_event_export(server, world):
    r = ics(server, f"{EVENTS}/{world.normal['id']}.ics", world.owner.token)
    cal = parse(r)
    ev, = cal.walk("VEVENT")
    assert str(ev["UID"]) == world.normal["uid"]
    assert str(ev["SUMMARY"]) == NORMAL_TITLE
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    again = server.request("GET", f"{EVENTS}/{world.normal['id']}.ics", token=world.owner.token,
                           headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    # The JSON route next to it still answers JSON: neither shadows the other.
    j = server.request("GET", f"{EVENTS}/{world.normal['id']}", token=world.owner.token)
    assert j.status_code == 200 and j.json()["uid"] == world.normal["uid"]


def test_event_export_busy_only_and_access(server, world):
    for who in (world.fb, world.reader):
        r = ics(server, f"{EVENTS}/{world.private['id']}.ics", who.token)
        for s in SECRETS:
            assert s not in r.text, s
        ev, = parse(r).walk("VEVENT")
        assert str(ev["SUMMARY"]) == "Busy" and str(ev["CLASS"]) == "PRIVATE"
    path = f"{EVENTS}/{world.private['id']}.ics"
    assert_problem(server.request("GET", path), 401, "unauthorized")
    assert_problem(server.request("GET", path, token=world.stranger.token), 404, "not-found")
    assert_problem(server.request("GET", f"{EVENTS}/999999.ics", token=world.owner.token),
                   404, "not-found")
    assert_problem(server.request("GET", f"{EVENTS}/abc.ics", token=world.owner.token),
                   404, "not-found")
    # An override's own row id is not an event of the API: its series is exported instead.
    override = db_rows(server, "SELECT id FROM events WHERE parent_id = ?",
                       (int(world.series),))[0][0]
    assert_problem(server.request("GET", f"{EVENTS}/{override}.ics", token=world.owner.token),
                   404, "not-found")


# --- feeds --------------------------------------------------------------------------------------


def make_feed(server, person, calendar, **kw):
    r = server.request("POST", f"{CALENDARS}/{calendar}/feed", token=person.token, **kw)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"calendar_id", "url", "token", "created_at"}, body
    assert body["calendar_id"] == calendar
    assert body["url"] == f"/feeds/{body['token']}.ics"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["token"]), body
    assert r.headers["Location"] == body["url"]
    return body


def test_feed_lifecycle(server, world):
    cal = server.request("POST", CALENDARS, token=world.owner.token,
                         json_body={"name": "Feed lifecycle"}).json()["id"]
    create_event(server, world.owner, datetime(2033, 4, 4, 9, tzinfo=UTC),
                 datetime(2033, 4, 4, 10, tzinfo=UTC), calendar=cal, title="Visible in feed")
    create_event(server, world.owner, datetime(2033, 4, 4, 11, tzinfo=UTC),
                 datetime(2033, 4, 4, 12, tzinfo=UTC), calendar=cal, title=SECRET_TITLE,
                 description=SECRET_DESC, location=SECRET_LOC, visibility="private",
                 participants=[{"email": SECRET_GUEST}])
    feed = make_feed(server, world.owner, cal)

    # No login: the URL is the credential.  A read share's view: private events busy-only.
    r = ics(server, feed["url"])
    for s in SECRETS:
        assert s not in r.text, s
    summaries = sorted(str(ev["SUMMARY"]) for ev in parse(r).walk("VEVENT"))
    assert summaries == ["Busy", "Visible in feed"]
    assert server.request("GET", feed["url"], headers={"If-None-Match": r.headers["ETag"]}
                          ).status_code == 304
    # A bearer token changes nothing about what the feed shows.
    assert ics(server, feed["url"], world.owner.token).content == r.content

    # Revoked: dead at once, and a second revocation finds nothing.
    assert server.request("DELETE", f"{CALENDARS}/{cal}/feed", token=world.owner.token
                          ).status_code == 204
    assert_problem(server.request("GET", feed["url"]), 404, "not-found")
    assert_problem(server.request("DELETE", f"{CALENDARS}/{cal}/feed", token=world.owner.token),
                   404, "not-found")

    # A new feed has a new URL; a further one replaces it and the earlier URL dies.
    second = make_feed(server, world.owner, cal)
    assert second["token"] != feed["token"]
    assert ics(server, second["url"]).status_code == 200
    third = make_feed(server, world.owner, cal)
    assert third["url"] != second["url"]
    assert_problem(server.request("GET", second["url"]), 404, "not-found")
    assert_problem(server.request("GET", feed["url"]), 404, "not-found")
    assert ics(server, third["url"]).status_code == 200

    # Deleting the calendar ends its feed.
    assert server.request("DELETE", f"{CALENDARS}/{cal}", token=world.owner.token
                          ).status_code == 204
    assert_problem(server.request("GET", third["url"]), 404, "not-found")


def test_feed_tokens_are_stored_only_as_hashes(server, world):
    cal = server.request("POST", CALENDARS, token=world.owner.token,
                         json_body={"name": "Feed hashing"}).json()["id"]
    key = f"feed-key-{cal}"
    first = make_feed(server, world.owner, cal, headers={"Idempotency-Key": key})
    rows = db_rows(server, "SELECT token_hash FROM calendar_feeds WHERE calendar_id = ?",
                   (int(cal),))
    assert len(rows) == 1 and re.fullmatch(r"[0-9a-f]{64}", rows[0][0])
    assert first["token"] not in rows[0][0]
    # The answer holds the secret, so it is not kept for replays: a retry makes a new feed.
    assert db_rows(server, "SELECT COUNT(*) FROM idempotency_keys WHERE body LIKE ?",
                   (f"%{first['token']}%",))[0][0] == 0
    retry = make_feed(server, world.owner, cal, headers={"Idempotency-Key": key})
    assert retry["token"] != first["token"]
    assert_problem(server.request("GET", first["url"]), 404, "not-found")
    assert ics(server, retry["url"]).status_code == 200


def test_unknown_and_malformed_feed_tokens_are_404(server, world):
    for path in ("/feeds/" + "A" * 43 + ".ics", "/feeds/short.ics", "/feeds/" + "é" * 43 + ".ics",
                 "/feeds/" + "A" * 200 + ".ics"):
        assert_problem(server.request("GET", path), 404, "not-found")


def test_feed_is_the_owners_to_publish(server, world, admin):
    path = f"{CALENDARS}/{world.cal}/feed"
    assert_problem(server.request("POST", path), 401, "unauthorized")
    for who in (world.reader, world.fb):
        assert_problem(server.request("POST", path, token=who.token), 403, "forbidden")
        assert_problem(server.request("DELETE", path, token=who.token), 403, "forbidden")
    for token in (world.stranger.token, admin):
        assert_problem(server.request("POST", path, token=token), 404, "not-found")
        assert_problem(server.request("DELETE", path, token=token), 404, "not-found")


def test_feed_stops_when_its_owner_is_deactivated(server, admin):
    person = new_person(server, admin, "icalleaver")
    feed = make_feed(server, person, person.calendar)
    assert ics(server, feed["url"]).status_code == 200
    assert server.request("DELETE", f"{API}/users/{person.id}", token=admin).status_code in (200, 204)
    assert_problem(server.request("GET", feed["url"]), 404, "not-found")


# --- no N+1 -----------------------------------------------------------------------------------------


def test_export_query_count_does_not_grow_with_the_calendar(server, admin):
    person = new_person(server, admin, "icalcount")
    small = server.request("POST", CALENDARS, token=person.token,
                           json_body={"name": "Small"}).json()["id"]
    big = server.request("POST", CALENDARS, token=person.token,
                         json_body={"name": "Big"}).json()["id"]
    guest = new_person(server, admin, "icalcountguest")
    base = datetime(2034, 1, 2, tzinfo=UTC)
    create_event(server, person, base, base + timedelta(hours=1), calendar=small,
                 participants=[{"user_id": guest.id}], reminders=[{"minutes_before": 10}])
    for i in range(40):
        start = base + timedelta(hours=i)
        create_event(server, person, start, start + timedelta(minutes=30), calendar=big,
                     participants=[{"user_id": guest.id}, {"email": f"x{i}@example.org"}],
                     reminders=[{"minutes_before": 10}])
    a = ics(server, f"{CALENDARS}/{small}/export.ics", person.token)
    b = ics(server, f"{CALENDARS}/{big}/export.ics", person.token)
    assert len(parse(b).walk("VEVENT")) == 40
    assert queries(a) == queries(b) <= 5, (queries(a), queries(b))
    feed_small = make_feed(server, person, small)
    feed_big = make_feed(server, person, big)
    assert queries(ics(server, feed_small["url"])) == queries(ics(server, feed_big["url"]))


# --- the command line --------------------------------------------------------------------------------


def run_cli(*args):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    p = subprocess.run([BIN, *args], capture_output=True, env=e, timeout=60 if ASAN else 20)
    if ASAN:
        err = p.stderr.decode(errors="replace")
        assert "Sanitizer" not in err and "runtime error:" not in err, err[-4000:]
    return p


def test_cli_export_equals_the_http_export(server, world):
    r = ics(server, f"{CALENDARS}/{world.cal}/export.ics", world.owner.token)
    p = run_cli("export", "--calendar", world.cal, "--database", server.db)
    assert p.returncode == 0, p.stderr
    # DTSTAMP is each event's last change, not the time of the export: the bytes are equal.
    strip = lambda b: re.sub(rb"\r\nDTSTAMP:[0-9TZ]+\r\n", b"\r\n", b)  # noqa: E731
    assert strip(p.stdout) == strip(r.content)
    assert p.stdout == r.content
    parse(r)


def test_cli_export_errors(server, world):
    p = run_cli("export", "--database", server.db)
    assert p.returncode == 2 and b"--calendar" in p.stderr
    p = run_cli("export", "--calendar", "abc", "--database", server.db)
    assert p.returncode == 2 and b"--calendar" in p.stderr
    p = run_cli("export", "--calendar", "999999", "--database", server.db)
    assert p.returncode == 1 and b"no such calendar" in p.stderr
    assert p.stdout == b""
    p = run_cli("export", "--help")
    assert p.returncode == 0 and b"--calendar" in p.stdout
