"""Rooms (API.md "Rooms", issue 3): the directory, capacity, and the promise that a room is
never double-booked whatever the race: creating, moving (PATCH), cancelling and deleting
events all keep it, and a refused booking writes nothing."""
import os
import threading
from collections import Counter
from datetime import timedelta

import pytest
import requests

from conftest import ASAN, assert_problem
from helpers_events import (CALENDARS, EVENTS, ROOMS, Snapshot, bookings, create_event,
                            db_counts, delete_event, event_body, fresh_day, get_event,
                            new_person, new_room, notes_for, patch_event, post_event,
                            rfc3339, room_overlaps, slot, utc)

# The race rounds: 200 (the number); a sanitizer build may be told to run fewer with
# PLANNER_RACE_ROUNDS, but never fewer than 50.
ROUNDS = 200
if ASAN:
    ROUNDS = max(50, int(os.environ.get("PLANNER_RACE_ROUNDS", "200")))
RACERS = 16


@pytest.fixture(scope="module")
def alice(server, admin):
    return new_person(server, admin, "alice")


@pytest.fixture(scope="module")
def bob(server, admin):
    return new_person(server, admin, "bob")


@pytest.fixture(scope="module")
def carol(server, admin):
    return new_person(server, admin, "carol")


def booked_ids(server, person, room, frm, to):
    return [o["event_id"] for o in bookings(server, person, room["id"], frm, to)]


def assert_conflict(r, *winners):
    """409 conflict whose `conflicts` list names exactly `winners` (events), in UTC."""
    p = assert_problem(r, 409, "conflict")
    assert "conflicts" in p, p
    got = [c["event_id"] for c in p["conflicts"]]
    assert sorted(got) == sorted(w["id"] for w in winners), p
    by_id = {w["id"]: w for w in winners}
    for c in p["conflicts"]:
        w = by_id[c["event_id"]]
        assert (c["start"], c["end"]) == (w["start"], w["end"]), (c, w)
    return p


# --- the directory


def test_room_crud_and_etags(server, admin, alice):
    body = {"name": "Crud Room", "capacity": 8, "location": "Floor 2",
            "features": ["projector", "video-conf"]}
    assert_problem(server.request("POST", ROOMS, token=alice.token, json_body=body), 403,
                   "forbidden")
    r = server.request("POST", ROOMS, token=admin, json_body=body)
    assert r.status_code == 201, r.text
    room = r.json()
    assert {k: room[k] for k in body} == body and room["active"] is True
    assert r.headers["ETag"] == room["etag"]
    assert r.headers["Location"] == f"{ROOMS}/{room['id']}"
    url = f"{ROOMS}/{room['id']}"
    got = server.request("GET", url, token=alice.token)
    assert got.status_code == 200 and got.json() == room
    r = server.request("GET", url, token=alice.token, headers={"If-None-Match": room["etag"]})
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"] == room["etag"]
    r = server.request("GET", url, token=alice.token, headers={"If-None-Match": '"r0-0"'})
    assert r.status_code == 200
    # If-Match on PATCH and DELETE.
    r = server.request("PATCH", url, token=admin, json_body={"capacity": 9},
                       headers={"If-Match": '"r0-0"'})
    assert_problem(r, 412, "precondition-failed")
    assert server.request("GET", url, token=alice.token).json() == room
    r = server.request("PATCH", url, token=admin, json_body={"capacity": 9},
                       headers={"If-Match": room["etag"]})
    assert r.status_code == 200 and r.json()["capacity"] == 9
    assert r.json()["etag"] != room["etag"]
    r2 = server.request("GET", url, token=alice.token, headers={"If-None-Match": room["etag"]})
    assert r2.status_code == 200 and r2.json()["capacity"] == 9
    assert_problem(server.request("DELETE", url, token=admin, headers={"If-Match": room["etag"]}),
                   412, "precondition-failed")
    r = server.request("DELETE", url, token=admin, headers={"If-Match": r.json()["etag"]})
    assert r.status_code == 204
    assert server.request("GET", url, token=alice.token).json()["active"] is False


