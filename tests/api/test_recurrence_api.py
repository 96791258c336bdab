"""Recurring events through the API: room bookings of series, overrides kept or dropped when
the series changes, this-and-following, the horizon and the explosion cap."""
import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import assert_problem
from helpers_events import db_path, db_rows, rfc3339


@pytest.fixture(scope="module")
def ctx(server, admin):
    u = server.create_user(admin, "rec-api@example.org", "Rec", time_zone="Europe/Berlin")
    t = server.login("rec-api@example.org", "correct horse")
    cal = server.request("GET", "/api/v1/calendars", token=t).json()["items"][0]["id"]
    room = server.request("POST", "/api/v1/rooms", token=admin,
                          json_body={"name": "Recurring room", "capacity": 8}).json()
    return {"t": t, "cal": cal, "room": room["id"], "uid": u["id"]}


def create(server, ctx, **body):
    """An event in UTC unless the body names a zone (the calendar's is Europe/Berlin, whose
    DST change would move UTC times of a series by an hour)."""
    return server.request("POST", f"/api/v1/calendars/{ctx['cal']}/events", token=ctx["t"],
                          json_body={"title": "r", "time_zone": "UTC", **body})


def instances(server, ctx, ev_id, frm="2026-01-01T00:00:00Z", to="2026-12-31T00:00:00Z"):
    r = server.request("GET", f"/api/v1/events/{ev_id}/instances?from={frm}&to={to}&limit=1000",
                       token=ctx["t"])
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_weekly_booking_blocks_every_occurrence(server, ctx):
    r = create(server, ctx, start="2026-03-02T09:00:00Z", end="2026-03-02T10:00:00Z",
               room_id=ctx["room"], recurrence=["RRULE:FREQ=WEEKLY;COUNT=10"])
    assert r.status_code == 201, r.text
    series = r.json()
    # A single booking on the 7th Monday is refused, naming the series.
    single = create(server, ctx, start="2026-04-13T09:30:00Z", end="2026-04-13T10:30:00Z",
                    room_id=ctx["room"])
    p = assert_problem(single, 409, "conflict", "room_id")
    assert [c["event_id"] for c in p["conflicts"]] == [series["id"]]
    assert p["conflicts"][0]["start"] == "2026-04-13T09:00:00Z"
    # Another series meeting it on three Mondays is refused, listing them...
    other = create(server, ctx, start="2026-04-06T09:30:00Z", end="2026-04-06T10:00:00Z",
                   room_id=ctx["room"], recurrence=["RRULE:FREQ=WEEKLY;COUNT=6"])
    p = assert_problem(other, 409, "conflict")
    assert [c["start"] for c in p["conflicts"]] == [
        "2026-04-06T09:00:00Z", "2026-04-13T09:00:00Z", "2026-04-20T09:00:00Z",
        "2026-04-27T09:00:00Z", "2026-05-04T09:00:00Z"]
    # ...or, asked to, booked without them (they become EXDATEs).
    other = create(server, ctx, start="2026-04-06T09:30:00Z", end="2026-04-06T10:00:00Z",
                   room_id=ctx["room"], recurrence=["RRULE:FREQ=WEEKLY;COUNT=6"],
                   skip_conflicts=True)
    assert other.status_code == 201, other.text
    kept = [o["start"] for o in instances(server, ctx, other.json()["id"])]
    assert kept == ["2026-05-11T09:30:00Z"]
    assert len(other.json()["recurrence"]) == 1 + 5


def test_a_series_with_every_occurrence_excluded_has_none(server, ctx):
    """Excluded all, at creation or one by one, a series has no occurrence: no instance, no
    room booked, nothing in the agenda (it was indexed as a single event at its excluded
    first start)."""
    s = create(server, ctx, start="2026-07-06T09:00:00Z", end="2026-07-06T10:00:00Z",
               room_id=ctx["room"], recurrence=["RRULE:FREQ=DAILY;COUNT=2",
                                                "EXDATE:20260706T090000Z",
                                                "EXDATE:20260707T090000Z"])
    assert s.status_code == 201, s.text
    t = create(server, ctx, start="2026-07-13T09:00:00Z", end="2026-07-13T10:00:00Z",
               room_id=ctx["room"], recurrence=["RRULE:FREQ=DAILY;COUNT=2"]).json()
    for day in ("13", "14"):
        r = server.request("DELETE", f"/api/v1/events/{t['id']}/instances/2026-07-{day}T09:00:00Z",
                           token=ctx["t"])
        assert r.status_code == 204, r.text
    for ev, day in ((s.json(), "06"), (t, "13")):
        assert instances(server, ctx, ev["id"]) == []
        r = server.request("GET", "/api/v1/me/agenda", token=ctx["t"],
                           params={"from": f"2026-07-{day}T00:00:00Z",
                                   "to": f"2026-07-{day}T23:00:00Z"})
        assert r.status_code == 200 and ev["id"] not in [o["event_id"] for o in r.json()["items"]]
        free = create(server, ctx, start=f"2026-07-{day}T09:00:00Z",
                      end=f"2026-07-{day}T10:00:00Z", room_id=ctx["room"])
        assert free.status_code == 201, free.text


