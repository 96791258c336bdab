"""Events (API.md "Events", issue 3): creating, reading, changing and deleting single events;
times in UTC, all-day dates, the validation table (each refusal names its field and writes
nothing), ETag / If-Match / If-None-Match, and Idempotency-Key on POST."""
import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from conftest import assert_problem
from helpers_events import (CALENDARS, EVENTS, Snapshot, assert_iso_date, create_event,
                            delete_event, event_body, fresh_day, get_event,
                            list_events, new_person, new_room, notes_for, patch_event,
                            post_event, rfc3339, slot, utc)

OMIT = object()


@pytest.fixture(scope="module")
def alice(server, admin):
    return new_person(server, admin, "alice")


@pytest.fixture(scope="module")
def bob(server, admin):
    return new_person(server, admin, "bob")


# --- creating and reading


def test_create_returns_the_event_with_times_in_utc(server, alice, bob):
    day = fresh_day()
    body = {"title": "Planning", "description": "Quarterly\nplanning", "location": "HQ",
            "start": day.strftime("%Y-%m-%dT13:00:00+03:00"),
            "end": day.strftime("%Y-%m-%dT14:30:00+03:00"),
            "participants": [{"user_id": bob.id}, {"email": "Guest@Example.COM"}],
            "reminders": [{"minutes_before": 15}]}
    r = post_event(server, alice, body)
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["start"] == day.strftime("%Y-%m-%dT10:00:00Z")
    assert ev["end"] == day.strftime("%Y-%m-%dT11:30:00Z")
    assert ev["title"] == "Planning" and ev["description"] == "Quarterly\nplanning"
    assert ev["location"] == "HQ"
    assert ev["calendar_id"] == alice.calendar and ev["organizer_id"] == alice.id
    assert ev["all_day"] is False and ev["status"] == "confirmed"
    assert ev["room_id"] is None and ev["room"] is None
    assert ev["recurrence"] == [] and ev["reminders"] == [{"minutes_before": 15}]
    assert isinstance(ev["id"], str) and ev["id"]
    utc(ev["created_at"]), utc(ev["updated_at"])
    people = ev["participants"]
    assert people[0]["user_id"] == alice.id and people[0]["role"] == "organizer"
    assert people[0]["rsvp"] == "accepted"
    assert {(p["user_id"], p["email"], p["role"], p["rsvp"]) for p in people[1:]} == {
        (bob.id, bob.email, "attendee", "needs-action"),
        (None, "guest@example.com", "attendee", "needs-action")}
    assert r.headers["Location"] == f"{EVENTS}/{ev['id']}"
    assert r.headers["ETag"] == ev["etag"]
    again = server.request("GET", r.headers["Location"], token=alice.token)
    assert again.status_code == 200 and again.json() == ev
    assert again.headers["ETag"] == ev["etag"]
    # A participant sees it in full too.
    seen = get_event(server, bob, ev["id"])
    assert seen.status_code == 200 and seen.json()["title"] == "Planning"


def test_listings_show_what_the_event_shows(server, admin, alice, bob):
    """The agenda, calendar and room listings write occurrences with their own JSON writer
    (src/http/json.h); every field they share with GET /events/{id} must read the same,
    including text that needs escapes and non-ASCII (control characters are refused on input;
    the unit tests cover their escapes)."""
    room = new_room(server, admin, capacity=4, name="Salle \"Été\" \\ /1")
    start, end = slot(hour=9)
    ev = create_event(server, alice, start, end,
                      title="Plan \"Q1\"\\ \u00e9t\u00e9 \u2028 \U0001f600",
                      location="Krak\u00f3w </script>", room_id=room["id"],
                      participants=[{"user_id": bob.id}, {"email": "guest@example.org"}])
    rng = {"from": rfc3339(start - timedelta(hours=1)), "to": rfc3339(end + timedelta(hours=1))}
    listings = {
        "agenda": server.request("GET", "/api/v1/me/agenda", token=alice.token, params=rng),
        "calendar": server.request("GET", f"{CALENDARS}/{alice.calendar}/events",
                                   token=alice.token, params=rng),
        "room": server.request("GET", f"/api/v1/rooms/{room['id']}/bookings", token=alice.token,
                               params=rng),
    }
    for name, r in listings.items():
        assert r.status_code == 200, (name, r.text)
        assert r.headers["Content-Type"].startswith("application/json")
        items = [o for o in r.json()["items"] if o["event_id"] == ev["id"]]
        assert len(items) == 1, (name, r.text)
        item = items[0]
        for field in ("calendar_id", "start", "end", "all_day", "status", "title", "location",
                      "visibility", "organizer_id", "room", "participants"):
            assert item[field] == ev[field], (name, field, item[field], ev[field])
        assert item["recurrence_id"] is None
        assert item["room"] == {"id": room["id"], "name": room["name"]}
        assert r.json()["next_cursor"] is None