def test_a_new_room_name_moves_the_etags_of_its_events(server, admin, alice):
    """Events show their room by name: renaming the room changes them (a client holding an
    old ETag gets the new name, not a 304); an event in another room does not change."""
    room, other = new_room(server, admin), new_room(server, admin)
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"])
    elsewhere = create_event(server, alice, s, e, room_id=other["id"])
    r = server.request("PATCH", f"{ROOMS}/{room['id']}", token=admin,
                       json_body={"name": "Renamed room"})
    assert r.status_code == 200, r.text
    r = get_event(server, alice, ev["id"], headers={"If-None-Match": ev["etag"]})
    assert r.status_code == 200, r.text
    assert r.json()["room"]["name"] == "Renamed room" and r.json()["etag"] != ev["etag"]
    r = get_event(server, alice, elsewhere["id"], headers={"If-None-Match": elsewhere["etag"]})
    assert r.status_code == 304
    # A PATCH that keeps the name moves nothing.
    r = server.request("PATCH", f"{ROOMS}/{other['id']}", token=admin,
                       json_body={"name": other["name"], "capacity": 12})
    assert r.status_code == 200, r.text
    r = get_event(server, alice, elsewhere["id"], headers={"If-None-Match": elsewhere["etag"]})
    assert r.status_code == 304


def test_room_list_filters(server, admin, alice):
    big = new_room(server, admin, capacity=500, features=["stage-h2"])
    small = new_room(server, admin, capacity=2, features=["stage-h2", "whiteboard"])
    r = server.request("GET", ROOMS, token=alice.token, params={"feature": "stage-h2"})
    assert r.status_code == 200
    assert {x["id"] for x in r.json()["items"]} == {big["id"], small["id"]}
    r = server.request("GET", ROOMS, token=alice.token,
                       params={"feature": "stage-h2", "capacity_min": 100})
    assert [x["id"] for x in r.json()["items"]] == [big["id"]]


@pytest.mark.parametrize("body,field", [
    ({"capacity": 5}, "name"),
    ({"name": "No capacity"}, "capacity"),
    ({"name": "Zero", "capacity": 0}, "capacity"),
    ({"name": "Negative", "capacity": -1}, "capacity"),
    ({"name": "Text", "capacity": "5"}, "capacity"),
    ({"name": "Features", "capacity": 5, "features": ["Has Space"]}, "features"),
    ({"name": "", "capacity": 5}, "name"),
])
def test_room_validation(server, admin, body, field):
    before = server.request("GET", ROOMS, token=admin, params={"limit": 1000}).json()
    assert_problem(server.request("POST", ROOMS, token=admin, json_body=body), 422,
                   "validation", field)
    assert server.request("GET", ROOMS, token=admin, params={"limit": 1000}).json() == before


# --- conflicts


def test_overlapping_booking_is_refused_and_names_the_holder(server, admin, alice, bob):
    room = new_room(server, admin)
    s, e = slot(10, 60)
    held = create_event(server, alice, s, e, room_id=room["id"])
    assert held["room"] == {"id": room["id"], "name": room["name"]}
    # Another user, another calendar: rooms are shared, so it conflicts all the same.
    for a, b in ((s, e), (s - timedelta(minutes=30), s + timedelta(minutes=1)),
                 (e - timedelta(minutes=1), e + timedelta(hours=1)),
                 (s + timedelta(minutes=10), s + timedelta(minutes=20)),
                 (s - timedelta(hours=1), e + timedelta(hours=1))):
        snap = Snapshot(server, [alice, bob], s - timedelta(hours=2), e + timedelta(hours=2),
                        calendars=[(alice, alice.calendar), (bob, bob.calendar)])
        r = post_event(server, bob, event_body(a, b, room_id=room["id"],
                                               participants=[{"user_id": alice.id}]))
        assert_conflict(r, held)
        snap.assert_unchanged()
    # Touching is not overlapping; another room at the same time is free.
    before = create_event(server, bob, s - timedelta(hours=1), s, room_id=room["id"])
    after = create_event(server, bob, e, e + timedelta(hours=1), room_id=room["id"])
    other = new_room(server, admin)
    create_event(server, bob, s, e, room_id=other["id"])
    assert booked_ids(server, alice, room, s - timedelta(hours=2), e + timedelta(hours=2)) == [
        before["id"], held["id"], after["id"]]