def test_a_new_title_keeps_the_occurrences_and_shows_on_them(server, ctx):
    """A PATCH of what occurrences only show (title, description, location) keeps the
    occurrences themselves, their room booking and the reminders (same rows, same ids), and
    every one of them shows the new title at once."""
    s = create(server, ctx, start="2027-03-01T09:00:00Z", end="2027-03-01T10:00:00Z",
               room_id=ctx["room"], recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"],
               reminders=[{"minutes_before": 10}]).json()
    rows = "SELECT id, starts_at FROM event_instances WHERE event_id = ? ORDER BY starts_at"
    reminders = ("SELECT id, title FROM notifications WHERE event_id = ? AND type = 'reminder'"
                 " ORDER BY id")
    # A later occurrence, so that ids made again would not be the same ones.
    assert create(server, ctx, start="2027-05-03T09:00:00Z",
                  end="2027-05-03T10:00:00Z").status_code == 201
    occurrences = db_rows(server, rows, (int(s["id"]),))
    kept = db_rows(server, reminders, (int(s["id"]),))
    assert len(occurrences) == 3 and len(kept) == 3
    r = server.request("PATCH", f"/api/v1/events/{s['id']}", token=ctx["t"],
                       headers={"If-Match": s["etag"]},
                       json_body={"title": "Renamed weekly", "description": "d",
                                  "location": "Hall"})
    assert r.status_code == 200, r.text
    assert db_rows(server, rows, (int(s["id"]),)) == occurrences
    assert db_rows(server, reminders, (int(s["id"]),)) == [(i, "Renamed weekly") for i, _ in kept]
    shown = instances(server, ctx, s["id"], frm="2027-02-01T00:00:00Z", to="2027-04-01T00:00:00Z")
    assert [(o["title"], o["location"]) for o in shown] == [("Renamed weekly", "Hall")] * 3
    clash = create(server, ctx, start="2027-03-08T09:30:00Z", end="2027-03-08T10:30:00Z",
                   room_id=ctx["room"])
    p = assert_problem(clash, 409, "conflict", "room_id")
    assert [c["event_id"] for c in p["conflicts"]] == [s["id"]]
    # A change of time is a change of the occurrences: they are made again.
    r = server.request("PATCH", f"/api/v1/events/{s['id']}", token=ctx["t"],
                       headers={"If-Match": r.json()["etag"]},
                       json_body={"start": "2027-03-01T11:00:00Z", "end": "2027-03-01T12:00:00Z"})
    assert r.status_code == 200, r.text
    moved = db_rows(server, rows, (int(s["id"]),))
    assert [t for _, t in moved] == [t + 2 * 3600 * 1_000_000 for _, t in occurrences]


def test_an_occurrence_moved_onto_another_is_one_conflict(server, ctx):
    """An occurrence moved onto another of its own series does not clash with it (a booking
    never clashes with its own series), and a booking over both hears of them once."""
    s = create(server, ctx, start="2027-06-07T09:00:00Z", end="2027-06-07T10:00:00Z",
               room_id=ctx["room"], recurrence=["RRULE:FREQ=DAILY;COUNT=3"]).json()
    r = server.request("PATCH", f"/api/v1/events/{s['id']}/instances/2027-06-07T09:00:00Z",
                       token=ctx["t"], json_body={"start": "2027-06-08T09:00:00Z",
                                                  "end": "2027-06-08T10:00:00Z"})
    assert r.status_code == 200, r.text
    for start, end in (("2027-06-08T09:30:00Z", "2027-06-08T10:30:00Z"),
                       ("2027-06-08T08:00:00Z", "2027-06-08T12:00:00Z")):
        p = assert_problem(create(server, ctx, start=start, end=end, room_id=ctx["room"]), 409,
                           "conflict", "room_id")
        assert [(c["event_id"], c["start"]) for c in p["conflicts"]] == [
            (s["id"], "2027-06-08T09:00:00Z")], p["conflicts"]


