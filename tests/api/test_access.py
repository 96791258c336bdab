"""The authorization matrix of issue 3: every calendar, event, room, free/busy, find-time and
notification route of src/api/routes.c, driven as each kind of caller, with the exact status
each must get; and proof that nothing of a private event reaches those who may only see that
the time is taken.

The rules (src/core/event.c, core_event_view / core_event_may_write):
- the calendar's owner and a write-share create, change and delete events and see everything;
- a read-share sees everything except private events, which appear busy-only;
- a freebusy-share sees busy-only;
- participants see the events they are on in full (and may answer them);
- anyone else gets 404 for another's calendar or event (existence not confirmed) -- the
  administrator included: admin is not a calendar superuser;
- calendar PATCH/DELETE and shares are the owner's (403 for others who can see the calendar);
- rooms: any user lists and reads them, the administrator creates, changes and deletes
  (deletes deactivate); POST /users is the administrator's.
"""
import datetime
import itertools
import json
import os
import re

import pytest

from conftest import assert_problem

API = "/api/v1"
ROLES = ("anon", "stranger", "reader", "writer", "owner", "admin", "participant", "fb")
USER_ROLES = tuple(r for r in ROLES if r != "anon")

# The window holding the two setup events (a Monday), and their times.
DAY_FROM, DAY_TO = "2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z"
RANGE = {"from": DAY_FROM, "to": DAY_TO}
NORMAL_START, NORMAL_END = "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"
PRIVATE_START, PRIVATE_END = "2030-01-07T14:00:00Z", "2030-01-07T15:00:00Z"

# Distinctive strings: those of the private event must never reach a busy-only viewer.
NORMAL_TITLE, NORMAL_DESC, NORMAL_LOC = "Quarterly Zq1 review", "Zq1 agenda notes", "Zq1 corner"
SECRET_TITLE = "Secret Xy7 merger talk"
SECRET_DESC = "Xy7 confidential description"
SECRET_LOC = "Xy7 hidden bunker"
SECRET_GUEST_EMAIL = "outside.xy7@partner.example"  # external participant, private event only
SECRET_USER_NAME = "Xy7 Insider Name"  # internal participant on the private event only
SECRET_USER_EMAIL = "insider.xy7@example.org"
SECRETS = (SECRET_TITLE, SECRET_DESC, SECRET_LOC, SECRET_GUEST_EMAIL, SECRET_USER_NAME,
           SECRET_USER_EMAIL, "Xy7")

# What a busy-only viewer gets: in a listing, and from GET /events/{id}.
BUSY_ITEM_KEYS = {"event_id", "recurrence_id", "calendar_id", "start", "end", "all_day", "status",
                  "visibility", "busy"}
BUSY_EVENT_KEYS = {"id", "calendar_id", "start", "end", "all_day", "status", "visibility", "busy",
                   "etag"}

SLUG = {401: "unauthorized", 403: "forbidden", 404: "not-found"}
_seq = itertools.count(1)


def _slot(base, n, minutes):
    """The n-th hour from `base` (an RFC 3339 UTC instant) and `minutes` after it."""
    t = datetime.datetime.fromisoformat(base.replace("Z", "+00:00")) + datetime.timedelta(hours=n)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return t.strftime(fmt), (t + datetime.timedelta(minutes=minutes)).strftime(fmt)


# --- the world every row runs against ---------------------------------------------------------