def test_conflicts_list_every_holder_sorted(server, admin, alice, bob):
    room = new_room(server, admin)
    s, _ = slot(8, 30)
    first = create_event(server, alice, s, s + timedelta(minutes=30), room_id=room["id"])
    second = create_event(server, bob, s + timedelta(hours=1), s + timedelta(hours=2),
                          room_id=room["id"])
    r = post_event(server, alice, event_body(s, s + timedelta(hours=3), room_id=room["id"]))
    p = assert_conflict(r, first, second)
    assert [c["event_id"] for c in p["conflicts"]] == [first["id"], second["id"]]


def test_all_day_booking_blocks_the_day(server, admin, alice, bob):
    room = new_room(server, admin)
    day = fresh_day()
    r = post_event(server, alice, {"title": "Room day", "all_day": True,
                                   "start": day.strftime("%Y-%m-%d"), "room_id": room["id"]})
    assert r.status_code == 201, r.text
    held = r.json()
    r = post_event(server, bob, event_body(day + timedelta(hours=23),
                                           day + timedelta(hours=24), room_id=room["id"]))
    p = assert_problem(r, 409, "conflict")
    assert [c["event_id"] for c in p["conflicts"]] == [held["id"]]
    create_event(server, bob, day + timedelta(hours=24), day + timedelta(hours=25),
                 room_id=room["id"])


def test_failed_booking_sends_no_invitation(server, admin, alice, bob, carol):
    room = new_room(server, admin)
    s, e = slot()
    held = create_event(server, alice, s, e, room_id=room["id"])
    invited_before = notes_for(server, carol)
    counts = db_counts(server)
    r = post_event(server, bob, event_body(s, e, room_id=room["id"],
                                           participants=[{"user_id": carol.id},
                                                         {"email": "ext@example.net"}],
                                           reminders=[{"minutes_before": 30}]))
    assert_conflict(r, held)
    assert notes_for(server, carol) == invited_before
    assert db_counts(server) == counts


# --- capacity


def test_capacity_counts_organizer_and_external_guests(server, admin, alice, bob, carol):
    room = new_room(server, admin, capacity=3)
    s, e = slot()
    snap = Snapshot(server, [alice, bob, carol], s - timedelta(hours=1), e + timedelta(hours=1))
    # Organizer + two users + one e-mail = 4 > 3.
    r = post_event(server, alice, event_body(s, e, room_id=room["id"], participants=[
        {"user_id": bob.id}, {"user_id": carol.id}, {"email": "guest@example.net"}]))
    p = assert_problem(r, 422, "validation", "room_id")
    assert room["id"] in p["detail"] or room["name"] in p["detail"] or p["errors"]
    # Organizer + three e-mails = 4 > 3.
    r = post_event(server, alice, event_body(s, e, room_id=room["id"], participants=[
        {"email": f"g{i}@example.net"} for i in range(3)]))
    assert_problem(r, 422, "validation", "room_id")
    snap.assert_unchanged()
    # Organizer + two = 3 fits; the organizer listed again is still one person.
    ev = create_event(server, alice, s, e, room_id=room["id"], participants=[
        {"user_id": alice.id}, {"user_id": bob.id}, {"email": "guest@example.net"},
        {"email": "GUEST@example.net"}])
    assert len(ev["participants"]) == 3


def test_capacity_is_checked_on_patch(server, admin, alice, bob, carol):
    room = new_room(server, admin, capacity=2)
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"],
                      participants=[{"user_id": bob.id}])
    snap = Snapshot(server, [alice, bob, carol], s - timedelta(hours=1), e + timedelta(hours=1))
    r = patch_event(server, alice, ev["id"], {"participants": [
        {"user_id": bob.id}, {"user_id": carol.id}]}, etag=ev["etag"])
    assert_problem(r, 422, "validation", "room_id")
    r = patch_event(server, alice, ev["id"], {"participants": [
        {"user_id": bob.id}, {"email": "x@example.net"}]})
    assert_problem(r, 422, "validation", "room_id")
    # Moving the three of a bigger meeting into this room fails the same way.
    three = create_event(server, alice, s + timedelta(hours=3), e + timedelta(hours=3),
                         participants=[{"user_id": bob.id}, {"user_id": carol.id}])
    snap = Snapshot(server, [alice, bob, carol], s - timedelta(hours=1), e + timedelta(hours=4))
    r = patch_event(server, alice, three["id"], {"room_id": room["id"]})
    assert_problem(r, 422, "validation", "room_id")
    snap.assert_unchanged()
    assert get_event(server, alice, ev["id"]).json() == ev
    assert get_event(server, alice, three["id"]).json() == three


