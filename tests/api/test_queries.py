"""No N+1: the number of database statements a listing runs (Server-Timing) does not grow
with the number of occurrences it returns."""
import re

import pytest

WEEK_SMALL = ("2027-03-01T00:00:00Z", "2027-03-08T00:00:00Z")
WEEK_BIG = ("2027-04-05T00:00:00Z", "2027-04-12T00:00:00Z")


def queries(r):
    m = re.search(r'db;dur=[0-9.]+;desc="(\d+) queries"', r.headers["Server-Timing"])
    assert m, r.headers["Server-Timing"]
    return int(m.group(1))


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