class World:
    """Users, tokens, the shared calendar, the room and the two events."""

    def __init__(self, server, admin):
        self.server = server
        self.tokens = {"anon": None, "admin": admin}
        self.users = {"admin": server.request("GET", f"{API}/me", token=admin).json()}
        names = {"owner": "Olga Owner", "writer": "Walt Writer", "reader": "Rita Reader",
                 "fb": "Fred Freebusy", "participant": "Pia Participant",
                 "stranger": "Stan Stranger", "insider": SECRET_USER_NAME}
        for role, name in names.items():
            email = SECRET_USER_EMAIL if role == "insider" else f"{role}.access@example.org"
            self.users[role] = server.create_user(admin, email, name=name,
                                                  password=f"{role} password")
            self.tokens[role] = server.login(email, f"{role} password")
        self.cal = self.default_calendar("owner")
        for role, share in (("writer", "write"), ("reader", "read"), ("fb", "freebusy")):
            self.ok("PUT", f"{API}/calendars/{self.cal}/shares/{self.uid(role)}", "owner",
                    {"role": share}, 200)
        self.room = self.ok("POST", f"{API}/rooms", "admin",
                            {"name": "Access Room", "capacity": 10, "location": "Floor 3",
                             "features": ["projector"]}, 201)["id"]
        self.normal = self.ok("POST", f"{API}/calendars/{self.cal}/events", "owner", {
            "title": NORMAL_TITLE, "description": NORMAL_DESC, "location": NORMAL_LOC,
            "start": NORMAL_START, "end": NORMAL_END, "room_id": self.room,
            "participants": [{"user_id": self.uid("participant")}]}, 201)["id"]
        self.private = self.ok("POST", f"{API}/calendars/{self.cal}/events", "owner", {
            "title": SECRET_TITLE, "description": SECRET_DESC, "location": SECRET_LOC,
            "start": PRIVATE_START, "end": PRIVATE_END, "room_id": self.room,
            "visibility": "private",
            "participants": [{"user_id": self.uid("participant")},
                             {"user_id": self.uid("insider")},
                             {"email": SECRET_GUEST_EMAIL}],
            "reminders": [{"minutes_before": 10}]}, 201)["id"]
        notes = self.ok("GET", f"{API}/notifications", "participant", None, 200)["items"]
        invitations = [n for n in notes if n["type"] == "invitation"
                       and n["event_id"] == self.normal]
        assert invitations, notes
        self.notification = invitations[0]["id"]

    def uid(self, role):
        return self.users[role]["id"]

    def req(self, method, path, role, body=None, params=None, headers=None):
        return self.server.request(method, path, token=self.tokens[role], json_body=body,
                                   params=params, headers=headers)

    def ok(self, method, path, role, body, status, params=None):
        r = self.req(method, path, role, body, params)
        assert r.status_code == status, (method, path, role, r.status_code, r.text)
        return r.json() if r.content else None

    def default_calendar(self, role):
        cals = self.ok("GET", f"{API}/calendars", role, None, 200)["items"]
        mine = [c for c in cals if c["is_default"] and c["owner_id"] == self.uid(role)]
        assert len(mine) == 1, cals
        return mine[0]["id"]

    # Throwaway objects for rows that write, so that no row changes what a later one sees.

    def fresh_calendar(self):
        """A calendar of the owner's, shared exactly like the main one."""
        cal = self.ok("POST", f"{API}/calendars", "owner", {"name": f"Throwaway {next(_seq)}"},
                      201)["id"]
        for role, share in (("writer", "write"), ("reader", "read"), ("fb", "freebusy")):
            self.ok("PUT", f"{API}/calendars/{cal}/shares/{self.uid(role)}", "owner",
                    {"role": share}, 200)
        return cal

    def fresh_feed_calendar(self):
        """A fresh calendar that has a feed to revoke."""
        cal = self.fresh_calendar()
        self.ok("POST", f"{API}/calendars/{cal}/feed", "owner", None, 201)
        return cal

    def fresh_event(self, visibility="default"):
        """An event in the owner's main calendar, participant on it, at a time of its own."""
        n = next(_seq)
        start, end = _slot("2031-03-01T00:00:00Z", n, 30)
        return self.ok("POST", f"{API}/calendars/{self.cal}/events", "owner", {
            "title": f"Throwaway event {n}", "description": "throwaway", "visibility": visibility,
            "start": start, "end": end,
            "participants": [{"user_id": self.uid("participant")}]}, 201)["id"]

    def fresh_occurrence(self):
        """"<series id>/instances/<recurrence id>": the second occurrence of a new weekly
        series of the owner's, participant on it."""
        n = next(_seq)
        start, end = _slot("2031-06-01T00:00:00Z", n, 30)
        ev = self.ok("POST", f"{API}/calendars/{self.cal}/events", "owner", {
            "title": f"Throwaway series {n}", "start": start, "end": end,
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
            "participants": [{"user_id": self.uid("participant")}]}, 201)
        occ = self.ok("GET", f"{API}/events/{ev['id']}/instances", "owner", None, 200,
                      {"from": start, "to": "2031-12-31T00:00:00Z"})["items"]
        return f"{ev['id']}/instances/{occ[1]['recurrence_id']}"

    def fresh_room(self):
        return self.ok("POST", f"{API}/rooms", "admin",
                       {"name": f"Throwaway room {next(_seq)}", "capacity": 4}, 201)["id"]


@pytest.fixture(scope="module")
def world(server, admin):
    return World(server, admin)


# --- the matrix -------------------------------------------------------------------------------


def everyone(status):
    """Any signed-in user gets `status`; no token, 401."""
    return {"anon": 401, **{r: status for r in USER_ROLES}}


def calendar_view():
    """Who sees the calendar (any share); the rest are told it does not exist."""
    return {"anon": 401, "stranger": 404, "admin": 404, "participant": 404,
            "reader": 200, "writer": 200, "owner": 200, "fb": 200}


def calendar_owner_only(success):
    return {"anon": 401, "stranger": 404, "admin": 404, "participant": 404,
            "reader": 403, "writer": 403, "fb": 403, "owner": success}


def calendar_write(success):
    return {"anon": 401, "stranger": 404, "admin": 404, "participant": 404,
            "reader": 403, "fb": 403, "writer": success, "owner": success}


def event_view():
    return {"anon": 401, "stranger": 404, "admin": 404,
            "reader": 200, "writer": 200, "owner": 200, "fb": 200, "participant": 200}


def event_write(success):
    return {"anon": 401, "stranger": 404, "admin": 404,
            "reader": 403, "fb": 403, "participant": 403, "writer": success, "owner": success}


def event_rsvp():
    return {"anon": 401, "stranger": 404, "admin": 404,
            "reader": 403, "fb": 403, "writer": 403, "participant": 200, "owner": 200}


def admin_only(success):
    return {"anon": 401, **{r: 403 for r in USER_ROLES}, "admin": success}


def participant_only(success):
    return {"anon": 401, **{r: 404 for r in USER_ROLES}, "participant": success}


def _new_user_body(w):
    n = next(_seq)
    return {"email": f"matrix{n}@example.org", "name": f"Matrix {n}", "password": "matrix pass"}


def _freebusy_body(w):
    return {"from": DAY_FROM, "to": DAY_TO, "users": [w.uid("owner"), w.uid("participant")],
            "rooms": [w.room]}


def _find_time_body(w):
    return {"participants": [w.uid("owner"), w.uid("participant")], "duration_minutes": 60,
            "from": "2030-01-07T08:00:00Z", "to": "2030-01-07T18:00:00Z",
            "working_hours": {"start": "08:00", "end": "18:00", "time_zone": "UTC",
                              "days": [1, 2, 3, 4, 5]},
            "room": {"capacity_min": 2}, "max_results": 3}