def test_room_capacity_boundary(server, admin, alice, bob):
    room = new_room(server, admin, capacity=1)
    s, e = slot()
    create_event(server, alice, s, e, room_id=room["id"])  # the organizer alone fits
    r = post_event(server, alice, event_body(e, e + timedelta(hours=1), room_id=room["id"],
                                             participants=[{"user_id": bob.id}]))
    assert_problem(r, 422, "validation", "room_id")


# --- moving, cancelling and deleting


def test_patch_move_into_conflict_changes_nothing(server, admin, alice, bob, carol):
    room = new_room(server, admin)
    s, e = slot(9, 60)
    held = create_event(server, bob, s, e, room_id=room["id"])
    mover = create_event(server, alice, s + timedelta(hours=3), e + timedelta(hours=3),
                         room_id=room["id"], participants=[{"user_id": bob.id}],
                         reminders=[{"minutes_before": 10}])
    snap = Snapshot(server, [alice, bob, carol], s - timedelta(hours=1), e + timedelta(hours=5),
                    calendars=[(alice, alice.calendar), (bob, bob.calendar)])
    booked = booked_ids(server, alice, room, s - timedelta(hours=1), e + timedelta(hours=5))
    moves = [
        {"start": rfc3339(s + timedelta(minutes=30))},                    # keeps its length
        {"start": rfc3339(s), "end": rfc3339(e)},
        {"end": rfc3339(e + timedelta(hours=10)), "start": rfc3339(e - timedelta(minutes=1))},
        {"start": rfc3339(s - timedelta(minutes=30)), "title": "Renamed too",
         "participants": [{"user_id": bob.id}, {"user_id": carol.id}]},
    ]
    for body in moves:
        r = patch_event(server, alice, mover["id"], body, etag=mover["etag"])
        assert_conflict(r, held)
        snap.assert_unchanged()
        assert get_event(server, alice, mover["id"]).json() == mover
        assert booked_ids(server, alice, room, s - timedelta(hours=1),
                          e + timedelta(hours=5)) == booked
    # Extending the end into the next booking is a move too.
    later = create_event(server, bob, e + timedelta(hours=3, minutes=30),
                         e + timedelta(hours=4), room_id=room["id"])
    r = patch_event(server, alice, mover["id"], {"end": rfc3339(e + timedelta(hours=3,
                                                                             minutes=45))})
    assert_conflict(r, later)
    assert get_event(server, alice, mover["id"]).json() == mover
    # Changing only the title does not conflict with itself; nor does a shift that overlaps
    # only its own old time.
    r = patch_event(server, alice, mover["id"], {"title": "Just a rename"})
    assert r.status_code == 200, r.text
    r = patch_event(server, alice, mover["id"],
                    {"start": rfc3339(s + timedelta(hours=3, minutes=15))})
    assert r.status_code == 200, r.text


def test_patch_switching_to_a_busy_room_conflicts(server, admin, alice, bob):
    a, b = new_room(server, admin), new_room(server, admin)
    s, e = slot()
    in_b = create_event(server, bob, s, e, room_id=b["id"])
    ev = create_event(server, alice, s, e, room_id=a["id"])
    r = patch_event(server, alice, ev["id"], {"room_id": b["id"]})
    assert_conflict(r, in_b)
    assert get_event(server, alice, ev["id"]).json() == ev
    assert booked_ids(server, alice, a, s, e) == [ev["id"]]
    # Giving up the room frees it.
    r = patch_event(server, alice, ev["id"], {"room_id": None})
    assert r.status_code == 200 and r.json()["room_id"] is None
    assert booked_ids(server, alice, a, s, e) == []
    create_event(server, bob, s, e, room_id=a["id"])


