"""Finding a time through the API: working hours in the participants' zone hold across a DST
change, busy time and room bookings are respected, and the answer is best-first."""
import pytest


@pytest.fixture(scope="module")
def people(server, admin):
    a = server.create_user(admin, "ft-a@example.org", "A", time_zone="America/New_York")
    b = server.create_user(admin, "ft-b@example.org", "B", time_zone="America/New_York")
    ta = server.login("ft-a@example.org", "correct horse")
    tb = server.login("ft-b@example.org", "correct horse")
    return {"a": a["id"], "b": b["id"], "ta": ta, "tb": tb}


def find(server, token, **body):
    r = server.request("POST", "/api/v1/find-time", token=token, json_body=body)
    assert r.status_code == 200, r.text
    return r.json()["slots"]


def test_working_hours_follow_dst(server, people):
    # US DST ends on Sunday 2026-11-01: 09:00 New York is 13:00Z on Friday, 14:00Z on Monday.
    body = {"participants": [people["a"], people["b"]], "duration_minutes": 60,
            "from": "2026-10-30T00:00:00Z", "to": "2026-11-03T00:00:00Z", "max_results": 50,
            "working_hours": {"start": "09:00", "end": "17:00", "time_zone": "America/New_York",
                              "days": [1, 2, 3, 4, 5]}}
    slots = find(server, people["ta"], **body)
    starts = [s["start"] for s in slots]
    assert starts[0] == "2026-10-30T13:00:00Z"
    days = {s[:10] for s in starts}
    assert days <= {"2026-10-30", "2026-11-02"}  # the weekend is skipped
    # No slot of Friday ends after 17:00 EDT (21:00Z); Monday's start at 14:00Z (09:00 EST).
    assert all(s["end"] <= "2026-10-30T21:00:00Z" for s in slots if s["start"].startswith("2026-10-30"))
    monday = [s for s in slots if s["start"].startswith("2026-11-02")]
    body["from"] = "2026-11-01T12:00:00Z"
    first_monday = find(server, people["ta"], **body)[0]
    assert first_monday["start"] == "2026-11-02T14:00:00Z"
    assert all(s["start"] >= "2026-11-02T14:00:00Z" for s in monday)


def test_busy_time_moves_the_slot_to_its_end(server, people):
    cal = server.request("GET", "/api/v1/calendars", token=people["tb"]).json()["items"][0]["id"]
    r = server.request("POST", f"/api/v1/calendars/{cal}/events", token=people["tb"],
                       json_body={"title": "b busy", "start": "2026-11-09T14:00:00Z",
                                  "end": "2026-11-09T15:20:00Z"})
    assert r.status_code == 201, r.text
    body = {"participants": [people["a"], people["b"]], "duration_minutes": 30,
            "from": "2026-11-09T14:00:00Z", "to": "2026-11-10T00:00:00Z", "max_results": 3,
            "working_hours": {"start": "09:00", "end": "17:00", "time_zone": "America/New_York"}}
    slots = find(server, people["ta"], **body)
    # Everyone is free first at 15:20Z, the end of b's meeting, not at the next quarter hour.
    assert slots[0]["start"] == "2026-11-09T15:20:00Z"
    assert sorted(slots[0]["available"]) == sorted([people["a"], people["b"]])
    assert slots[0]["unavailable"] == []


def test_nobody_free_ranks_partial_availability(server, people):
    cal = server.request("GET", "/api/v1/calendars", token=people["tb"]).json()["items"][0]["id"]
    r = server.request("POST", f"/api/v1/calendars/{cal}/events", token=people["tb"],
                       json_body={"title": "b all day", "start": "2026-11-16T14:00:00Z",
                                  "end": "2026-11-16T22:00:00Z"})
    assert r.status_code == 201, r.text
    body = {"participants": [people["a"], people["b"]], "duration_minutes": 60,
            "from": "2026-11-16T14:00:00Z", "to": "2026-11-16T22:00:00Z", "max_results": 5,
            "working_hours": {"start": "09:00", "end": "17:00", "time_zone": "America/New_York"}}
    slots = find(server, people["ta"], **body)
    assert slots, "partial slots are still offered"
    assert all(s["available"] == [people["a"]] and s["unavailable"] == [people["b"]] for s in slots)


def test_people_and_rooms_in_any_order_get_their_own_busy_time(server, admin):
    """Free/busy and find-a-time read everyone's busy time in one statement and split it by
    owner: asked for in descending id order, each person and room still gets exactly its own."""
    users, tokens, rooms = [], [], []
    for i in range(3):
        u = server.create_user(admin, f"ft-order-{i}@example.org", f"Order {i}")
        users.append(u["id"])
        tokens.append(server.login(f"ft-order-{i}@example.org", "correct horse"))
        r = server.request("POST", "/api/v1/rooms", token=admin,
                           json_body={"name": f"ft order room {i}", "capacity": 71 + i})
        assert r.status_code == 201, r.text
        rooms.append(r.json()["id"])
    # Person i is busy at 1i:00-1i:30 and books room i for it, on 2026-12-14.
    for i in range(3):
        cal = server.request("GET", "/api/v1/calendars", token=tokens[i]).json()["items"][0]["id"]
        r = server.request("POST", f"/api/v1/calendars/{cal}/events", token=tokens[i],
                           json_body={"title": f"order {i}", "room_id": rooms[i],
                                      "start": f"2026-12-14T1{i}:00:00Z",
                                      "end": f"2026-12-14T1{i}:30:00Z"})
        assert r.status_code == 201, r.text
    day = {"from": "2026-12-14T00:00:00Z", "to": "2026-12-15T00:00:00Z"}
    r = server.request("POST", "/api/v1/freebusy", token=tokens[0],
                       json_body={**day, "users": users[::-1], "rooms": rooms[::-1]})
    assert r.status_code == 200, r.text
    fb = r.json()
    for i in range(3):
        want = [{"start": f"2026-12-14T1{i}:00:00Z", "end": f"2026-12-14T1{i}:30:00Z",
                 "status": "busy"}]
        assert fb["users"][str(users[i])] == want, (i, fb)
        assert fb["rooms"][str(rooms[i])] == want, (i, fb)
    # 10:00-11:30 UTC: person 0 is free only from 10:30, 1 busy 11:00-11:30; each room
    # seating 71 or more is booked once in it, so the smallest free room changes with the time.
    slots = find(server, tokens[0], participants=users[::-1], duration_minutes=30,
                 max_results=50, room={"capacity_min": 71},
                 **{"from": "2026-12-14T10:00:00Z", "to": "2026-12-14T11:30:00Z"},
                 working_hours={"start": "00:00", "end": "23:59", "time_zone": "UTC"})
    by_start = {s["start"]: s for s in slots}
    first = by_start["2026-12-14T10:00:00Z"]
    assert first["unavailable"] == [users[0]] and first["room_id"] == rooms[1], first
    assert by_start["2026-12-14T10:30:00Z"]["unavailable"] == []
    assert by_start["2026-12-14T10:30:00Z"]["room_id"] == rooms[0]
    late = by_start["2026-12-14T11:00:00Z"]
    assert late["unavailable"] == [users[1]] and late["room_id"] == rooms[0], late