@pytest.mark.parametrize("start,end,want_start,want_end", [
    ("2031-06-01T09:15:00-05:00", "2031-06-01T10:00:00-05:00",
     "2031-06-01T14:15:00Z", "2031-06-01T15:00:00Z"),
    ("2031-06-02T00:30:00+05:30", "2031-06-02T01:30:00+05:30",
     "2031-06-01T19:00:00Z", "2031-06-01T20:00:00Z"),
    ("2031-06-03T10:00:00Z", "2031-06-03T11:00:00.000Z",
     "2031-06-03T10:00:00Z", "2031-06-03T11:00:00Z"),
])
def test_offsets_are_normalised_to_utc(server, alice, start, end, want_start, want_end):
    r = post_event(server, alice, {"title": "Offsets", "start": start, "end": end})
    assert r.status_code == 201, r.text
    ev = r.json()
    assert (ev["start"], ev["end"]) == (want_start, want_end)
    listed = list_events(server, alice, utc(want_start) - timedelta(hours=1),
                         utc(want_end) + timedelta(hours=1))
    mine = [o for o in listed if o["event_id"] == ev["id"]]
    assert len(mine) == 1 and (mine[0]["start"], mine[0]["end"]) == (want_start, want_end)


def test_listing_is_half_open_and_sorted(server, alice):
    s, e = slot(10, 60)
    late = create_event(server, alice, s + timedelta(hours=3), e + timedelta(hours=3),
                        title="Late")
    early = create_event(server, alice, s, e, title="Early")
    items = list_events(server, alice, s - timedelta(hours=1), e + timedelta(hours=4))
    assert [o["event_id"] for o in items] == [early["id"], late["id"]]
    o = items[0]
    assert o["recurrence_id"] is None and o["calendar_id"] == alice.calendar
    assert o["start"] == rfc3339(s) and o["end"] == rfc3339(e) and o["title"] == "Early"
    assert o["status"] == "confirmed" and "participants" in o and "room" in o
    # [from, to): touching the event at either end is not overlapping it.
    assert list_events(server, alice, e, e + timedelta(minutes=30)) == []
    assert list_events(server, alice, s - timedelta(minutes=30), s) == []
    inside = list_events(server, alice, s + timedelta(minutes=10), s + timedelta(minutes=11))
    assert [o["event_id"] for o in inside] == [early["id"]]


@pytest.mark.parametrize("params,field", [
    ({"to": "2031-01-02T00:00:00Z"}, "from"),
    ({"from": "2031-01-01T00:00:00Z"}, "to"),
    ({"from": "2031-01-02T00:00:00Z", "to": "2031-01-01T00:00:00Z"}, "to"),
    ({"from": "yesterday", "to": "2031-01-01T00:00:00Z"}, "from"),
    ({"from": "2031-01-01T00:00:00Z", "to": "2033-01-01T00:00:00Z"}, "to"),
])
def test_listing_range_validation(server, alice, params, field):
    r = server.request("GET", f"{CALENDARS}/{alice.calendar}/events", token=alice.token,
                       params=params)
    assert_problem(r, 422, "validation", field)


def test_other_users_cannot_see_or_touch_an_event(server, admin, alice):
    s, e = slot()
    ev = create_event(server, alice, s, e)
    eve = new_person(server, admin, "eve")
    assert_problem(get_event(server, eve, ev["id"]), 404, "not-found")
    assert_problem(patch_event(server, eve, ev["id"], {"title": "Mine now"}), 404, "not-found")
    assert_problem(delete_event(server, eve, ev["id"]), 404, "not-found")
    assert_problem(post_event(server, eve, event_body(s, e), calendar=alice.calendar), 404,
                   "not-found")
    r = server.request("GET", f"{CALENDARS}/{alice.calendar}/events", token=eve.token,
                       params={"from": rfc3339(s), "to": rfc3339(e)})
    assert_problem(r, 404, "not-found")
    assert get_event(server, alice, ev["id"]).json()["title"] == "Meeting"


def test_write_share_may_create_read_share_may_not(server, admin, alice):
    writer = new_person(server, admin, "writer")
    reader = new_person(server, admin, "reader")
    for who, role in ((writer, "write"), (reader, "read")):
        r = server.request("PUT", f"{CALENDARS}/{alice.calendar}/shares/{who.id}",
                           token=alice.token, json_body={"role": role})
        assert r.status_code in (200, 201, 204), r.text
    s, e = slot()
    before = Snapshot(server, [alice], s - timedelta(hours=1), e + timedelta(hours=1))
    assert_problem(post_event(server, reader, event_body(s, e), calendar=alice.calendar), 403,
                   "forbidden")
    before.assert_unchanged()
    r = post_event(server, writer, event_body(s, e), calendar=alice.calendar)
    assert r.status_code == 201, r.text
    assert r.json()["calendar_id"] == alice.calendar
    assert r.json()["organizer_id"] == writer.id


def test_unknown_calendar_and_event(server, alice):
    s, e = slot()
    assert_problem(post_event(server, alice, event_body(s, e), calendar="999999"), 404,
                   "not-found")
    assert_problem(get_event(server, alice, "999999"), 404, "not-found")
    assert_problem(get_event(server, alice, "abc"), 404, "not-found")


# --- all-day events


