"""Recurrence expansion through the HTTP API, checked against an independent oracle
(issue 4, item 5).

For every case of recurrence_corpus.CASES the VEVENT is created through
POST /api/v1/calendars/{id}/events (DTSTART/DTEND/DURATION/TZID turned into start, end,
time_zone and all_day; the RRULE/EXDATE/RDATE lines passed verbatim in `recurrence`), its
RECURRENCE-ID overrides are applied with PATCH /api/v1/events/{id}/instances/{recurrence_id}
and its cancelled occurrences removed with DELETE on the same path.  Then
GET /api/v1/events/{id}/instances is read (in chunks of at most 360 days, the API allowing 366,
following next_cursor).  The same iCalendar data is expanded by recurring_ical_events
(python3-recurring-ical-events) and the two are compared.

The window.  The API lists the occurrences that OVERLAP [from, to); so does
recurring_ical_events.between().  The comparison is made exact on both sides like this:
  1. both are asked for the window widened by MARGIN (longer than any event) on each side, and
     the occurrences whose START lies in the case's [from, to) are compared: the starts (UTC
     instants; dates for all-day events), then their ends, then their recurrence_id;
  2. the server is asked for exactly [from, to) and must list exactly the oracle's occurrences
     (from the widened list) that overlap it: start < to and end > from.  Starting the oracle
     list MARGIN early also keeps it clear of the library's approximate arithmetic at the edges.

Cases marked `disputed` are corners where the library contradicts RFC 5545: the server is
compared with the hand-settled `expected` starts (each lasting the master's duration), and the
test also asserts that the library still gives other starts, so that a fixed library shows up
here and the case can lose its mark.

recurrence_id is checked on every occurrence: its original start (the RECURRENCE-ID of a moved
one, its own start otherwise).  Within one listing no occurrence may appear twice.

The corpus runs in order on one server: a query far ahead pushes every series' expansion
horizon, and the corpus is laid out so that this never makes a later case exceed the server's
per-series limit (see recurrence_corpus).
"""
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from helpers_events import CALENDARS, EVENTS, new_person
from recurrence_corpus import CASES

UTC = timezone.utc
CHUNK = timedelta(days=360)  # the API allows windows of at most 366 days
MARGIN = timedelta(days=32)  # longer than any event (the API allows 31 days)


# ---- reading the case's iCalendar lines ----------------------------------------------------

def content_lines(text):
    """(NAME, {PARAM: value}, value, raw line) for each content line of a VEVENT body."""
    out = []
    for raw in text.strip().splitlines():
        raw = raw.strip()
        if not raw:
            continue
        head, value = raw.split(":", 1)
        name, *params = head.split(";")
        out.append((name.upper(), dict(p.split("=", 1) for p in params), value, raw))
    return out


def prop(lines, name):
    found = [ln for ln in lines if ln[0] == name]
    assert len(found) <= 1, f"{name} given twice"
    return found[0] if found else None


def to_utc(params, value):
    """A DATE-TIME value as an aware UTC datetime.  A local time in a DST gap or overlap is
    read as RFC 5545 (3.3.5) says: with the offset before the gap, as the first of two
    (zoneinfo's fold=0 does exactly that)."""
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert "TZID" in params, f"floating times are not in the corpus: {value}"
    local = datetime.strptime(value, "%Y%m%dT%H%M%S")
    return local.replace(tzinfo=ZoneInfo(params["TZID"]), fold=0).astimezone(UTC)


def to_date(value):
    return datetime.strptime(value, "%Y%m%d").date()


def parse_duration(text):
    m = re.fullmatch(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text)
    assert m and text not in ("P", "PT"), f"bad DURATION {text}"
    w, d, h, mi, s = (int(x or 0) for x in m.groups())
    return timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)