def test_cancelling_one_occurrence_frees_the_room(server, ctx):
    s = create(server, ctx, start="2026-06-01T09:00:00Z", end="2026-06-01T10:00:00Z",
               room_id=ctx["room"], recurrence=["RRULE:FREQ=DAILY;COUNT=5"]).json()
    r = server.request("DELETE", f"/api/v1/events/{s['id']}/instances/2026-06-03T09:00:00Z",
                       token=ctx["t"])
    assert r.status_code == 204, r.text
    free = create(server, ctx, start="2026-06-03T09:00:00Z", end="2026-06-03T10:00:00Z",
                  room_id=ctx["room"])
    assert free.status_code == 201, free.text
    starts = [o["start"][:10] for o in instances(server, ctx, s["id"])]
    assert starts == ["2026-06-01", "2026-06-02", "2026-06-04", "2026-06-05"]


def test_a_cancelled_occurrence_names_only_a_room_that_is(server, ctx):
    """As for an event: an occurrence cancelled and moved to a missing room, alone or with
    what follows it, is a 422 that changes nothing (it was a 500)."""
    s = create(server, ctx, start="2026-06-15T09:00:00Z", end="2026-06-15T10:00:00Z",
               recurrence=["RRULE:FREQ=DAILY;COUNT=5"]).json()
    before = instances(server, ctx, s["id"])
    for scope in ("", "?scope=following"):
        r = server.request("PATCH", f"/api/v1/events/{s['id']}/instances/2026-06-17T09:00:00Z"
                           + scope, token=ctx["t"],
                           json_body={"status": "cancelled", "room_id": "999999"})
        assert_problem(r, 422, field="room_id")
        assert instances(server, ctx, s["id"]) == before