def _event_body(w):
    n = next(_seq)
    start, end = _slot("2032-05-01T00:00:00Z", n, 45)
    return {"title": f"Matrix event {n}", "start": start, "end": end}


# (route as routes.c spells it, variant, concrete path template, query, body, expectations).
# Placeholders: {cal} {normal} {private} {room} {notification} {participant_uid} are the
# world's; {fresh_cal} {fresh_event} {fresh_private} {fresh_room} are made anew for the row.
SPECS = [
    ("GET /api/v1/me/agenda", None, "/me/agenda", RANGE, None, everyone(200)),
    ("GET /api/v1/calendars", None, "/calendars", None, None, everyone(200)),
    ("POST /api/v1/calendars", None, "/calendars", None,
     lambda w: {"name": f"Own {next(_seq)}"}, everyone(201)),
    ("GET /api/v1/calendars/{id}", None, "/calendars/{cal}", None, None, calendar_view()),
    ("PATCH /api/v1/calendars/{id}", None, "/calendars/{fresh_cal}", None,
     {"name": "Renamed", "color": "#112233"}, calendar_owner_only(200)),
    ("DELETE /api/v1/calendars/{id}", None, "/calendars/{fresh_cal}", None, None,
     calendar_owner_only(204)),
    ("PUT /api/v1/calendars/{id}/shares/{user_id}", None,
     "/calendars/{fresh_cal}/shares/{participant_uid}", None, {"role": "read"},
     calendar_owner_only(200)),
    ("DELETE /api/v1/calendars/{id}/shares/{user_id}", None,
     "/calendars/{fresh_cal}/shares/{reader_uid}", None, None, calendar_owner_only(204)),
    ("GET /api/v1/calendars/{id}/events", None, "/calendars/{cal}/events", RANGE, None,
     calendar_view()),
    ("POST /api/v1/calendars/{id}/events", None, "/calendars/{cal}/events", None, _event_body,
     calendar_write(201)),
    ("GET /api/v1/calendars/{id}/export.ics", None, "/calendars/{cal}/export.ics", None, None,
     calendar_view()),
    ("POST /api/v1/calendars/{id}/feed", None, "/calendars/{fresh_cal}/feed", None, None,
     calendar_owner_only(201)),
    ("DELETE /api/v1/calendars/{id}/feed", None, "/calendars/{fresh_feed_cal}/feed", None, None,
     calendar_owner_only(204)),
    ("GET /api/v1/events/{id}", "normal", "/events/{normal}", None, None, event_view()),
    ("GET /api/v1/events/{id}", "private", "/events/{private}", None, None, event_view()),
    ("GET /api/v1/events/{id}.ics", "normal", "/events/{normal}.ics", None, None, event_view()),
    ("GET /api/v1/events/{id}.ics", "private", "/events/{private}.ics", None, None,
     event_view()),
    ("PATCH /api/v1/events/{id}", "normal", "/events/{fresh_event}", None,
     {"title": "Patched title"}, event_write(200)),
    ("PATCH /api/v1/events/{id}", "private", "/events/{fresh_private}", None,
     {"title": "Patched title"}, event_write(200)),
    ("DELETE /api/v1/events/{id}", "normal", "/events/{fresh_event}", None, None,
     event_write(204)),
    ("DELETE /api/v1/events/{id}", "private", "/events/{fresh_private}", None, None,
     event_write(204)),
    ("GET /api/v1/events/{id}/instances", "normal", "/events/{normal}/instances", RANGE, None,
     event_view()),
    ("GET /api/v1/events/{id}/instances", "private", "/events/{private}/instances", RANGE, None,
     event_view()),
    ("PATCH /api/v1/events/{id}/instances/{recurrence_id}", None, "/events/{fresh_occurrence}",
     None, {"title": "Moved occurrence"}, event_write(200)),
    ("DELETE /api/v1/events/{id}/instances/{recurrence_id}", None, "/events/{fresh_occurrence}",
     None, None, event_write(204)),
    ("POST /api/v1/events/{id}/rsvp", "normal", "/events/{fresh_event}/rsvp", None,
     {"status": "accepted"}, event_rsvp()),
    ("POST /api/v1/events/{id}/rsvp", "private", "/events/{fresh_private}/rsvp", None,
     {"status": "tentative"}, event_rsvp()),
    ("GET /api/v1/rooms", None, "/rooms", None, None, everyone(200)),
    ("POST /api/v1/rooms", None, "/rooms", None,
     lambda w: {"name": f"Matrix room {next(_seq)}", "capacity": 6}, admin_only(201)),
    ("GET /api/v1/rooms/available", None, "/rooms/available", {**RANGE, "capacity_min": "2"},
     None, everyone(200)),
    ("GET /api/v1/rooms/{id}", None, "/rooms/{room}", None, None, everyone(200)),
    ("PATCH /api/v1/rooms/{id}", None, "/rooms/{fresh_room}", None, {"capacity": 8},
     admin_only(200)),
    ("DELETE /api/v1/rooms/{id}", None, "/rooms/{fresh_room}", None, None, admin_only(204)),
    ("GET /api/v1/rooms/{id}/bookings", None, "/rooms/{room}/bookings", RANGE, None,
     everyone(200)),
    ("POST /api/v1/freebusy", None, "/freebusy", None, _freebusy_body, everyone(200)),
    ("POST /api/v1/find-time", None, "/find-time", None, _find_time_body, everyone(200)),
    ("GET /api/v1/notifications", None, "/notifications", None, None, everyone(200)),
    ("POST /api/v1/notifications/read-all", None, "/notifications/read-all", None, None,
     everyone(204)),
    ("POST /api/v1/notifications/{id}/read", None, "/notifications/{notification}/read", None,
     None, participant_only(204)),
    ("POST /api/v1/users", None, "/users", None, _new_user_body, admin_only(201)),
]