def test_all_day_defaults_to_one_day_and_returns_dates(server, alice):
    day = fresh_day()
    d = day.strftime("%Y-%m-%d")
    r = post_event(server, alice, {"title": "Holiday", "all_day": True, "start": d})
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["all_day"] is True
    assert ev["start"] == d and ev["end"] == (day + timedelta(days=1)).strftime("%Y-%m-%d")
    assert get_event(server, alice, ev["id"]).json() == ev
    items = list_events(server, alice, day - timedelta(days=1), day + timedelta(days=2))
    mine = [o for o in items if o["event_id"] == ev["id"]]
    assert len(mine) == 1
    assert mine[0]["all_day"] is True and (mine[0]["start"], mine[0]["end"]) == (
        ev["start"], ev["end"])
    assert_iso_date(mine[0]["start"])


def test_all_day_end_is_exclusive(server, alice):
    day = fresh_day(4)
    dates = [(day + timedelta(days=k)).strftime("%Y-%m-%d") for k in range(4)]
    r = post_event(server, alice, {"title": "Off-site", "all_day": True, "start": dates[0],
                                   "end": dates[2]})
    assert r.status_code == 201, r.text
    ev = r.json()
    assert (ev["start"], ev["end"]) == (dates[0], dates[2])
    # The calendar is in UTC: the event covers [day 0 00:00Z, day 2 00:00Z).
    hit = list_events(server, alice, day + timedelta(days=1, hours=23),
                      day + timedelta(days=2))
    assert [o["event_id"] for o in hit] == [ev["id"]]
    assert list_events(server, alice, day + timedelta(days=2), day + timedelta(days=3)) == []


def test_all_day_in_a_time_zone_is_local_midnight(server, alice):
    day = fresh_day()
    d = day.strftime("%Y-%m-%d")
    r = post_event(server, alice, {"title": "Berlin day", "all_day": True, "start": d,
                                   "time_zone": "Europe/Berlin"})
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["time_zone"] == "Europe/Berlin" and (ev["start"], ev["end"]) == (
        d, (day + timedelta(days=1)).strftime("%Y-%m-%d"))
    # The day starts at Berlin's midnight: 22:00Z or 23:00Z the evening before.
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Europe/Berlin"))
    assert midnight.utcoffset() >= timedelta(hours=1)
    hit = list_events(server, alice, midnight, midnight + timedelta(minutes=1))
    assert [o["event_id"] for o in hit] == [ev["id"]]
    assert hit[0]["start"] == d
    # The UTC day before Berlin's midnight does not overlap it.
    assert list_events(server, alice, midnight - timedelta(hours=1), midnight) == []


def test_all_day_patch_moves_by_dates(server, alice):
    day = fresh_day(9)
    d = lambda k: (day + timedelta(days=k)).strftime("%Y-%m-%d")  # noqa: E731
    ev = post_event(server, alice, {"title": "Trip", "all_day": True, "start": d(0),
                                    "end": d(3)}).json()
    r = patch_event(server, alice, ev["id"], {"start": d(5)}, etag=ev["etag"])
    assert r.status_code == 200, r.text
    assert (r.json()["start"], r.json()["end"]) == (d(5), d(8))  # the length is kept


# --- the validation table


def _body(person, other, room, s, e, **changes):
    body = {"title": "Valid", "start": rfc3339(s), "end": rfc3339(e),
            "participants": [{"user_id": other.id}]}
    for k, v in changes.items():
        if v is OMIT:
            body.pop(k, None)
        else:
            body[k] = v
    return body