def rfc3339(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_all_day(case):
    return prop(content_lines(case["ics"]), "DTSTART")[1].get("VALUE") == "DATE"


def zone(case, body=None):
    return ZoneInfo((body or api_body(case))["time_zone"])


def local_midnight(d, tz):
    return datetime.combine(d, datetime.min.time()).replace(tzinfo=tz, fold=0).astimezone(UTC)


def event_times(lines, all_day):
    """start, end of a VEVENT body as the API takes them, and its time_zone (timed events)."""
    _, params, value, _ = prop(lines, "DTSTART")
    dtend, duration = prop(lines, "DTEND"), prop(lines, "DURATION")
    assert (dtend is None) != (duration is None), "DTEND or DURATION, one of them"
    if all_day:
        start = to_date(value)
        end = to_date(dtend[2]) if dtend else start + parse_duration(duration[2])
        return start.isoformat(), end.isoformat(), None
    start = to_utc(params, value)
    end = to_utc(dtend[1], dtend[2]) if dtend else start + parse_duration(duration[2])
    return rfc3339(start), rfc3339(end), params.get("TZID", "UTC")


def api_body(case):
    lines = content_lines(case["ics"])
    all_day = is_all_day(case)
    start, end, tz = event_times(lines, all_day)
    recurrence = [raw for name, _, _, raw in lines if name in ("RRULE", "EXDATE", "RDATE")]
    return {"title": f"oracle {case['id']}", "start": start, "end": end, "all_day": all_day,
            "time_zone": case.get("time_zone", "UTC") if all_day else tz,
            "recurrence": recurrence}


def recurrence_id(case, line):
    """The API's name ("...Z") of the occurrence a RECURRENCE-ID line names."""
    name, params, value, _ = content_lines(line)[0]
    assert name == "RECURRENCE-ID", line
    if is_all_day(case):
        return rfc3339(local_midnight(to_date(value), zone(case)))
    return rfc3339(to_utc(params, value))


def override_patch(case, text):
    """(recurrence_id as the API names it, PATCH body) for one override VEVENT."""
    lines = content_lines(text)
    rid = recurrence_id(case, prop(lines, "RECURRENCE-ID")[3])
    start, end, _ = event_times(lines, is_all_day(case))
    return rid, {"start": start, "end": end}


# ---- the window -----------------------------------------------------------------------------

def window(case):
    """The compared window as aware UTC datetimes (timed) or dates (all-day)."""
    a, b = (date.fromisoformat(x) for x in case["window"])
    assert a < b
    if is_all_day(case):
        return a, b
    return (datetime.combine(a, datetime.min.time(), UTC),
            datetime.combine(b, datetime.min.time(), UTC))


def text_window(case):
    """The window in the form the occurrences are compared in (ISO strings sort by time)."""
    a, b = window(case)
    return (a.isoformat(), b.isoformat()) if is_all_day(case) else (rfc3339(a), rfc3339(b))


def starting_inside(case, occurrences):
    a, b = text_window(case)
    return [o for o in occurrences if a <= o[0] < b]


def overlapping(case, occurrences):
    a, b = text_window(case)
    return [o for o in occurrences if o[0] < b and o[1] > a]


# ---- the oracle -------------------------------------------------------------------------------

def ics_text(case):
    """The case as an iCalendar object: the master (cancelled occurrences as EXDATEs) and the
    overrides that were not cancelled afterwards."""
    uid = f"{case['id']}@oracle.planner"
    cancelled = {recurrence_id(case, line) for line in case.get("cancel", [])}
    master = case["ics"].strip().splitlines()
    master += ["EXDATE" + line[len("RECURRENCE-ID"):] for line in case.get("cancel", [])]
    events = [master] + [text.strip().splitlines() for text in case.get("overrides", [])
                         if override_patch(case, text)[0] not in cancelled]
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//planner//recurrence oracle//EN"]
    for i, body in enumerate(events):
        out += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
                f"SUMMARY:{case['id']} {i}", *body, "END:VEVENT"]
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


def library_occurrences(case):
    """[(start, end, recurrence_id)] by recurring_ical_events for the widened window."""
    cal = icalendar.Calendar.from_ical(ics_text(case))
    a, b = window(case)
    out = set()
    for ev in recurring_ical_events.of(cal).between(a - MARGIN, b + MARGIN):
        start, end = ev["DTSTART"].dt, ev["DTEND"].dt
        rid = ev["RECURRENCE-ID"].dt if "RECURRENCE-ID" in ev else start
        if isinstance(start, datetime):
            out.add((rfc3339(start), rfc3339(end), rfc3339(rid)))
        else:
            out.add((start.isoformat(), end.isoformat(), rid.isoformat()))
    return sorted(out)


def expected_occurrences(case):
    """The hand-settled occurrences of a disputed case, each as long as the master."""
    body = api_body(case)
    assert not is_all_day(case) and not case.get("overrides") and not case.get("cancel")
    length = parse_rfc3339(body["end"]) - parse_rfc3339(body["start"])
    return sorted((s, rfc3339(parse_rfc3339(s) + length), s) for s in case["expected"])


# ---- the server ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def owner(server, admin):
    return new_person(server, admin, prefix="oracle")


def create(server, owner, case):
    """The case's event through the API, its overrides and cancellations applied."""
    body = api_body(case)
    r = server.request("POST", f"{CALENDARS}/{owner.calendar}/events", token=owner.token,
                       json_body=body)
    assert r.status_code == 201, (body, r.status_code, r.text)
    ev = r.json()
    for text in case.get("overrides", []):
        rid, patch = override_patch(case, text)
        r = server.request("PATCH", f"{EVENTS}/{ev['id']}/instances/{rid}", token=owner.token,
                           json_body=patch)
        assert r.status_code == 200, (rid, patch, r.status_code, r.text)
    for line in case.get("cancel", []):
        rid = recurrence_id(case, line)
        r = server.request("DELETE", f"{EVENTS}/{ev['id']}/instances/{rid}", token=owner.token)
        assert r.status_code == 204, (rid, r.status_code, r.text)
    return ev