def _rows():
    for route, variant, path, query, body, expect in SPECS:
        assert set(expect) == set(ROLES), route
        method, pattern = route.split(" ", 1)
        short = pattern[len(API):]
        for role in ROLES:
            tag = f" [{variant}]" if variant else ""
            rid = f"{method} {short}{tag} as {role} -> {expect[role]}"
            yield pytest.param(method, path, variant, query, body, role, expect[role], id=rid)


def _resolve(w, path):
    fresh = {"fresh_cal": w.fresh_calendar, "fresh_feed_cal": w.fresh_feed_calendar,
             "fresh_event": w.fresh_event,
             "fresh_private": lambda: w.fresh_event("private"), "fresh_room": w.fresh_room,
             "fresh_occurrence": w.fresh_occurrence}
    known = {"cal": w.cal, "normal": w.normal, "private": w.private, "room": w.room,
             "notification": w.notification, "participant_uid": w.uid("participant"),
             "reader_uid": w.uid("reader")}

    def sub(m):
        name = m.group(1)
        return str(fresh[name]() if name in fresh else known[name])

    return API + re.sub(r"\{(\w+)\}", sub, path)


@pytest.mark.parametrize("method,path,variant,query,body,role,status", list(_rows()))
def test_matrix(world, method, path, variant, query, body, role, status):
    w = world
    url = _resolve(w, path)
    payload = body(w) if callable(body) else body
    # The resource a PATCH, PUT or DELETE touches, and who may always read it.
    m = re.fullmatch(r"(.*/(calendars|events|rooms)/\d+)(/shares/\d+)?", url)
    probe = m.group(1) if m and method in ("PATCH", "PUT", "DELETE") else None
    prober = "admin" if "/rooms/" in url else "owner"
    before = w.req("GET", probe, prober) if probe else None
    r = w.req(method, url, role, payload, query)
    if status >= 400:
        assert_problem(r, status, SLUG[status])
        if status == 401:
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
        if before is not None:  # a refused write changed nothing
            after = w.req("GET", probe, prober)
            assert after.status_code == 200 and after.json() == before.json()
        return
    assert r.status_code == status, (r.status_code, r.text)
    if status == 204:
        assert r.content == b""
    elif url.endswith(".ics"):
        assert r.headers["Content-Type"] == "text/calendar; charset=utf-8", r.headers
    else:
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        r.json()
    if method == "DELETE" and "/instances/" in url:  # the occurrence left the series
        series, rid = url.split("/instances/")
        left = w.ok("GET", f"{series}/instances", "owner", None, 200,
                    {"from": "2031-01-01T00:00:00Z", "to": "2031-12-31T00:00:00Z"})["items"]
        assert rid not in [o["recurrence_id"] for o in left] and len(left) == 2
    elif method == "DELETE" and "/events/" in url:
        assert w.req("GET", url, "owner").status_code == 404
    if method == "DELETE" and "/rooms/" in url:  # retired, not erased
        gone = w.req("GET", url, role)
        assert gone.status_code == 200 and gone.json()["active"] is False
    if method == "DELETE" and re.search(r"/calendars/\d+$", url):
        assert w.req("GET", url, "owner").status_code == 404
        assert w.req("GET", url, "reader").status_code == 404


def test_matrix_covers_every_route():
    """Every calendar/event/room/free-busy/find-time/notification route of routes.c has rows."""
    routes_c = os.path.join(os.path.dirname(__file__), "..", "..", "src", "api", "routes.c")
    with open(routes_c) as f:
        text = f.read()
    routes = {f"{m} {p}" for m, p in re.findall(r'\b(?:R|SLOW)\("(\w+)", "([^"]+)"', text)}
    relevant = {r for r in routes
                if re.search(r"/(calendars|events|rooms|freebusy|find-time|notifications|agenda)",
                             r) or r == "POST /api/v1/users"}
    # The import route takes text/calendar, not JSON: its access rows are in test_import.py.
    covered = {s[0] for s in SPECS} | {"POST /api/v1/calendars/{id}/import"}
    assert relevant - covered == set()
    assert covered - routes == set()


# --- what each viewer sees ---------------------------------------------------------------------


def _event(world, role, which):
    eid = world.normal if which == "normal" else world.private
    r = world.req("GET", f"{API}/events/{eid}", role)
    assert r.status_code == 200, r.text
    return r.json(), r.text


@pytest.mark.parametrize("role,which,view", [
    ("owner", "normal", "full"), ("owner", "private", "full"),
    ("writer", "normal", "full"), ("writer", "private", "full"),
    ("reader", "normal", "full"), ("reader", "private", "busy"),
    ("fb", "normal", "busy"), ("fb", "private", "busy"),
    ("participant", "normal", "full"), ("participant", "private", "full"),
], ids=lambda x: x)
def test_event_representation(world, role, which, view):
    ev, text = _event(world, role, which)
    eid = world.normal if which == "normal" else world.private
    start, end = (NORMAL_START, NORMAL_END) if which == "normal" else (PRIVATE_START, PRIVATE_END)
    assert ev["id"] == eid and ev["calendar_id"] == world.cal
    if view == "busy":
        assert set(ev) == BUSY_EVENT_KEYS, ev
        assert ev["visibility"] == "private" and ev["busy"] is True
        assert ev["start"] == start and ev["end"] == end and ev["all_day"] is False
        assert ev["status"] == "confirmed"
        for s in SECRETS + (NORMAL_TITLE, NORMAL_DESC, NORMAL_LOC, "organizer",
                            "participants", world.users["owner"]["email"],
                            world.users["participant"]["email"]):
            assert s not in text, (s, text)
    else:
        title, desc = (NORMAL_TITLE, NORMAL_DESC) if which == "normal" else (SECRET_TITLE,
                                                                             SECRET_DESC)
        assert ev["title"] == title and ev["description"] == desc
        assert ev["organizer_id"] == world.uid("owner")
        assert world.uid("participant") in {p["user_id"] for p in ev["participants"]}
        assert ev["room_id"] == world.room
        if which == "private":  # positive control for the leak checks: the strings are real
            for s in (SECRET_TITLE, SECRET_DESC, SECRET_LOC, SECRET_GUEST_EMAIL,
                      SECRET_USER_NAME, SECRET_USER_EMAIL):
                assert s in text, s