def test_events_start_in_1900_or_later(server, ctx):
    """A series is indexed from its first start on, and libical walks rules across 1582 out of
    order: a weekly series from 1400 was a 500, a daily one from year 1 took 45 s of the writer
    lock.  The earliest start is 1900; refused, nothing is created."""
    before = db_rows(server, "SELECT count(*) FROM events")
    for start in ("1899-12-31T23:00:00Z", "1400-01-05T16:30:00Z", "0001-01-01T10:00:00Z"):
        end = start[:11] + "23:59:00Z"
        for rec in ([], ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE"], ["RRULE:FREQ=DAILY"]):
            assert_problem(create(server, ctx, start=start, end=end, recurrence=rec), 422,
                           field="start")
    assert db_rows(server, "SELECT count(*) FROM events") == before
    r = create(server, ctx, start="1900-01-01T00:00:00Z", end="1900-01-01T01:00:00Z")
    assert r.status_code == 201, r.text
    r = server.request("PATCH", f"/api/v1/events/{r.json()['id']}", token=ctx["t"],
                       json_body={"start": "1899-12-31T23:00:00Z"},
                       headers={"If-Match": r.json()["etag"]})
    assert_problem(r, 422, field="start")


def test_a_series_indexes_at_most_20000_occurrences(server, ctx):
    """Every occurrence from the first start to the horizon is indexed in the write that makes
    the series, so a long past costs in proportion (six a day from 1900: 13 s of the writer
    lock).  Past 20,000 the series is refused, whatever its rule; one that ends, or recurs
    less often, is not."""
    before = db_rows(server, "SELECT count(*) FROM events")
    for start, rule in (("1960-03-01", "RRULE:FREQ=DAILY"),
                        ("2000-03-01", "RRULE:FREQ=DAILY;BYHOUR=8,9,10,11,12,13"),
                        ("1950-03-01", "RRULE:FREQ=DAILY;COUNT=30000")):
        r = create(server, ctx, start=f"{start}T08:00:00Z", end=f"{start}T08:30:00Z",
                   recurrence=[rule])
        p = assert_problem(r, 422, field="recurrence")
        assert "20000" in p["detail"], p
    assert db_rows(server, "SELECT count(*) FROM events") == before
    for start, rule in (("1960-03-01", "RRULE:FREQ=WEEKLY"),
                        ("1960-03-01", "RRULE:FREQ=DAILY;UNTIL=19700101T000000Z"),
                        ("2000-03-01", "RRULE:FREQ=DAILY")):
        r = create(server, ctx, start=f"{start}T08:00:00Z", end=f"{start}T08:30:00Z",
                   recurrence=[rule])
        assert r.status_code == 201, (rule, r.text)


def test_series_edit_keeps_overrides_that_still_apply(server, ctx):
    s = create(server, ctx, start="2026-07-06T08:00:00Z", end="2026-07-06T09:00:00Z",
               recurrence=["RRULE:FREQ=WEEKLY;COUNT=6"]).json()
    for rid, title in (("2026-07-13T08:00:00Z", "second"), ("2026-08-10T08:00:00Z", "sixth")):
        r = server.request("PATCH", f"/api/v1/events/{s['id']}/instances/{rid}", token=ctx["t"],
                           json_body={"title": title})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == s["id"] and r.json()["recurrence_id"] == rid
    # Four occurrences now: the sixth is gone, its override with it; the second stays.
    s = server.request("GET", f"/api/v1/events/{s['id']}", token=ctx["t"]).json()
    r = server.request("PATCH", f"/api/v1/events/{s['id']}", token=ctx["t"],
                       json_body={"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]},
                       headers={"If-Match": s["etag"]})
    assert r.status_code == 200, r.text
    got = [(o["start"], o["title"]) for o in instances(server, ctx, s["id"])]
    assert got == [("2026-07-06T08:00:00Z", "r"), ("2026-07-13T08:00:00Z", "second"),
                   ("2026-07-20T08:00:00Z", "r"), ("2026-07-27T08:00:00Z", "r")]
    assert server.request("PATCH", f"/api/v1/events/{s['id']}/instances/2026-07-14T08:00:00Z",
                          token=ctx["t"], json_body={"title": "x"}).status_code == 404


def test_this_and_following_splits_the_series(server, ctx):
    s = create(server, ctx, start="2026-09-07T07:00:00Z", end="2026-09-07T08:00:00Z",
               time_zone="Europe/Berlin", recurrence=["RRULE:FREQ=WEEKLY;COUNT=6"]).json()
    r = server.request("PATCH", f"/api/v1/events/{s['id']}/instances/2026-09-21T07:00:00Z"
                       "?scope=following", token=ctx["t"],
                       json_body={"title": "later", "start": "2026-09-21T09:00:00+02:00",
                                  "end": "2026-09-21T10:00:00+02:00"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != s["id"] and new["uid"] != s["uid"]
    old = [o["start"] for o in instances(server, ctx, s["id"])]
    rest = [(o["start"], o["title"]) for o in instances(server, ctx, new["id"])]
    assert old == ["2026-09-07T07:00:00Z", "2026-09-14T07:00:00Z"]
    # Four more, two hours later, the last one across the end of DST still at 09:00 Berlin.
    assert rest == [("2026-09-21T07:00:00Z", "later"), ("2026-09-28T07:00:00Z", "later"),
                    ("2026-10-05T07:00:00Z", "later"), ("2026-10-12T07:00:00Z", "later")]
    bad = server.request("PATCH", f"/api/v1/events/{s['id']}/instances/2026-09-14T07:00:00Z"
                         "?scope=everything", token=ctx["t"], json_body={"title": "x"})
    assert_problem(bad, 422, "validation", "scope")


def test_listings_follow_every_change_of_what_they_show(server, ctx, admin):
    """An occurrence carries the title, location, time zone, visibility, organizer and series
    of its event, and user_instances whether its user takes part (migration 011): the ways
    those change reach the agenda, the calendar listing and the room's bookings, the
    participant's agenda included.  The split moves an override to the new series without
    rebuilding it; only the copy trigger keeps its series right."""
    server.create_user(admin, "rec-guest@example.org", "Guest")
    guest = server.login("rec-guest@example.org", "correct horse")
    guest_id = server.request("GET", "/api/v1/me", token=guest).json()["id"]
    frm, to = "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z"
    s = create(server, ctx, start="2026-11-02T10:00:00Z", end="2026-11-02T11:00:00Z",
               room_id=ctx["room"], location="old place",
               recurrence=["RRULE:FREQ=WEEKLY;COUNT=6"],
               participants=[{"user_id": guest_id}]).json()
    r = server.request("PATCH", f"/api/v1/events/{s['id']}", token=ctx["t"],
                       json_body={"title": "renamed", "location": "new place",
                                  "visibility": "private"},
                       headers={"If-Match": s["etag"]})
    assert r.status_code == 200, r.text
    r = server.request("PATCH", f"/api/v1/events/{s['id']}/instances/2026-12-07T10:00:00Z",
                       token=ctx["t"], json_body={"title": "moved override"})
    assert r.status_code == 200, r.text
    r = server.request("PATCH", f"/api/v1/events/{s['id']}/instances/2026-11-23T10:00:00Z"
                       "?scope=following", token=ctx["t"], json_body={"title": "second half"})
    assert r.status_code == 200, r.text
    new = r.json()["id"]

    def mine(path, token):
        r = server.request("GET", path, token=token, params={"from": frm, "to": to,
                                                             "limit": 500})
        assert r.status_code == 200, r.text
        return [(o["start"][:10], o["event_id"], o.get("title"), o.get("location"),
                 o.get("visibility"))
                for o in r.json()["items"] if o["event_id"] in (s["id"], new)]

    want = [("2026-11-02", s["id"], "renamed", "new place", "private"),
            ("2026-11-09", s["id"], "renamed", "new place", "private"),
            ("2026-11-16", s["id"], "renamed", "new place", "private"),
            ("2026-11-23", new, "second half", "new place", "private"),
            ("2026-11-30", new, "second half", "new place", "private"),
            ("2026-12-07", new, "moved override", "new place", "private")]
    assert mine("/api/v1/me/agenda", ctx["t"]) == want
    assert mine(f"/api/v1/calendars/{ctx['cal']}/events", ctx["t"]) == want
    assert mine(f"/api/v1/rooms/{ctx['room']}/bookings", ctx["t"]) == want
    # The guest takes part, so sees the private event in full in their agenda...
    assert mine("/api/v1/me/agenda", guest) == want
    # ...and, once removed from the second half, the first half and the override, which keeps
    # its own list of people.
    new_ev = server.request("GET", f"/api/v1/events/{new}", token=ctx["t"]).json()
    r = server.request("PATCH", f"/api/v1/events/{new}", token=ctx["t"],
                       json_body={"participants": []}, headers={"If-Match": new_ev["etag"]})
    assert r.status_code == 200, r.text
    assert mine("/api/v1/me/agenda", guest) == want[:3] + want[5:]


def test_far_ranges_are_expanded_on_demand(server, ctx):
    s = create(server, ctx, start="2026-01-05T12:00:00Z", end="2026-01-05T12:30:00Z",
               recurrence=["RRULE:FREQ=MONTHLY;BYDAY=1MO"]).json()
    far = instances(server, ctx, s["id"], "2033-01-01T00:00:00Z", "2033-04-01T00:00:00Z")
    assert [o["start"][:10] for o in far] == ["2033-01-03", "2033-02-07", "2033-03-07"]
    agenda = server.request("GET", "/api/v1/me/agenda?from=2033-02-01T00:00:00Z"
                            "&to=2033-03-01T00:00:00Z", token=ctx["t"]).json()["items"]
    assert [o["start"] for o in agenda if o["event_id"] == s["id"]] == ["2033-02-07T12:00:00Z"]
    too_far = server.request("GET", "/api/v1/me/agenda?from=2090-01-01T00:00:00Z"
                             "&to=2090-02-01T00:00:00Z", token=ctx["t"])
    assert_problem(too_far, 422, "validation", "to")


def test_rules_that_explode_are_refused(server, ctx):
    r = create(server, ctx, start="2026-01-05T12:00:00Z", end="2026-01-05T12:01:00Z",
               recurrence=["RRULE:FREQ=HOURLY"])
    assert_problem(r, 422, "validation", "recurrence")


DAY_US = 86400 * 1_000_000


def short_horizon_server(make_server):
    """A server of its own with a 60-day horizon, its administrator's token, and a member's
    token and default calendar."""
    s = make_server(env={"PLANNER_RECURRENCE_HORIZON_DAYS": "60"}, workers=1, threads=2)
    admin = s.admin_token()
    s.create_user(admin, "horizon@example.org", "H")
    t = s.login("horizon@example.org", "correct horse")
    cal = s.request("GET", "/api/v1/calendars", token=t).json()["items"][0]["id"]
    return s, admin, t, cal


def test_writes_materialise_a_month_past_the_horizon_and_reads_only_what_they_ask(make_server):
    """docs/architecture.md, "Recurring events": a write needs every series expanded to the
    horizon ahead of now (its room checks cover that far), a read only to the end of its range,
    and only the series it can meet; an extension goes 30 days past the need, so that it comes
    once a month, not every day."""
    day = DAY_US
    s, admin, t, cal = short_horizon_server(make_server)
    room = s.request("POST", "/api/v1/rooms", token=admin,
                     json_body={"name": "Weekly", "capacity": 4}).json()["id"]

    def meta():
        return db_rows(s, "SELECT value FROM meta WHERE key = 'materialized_until'")[0][0]

    now = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    start = now + timedelta(days=1)
    r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body={
        "title": "weekly", "time_zone": "UTC", "start": rfc3339(start),
        "end": rfc3339(start + timedelta(hours=1)), "room_id": room,
        "recurrence": ["RRULE:FREQ=WEEKLY"]})
    assert r.status_code == 201, r.text
    now_us = int(now.timestamp()) * 1_000_000
    assert now_us + 90 * day <= meta() <= now_us + 93 * day
    # In the month past the horizon the occurrences exist: the room is taken there.
    slack = start + timedelta(weeks=10)  # 71 days ahead: past 60, within the extension
    r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body={
        "title": "single", "time_zone": "UTC", "start": rfc3339(slack),
        "end": rfc3339(slack + timedelta(minutes=30)), "room_id": room})
    assert r.status_code == 409, r.text
    # A read inside what exists changes nothing; a read further out extends to its end + 30 days.
    before = meta()
    r = s.request("GET", "/api/v1/me/agenda", token=t,
                  params={"from": rfc3339(start), "to": rfc3339(start + timedelta(days=7))})
    assert r.status_code == 200, r.text
    assert meta() == before
    far = start + timedelta(weeks=40)
    r = s.request("GET", "/api/v1/me/agenda", token=t,
                  params={"from": rfc3339(far - timedelta(hours=1)),
                          "to": rfc3339(far + timedelta(hours=2))})
    assert r.status_code == 200, r.text
    assert [o["start"] for o in r.json()["items"]] == [rfc3339(far)]
    far_us = int((far + timedelta(hours=2)).timestamp()) * 1_000_000
    reach = db_rows(s, "SELECT materialized_until FROM events WHERE title = 'weekly'")[0][0]
    assert far_us + 30 * day <= reach <= far_us + 32 * day
    assert meta() == before  # what every series reaches: only the read's series went further


def writer_lock_taken(s):
    text = s.request("GET", "/metrics").text
    return int(re.search(r"^planner_writer_lock_taken_total (\d+)$", text, re.M).group(1))


def test_a_read_far_out_extends_the_series_in_short_transactions(make_server):
    """A read past what exists extends every series in batches, one transaction each, as the
    idle thread does, so that writers wait for one batch at most: in one transaction, a week
    19 years ahead took 54 s at W200 (2,000 series), and every write meanwhile waited 5 s and
    was answered 503.  A batch stops taking series at 2,000 new occurrences: here 250 series
    of ~50 new ones each make 7 batches and the empty one that moves the mark, each taking the
    writers' lock (in one transaction 1 take, in batches of 100 series 4; 2 and 5 were seen
    with what else wrote)."""
    s, _, t, cal = short_horizon_server(make_server)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    for i in range(250):
        start = now + timedelta(days=1, minutes=30 * i)  # 125 hours: no two in one slot
        r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body={
            "title": f"weekly {i}", "time_zone": "UTC", "start": rfc3339(start),
            "end": rfc3339(start + timedelta(minutes=15)), "recurrence": ["RRULE:FREQ=WEEKLY"]})
        assert r.status_code == 201, r.text
    far = now + timedelta(days=1, weeks=60)
    before = writer_lock_taken(s)
    r = s.request("GET", "/api/v1/me/agenda", token=t,
                  params={"from": rfc3339(far), "to": rfc3339(far + timedelta(minutes=20))})
    assert r.status_code == 200, r.text
    assert [o["title"] for o in r.json()["items"]] == ["weekly 0"]
    taken = writer_lock_taken(s) - before
    assert taken >= 7, taken
    # Every series reaches the read's end: the last week before it holds all 250.
    mark = db_rows(s, "SELECT min(materialized_until) FROM events WHERE rrule IS NOT NULL")[0][0]
    assert mark > int((far + timedelta(minutes=20)).timestamp()) * 1_000_000
    week = db_rows(s, "SELECT count(*) FROM event_instances WHERE starts_at >= ? AND"
                      " starts_at < ?", (mark - 7 * DAY_US, mark))[0][0]
    assert week == 250


def test_a_far_read_extends_only_the_series_it_can_meet(make_server):
    """Past what every series reaches, a read extends the series its answer can hold and no
    others: an agenda those of the user's calendars and those the user takes part in, a
    room's bookings those of the room, a series' instances that series, free/busy and find a
    time those of their users and rooms, a calendar's listing its own.  Every series to 19
    years ahead was 70 s of a core at W200 and left the database 570 MB larger, for any
    user's far read.  Each answer still has every occurrence there is."""
    s, admin, t, cal = short_horizon_server(make_server)
    me = s.request("GET", "/api/v1/me", token=t).json()["id"]
    s.create_user(admin, "other@example.org", "O")
    t2 = s.login("other@example.org", "correct horse")
    cal2 = s.request("GET", "/api/v1/calendars", token=t2).json()["items"][0]["id"]
    room = s.request("POST", "/api/v1/rooms", token=admin,
                     json_body={"name": "Far", "capacity": 4}).json()["id"]
    # The series start at 08:00-11:00 UTC tomorrow, whatever the hour now: find-a-time's
    # working hours below end at 23:59, so a window that crossed midnight (the test run at
    # 23:xx UTC) lost the slot before it (CI saw 00:30 for 23:30).
    now = datetime.now(timezone.utc).replace(hour=8, minute=0, second=0, microsecond=0)
    ids = {}
    for i, (name, token, calendar, extra) in enumerate((
            ("mine", t, cal, {}),
            ("invited", t2, cal2, {"participants": [{"user_id": me}]}),
            ("booked", t2, cal2, {"room_id": room}),
            ("theirs", t2, cal2, {}))):
        start = now + timedelta(days=1, hours=i)
        r = s.request("POST", f"/api/v1/calendars/{calendar}/events", token=token, json_body={
            "title": name, "time_zone": "UTC", "start": rfc3339(start),
            "end": rfc3339(start + timedelta(minutes=30)), "recurrence": ["RRULE:FREQ=WEEKLY"],
            **extra})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]

    def reaching(end):
        """The series expanded past `end` (a datetime)."""
        end_us = int(end.timestamp()) * 1_000_000
        return {title for title, in db_rows(s, "SELECT title FROM events WHERE rrule IS NOT NULL"
                                               " AND materialized_until > ?", (end_us,))}

    # Each request 10 weeks further out than the one before: the series it extends (to 30
    # days past its range) are the only ones that reach past its range's end.
    far = now + timedelta(days=1, weeks=52 * 5)

    def window(k):
        start = far + timedelta(weeks=10 * k)
        return start, start + timedelta(hours=5)

    start, end = window(0)
    r = s.request("GET", "/api/v1/me/agenda", token=t,
                  params={"from": rfc3339(start - timedelta(hours=1)), "to": rfc3339(end)})
    assert r.status_code == 200, r.text
    assert [o["title"] for o in r.json()["items"]] == ["mine", "invited"]
    assert reaching(end) == {"mine", "invited"}
    start, end = window(1)
    r = s.request("GET", f"/api/v1/rooms/{room}/bookings", token=t,
                  params={"from": rfc3339(start), "to": rfc3339(end)})
    assert r.status_code == 200, r.text
    assert [o["event_id"] for o in r.json()["items"]] == [ids["booked"]]
    assert reaching(end) == {"booked"}
    start, end = window(2)
    r = s.request("GET", f"/api/v1/events/{ids['theirs']}/instances", token=t2,
                  params={"from": rfc3339(start), "to": rfc3339(end)})
    assert r.status_code == 200, r.text
    assert [o["start"] for o in r.json()["items"]] == [rfc3339(start + timedelta(hours=3))]
    assert reaching(end) == {"theirs"}
    start, end = window(3)
    r = s.request("POST", "/api/v1/freebusy", token=t, json_body={
        "from": rfc3339(start), "to": rfc3339(end), "users": [me], "rooms": [room]})
    assert r.status_code == 200, r.text
    assert [b["start"] for b in r.json()["users"][str(me)]] == [
        rfc3339(start), rfc3339(start + timedelta(hours=1))]
    assert [b["start"] for b in r.json()["rooms"][str(room)]] == [
        rfc3339(start + timedelta(hours=2))]
    assert reaching(end) == {"mine", "invited", "booked"}
    start, end = window(4)
    r = s.request("GET", f"/api/v1/calendars/{cal2}/events", token=t2,
                  params={"from": rfc3339(start), "to": rfc3339(end)})
    assert r.status_code == 200, r.text
    assert [o["title"] for o in r.json()["items"]] == ["invited", "booked", "theirs"]
    assert reaching(end) == {"invited", "booked", "theirs"}
    start, end = window(5)
    r = s.request("POST", "/api/v1/find-time", token=t, json_body={
        "participants": [me], "duration_minutes": 30, "from": rfc3339(start),
        "to": rfc3339(end), "room": {"capacity_min": 4},
        "working_hours": {"start": "00:00", "end": "23:59", "time_zone": "UTC"}})
    assert r.status_code == 200, r.text
    # 30 minutes after "mine", in "booked"'s room, before "booked": me and the room free.
    assert r.json()["slots"][0]["start"] == rfc3339(start + timedelta(minutes=30))
    assert reaching(end) == {"mine", "invited", "booked"}


