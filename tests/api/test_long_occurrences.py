"""Range queries find occurrences that began long before the range (docs/architecture.md,
"Events, occurrences and whose time they take").

Every overlap query bounds its index scan below by the longest occurrence stored (migration
010 keeps it in meta, raised by the store after every write of occurrences, migration 018).  These tests start from a fresh
database whose longest occurrence is short, add a much longer one, and ask about a range that
starts well inside it: if the bound did not grow with the insert, every one of these answers
would miss the long event, and the room would be booked twice."""
from datetime import timedelta

from helpers_events import (API, create_event, db_rows, delete_event, event_body, fresh_day,
                            new_person, new_room, post_event, rfc3339, room_overlaps)

DAY = timedelta(days=1)


def longest_us(server):
    return db_rows(server, "SELECT value FROM meta WHERE key = 'max_duration_us'")[0][0]


def test_every_range_query_finds_an_occurrence_that_began_weeks_before(make_server):
    server = make_server(workers=1, threads=2)
    admin = server.admin_token()
    alice = new_person(server, admin, "alice")
    bob = new_person(server, admin, "bob")
    room = new_room(server, admin)
    day = fresh_day(40)

    create_event(server, alice, day, day + timedelta(minutes=30), title="short")
    assert longest_us(server) == 30 * 60 * 1_000_000
    long_ev = create_event(server, alice, day + DAY, day + 21 * DAY, title="long",
                           room_id=room["id"], participants=[{"user_id": bob.id}])
    assert longest_us(server) == 20 * 86400 * 1_000_000

    # A window that starts 15 days into the 20-day event.
    frm, to = day + 16 * DAY, day + 17 * DAY
    window = {"from": rfc3339(frm), "to": rfc3339(to)}

    r = server.request("GET", f"{API}/me/agenda", token=bob.token, params=window)
    assert r.status_code == 200, r.text
    assert [o["event_id"] for o in r.json()["items"]] == [long_ev["id"]]

    r = server.request("GET", f"{API}/calendars/{alice.calendar}/events", token=alice.token,
                       params=window)
    assert r.status_code == 200, r.text
    assert [o["event_id"] for o in r.json()["items"]] == [long_ev["id"]]

    r = server.request("GET", f"{API}/rooms/{room['id']}/bookings", token=bob.token,
                       params=window)
    assert r.status_code == 200, r.text
    assert [o["event_id"] for o in r.json()["items"]] == [long_ev["id"]]

    r = server.request("POST", f"{API}/freebusy", token=bob.token,
                       json_body={**window, "users": [alice.id, bob.id], "rooms": [room["id"]]})
    assert r.status_code == 200, r.text
    whole = [{"start": rfc3339(frm), "end": rfc3339(to), "status": "busy"}]
    assert r.json()["users"] == {alice.id: whole, bob.id: whole}
    assert r.json()["rooms"] == {room["id"]: whole}

    r = server.request("GET", f"{API}/rooms/available", token=bob.token, params=window)
    assert r.status_code == 200, r.text
    assert room["id"] not in [x["id"] for x in r.json()["items"]]

    # The room is taken that day: a booking there conflicts and names the long event.
    r = post_event(server, bob, event_body(frm + timedelta(hours=9), frm + timedelta(hours=10),
                                           room_id=room["id"]))
    assert r.status_code == 409, r.text
    assert [c["event_id"] for c in r.json()["conflicts"]] == [long_ev["id"]]
    assert room_overlaps(server) == []

    # Deleting it frees the room; the bound stays (larger is still correct).
    assert delete_event(server, alice, long_ev["id"]).status_code == 204
    r = post_event(server, bob, event_body(frm + timedelta(hours=9), frm + timedelta(hours=10),
                                           room_id=room["id"]))
    assert r.status_code == 201, r.text
    assert longest_us(server) == 20 * 86400 * 1_000_000


def test_a_series_raises_the_bound_by_its_longest_occurrence(make_server):
    """A series raises the bound as its events' rows do (the store writes it after the
    occurrences, migration 018): by its length, and where occurrences differ in length (an
    all-day one across a DST change is an hour longer or shorter), by the longest."""
    server = make_server(workers=1, threads=1)
    admin = server.admin_token()
    alice = new_person(server, admin, "alice")
    first = fresh_day(40)
    create_event(server, alice, first, first + timedelta(minutes=30))
    assert longest_us(server) == 30 * 60 * 1_000_000
    day = fresh_day(50)
    r = post_event(server, alice, event_body(day, day + timedelta(hours=3),
                                             recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"]))
    assert r.status_code == 201, r.text
    assert longest_us(server) == 3 * 3600 * 1_000_000
    # Two days from Saturday: 48 hours, but 49 across Berlin's last Sunday of October 2026.
    r = post_event(server, alice, {"title": "Weekend", "all_day": True, "start": "2026-10-17",
                                   "end": "2026-10-19", "time_zone": "Europe/Berlin",
                                   "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"]})
    assert r.status_code == 201, r.text
    assert longest_us(server) == 49 * 3600 * 1_000_000