def _occurrences(world, role, path):
    r = world.req("GET", f"{API}{path}", role, params=RANGE)
    assert r.status_code == 200, r.text
    return {o["event_id"]: o for o in r.json()["items"]}, r.text


def _assert_busy_item(world, item, start, end):
    assert set(item) == BUSY_ITEM_KEYS, item
    assert item["visibility"] == "private" and item["busy"] is True
    assert item["recurrence_id"] is None and item["calendar_id"] == world.cal
    assert item["start"] == start and item["end"] == end
    dumped = json.dumps(item, ensure_ascii=False)
    for s in (world.users["owner"]["email"], world.users["owner"]["name"],
              world.users["participant"]["email"], world.users["participant"]["name"]):
        assert s not in dumped, (s, item)


@pytest.mark.parametrize("role,normal_view", [
    ("owner", "full"), ("writer", "full"), ("reader", "full"), ("fb", "busy")])
def test_calendar_listing(world, role, normal_view):
    items, text = _occurrences(world, role, f"/calendars/{world.cal}/events")
    assert set(items) >= {world.normal, world.private}
    private_full = role in ("owner", "writer")
    if private_full:
        assert items[world.private]["title"] == SECRET_TITLE
        assert items[world.private]["visibility"] == "private"
    else:
        _assert_busy_item(world, items[world.private], PRIVATE_START, PRIVATE_END)
        for s in SECRETS:
            assert s not in text, (s, text)
    if normal_view == "full":
        assert items[world.normal]["title"] == NORMAL_TITLE
        assert items[world.normal]["room"]["id"] == world.room
    else:
        _assert_busy_item(world, items[world.normal], NORMAL_START, NORMAL_END)
        assert NORMAL_TITLE not in text and NORMAL_LOC not in text


@pytest.mark.parametrize("role", ["reader", "fb", "stranger", "admin", "writer", "owner",
                                  "participant"])
def test_room_bookings(world, role):
    items, text = _occurrences(world, role, f"/rooms/{world.room}/bookings")
    # Everyone sees that the room is taken at both times.
    assert set(items) >= {world.normal, world.private}
    if role in ("owner", "writer", "participant"):
        assert items[world.private]["title"] == SECRET_TITLE
    else:
        _assert_busy_item(world, items[world.private], PRIVATE_START, PRIVATE_END)
        for s in SECRETS:
            assert s not in text, (s, text)
    if role == "reader":
        assert items[world.normal]["title"] == NORMAL_TITLE


@pytest.mark.parametrize("role", ["reader", "fb", "stranger", "admin"])
def test_nothing_private_leaks_elsewhere(world, role):
    """Every other place a busy-only viewer can look: agenda, calendars, free/busy, find-time,
    notifications, room availability, and the 409 of a clashing booking."""
    w = world
    texts = []

    def look(method, path, status, body=None, params=None):
        r = w.req(method, f"{API}{path}", role, body, params)
        assert r.status_code == status, (path, r.status_code, r.text)
        texts.append((path, r.text))
        return r

    agenda = look("GET", "/me/agenda", 200, params=RANGE).json()["items"]
    assert {o["event_id"] for o in agenda} & {w.normal, w.private} == set()
    look("GET", "/calendars", 200)
    shared = role in ("reader", "fb")
    look("GET", f"/calendars/{w.cal}", 200 if shared else 404)
    look("GET", f"/calendars/{w.cal}/events", 200 if shared else 404, params=RANGE)
    look("GET", f"/events/{w.private}", 200 if shared else 404)
    fb = look("POST", "/freebusy", 200, body={
        "from": DAY_FROM, "to": DAY_TO, "users": [w.uid("owner"), w.uid("insider")],
        "rooms": [w.room]}).json()
    assert fb["users"][w.uid("owner")] == [
        {"start": NORMAL_START, "end": NORMAL_END, "status": "busy"},
        {"start": PRIVATE_START, "end": PRIVATE_END, "status": "busy"}]
    assert fb["rooms"][w.room] == fb["users"][w.uid("owner")]
    look("POST", "/find-time", 200, body={
        "participants": [w.uid("owner"), w.uid("insider")], "duration_minutes": 60,
        "from": "2030-01-07T13:00:00Z", "to": "2030-01-07T16:00:00Z",
        "working_hours": {"time_zone": "UTC", "start": "08:00", "end": "18:00"},
        "room": {"capacity_min": 2}})
    look("GET", "/notifications", 200)
    look("GET", "/rooms/available", 200, params={"from": PRIVATE_START, "to": PRIVATE_END})
    look("GET", f"/rooms/{w.room}", 200)
    # Booking the room over the private event, in one's own calendar: 409 naming only times.
    own = w.default_calendar(role)
    clash = look("POST", f"/calendars/{own}/events", 409, body={
        "title": "Clash", "start": PRIVATE_START, "end": PRIVATE_END, "room_id": w.room})
    assert_problem(clash, 409, "conflict")
    assert [c["event_id"] for c in clash.json()["conflicts"]] == [w.private]
    assert set(clash.json()["conflicts"][0]) == {"event_id", "start", "end"}
    for path, text in texts:
        for s in SECRETS:
            assert s not in text, (path, s, text)