def test_a_write_far_out_extends_the_series_before_its_transaction(make_server):
    """A write whose room check needs the room's series past what exists gives its
    transaction up, those series are extended in short transactions, and it runs again
    (api_extend_pending): one event made, answered 201, and kept for its Idempotency-Key.
    Inside its transaction the extension held every other writer up for as long (1 take of
    the writers' lock for it all; here 7 batches).  The series of other rooms and those
    without one are left as they were: the check cannot meet them."""
    s, admin, t, cal = short_horizon_server(make_server)
    room, other = (s.request("POST", "/api/v1/rooms", token=admin,
                             json_body={"name": name, "capacity": 4}).json()["id"]
                   for name in ("Far", "Other"))
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    for i in range(260):
        start = now + timedelta(days=1, minutes=30 * i)
        r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body={
            "title": f"weekly {i}", "time_zone": "UTC", "start": rfc3339(start),
            "end": rfc3339(start + timedelta(minutes=15)), "recurrence": ["RRULE:FREQ=WEEKLY"],
            **({"room_id": room} if i < 250 else {"room_id": other} if i < 255 else {})})
        assert r.status_code == 201, r.text
    reach = db_rows(s, "SELECT max(materialized_until) FROM events")[0][0]
    far = now + timedelta(days=1, weeks=60)
    body = {"title": "far", "time_zone": "UTC", "start": rfc3339(far),
            "end": rfc3339(far + timedelta(minutes=10)), "room_id": room}
    before = writer_lock_taken(s)
    r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body=body,
                  headers={"Idempotency-Key": "far-1"})
    # The room is taken then by "weekly 0", 60 weeks on: the check saw the new occurrences.
    assert r.status_code == 409, r.text
    assert writer_lock_taken(s) - before >= 7
    body["start"] = rfc3339(far + timedelta(minutes=15))
    body["end"] = rfc3339(far + timedelta(minutes=25))
    r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body=body,
                  headers={"Idempotency-Key": "far-2"})
    assert r.status_code == 201, r.text
    again = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body=body,
                      headers={"Idempotency-Key": "far-2"})
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert db_rows(s, "SELECT count(*) FROM events WHERE title = 'far'")[0][0] == 1
    rows = db_rows(s, "SELECT room_id, materialized_until > ? FROM events"
                      " WHERE rrule IS NOT NULL", (reach,))
    assert set(rows) == {(int(room), 1), (int(other), 0), (None, 0)}