def test_cancelling_frees_the_room_and_reconfirming_rechecks(server, admin, alice, bob):
    room = new_room(server, admin)
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"])
    r = patch_event(server, alice, ev["id"], {"status": "cancelled"}, etag=ev["etag"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    cancelled = r.json()
    assert booked_ids(server, alice, room, s, e) == []
    avail = server.request("GET", f"{ROOMS}/available", token=bob.token,
                           params={"from": rfc3339(s), "to": rfc3339(e), "limit": 1000})
    assert room["id"] in [x["id"] for x in avail.json()["items"]]
    taker = create_event(server, bob, s, e, room_id=room["id"])
    assert booked_ids(server, alice, room, s, e) == [taker["id"]]
    avail = server.request("GET", f"{ROOMS}/available", token=bob.token,
                           params={"from": rfc3339(s), "to": rfc3339(e), "limit": 1000})
    assert room["id"] not in [x["id"] for x in avail.json()["items"]]
    # Bringing the cancelled event back would double-book: refused, nothing changed.
    r = patch_event(server, alice, ev["id"], {"status": "confirmed"})
    assert_conflict(r, taker)
    assert get_event(server, alice, ev["id"]).json() == cancelled
    assert booked_ids(server, alice, room, s, e) == [taker["id"]]
    r = patch_event(server, alice, ev["id"], {"status": "tentative"})
    assert_conflict(r, taker)
    assert room_overlaps(server) == []


def test_deleting_frees_the_room(server, admin, alice, bob):
    room = new_room(server, admin)
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"])
    assert_conflict(post_event(server, bob, event_body(s, e, room_id=room["id"])), ev)
    assert delete_event(server, alice, ev["id"], etag=ev["etag"]).status_code == 204
    assert booked_ids(server, alice, room, s, e) == []
    taker = create_event(server, bob, s, e, room_id=room["id"])
    assert booked_ids(server, alice, room, s, e) == [taker["id"]]


def test_cancelled_event_may_move_anywhere_but_not_come_back(server, admin, alice, bob):
    room = new_room(server, admin)
    s, e = slot()
    held = create_event(server, bob, s, e, room_id=room["id"])
    ev = create_event(server, alice, e, e + timedelta(hours=1), room_id=room["id"])
    assert patch_event(server, alice, ev["id"], {"status": "cancelled"}).status_code == 200
    r = patch_event(server, alice, ev["id"], {"start": rfc3339(s)})
    assert r.status_code == 200, r.text  # a cancelled event holds nothing
    assert booked_ids(server, alice, room, s, e + timedelta(hours=1)) == [held["id"]]
    assert_conflict(patch_event(server, alice, ev["id"], {"status": "confirmed"}), held)
    assert room_overlaps(server) == []


def test_an_event_can_be_cancelled_after_its_room_was_retired(server, admin, alice, bob):
    """Retiring a room keeps its bookings; their owners must still be able to cancel them
    (which only frees the room) and to delete them."""
    room = new_room(server, admin)
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"], participants=[{"user_id": bob.id}])
    gone = create_event(server, alice, e, e + timedelta(hours=1), room_id=room["id"])
    r = server.request("DELETE", f"{ROOMS}/{room['id']}", token=admin)
    assert r.status_code == 204
    assert delete_event(server, alice, gone["id"]).status_code == 204
    r = patch_event(server, alice, ev["id"], {"status": "cancelled"}, etag=ev["etag"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"


def test_an_event_can_be_cancelled_after_its_room_shrank(server, admin, alice, bob, carol):
    room = new_room(server, admin, capacity=3)
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"],
                      participants=[{"user_id": bob.id}, {"user_id": carol.id}])
    r = server.request("PATCH", f"{ROOMS}/{room['id']}", token=admin, json_body={"capacity": 2})
    assert r.status_code == 200, r.text
    r = patch_event(server, alice, ev["id"], {"status": "cancelled"}, etag=ev["etag"])
    assert r.status_code == 200, r.text
    assert booked_ids(server, alice, room, s, e) == []


def test_a_cancelled_event_names_only_a_room_that_is(server, admin, alice):
    """A cancelled event holds no room, but a room it is given must still exist and be
    active: cancelling and pointing at a missing room at once, or pointing a cancelled event at
    one, was a 500 (the foreign key refused the row).  Refused with a 422, nothing changed."""
    room = new_room(server, admin)
    retired = new_room(server, admin)
    assert server.request("DELETE", f"{ROOMS}/{retired['id']}", token=admin).status_code == 204
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"])
    for bad in (999999, retired["id"]):
        r = patch_event(server, alice, ev["id"], {"status": "cancelled", "room_id": str(bad)})
        assert_problem(r, 422, field="room_id")
        assert get_event(server, alice, ev["id"]).json() == ev
    r = patch_event(server, alice, ev["id"], {"status": "cancelled"})
    assert r.status_code == 200, r.text
    cancelled = r.json()
    for bad in (999999, retired["id"]):
        assert_problem(patch_event(server, alice, ev["id"], {"room_id": str(bad)}), 422,
                       field="room_id")
        assert get_event(server, alice, ev["id"]).json() == cancelled
    other = new_room(server, admin)
    r = patch_event(server, alice, ev["id"], {"room_id": other["id"]})
    assert r.status_code == 200 and r.json()["room_id"] == other["id"], r.text


def test_bookings_show_other_peoples_private_events_as_busy(server, admin, alice, bob):
    room = new_room(server, admin)
    s, e = slot()
    ev = create_event(server, alice, s, e, room_id=room["id"], title="Secret",
                      visibility="private")
    items = bookings(server, bob, room["id"], s, e)
    assert [o["event_id"] for o in items] == [ev["id"]]
    assert "title" not in items[0] and items[0]["start"] == ev["start"]


# --- the races


class Racers:
    """RACERS threads, each with its own HTTP session (its own connection), released together
    by a barrier for every round."""

    def __init__(self, server, n=RACERS):
        self.server = server
        self.n = n
        self.jobs = [None] * n
        self.results = [None] * n
        self.go = threading.Barrier(n + 1)
        self.done = threading.Barrier(n + 1)
        self.stop = False
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True)
                        for i in range(n)]
        for t in self.threads:
            t.start()

    def _loop(self, i):
        with requests.Session() as sess:
            while True:
                self.go.wait()
                if self.stop:
                    return
                try:
                    self.results[i] = self.jobs[i](sess)
                except Exception as ex:  # reported by the round, not lost in the thread
                    self.results[i] = ex
                self.done.wait()

    def run(self, jobs):
        assert len(jobs) == self.n
        self.jobs = list(jobs)
        self.results = [None] * self.n
        self.go.wait(timeout=60)
        self.done.wait(timeout=120)
        return list(self.results)

    def close(self):
        self.stop = True
        self.go.wait(timeout=60)
        for t in self.threads:
            t.join(timeout=30)


def _post(server, person, body):
    def job(sess):
        return sess.post(server.url(f"{CALENDARS}/{person.calendar}/events"), json=body,
                         headers={"Authorization": f"Bearer {person.token}"}, timeout=60)
    return job


def _patch(server, person, event_id, body):
    def job(sess):
        return sess.patch(server.url(f"{EVENTS}/{event_id}"), json=body,
                          headers={"Authorization": f"Bearer {person.token}"}, timeout=60)
    return job


def _check_round(rnd, results, ok_status):
    """Exactly one success; every other answer a 409 conflict naming the winner."""
    for r in results:
        assert not isinstance(r, Exception), (rnd, r)
    codes = Counter(r.status_code for r in results)
    winners = [r for r in results if r.status_code in ok_status]
    assert len(winners) == 1 and codes[409] == len(results) - 1, (
        rnd, codes, [r.text for r in results if r.status_code not in (409, *ok_status)][:3])
    w = winners[0].json()
    for r in results:
        if r is winners[0]:
            continue
        p = assert_problem(r, 409, "conflict")
        assert [c["event_id"] for c in p.get("conflicts", [])] == [w["id"]], (rnd, p)
        c = p["conflicts"][0]
        assert (c["start"], c["end"]) == (w["start"], w["end"]), (rnd, c, w)
    return w


@pytest.fixture
def race(make_server):
    """A server with more threads, and eight users (two racers each: some races are between
    users, some within one user)."""
    srv = make_server(workers=2, threads=8)
    admin = srv.admin_token()
    return srv, admin, [new_person(srv, admin, "racer") for _ in range(RACERS // 2)]


def test_race_concurrent_creates_book_a_room_once(race):
    srv, admin, people = race
    room = new_room(srv, admin, capacity=50)
    day = fresh_day(span=ROUNDS // 12 + 2)
    racers = Racers(srv)
    winners = []
    try:
        for rnd in range(ROUNDS):
            t0 = day + timedelta(hours=2 * rnd)
            # Every racer's hour starts within the first 15 minutes: all pairs overlap.
            jobs = [_post(srv, people[i % len(people)], event_body(
                t0 + timedelta(minutes=i), t0 + timedelta(minutes=60 + i),
                title=f"Race {rnd}.{i}", room_id=room["id"])) for i in range(RACERS)]
            winners.append(_check_round(rnd, racers.run(jobs), (201,)))
    finally:
        racers.close()
    assert room_overlaps(srv) == []
    booked = booked_ids(srv, people[0], room, day, day + timedelta(hours=2 * ROUNDS))
    assert booked == [w["id"] for w in winners]
    # Every winner is a real event, in its owner's calendar, holding the room.
    for w in winners[:: max(1, ROUNDS // 20)]:
        owner = next(p for p in people if p.calendar == w["calendar_id"])
        got = get_event(srv, owner, w["id"])
        assert got.status_code == 200 and got.json()["room_id"] == room["id"]


def test_race_concurrent_moves_book_a_room_once(race):
    srv, admin, people = race
    room = new_room(srv, admin, capacity=50)
    rounds = max(10, ROUNDS // 8)
    day = fresh_day(span=rounds + 2)
    racers = Racers(srv)
    try:
        for rnd in range(rounds):
            base = day + timedelta(days=rnd)
            target = base + timedelta(hours=20)
            # Sixteen events in the room at their own half hours, then all moved at once.
            evs = []
            for i in range(RACERS):
                p = people[i % len(people)]
                st = base + timedelta(minutes=30 * i)
                evs.append((p, create_event(srv, p, st, st + timedelta(minutes=30),
                                            room_id=room["id"])))
            jobs = [_patch(srv, p, ev["id"], {"start": rfc3339(target + timedelta(minutes=i)),
                                              "end": rfc3339(target + timedelta(minutes=45 + i))})
                    for i, (p, ev) in enumerate(evs)]
            results = racers.run(jobs)
            w = _check_round(rnd, results, (200,))
            assert utc(w["start"]) - target < timedelta(minutes=RACERS), w
            # The losers did not move.
            for (p, ev), r in zip(evs, results):
                if r.status_code == 409:
                    assert get_event(srv, p, ev["id"]).json()["start"] == ev["start"]
    finally:
        racers.close()
    assert room_overlaps(srv) == []


def test_race_creates_moves_and_reconfirmations_mixed(race):
    """Each round a free slot is claimed at once by new events, moved events and cancelled
    events being brought back: still exactly one wins."""
    srv, admin, people = race
    room = new_room(srv, admin, capacity=50)
    rounds = max(10, ROUNDS // 10)
    day = fresh_day(span=rounds + 2)
    racers = Racers(srv)
    try:
        for rnd in range(rounds):
            base = day + timedelta(days=rnd)
            target = base + timedelta(hours=12)
            jobs = []
            for i in range(RACERS):
                p = people[i % len(people)]
                a, b = target + timedelta(minutes=i), target + timedelta(minutes=50 + i)
                kind = i % 3
                if kind == 0:
                    jobs.append(_post(srv, p, event_body(a, b, room_id=room["id"])))
                elif kind == 1:
                    st = base + timedelta(minutes=30 * i)
                    ev = create_event(srv, p, st, st + timedelta(minutes=30), room_id=room["id"])
                    jobs.append(_patch(srv, p, ev["id"], {"start": rfc3339(a),
                                                          "end": rfc3339(b)}))
                else:
                    ev = create_event(srv, p, a, b, room_id=room["id"], status="tentative")
                    assert patch_event(srv, p, ev["id"],
                                       {"status": "cancelled"}).status_code == 200
                    jobs.append(_patch(srv, p, ev["id"], {"status": "confirmed"}))
            _check_round(rnd, racers.run(jobs), (200, 201))
    finally:
        racers.close()
    assert room_overlaps(srv) == []


def test_race_different_rooms_do_not_block_each_other(race):
    srv, admin, people = race
    rooms = [new_room(srv, admin, capacity=5) for _ in range(RACERS)]
    rounds = 10
    day = fresh_day(span=2)
    racers = Racers(srv)
    try:
        for rnd in range(rounds):
            t0 = day + timedelta(hours=2 * rnd)
            jobs = [_post(srv, people[i % len(people)], event_body(
                t0, t0 + timedelta(hours=1), room_id=rooms[i]["id"])) for i in range(RACERS)]
            results = racers.run(jobs)
            assert all(not isinstance(r, Exception) and r.status_code == 201
                       for r in results), (rnd, [getattr(r, "text", r) for r in results])
    finally:
        racers.close()
    assert room_overlaps(srv) == []