def test_participant_sees_private_event_in_agenda(world):
    items, _ = _occurrences(world, "participant", "/me/agenda")
    assert items[world.private]["title"] == SECRET_TITLE
    assert items[world.normal]["title"] == NORMAL_TITLE
    # And was invited to it by name.
    notes = world.ok("GET", f"{API}/notifications", "participant", None, 200)["items"]
    assert any(n["event_id"] == world.private and n["payload"]["title"] == SECRET_TITLE
               for n in notes)


def test_owner_who_does_not_take_part_sees_the_event_in_full_in_agenda(world):
    """An agenda reads the calendar's access only for rows whose user does not take part
    (src/store/events.c, AGENDA_ACCESS_SQL): the owner of a calendar into which a writer put a
    private event without the owner among its people still sees all of it."""
    start, end = "2033-02-01T09:00:00Z", "2033-02-01T10:00:00Z"
    ev = world.ok("POST", f"{API}/calendars/{world.cal}/events", "writer", {
        "title": "Zq1 delegated", "start": start, "end": end, "visibility": "private",
        "participants": [{"user_id": world.uid("participant")}]}, 201)
    try:
        assert world.uid("owner") not in [p["user_id"] for p in ev["participants"]]
        rng = {"from": "2033-02-01T00:00:00Z", "to": "2033-02-02T00:00:00Z"}
        for role in ("owner", "participant"):
            r = world.req("GET", f"{API}/me/agenda", role, params=rng)
            assert r.status_code == 200, r.text
            items = [o for o in r.json()["items"] if o["event_id"] == ev["id"]]
            assert len(items) == 1, (role, r.text)
            assert items[0]["title"] == "Zq1 delegated" and "busy" not in items[0], (role, items)
            assert [p["user_id"] for p in items[0]["participants"]] == \
                [p["user_id"] for p in ev["participants"]]
        r = world.req("GET", f"{API}/me/agenda", "reader", params=rng)
        assert r.status_code == 200 and r.json()["items"] == [], r.text
    finally:
        world.ok("DELETE", f"{API}/events/{ev['id']}", "writer", None, 204)


@pytest.mark.parametrize("role,access", [("owner", "owner"), ("writer", "write"),
                                         ("reader", "read"), ("fb", "freebusy"),
                                         ("participant", None), ("stranger", None),
                                         ("admin", None)])
def test_calendar_list_access(world, role, access):
    cals = world.ok("GET", f"{API}/calendars", role, None, 200)["items"]
    mine = [c for c in cals if c["id"] == world.cal]
    if access is None:
        assert mine == []
        return
    assert len(mine) == 1 and mine[0]["access"] == access
    one = world.ok("GET", f"{API}/calendars/{world.cal}", role, None, 200)
    assert one["access"] == access
    # Only the owner sees who else has the calendar.
    if role == "owner":
        assert {s["user_id"]: s["role"] for s in one["shares"]} == {
            world.uid("writer"): "write", world.uid("reader"): "read",
            world.uid("fb"): "freebusy"}
    else:
        assert "shares" not in one


# --- admin is not a calendar superuser -------------------------------------------------------


def test_admin_has_no_calendar_access_without_a_share(world):
    w = world
    for method, path, body in [
            ("GET", f"/calendars/{w.cal}", None),
            ("GET", f"/calendars/{w.cal}/events?from={DAY_FROM}&to={DAY_TO}", None),
            ("GET", f"/events/{w.normal}", None),
            ("GET", f"/events/{w.private}", None),
            ("PATCH", f"/events/{w.normal}", {"title": "admin was here"}),
            ("DELETE", f"/events/{w.normal}", None),
            ("POST", f"/calendars/{w.cal}/events",
             {"title": "x", "start": "2033-01-01T10:00:00Z", "end": "2033-01-01T11:00:00Z"}),
            ("PUT", f"/calendars/{w.cal}/shares/{w.uid('admin')}", {"role": "write"}),
            ("PATCH", f"/calendars/{w.cal}", {"name": "mine now"}),
            ("DELETE", f"/calendars/{w.cal}", None)]:
        assert_problem(w.req(method, API + path, "admin", body), 404, "not-found")
    assert w.ok("GET", f"{API}/events/{w.normal}", "owner", None, 200)["title"] == NORMAL_TITLE


@pytest.mark.parametrize("role", ["stranger", "admin"])
def test_404_does_not_confirm_existence(world, role):
    """Another's calendar or event answers exactly like one that does not exist."""
    w = world

    def problem(path):
        r = w.req("GET", API + path, role)
        p = assert_problem(r, 404, "not-found")
        return {k: v for k, v in p.items() if k not in ("detail", "instance")}, p["detail"]

    for real, missing in ((f"/calendars/{w.cal}", "/calendars/987654321"),
                          (f"/events/{w.private}", "/events/987654321"),
                          (f"/calendars/{w.cal}/events?from={DAY_FROM}&to={DAY_TO}",
                           f"/calendars/987654321/events?from={DAY_FROM}&to={DAY_TO}")):
        got_real, detail_real = problem(real)
        got_missing, detail_missing = problem(missing)
        assert got_real == got_missing
        assert detail_real.replace(real.split("/")[2].split("?")[0], "N") == \
            detail_missing.replace("987654321", "N")