def test_each_worker_keeps_the_series_expanded_ahead_in_the_background(make_server):
    """As days pass, the occurrences between the old reach and the horizon are added by each
    worker's idle thread, in short transactions, not by the first request that needs them
    (api_materialize_ahead).  Time passing is played by moving the reach back in the
    database, as if it had been materialised weeks ago."""
    day = DAY_US
    s, _, t, cal = short_horizon_server(make_server)
    now = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    start = now + timedelta(days=1)
    r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body={
        "title": "weekly", "time_zone": "UTC", "start": rfc3339(start),
        "end": rfc3339(start + timedelta(hours=1)), "recurrence": ["RRULE:FREQ=WEEKLY"]})
    assert r.status_code == 201, r.text
    series = r.json()["id"]
    now_us = int(now.timestamp()) * 1_000_000
    back = now_us + 40 * day
    con = sqlite3.connect(db_path(s), timeout=10)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        with con:
            con.execute("UPDATE meta SET value = ? WHERE key = 'materialized_until'", (back,))
            con.execute("UPDATE events SET materialized_until = ? WHERE id = ?", (back, series))
            con.execute("DELETE FROM event_instances WHERE event_id = ? AND starts_at >= ?",
                        (series, back))
    finally:
        con.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        reach = db_rows(s, "SELECT value FROM meta WHERE key = 'materialized_until'")[0][0]
        if reach > back:
            break
        time.sleep(0.2)
    assert now_us + 90 * day <= reach <= now_us + 93 * day
    assert db_rows(s, "SELECT materialized_until FROM events WHERE id = ?",
                   (series,))[0][0] == reach
    # The re-added occurrences are whole: listed, and in their owner's agenda.
    later = start + timedelta(weeks=8)  # 57 days ahead: past the moved-back reach
    r = s.request("GET", "/api/v1/me/agenda", token=t,
                  params={"from": rfc3339(later - timedelta(hours=1)),
                          "to": rfc3339(later + timedelta(hours=2))})
    assert r.status_code == 200, r.text
    assert [o["start"] for o in r.json()["items"]] == [rfc3339(later)]
    weeks = db_rows(s, "SELECT COUNT(*) FROM event_instances WHERE event_id = ? AND starts_at"
                    " >= ? AND starts_at < ?", (series, back, reach))[0][0]
    assert weeks == len([w for w in range(60) if back <= int((start + timedelta(weeks=w))
                                                            .timestamp()) * 1_000_000 < reach])