def list_instances(server, owner, case, ev, lo, hi):
    """[(start, end, recurrence_id)] the API lists for [lo, hi) (aware datetimes), in chunks,
    all pages.  An occurrence listed twice within one query fails the test."""
    all_day = is_all_day(case)
    tz = ZoneInfo(ev["time_zone"])
    seen = set()
    while lo < hi:
        top = min(lo + CHUNK, hi)
        params = {"from": rfc3339(lo), "to": rfc3339(top), "limit": "1000"}
        listed = []
        while True:
            r = server.request("GET", f"{EVENTS}/{ev['id']}/instances", token=owner.token,
                               params=params)
            assert r.status_code == 200, (params, r.status_code, r.text)
            page = r.json()
            for item in page["items"]:
                assert item["event_id"] == ev["id"] and item["all_day"] is all_day, item
                assert item["recurrence_id"] is not None, item
                rid = parse_rfc3339(item["recurrence_id"])
                if all_day:
                    for k in ("start", "end"):
                        assert re.fullmatch(r"\d{4}-\d\d-\d\d", item[k]), item
                    listed.append((item["start"], item["end"],
                                   rid.astimezone(tz).date().isoformat()))
                else:
                    for k in ("start", "end"):
                        assert item[k].endswith("Z"), item
                    listed.append((rfc3339(parse_rfc3339(item["start"])),
                                   rfc3339(parse_rfc3339(item["end"])), rfc3339(rid)))
            if not page["next_cursor"]:
                break
            params = {**params, "cursor": page["next_cursor"]}
        dups = sorted({o for o in listed if listed.count(o) > 1})
        assert not dups, f"{case['id']}: listed more than once in {params}: {dups}"
        seen.update(listed)
        lo = top
    return sorted(seen)


def api_window(case, ev):
    """The case's window as the instants the API is asked for."""
    a, b = window(case)
    if is_all_day(case):  # the local midnights in the event's zone
        tz = ZoneInfo(ev["time_zone"])
        return local_midnight(a, tz), local_midnight(b, tz)
    return a, b


def describe(got, want):
    g, w = set(got), set(want)
    return (f"\n  missing (expected, not listed): {sorted(w - g)}"
            f"\n  extra (listed, not expected):   {sorted(g - w)}")


# ---- the tests ------------------------------------------------------------------------------------

def test_corpus_shape():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(CASES) >= 60
    allowed = {"id", "ics", "overrides", "cancel", "window", "time_zone", "disputed",
               "expected", "note", "unsupported"}
    for c in CASES:
        assert set(c) <= allowed, c["id"]
        assert ("disputed" in c) == ("expected" in c), c["id"]
        assert "time_zone" not in c or is_all_day(c), c["id"]
        api_body(c)  # every case translates


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_recurrence_matches_oracle(server, owner, case):
    if "unsupported" in case:
        # A rule the engine cannot expand faithfully is refused, never stored half-right.
        r = server.request("POST", f"{CALENDARS}/{owner.calendar}/events", token=owner.token,
                           json_body=api_body(case))
        assert r.status_code == 422, (case["id"], r.status_code, r.text)
        assert r.json()["errors"][0]["field"] == "recurrence[0]", r.text
        return
    lib = library_occurrences(case)
    if "disputed" in case:
        # The hand-settled list (RFC 5545) stands in, and the library must still get it wrong.
        want = expected_occurrences(case)
        assert [o[0] for o in starting_inside(case, lib)] != \
            [o[0] for o in starting_inside(case, want)], (
            f"the library now agrees with the hand-settled list of {case['id']}: drop its "
            f"`disputed` mark ({case['disputed']})")
    else:
        want = lib
    inside = starting_inside(case, want)
    assert inside, f"{case['id']}: nothing to compare in the window"

    ev = create(server, owner, case)
    a, b = api_window(case, ev)
    got = starting_inside(case, list_instances(server, owner, case, ev, a - MARGIN, b + MARGIN))

    # 1. the occurrences starting in the window: starts, then ends, then recurrence ids
    starts, want_starts = [o[0] for o in got], [o[0] for o in inside]
    assert starts == want_starts, (f"{case['id']}: starts differ" + describe(starts, want_starts)
                                   + f"\n  got:      {starts}\n  expected: {want_starts}")
    ends, want_ends = [o[:2] for o in got], [o[:2] for o in inside]
    assert ends == want_ends, f"{case['id']}: (start, end) differ" + describe(ends, want_ends)
    assert got == inside, f"{case['id']}: recurrence_id differs" + describe(got, inside)

    # 2. the server's own window: exactly the occurrences overlapping [from, to)
    exact = list_instances(server, owner, case, ev, a, b)
    assert exact == overlapping(case, want), (
        f"{case['id']}: ?from={rfc3339(a)}&to={rfc3339(b)} lists other occurrences than those "
        f"overlapping it" + describe(exact, overlapping(case, want)))