# --- shares --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["reader", "writer", "fb"])
def test_share_put_by_non_owner_is_403_and_changes_nothing(world, role):
    w = world
    r = w.req("PUT", f"{API}/calendars/{w.cal}/shares/{w.uid('stranger')}", role,
              {"role": "write"})
    assert_problem(r, 403, "forbidden")
    r = w.req("PUT", f"{API}/calendars/{w.cal}/shares/{w.uid(role)}", role, {"role": "write"})
    assert_problem(r, 403, "forbidden")
    r = w.req("DELETE", f"{API}/calendars/{w.cal}/shares/{w.uid('reader')}", role)
    assert_problem(r, 403, "forbidden")
    assert_problem(w.req("GET", f"{API}/calendars/{w.cal}", "stranger"), 404)
    one = w.ok("GET", f"{API}/calendars/{w.cal}", "owner", None, 200)
    assert {s["user_id"]: s["role"] for s in one["shares"]} == {
        w.uid("writer"): "write", w.uid("reader"): "read", w.uid("fb"): "freebusy"}


@pytest.mark.parametrize("user_id", ["987654321", "0", "abc", "-1"])
def test_share_with_unknown_user_is_404(world, user_id):
    w = world
    cal = w.fresh_calendar()
    r = w.req("PUT", f"{API}/calendars/{cal}/shares/{user_id}", "owner", {"role": "read"})
    assert_problem(r, 404, "not-found")


@pytest.mark.parametrize("body", [
    {"role": "owner"}, {"role": "admin"}, {"role": "none"}, {"role": "READ"}, {"role": ""},
    {"role": 2}, {"role": None}, {}, {"role": "read", "extra": 1}],
    ids=lambda b: json.dumps(b))
def test_share_role_validation_is_422(world, body):
    w = world
    cal = w.fresh_calendar()
    r = w.req("PUT", f"{API}/calendars/{cal}/shares/{w.uid('stranger')}", "owner", body)
    field = "extra" if "extra" in body else "role"
    assert_problem(r, 422, "validation", field)
    assert_problem(w.req("GET", f"{API}/calendars/{cal}", "stranger"), 404)


def test_share_with_owner_or_deactivated_user_is_422(world, server, admin):
    w = world
    cal = w.fresh_calendar()
    r = w.req("PUT", f"{API}/calendars/{cal}/shares/{w.uid('owner')}", "owner", {"role": "read"})
    assert_problem(r, 422, "validation", "user_id")
    gone = server.create_user(admin, f"gone{next(_seq)}@example.org", name="Gone")
    assert server.request("DELETE", f"{API}/users/{gone['id']}", token=admin).status_code == 204
    r = w.req("PUT", f"{API}/calendars/{cal}/shares/{gone['id']}", "owner", {"role": "read"})
    assert_problem(r, 422, "validation", "user_id")


@pytest.mark.parametrize("role,may_see,may_write", [("freebusy", True, False),
                                                     ("read", True, False),
                                                     ("write", True, True)])
def test_share_grants_then_revokes(world, role, may_see, may_write):
    """A share takes effect at once, a role change too, and unsharing takes it away."""
    w = world
    cal = w.ok("POST", f"{API}/calendars", "owner", {"name": "Grant test"}, 201)["id"]
    ev = w.ok("POST", f"{API}/calendars/{cal}/events", "owner",
              {"title": "Grant test event", "start": "2034-01-02T10:00:00Z",
               "end": "2034-01-02T11:00:00Z"}, 201)["id"]
    assert_problem(w.req("GET", f"{API}/events/{ev}", "stranger"), 404)
    got = w.ok("PUT", f"{API}/calendars/{cal}/shares/{w.uid('stranger')}", "owner",
               {"role": role}, 200)
    assert got == {"calendar_id": cal, "user_id": w.uid("stranger"), "role": role}
    seen = w.ok("GET", f"{API}/events/{ev}", "stranger", None, 200)
    assert ("title" in seen) == (role != "freebusy")
    r = w.req("PATCH", f"{API}/events/{ev}", "stranger", {"title": "by the share"})
    assert r.status_code == (200 if may_write else 403), r.text
    assert w.req("DELETE", f"{API}/calendars/{cal}/shares/{w.uid('stranger')}",
                 "owner").status_code == 204
    assert_problem(w.req("GET", f"{API}/events/{ev}", "stranger"), 404)
    assert_problem(w.req("GET", f"{API}/calendars/{cal}", "stranger"), 404)


# --- tokens of deactivated users -------------------------------------------------------------


def test_deactivated_users_token_is_401(world, server, admin):
    w = world
    email = f"leaver{next(_seq)}@example.org"
    leaver = server.create_user(admin, email, name="Lee Leaver", password="leaver password")
    token = server.login(email, "leaver password")
    w.tokens["leaver"] = token
    cal = w.ok("POST", f"{API}/calendars", "owner", {"name": "Leaver's access"}, 201)["id"]
    w.ok("PUT", f"{API}/calendars/{cal}/shares/{leaver['id']}", "owner", {"role": "write"}, 200)
    assert w.req("GET", f"{API}/calendars/{cal}", "leaver").status_code == 200
    assert server.request("DELETE", f"{API}/users/{leaver['id']}", token=admin).status_code == 204
    for method, path, body in [
            ("GET", "/me", None),
            ("GET", "/calendars", None),
            ("GET", f"/calendars/{cal}", None),
            ("POST", f"/calendars/{cal}/events",
             {"title": "x", "start": "2033-02-01T10:00:00Z", "end": "2033-02-01T11:00:00Z"}),
            ("GET", f"/events/{w.normal}", None),
            ("GET", "/rooms", None),
            ("POST", "/freebusy", {"from": DAY_FROM, "to": DAY_TO, "users": [w.uid("owner")]}),
            ("GET", "/notifications", None)]:
        r = w.req(method, API + path, "leaver", body)
        assert_problem(r, 401, "unauthorized")
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    # Logging in again does not work either.
    r = server.request("POST", f"{API}/auth/login",
                       json_body={"email": email, "password": "leaver password"})
    assert_problem(r, 401, "unauthorized")


