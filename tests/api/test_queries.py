"""No N+1: the number of database statements a listing runs (Server-Timing) does not grow
with the number of occurrences it returns; and a listing read again finds its events'
participant lists in the worker's cache, until the event changes."""
import re

import pytest

from conftest import Server, assert_sanitizer_clean

WEEK_SMALL = ("2027-03-01T00:00:00Z", "2027-03-08T00:00:00Z")
WEEK_BIG = ("2027-04-05T00:00:00Z", "2027-04-12T00:00:00Z")


def queries(r):
    m = re.search(r'db;dur=[0-9.]+;desc="(\d+) queries"', r.headers["Server-Timing"])
    assert m, r.headers["Server-Timing"]
    return int(m.group(1))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own server, with one worker: every request finds the cache (of
    participant lists) that the requests before it left."""
    s = Server(tmp_path_factory.mktemp("srv"), workers=1).start()
    yield s
    assert s.stop() == 0, s.stderr()[-4000:]
    assert_sanitizer_clean(s)


@pytest.fixture(scope="module")
def world(server, admin):
    ann = server.create_user(admin, "nplus1-ann@example.org", "Ann")
    bob = server.create_user(admin, "nplus1-bob@example.org", "Bob")
    room = server.request("POST", "/api/v1/rooms", token=admin,
                          json_body={"name": "N+1 room", "capacity": 10}).json()
    ta = server.login("nplus1-ann@example.org", "correct horse")
    cal = server.request("GET", "/api/v1/calendars", token=ta).json()["items"][0]["id"]

    def add(day, hour, minute, with_room):
        start = f"{day}T{hour:02d}:{minute:02d}:00Z"
        end = f"{day}T{hour:02d}:{minute + 10:02d}:00Z"
        body = {"title": "x", "start": start, "end": end, "participants": [{"user_id": bob["id"]}]}
        if with_room:
            body["room_id"] = room["id"]
        r = server.request("POST", f"/api/v1/calendars/{cal}/events", token=ta, json_body=body)
        assert r.status_code == 201, r.text

    for i in range(10):                       # 10 occurrences in the small week
        add("2027-03-02", 8 + i, 0, True)
    n = 0
    for day in range(5, 12):                  # 500 in the big week
        for hour in range(24):
            for minute in (0, 15, 30):
                if n < 500:
                    add(f"2027-04-{day:02d}", hour, minute, True)
                    n += 1
    return {"ta": ta, "cal": cal, "room": room["id"], "ann": ann["id"], "bob": bob["id"]}


def listing(server, world, kind, week):
    q = f"from={week[0]}&to={week[1]}&limit=1000"
    if kind == "agenda":
        return server.request("GET", f"/api/v1/me/agenda?{q}", token=world["ta"])
    if kind == "calendar":
        return server.request("GET", f"/api/v1/calendars/{world['cal']}/events?{q}", token=world["ta"])
    if kind == "room":
        return server.request("GET", f"/api/v1/rooms/{world['room']}/bookings?{q}", token=world["ta"])
    body = {"from": week[0], "to": week[1], "users": [world["ann"], world["bob"]],
            "rooms": [world["room"]]}
    return server.request("POST", "/api/v1/freebusy", token=world["ta"], json_body=body)


@pytest.mark.parametrize("kind", ["agenda", "calendar", "room", "freebusy"])
def test_query_count_does_not_grow_with_the_answer(server, world, kind):
    small = listing(server, world, kind, WEEK_SMALL)
    big = listing(server, world, kind, WEEK_BIG)
    assert small.status_code == big.status_code == 200
    if kind != "freebusy":
        assert len(small.json()["items"]) == 10
        assert len(big.json()["items"]) == 500
        assert all(len(o["participants"]) == 2 for o in big.json()["items"])
    assert queries(small) == queries(big), (queries(small), queries(big))
    assert queries(big) <= 6  # auth, horizon, lookups of the ids asked for, a range query per kind


def test_occurrence_pages_cover_the_range_once(server, world):
    """Paging through 500 occurrences 77 at a time yields each exactly once, in order."""
    seen, cursor = [], None
    for _ in range(20):
        q = f"from={WEEK_BIG[0]}&to={WEEK_BIG[1]}&limit=77" + (f"&cursor={cursor}" if cursor else "")
        r = server.request("GET", f"/api/v1/me/agenda?{q}", token=world["ta"])
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [(o["start"], o["event_id"]) for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 500 and len(set(seen)) == 500
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    bad = server.request("GET", f"/api/v1/me/agenda?from={WEEK_BIG[0]}&to={WEEK_BIG[1]}&cursor=zz",
                         token=world["ta"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_lists_come_from_the_cache_until_the_event_changes(server, world):
    """The first read of a week runs the participants query; the same read again finds every
    list in the cache (one statement fewer, the same answer); after an answer or a new list of
    people the event's version has moved, and its list is read again."""
    ta, bob = world["ta"], world["bob"]
    tb = server.login("nplus1-bob@example.org", "correct horse")
    week = ("2027-05-03T00:00:00Z", "2027-05-10T00:00:00Z")
    made = []
    for day in (4, 5, 6):
        r = server.request("POST", f"/api/v1/calendars/{world['cal']}/events", token=ta,
                           json_body={"title": "cached", "start": f"2027-05-{day:02d}T09:00:00Z",
                                      "end": f"2027-05-{day:02d}T10:00:00Z",
                                      "participants": [{"user_id": bob}]})
        assert r.status_code == 201, r.text
        made.append(r.json())

    def agenda():
        r = listing(server, world, "agenda", week)
        assert r.status_code == 200, r.text
        return r.json()["items"], queries(r)

    def answers(items):
        return [[p["rsvp"] for p in o["participants"] if p["user_id"] == bob] for o in items]

    cold, cold_n = agenda()
    warm, warm_n = agenda()
    assert len(cold) == 3 and warm == cold
    assert warm_n == cold_n - 1, (cold_n, warm_n)
    r = server.request("POST", f"/api/v1/events/{made[1]['id']}/rsvp", token=tb,
                       json_body={"status": "declined"})
    assert r.status_code == 200, r.text
    items, n = agenda()
    assert n == cold_n, "the answered event's list is read again"
    assert answers(items) == [["needs-action"], ["declined"], ["needs-action"]]
    r = server.request("PATCH", f"/api/v1/events/{made[2]['id']}", token=ta,
                       headers={"If-Match": made[2]["etag"]}, json_body={"participants": []})
    assert r.status_code == 200, r.text
    items, n = agenda()
    assert n == cold_n
    assert answers(items) == [["needs-action"], ["declined"], []]
    assert agenda() == (items, cold_n - 1)