# (id, changes given (s, e, other, room), the field the 422 must name)
CASES = [
    ("end_equals_start", lambda s, e, o, r: {"end": rfc3339(s)}, "end"),
    ("end_before_start", lambda s, e, o, r: {"end": rfc3339(s - timedelta(hours=1))}, "end"),
    ("longer_than_31_days",
     lambda s, e, o, r: {"end": rfc3339(s + timedelta(days=31, seconds=1))}, "end"),
    ("far_too_long", lambda s, e, o, r: {"end": rfc3339(s + timedelta(days=400))}, "end"),
    ("title_missing", lambda s, e, o, r: {"title": OMIT}, "title"),
    ("title_empty", lambda s, e, o, r: {"title": ""}, "title"),
    ("title_501_chars", lambda s, e, o, r: {"title": "t" * 501}, "title"),
    ("title_501_multibyte", lambda s, e, o, r: {"title": "é" * 501}, "title"),
    ("title_not_string", lambda s, e, o, r: {"title": 42}, "title"),
    ("title_control_char", lambda s, e, o, r: {"title": "a\x07b"}, "title"),
    ("description_10001", lambda s, e, o, r: {"description": "d" * 10001}, "description"),
    ("location_501", lambda s, e, o, r: {"location": "l" * 501}, "location"),
    ("participants_201",
     lambda s, e, o, r: {"participants": [{"email": f"p{i}@ext.example"} for i in range(201)]},
     "participants"),
    ("participants_not_array", lambda s, e, o, r: {"participants": {"user_id": o.id}},
     "participants"),
    ("participant_unknown_user",
     lambda s, e, o, r: {"participants": [{"user_id": o.id}, {"user_id": "999999"}]},
     "participants"),
    ("participant_bad_email",
     lambda s, e, o, r: {"participants": [{"user_id": o.id}, {"email": "not an email"}]},
     "participants"),
    ("participant_both_keys",
     lambda s, e, o, r: {"participants": [{"user_id": o.id, "email": "x@example.org"}]},
     "participants"),
    ("participant_empty_object", lambda s, e, o, r: {"participants": [{}]}, "participants"),
    ("room_unknown", lambda s, e, o, r: {"room_id": "999999"}, "room_id"),
    ("room_id_not_id", lambda s, e, o, r: {"room_id": 7}, "room_id"),
    ("room_too_small", lambda s, e, o, r: {"room_id": r["id"],
                                           "participants": [{"user_id": o.id},
                                                            {"email": "x@ext.example"}]},
     "room_id"),
    ("recurrence_bad_freq", lambda s, e, o, r: {"recurrence": ["RRULE:FREQ=SOMETIMES"]},
     "recurrence[0]"),
    ("recurrence_two_rrules", lambda s, e, o, r: {
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3", "RRULE:FREQ=WEEKLY"]}, "recurrence[1]"),
    ("recurrence_exploding", lambda s, e, o, r: {"recurrence": ["RRULE:FREQ=MINUTELY"]},
     "recurrence"),
    ("recurrence_garbage_exdate", lambda s, e, o, r: {"recurrence": ["EXDATE:tomorrow"]},
     "recurrence[0]"),
    ("recurrence_string", lambda s, e, o, r: {"recurrence": "RRULE:FREQ=DAILY"}, "recurrence"),
    ("start_missing", lambda s, e, o, r: {"start": OMIT}, "start"),
    ("end_missing", lambda s, e, o, r: {"end": OMIT}, "end"),
    ("start_without_offset",
     lambda s, e, o, r: {"start": s.strftime("%Y-%m-%dT%H:%M:%S")}, "start"),
    ("start_garbage", lambda s, e, o, r: {"start": "tomorrow"}, "start"),
    ("start_bad_date", lambda s, e, o, r: {"start": "2031-02-30T10:00:00Z"}, "start"),
    ("end_garbage", lambda s, e, o, r: {"end": "2031-13-01T10:00:00Z"}, "end"),
    ("time_zone_unknown", lambda s, e, o, r: {"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ("visibility_unknown", lambda s, e, o, r: {"visibility": "secret"}, "visibility"),
    ("status_cancelled_on_create", lambda s, e, o, r: {"status": "cancelled"}, "status"),
    ("status_unknown", lambda s, e, o, r: {"status": "maybe"}, "status"),
    ("all_day_not_bool", lambda s, e, o, r: {"all_day": "yes"}, "all_day"),
    ("all_day_with_datetimes", lambda s, e, o, r: {"all_day": True}, "start"),
    ("all_day_end_before_start",
     lambda s, e, o, r: {"all_day": True, "start": s.strftime("%Y-%m-%d"),
                         "end": (s - timedelta(days=1)).strftime("%Y-%m-%d")}, "end"),
    ("all_day_end_equals_start",
     lambda s, e, o, r: {"all_day": True, "start": s.strftime("%Y-%m-%d"),
                         "end": s.strftime("%Y-%m-%d")}, "end"),
    ("all_day_32_days",
     lambda s, e, o, r: {"all_day": True, "start": s.strftime("%Y-%m-%d"),
                         "end": (s + timedelta(days=32)).strftime("%Y-%m-%d")}, "end"),
    ("reminder_negative", lambda s, e, o, r: {"reminders": [{"minutes_before": -5}]},
     "reminders"),
    ("reminder_not_integer", lambda s, e, o, r: {"reminders": [{"minutes_before": "5"}]},
     "reminders"),
    ("reminders_not_array", lambda s, e, o, r: {"reminders": {"minutes_before": 5}},
     "reminders"),
    ("unknown_field", lambda s, e, o, r: {"colour": "red"}, "colour"),
]


@pytest.fixture(scope="module")
def tiny_room(server, admin):
    return new_room(server, admin, capacity=2)


@pytest.mark.parametrize("changes,field", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_create_validation(server, admin, alice, bob, tiny_room, changes, field):
    s, e = slot(9, 60)
    body = _body(alice, bob, tiny_room, s, e, **changes(s, e, bob, tiny_room))
    snap = Snapshot(server, [alice, bob], s - timedelta(days=2), s + timedelta(days=40))
    r = post_event(server, alice, body)
    p = assert_problem(r, 422, "validation")
    fields = [x["field"] for x in p.get("errors", [])]
    # The field named exactly, or (for list items) by its path: participants[1].email.
    assert any(f == field or f.startswith(field + "[") or f.startswith(field + ".")
               for f in fields), p
    snap.assert_unchanged()


@pytest.mark.parametrize("changes", [
    {"title": "t" * 500},
    {"title": "é" * 500},
    {"title": "🗓" * 500},
    {"description": "d" * 10000},
    {"location": "l" * 500},
    {"description": "", "location": ""},
    {"participants": [{"email": f"q{i}@ext.example"} for i in range(200)]},
    {"recurrence": []},
    {"recurrence": None},
    {"reminders": []},
    {"visibility": "private"},
    {"status": "tentative"},
    {"time_zone": "America/New_York"},
], ids=["title_500", "title_500_multibyte", "title_500_astral", "description_10000",
        "location_500", "empty_texts", "participants_200", "recurrence_empty",
        "recurrence_null", "reminders_empty", "private", "tentative", "time_zone"])
def test_create_accepts_the_limits(server, alice, changes):
    s, e = slot(9, 60)
    body = {"title": "Valid", "start": rfc3339(s), "end": rfc3339(e), **changes}
    r = post_event(server, alice, body)
    assert r.status_code == 201, r.text
    ev = r.json()
    for k in ("title", "description", "location", "visibility", "status", "time_zone"):
        if k in changes:
            assert ev[k] == changes[k]
    if "participants" in changes:
        assert len(ev["participants"]) == len(changes["participants"]) + 1


def test_create_accepts_exactly_31_days(server, alice):
    s, _ = slot(0, 60, day=fresh_day(32))
    r = post_event(server, alice, event_body(s, s + timedelta(days=31)))
    assert r.status_code == 201, r.text
    assert utc(r.json()["end"]) - utc(r.json()["start"]) == timedelta(days=31)


def test_inactive_room_is_refused(server, admin, alice):
    room = new_room(server, admin)
    assert server.request("DELETE", f"/api/v1/rooms/{room['id']}", token=admin).status_code == 204
    s, e = slot()
    snap = Snapshot(server, [alice], s - timedelta(hours=1), e + timedelta(hours=1))
    assert_problem(post_event(server, alice, event_body(s, e, room_id=room["id"])), 422,
                   "validation", "room_id")
    snap.assert_unchanged()


PATCH_CASES = [
    ("end_before_start", lambda ev, s: {"end": rfc3339(s - timedelta(minutes=1))}, "end"),
    ("start_after_end", lambda ev, s: {"start": rfc3339(s + timedelta(hours=2)),
                                       "end": rfc3339(s + timedelta(hours=1))}, "end"),
    ("too_long", lambda ev, s: {"end": rfc3339(s + timedelta(days=32))}, "end"),
    ("title_empty", lambda ev, s: {"title": ""}, "title"),
    ("title_501", lambda ev, s: {"title": "x" * 501}, "title"),
    ("description_10001", lambda ev, s: {"description": "x" * 10001}, "description"),
    ("location_501", lambda ev, s: {"location": "x" * 501}, "location"),
    ("recurrence", lambda ev, s: {"recurrence": ["RRULE:FREQ=HOURLY;INTERVAL=1"]}, "recurrence"),
    ("unknown_participant", lambda ev, s: {"participants": [{"user_id": "999999"}]},
     "participants"),
    ("participants_201", lambda ev, s: {"participants": [{"email": f"r{i}@ext.example"}
                                                        for i in range(201)]}, "participants"),
    ("unknown_room", lambda ev, s: {"room_id": "999999"}, "room_id"),
    ("status_unknown", lambda ev, s: {"status": "done"}, "status"),
    ("unknown_field", lambda ev, s: {"organizer_id": "1"}, "organizer_id"),
]


@pytest.mark.parametrize("changes,field", [c[1:] for c in PATCH_CASES],
                         ids=[c[0] for c in PATCH_CASES])
def test_patch_validation_changes_nothing(server, alice, bob, changes, field):
    s, e = slot(14, 60)
    ev = create_event(server, alice, s, e, participants=[{"user_id": bob.id}],
                      reminders=[{"minutes_before": 10}])
    snap = Snapshot(server, [alice, bob], s - timedelta(days=1), s + timedelta(days=40))
    r = patch_event(server, alice, ev["id"], changes(ev, s), etag=ev["etag"])
    p = assert_problem(r, 422, "validation")
    assert any(x["field"] == field or x["field"].startswith(field + "[")
               for x in p.get("errors", [])), p
    snap.assert_unchanged()
    assert get_event(server, alice, ev["id"]).json() == ev


# --- changing and deleting


def test_patch_changes_only_what_is_given(server, alice, bob):
    s, e = slot(10, 90)
    ev = create_event(server, alice, s, e, description="keep me",
                      participants=[{"user_id": bob.id}])
    r = patch_event(server, alice, ev["id"], {"start": rfc3339(s + timedelta(hours=2))},
                    etag=ev["etag"])
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["start"] == rfc3339(s + timedelta(hours=2))
    assert new["end"] == rfc3339(e + timedelta(hours=2))  # the duration is kept
    assert new["description"] == "keep me" and new["participants"] == ev["participants"]
    assert new["etag"] != ev["etag"] and r.headers["ETag"] == new["etag"]
    assert get_event(server, alice, ev["id"]).json() == new
    r = patch_event(server, alice, ev["id"], {"end": rfc3339(e + timedelta(hours=3))})
    assert r.status_code == 200, r.text
    assert r.json()["start"] == new["start"]  # a new end keeps the start
    assert r.json()["end"] == rfc3339(e + timedelta(hours=3))


def test_patch_cancel_keeps_event_with_status(server, alice):
    s, e = slot()
    ev = create_event(server, alice, s, e)
    r = patch_event(server, alice, ev["id"], {"status": "cancelled"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    items = list_events(server, alice, s, e)
    assert [(o["event_id"], o["status"]) for o in items] == [(ev["id"], "cancelled")]


def test_delete_removes_the_event(server, alice):
    s, e = slot()
    ev = create_event(server, alice, s, e)
    r = delete_event(server, alice, ev["id"])
    assert r.status_code == 204 and r.content == b""
    assert_problem(get_event(server, alice, ev["id"]), 404, "not-found")
    assert list_events(server, alice, s, e) == []
    assert_problem(delete_event(server, alice, ev["id"]), 404, "not-found")


def test_participant_without_write_access_cannot_patch(server, alice, bob):
    s, e = slot()
    ev = create_event(server, alice, s, e, participants=[{"user_id": bob.id}])
    assert_problem(patch_event(server, bob, ev["id"], {"title": "Hijacked"}), 403, "forbidden")
    assert_problem(delete_event(server, bob, ev["id"]), 403, "forbidden")
    assert get_event(server, alice, ev["id"]).json() == ev


def test_rsvp(server, admin, alice, bob):
    s, e = slot()
    ev = create_event(server, alice, s, e, participants=[{"user_id": bob.id}])
    url = f"{EVENTS}/{ev['id']}/rsvp"
    r = server.request("POST", url, token=bob.token, json_body={"status": "tentative"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "tentative"
    people = get_event(server, alice, ev["id"]).json()["participants"]
    assert [p["rsvp"] for p in people if p["user_id"] == bob.id] == ["tentative"]
    for bad in ("needs-action", "maybe", ""):
        assert_problem(server.request("POST", url, token=bob.token, json_body={"status": bad}),
                       422, "validation", "status")
    stranger = new_person(server, admin, "stranger")
    r = server.request("POST", url, token=stranger.token, json_body={"status": "accepted"})
    assert r.status_code in (403, 404), r.text


def test_ids_of_deleted_events_are_not_reused(server, alice, bob):
    """Notifications outlive their event (a cancellation names a deleted event), and ETags
    are built from the id: a new event must not take a deleted event's id, or the old
    notifications and ETags would point at it."""
    s, e = slot()
    old = create_event(server, alice, s, e, title="Old", participants=[{"user_id": bob.id}])
    assert delete_event(server, alice, old["id"]).status_code == 204
    assert [n["type"] for n in notes_for(server, bob, old["id"])] == [
        "cancellation", "invitation"]
    new = create_event(server, alice, s, e, title="New", participants=[{"user_id": bob.id}])
    assert new["id"] != old["id"]
    assert new["etag"] != old["etag"]
    assert [n["type"] for n in notes_for(server, bob, new["id"])] == ["invitation"]
    # A client still holding the deleted event's ETag must not change the new event.
    r = patch_event(server, alice, new["id"], {"title": "Overwritten"}, etag=old["etag"])
    assert r.status_code == 412, r.text


# --- ETag, If-Match, If-None-Match


def test_if_none_match_on_event(server, alice):
    s, e = slot()
    ev = create_event(server, alice, s, e)
    r = get_event(server, alice, ev["id"], headers={"If-None-Match": ev["etag"]})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["ETag"] == ev["etag"]
    r = get_event(server, alice, ev["id"], headers={"If-None-Match": '"e0-0", ' + ev["etag"]})
    assert r.status_code == 304
    r = get_event(server, alice, ev["id"], headers={"If-None-Match": '"something-else"'})
    assert r.status_code == 200 and r.json() == ev
    new = patch_event(server, alice, ev["id"], {"title": "Renamed"}).json()
    r = get_event(server, alice, ev["id"], headers={"If-None-Match": ev["etag"]})
    assert r.status_code == 200 and r.json() == new and r.headers["ETag"] == new["etag"]


def test_an_answer_moves_the_events_etag(server, alice, bob):
    """The event's representation carries every participant's answer: an RSVP is a change of
    the event, so a client holding the old ETag gets the new answer (not a 304) and cannot
    PATCH over it unseen (412). The name a participant is shown by is part of it too."""
    s, e = slot()
    ev = create_event(server, alice, s, e, participants=[{"user_id": bob.id}])
    r = server.request("POST", f"{EVENTS}/{ev['id']}/rsvp", token=bob.token,
                       json_body={"status": "accepted"})
    assert r.status_code == 200, r.text
    r = get_event(server, alice, ev["id"], headers={"If-None-Match": ev["etag"]})
    assert r.status_code == 200, r.text
    answered = r.json()
    assert answered["etag"] != ev["etag"] and r.headers["ETag"] == answered["etag"]
    assert [p["rsvp"] for p in answered["participants"] if p["user_id"] == bob.id] == ["accepted"]
    r = patch_event(server, alice, ev["id"], {"title": "Over the answer"}, etag=ev["etag"])
    assert r.status_code == 412, r.text
    r = patch_event(server, alice, ev["id"], {"title": "After the answer"}, etag=answered["etag"])
    assert r.status_code == 200, r.text
    edited = r.json()
    unrelated = create_event(server, alice, s, e, title="Alone")
    r = server.request("PATCH", f"/api/v1/users/{bob.id}", token=bob.token,
                       json_body={"name": "Robert"})
    assert r.status_code == 200, r.text
    r = get_event(server, alice, ev["id"], headers={"If-None-Match": edited["etag"]})
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["participants"] if p["user_id"] == bob.id] == ["Robert"]
    assert r.json()["etag"] != edited["etag"]
    r = get_event(server, alice, unrelated["id"], headers={"If-None-Match": unrelated["etag"]})
    assert r.status_code == 304, "only the events the renamed user takes part in change"


def test_a_rename_moves_series_with_and_without_occurrences(server, admin, alice):
    """A rename finds the user's events through the occurrences they take part in, and an
    event with no occurrence left (every one deleted) through its mark (migration 016).  A
    series with every occurrence excluded has no occurrence at all: it was once indexed as a
    single event at its excluded first start."""
    carol = new_person(server, admin, "carol")
    s, e = slot()
    weekly = create_event(server, alice, s, e, participants=[{"user_id": carol.id}],
                          recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    gone = create_event(server, alice, s + timedelta(hours=2), e + timedelta(hours=2),
                        participants=[{"user_id": carol.id}],
                        recurrence=["RRULE:FREQ=DAILY;COUNT=2"])
    for day in (0, 1):
        at = rfc3339(s + timedelta(hours=2, days=day))
        r = server.request("DELETE", f"{EVENTS}/{gone['id']}/instances/{at}", token=alice.token)
        assert r.status_code == 204, r.text
    r = server.request("GET", f"{EVENTS}/{gone['id']}/instances", token=alice.token,
                       params={"from": rfc3339(s - timedelta(days=1)),
                               "to": rfc3339(s + timedelta(days=3))})
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    gone = get_event(server, alice, gone["id"]).json()
    mine = create_event(server, alice, s, e, title="Not carol's",
                        recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    r = server.request("PATCH", f"/api/v1/users/{carol.id}", token=carol.token,
                       json_body={"name": "Caroline"})
    assert r.status_code == 200, r.text
    for ev in (weekly, gone):
        r = get_event(server, alice, ev["id"], headers={"If-None-Match": ev["etag"]})
        assert r.status_code == 200, (ev["title"], r.status_code)
        assert [p["name"] for p in r.json()["participants"] if p["user_id"] == carol.id] == [
            "Caroline"]
    r = get_event(server, alice, mine["id"], headers={"If-None-Match": mine["etag"]})
    assert r.status_code == 304, "an event carol has no part in keeps its ETag"


def test_if_none_match_on_calendar(server, alice):
    url = f"{CALENDARS}/{alice.calendar}"
    r = server.request("GET", url, token=alice.token)
    assert r.status_code == 200
    etag = r.json()["etag"]
    assert r.headers["ETag"] == etag
    r2 = server.request("GET", url, token=alice.token, headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    r3 = server.request("GET", url, token=alice.token, headers={"If-None-Match": '"x"'})
    assert r3.status_code == 200


def test_if_match_on_patch(server, alice, bob):
    s, e = slot()
    ev = create_event(server, alice, s, e, participants=[{"user_id": bob.id}])
    snap = Snapshot(server, [alice, bob], s - timedelta(hours=1), e + timedelta(hours=1))
    r = patch_event(server, alice, ev["id"], {"title": "Stale"}, etag='"e1-999"')
    assert_problem(r, 412, "precondition-failed")
    snap.assert_unchanged()
    r = patch_event(server, alice, ev["id"], {"title": "Fresh"}, etag=ev["etag"])
    assert r.status_code == 200 and r.json()["title"] == "Fresh"
    # The old ETag is now stale too.
    snap = Snapshot(server, [alice, bob], s - timedelta(hours=1), e + timedelta(hours=1))
    assert_problem(patch_event(server, alice, ev["id"], {"title": "Again"}, etag=ev["etag"]),
                   412, "precondition-failed")
    snap.assert_unchanged()
    assert get_event(server, alice, ev["id"]).json()["title"] == "Fresh"
    # "*" and a list containing the current tag match.
    cur = r.json()["etag"]
    r = patch_event(server, alice, ev["id"], {"title": "Star"}, etag="*")
    assert r.status_code == 200, r.text
    r = patch_event(server, alice, ev["id"], {"title": "Listed"},
                    etag='"nope", ' + r.json()["etag"])
    assert r.status_code == 200 and r.json()["etag"] != cur


def test_if_match_on_delete(server, alice, bob):
    s, e = slot()
    ev = create_event(server, alice, s, e, participants=[{"user_id": bob.id}])
    snap = Snapshot(server, [alice, bob], s - timedelta(hours=1), e + timedelta(hours=1))
    assert_problem(delete_event(server, alice, ev["id"], etag='"e0-1"'), 412,
                   "precondition-failed")
    snap.assert_unchanged()
    assert get_event(server, alice, ev["id"]).status_code == 200
    assert delete_event(server, alice, ev["id"], etag=ev["etag"]).status_code == 204
    assert_problem(get_event(server, alice, ev["id"]), 404)


# --- Idempotency-Key


def _key():
    return f"key-{uuid.uuid4()}"


def test_idempotent_create_replays_the_first_answer(server, alice, bob):
    s, e = slot()
    body = event_body(s, e, participants=[{"user_id": bob.id}], reminders=[{"minutes_before": 5}])
    key = {"Idempotency-Key": _key()}
    invitations_before = len(notes_for(server, bob, type_="invitation"))
    first = post_event(server, alice, body, headers=key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    snap = Snapshot(server, [alice, bob], s - timedelta(hours=1), e + timedelta(hours=1))
    for _ in range(3):
        again = post_event(server, alice, body, headers=key)
        assert again.status_code == 201, again.text
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == first.json()
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Location"] == first.headers["Location"]
    snap.assert_unchanged()
    items = list_events(server, alice, s, e)
    assert [o["event_id"] for o in items] == [first.json()["id"]]
    assert len(notes_for(server, bob, type_="invitation")) == invitations_before + 1


def test_idempotent_replay_carries_the_etag(server, alice):
    s, e = slot()
    key = {"Idempotency-Key": _key()}
    first = post_event(server, alice, event_body(s, e), headers=key)
    assert first.status_code == 201
    again = post_event(server, alice, event_body(s, e), headers=key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.headers.get("ETag") == first.headers["ETag"], again.headers


def test_idempotency_key_reused_with_another_body(server, alice, bob):
    s, e = slot()
    key = {"Idempotency-Key": _key()}
    first = post_event(server, alice, event_body(s, e), headers=key)
    assert first.status_code == 201
    snap = Snapshot(server, [alice, bob], s - timedelta(hours=1), e + timedelta(hours=3))
    other = event_body(s + timedelta(hours=1), e + timedelta(hours=1),
                       participants=[{"user_id": bob.id}])
    assert_problem(post_event(server, alice, other, headers=key), 422, "validation")
    # The same body to another calendar (another path) is another request too.
    r = post_event(server, alice, event_body(s, e), calendar=bob.calendar, headers=key)
    assert r.status_code in (404, 422), r.text
    snap.assert_unchanged()


def test_idempotency_keys_belong_to_their_user(server, alice, bob):
    s, e = slot()
    key = {"Idempotency-Key": _key()}
    a = post_event(server, alice, event_body(s, e), headers=key)
    b = post_event(server, bob, event_body(s, e), headers=key)
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"] and b.json()["calendar_id"] == bob.calendar


def test_idempotency_key_on_a_refused_create_writes_nothing(server, admin, alice, bob):
    room = new_room(server, admin)
    s, e = slot()
    create_event(server, bob, s, e, room_id=room["id"])
    key = {"Idempotency-Key": _key()}
    body = event_body(s, e, room_id=room["id"], participants=[{"user_id": bob.id}])
    snap = Snapshot(server, [alice, bob], s - timedelta(hours=1), e + timedelta(hours=1))
    for _ in range(2):
        assert_problem(post_event(server, alice, body, headers=key), 409, "conflict")
    snap.assert_unchanged()


@pytest.mark.parametrize("bad", ["", "x" * 256, "has space", "ünïcode"])
def test_idempotency_key_syntax(server, alice, bad):
    s, e = slot()
    snap = Snapshot(server, [alice], s - timedelta(hours=1), e + timedelta(hours=1))
    try:
        r = post_event(server, alice, event_body(s, e), headers={"Idempotency-Key": bad})
    except (requests.exceptions.InvalidHeader, UnicodeEncodeError):
        pytest.skip("the client refuses to send this header")
    if bad == "":
        # An empty header may be dropped on the way; then it is a plain create.
        assert r.status_code in (201, 422), r.text
        return
    assert_problem(r, 422, "validation", "Idempotency-Key")
    snap.assert_unchanged()


def test_concurrent_retries_with_one_key_create_one_event(server, alice):
    s, e = slot()
    body = event_body(s, e)
    key = {"Idempotency-Key": _key() + "-concurrent"}
    results = []
    barrier = threading.Barrier(8)

    def go():
        with requests.Session() as sess:
            barrier.wait()
            r = sess.post(server.url(f"{CALENDARS}/{alice.calendar}/events"), json=body,
                          headers={"Authorization": f"Bearer {alice.token}", **key}, timeout=30)
            results.append(r)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r.status_code == 201]
    assert ok and all(r.status_code in (201, 409) for r in results), [
        (r.status_code, r.text) for r in results]
    assert len({r.json()["id"] for r in ok}) == 1
    for r in results:
        if r.status_code == 409:
            assert_problem(r, 409, "conflict")
    items = list_events(server, alice, s, e)
    assert [o["event_id"] for o in items] == [ok[0].json()["id"]]
    # A later retry replays the answer.
    r = post_event(server, alice, body, headers=key)
    assert r.status_code == 201 and r.json()["id"] == ok[0].json()["id"]
    assert r.headers.get("Idempotent-Replayed") == "true"


def test_idempotent_room_create(server, admin):
    key = {"Idempotency-Key": _key() + "-room"}
    body = {"name": f"Idem room {_key()}", "capacity": 4}
    first = server.request("POST", "/api/v1/rooms", token=admin, json_body=body, headers=key)
    assert first.status_code == 201, first.text
    again = server.request("POST", "/api/v1/rooms", token=admin, json_body=body, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"