# --- access that changes -----------------------------------------------------------------------


def test_participant_with_only_a_read_share_sees_private_event_in_full(world):
    """Being on the event beats the read share's busy-only view; removal takes it away again."""
    w = world
    ev = w.ok("POST", f"{API}/calendars/{w.cal}/events", "owner", {
        "title": "Private with reader Xq5", "visibility": "private",
        "start": "2030-02-04T09:00:00Z", "end": "2030-02-04T10:00:00Z",
        "participants": [{"user_id": w.uid("reader")}, {"user_id": w.uid("fb")}]}, 201)["id"]
    for role in ("reader", "fb"):
        assert w.ok("GET", f"{API}/events/{ev}", role, None, 200)["title"] == \
            "Private with reader Xq5"
        assert w.ok("POST", f"{API}/events/{ev}/rsvp", role, {"status": "accepted"},
                    200)["status"] == "accepted"
        assert_problem(w.req("PATCH", f"{API}/events/{ev}", role, {"title": "no"}), 403)
    w.ok("PATCH", f"{API}/events/{ev}", "owner", {"participants": []}, 200)
    for role in ("reader", "fb"):
        got = w.ok("GET", f"{API}/events/{ev}", role, None, 200)
        assert set(got) == BUSY_EVENT_KEYS, got
        assert_problem(w.req("POST", f"{API}/events/{ev}/rsvp", role, {"status": "declined"}),
                       403, "forbidden")


def test_removed_participant_loses_the_event(world):
    w = world
    ev = w.fresh_event("private")
    assert w.ok("GET", f"{API}/events/{ev}", "participant", None, 200)["title"]
    w.ok("PATCH", f"{API}/events/{ev}", "owner", {"participants": []}, 200)
    assert_problem(w.req("GET", f"{API}/events/{ev}", "participant"), 404, "not-found")
    assert_problem(w.req("POST", f"{API}/events/{ev}/rsvp", "participant",
                         {"status": "accepted"}), 404, "not-found")


def test_idempotency_key_is_not_replayed_to_another_user(world):
    """The same key, path and body from someone without access is refused, not replayed."""
    w = world
    path = f"{API}/calendars/{w.cal}/events"
    body = {"title": "Idem Xy7 private", "visibility": "private",
            "start": "2033-03-01T10:00:00Z", "end": "2033-03-01T11:00:00Z"}
    key = {"Idempotency-Key": "access-matrix-key-1"}
    first = w.req("POST", path, "owner", body, headers=key)
    assert first.status_code == 201, first.text
    for role in ("stranger", "admin", "reader", "fb"):
        r = w.req("POST", path, role, body, headers=key)
        assert_problem(r, 404 if role in ("stranger", "admin") else 403)
        assert "Idem Xy7" not in r.text and r.headers.get("Idempotent-Replayed") is None
    again = w.req("POST", path, "owner", body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]


def test_calendar_etag_changes_when_its_shares_change(world):
    """The owner's GET /calendars/{id} lists the shares, so a share change is a new
    representation: If-None-Match with the old ETag must not answer 304."""
    w = world
    cal = w.fresh_calendar()
    first = w.req("GET", f"{API}/calendars/{cal}", "owner")
    assert first.status_code == 200
    w.ok("PUT", f"{API}/calendars/{cal}/shares/{w.uid('stranger')}", "owner", {"role": "read"},
         200)
    r = w.req("GET", f"{API}/calendars/{cal}", "owner",
              headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 200, (r.status_code, r.headers.get("ETag"))
    assert w.uid("stranger") in {s["user_id"] for s in r.json()["shares"]}


def test_event_etag_changes_when_the_viewers_access_changes(world):
    """A freebusy viewer holds the busy-only form; once promoted to read, If-None-Match with
    that ETag must not answer 304 (the full form is a different representation)."""
    w = world
    cal = w.ok("POST", f"{API}/calendars", "owner", {"name": "Promotion"}, 201)["id"]
    ev = w.ok("POST", f"{API}/calendars/{cal}/events", "owner",
              {"title": "Promotion event", "start": "2034-02-01T10:00:00Z",
               "end": "2034-02-01T11:00:00Z"}, 201)["id"]
    w.ok("PUT", f"{API}/calendars/{cal}/shares/{w.uid('stranger')}", "owner",
         {"role": "freebusy"}, 200)
    busy = w.req("GET", f"{API}/events/{ev}", "stranger")
    assert busy.status_code == 200 and "title" not in busy.json()
    w.ok("PUT", f"{API}/calendars/{cal}/shares/{w.uid('stranger')}", "owner", {"role": "read"},
         200)
    r = w.req("GET", f"{API}/events/{ev}", "stranger",
              headers={"If-None-Match": busy.headers["ETag"]})
    assert r.status_code == 200, (r.status_code, r.headers.get("ETag"))
    assert r.json()["title"] == "Promotion event"
