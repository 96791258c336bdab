"""A deterministic mutation fuzz of the JSON API: every route that takes a JSON body or query
parameters gets a batch of requests made from a valid one, and whatever the input, the server
must answer it properly and keep answering.

Why: the hand-written catalogue (test_bad_input.py) names the answer each bad input deserves,
but only for the inputs someone thought of.  Here each route's batch (one test per route, so a
failure names it) starts with a request known to succeed, sent unchanged (it must be 2xx).
Then the edge sweep: the times of each valid body (or the query's from/to) moved to the
calendar's edges (the years 1, 1582/1583, 1969/1970, 2038, 2106, 9999).  Then random
mutations: fields dropped, retyped (every JSON type, null, huge / negative / zero / float /
1e308 / 1e400 numbers), replaced by empty, 10 KB or odd Unicode strings (NUL, lone
surrogates, RTL, emoji, combining marks), by malformed dates, times, zones, colours, e-mails
and RRULEs (or by their near misses), by times far from now; duplicated and unknown keys,
deep (bounded) nesting, lists past their maximum, a few flipped bytes, bodies a few bytes
either side of the body limit; query parameters get the same kinds of values, are dropped,
repeated, added, percent-encoded as raw bytes, or grown to targets around the URL limit and
up to what the connection's memory holds.  The rules checked are only the ones no input may break:

  * never a 5xx (nor a 1xx/3xx), never a connection closed or left without an answer;
  * 2xx (a mutation may still be valid): a JSON document (204: nothing);
  * 4xx: an RFC 9457 problem document whose `status` is the HTTP status;
  * no worker crash or restart in the server's stderr, and with PLANNER_ASAN=1 no sanitizer
    report (checked after every request, so the report names the request; leaks show when
    the module's server stops);
  * after each route's batch, GET /healthz still answers.

The batches are reproducible: each route has its own random.Random seeded from a fixed seed
and the route's name (PLANNER_FUZZ_SEED picks another seed, PLANNER_FUZZ_REQUESTS another
batch size).  A failure prints, for each kind of failure, the first offending request
(method, target, token, exact body, as Python expressions) with the answer, the mutations
that made it and its index in the batch: the PATCH routes change the state they act on, so
a request may need the batch's earlier ones to fail again, which rerunning the test
replays."""
import copy
import json
import os
import random
import re
import zlib
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from conftest import ASAN, assert_problem
from helpers_events import API, CALENDARS, EVENTS, NOTIFICATIONS, ROOMS, new_person, new_room

SEED = int(os.environ.get("PLANNER_FUZZ_SEED", "20261123"))
# Requests per route (the unchanged one included).  The whole file sends about 27 times this.
PER_ROUTE = int(os.environ.get("PLANNER_FUZZ_REQUESTS", "400"))
# Seconds for one answer.  The slowest seen take seconds (a series from the year 1 expands
# every week since), so this is generous: waiting, rather than leaving the server busy,
# keeps one slow request from making the next ones fail too.
TIMEOUT = 180 if ASAN else 60
LONG_TARGET = 4096  # max_url_bytes: a longer request target is refused before any handler runs
LONG_TIMEOUT = 5  # seconds for the answer to such a refusal
MEMORY_TARGET = 22000  # longest target sent: with the headers, within the connection's memory

DAY0 = datetime(2031, 3, 3, tzinfo=timezone.utc)  # a Monday, years from now


def at(days=0, hours=0, minutes=0):
    """RFC 3339 UTC text of DAY0 plus an offset."""
    t = DAY0 + timedelta(days=days, hours=hours, minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def day(days=0):
    return (DAY0 + timedelta(days=days)).strftime("%Y-%m-%d")


# --- JSON that json.dumps cannot write


class Raw:
    """A JSON token written literally (numbers Python cannot produce, e.g. 1e400)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Raw({self.text!r})"


class Dup:
    """An object written with its members in order, a key possibly more than once."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __repr__(self):
        return f"Dup({self.pairs!r})"


def encode(value, ascii_only=True):
    """JSON text of `value` (with Raw and Dup).  ascii_only=False writes non-ASCII as UTF-8 and
    lone surrogates as the (invalid) bytes of their code points."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Dup):
        return "{" + ", ".join(json.dumps(k, ensure_ascii=ascii_only) + ": "
                               + encode(v, ascii_only) for k, v in value.pairs) + "}"
    if isinstance(value, dict):
        return encode(Dup(list(value.items())), ascii_only)
    if isinstance(value, list):
        return "[" + ", ".join(encode(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


# --- the values mutations draw from

LONG = 10240  # "very long": 10 KB, far over every field's limit, far under the body limit

NUMBERS = [0, -1, 1, 7, 2**31 - 1, 2**31, 2**32 + 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64,
           -2**63, -2**63 - 1, 10**30, 0.5, -0.0, 1.0, 3.75, 1e308, -1e308, 5e-324,
           Raw("1e400"), Raw("-1e400"), Raw("1E+2"), Raw("-0"), Raw("1.0e-400"),
           Raw("123456789012345678901234567890.5")]
STRINGS = ["", " ", "a", "x" * LONG, "\u00e9" * (LONG // 2), "\U0001f600" * (LONG // 4),
           "\u0000", "a\u0000b", "\ud800", "\udfff", "x\udbff", "\ufeffBOM", "\ufffe",
           "\u202e\u05e9\u05dc\u05d5\u05dd RTL", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
           "e\u0301" * 40, "\u2028\u2029", "\t", "\r\n", "\u007f", "\u0085",
           "%s%n%x%p", "'; DROP TABLE events;--", "null", "true", "0", "-1", "1e308", "[]",
           "{}", "\\", "\"", "</script>"]
# Characters to slip into a string: mostly ones the parser lets through to the validators.
ODD = ["\u00e9", "\U0001f600", "\u202e", "\u200b", "\ufeff", "\u0301", "\u2028", "\t", "\n",
       "\u007f", "\u0085", "\u00a0", "\\", "\"", "%", "'", ";", ",", "\u0000", "\ud800"]
OTHERS = [None, True, False, [], {}, [None], [[]], {"": ""}, {"a": {"b": None}}]
ANY = NUMBERS + STRINGS + OTHERS

INSTANTS = [
    "2031-03-03T10:00:00", "2031-03-03T10:00Z", "2031-13-01T00:00:00Z", "2031-00-10T00:00:00Z",
    "2031-02-29T10:00:00Z", "2032-02-29T10:00:00Z", "2031-04-31T10:00:00Z",
    "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "10000-01-01T00:00:00Z",
    "-2031-01-01T00:00:00Z", "+2031-01-01T00:00:00Z", "2031-03-03T24:00:00Z",
    "2031-03-03T23:59:60Z", "2031-03-03T10:60:00Z", "2031-03-03T10:00:00+24:00",
    "2031-03-03T10:00:00+99:99", "2031-03-03T10:00:00-00:00", "2031-03-03T10:00:00+0300",
    "2031-03-03T10:00:00+03", "2031-03-03T10:00:00.123456789123456789Z",
    "2031-03-03T10:00:00.Z", "2031-03-03T10:00:00,5Z", "2031-03-03t10:00:00z",
    "2031-03-03 10:00:00Z", "2031-03-03  10:00:00Z", "2031-3-3T1:0:0Z", "20310303T100000Z",
    "2031-03-03T10:00:00ZZ", "2031-03-03T10:00:00Z ", " 2031-03-03T10:00:00Z",
    "2031-03-03T10:00:00+03:00[Europe/Moscow]", "2031-03-03T10:00:00Z\u0000junk",
    "\uff12\uff10\uff13\uff11-03-03T10:00:00Z", "9223372036854775807-01-01T00:00:00Z",
    "2031-03-03T99999999999:00:00Z", "T", "Z", "now", "2031-03-03",
    "2031-W10-1T10:00:00Z", "2031-062T10:00:00Z", "2031-03-03T10:00:00+14:01",
    "2031-03-03T10:00:00-23:59"]
DATES = ["2031-03-03", "2031-02-30", "2031-13-01", "2031-00-00", "0000-01-01", "9999-12-31",
         "10000-01-01", "20310303", "2031-3-3", "2031-03-03Z", "2031-03-03T", "2031-03"]
CLOCKS = ["09:00", "24:00", "00:00", "23:59", "24:01", "9:00", "09:0", "09:60", "25:00",
          "-1:00", "09:00:00", "09.00", "0900", "", "\u0669\u0669:00", "18:00", "08:59"]
ZONES = ["", "UTC", "utc", "Z", "GMT", "Etc/GMT+14", "Etc/GMT-15", "Etc/GMT+12",
         "Europe/Moscow ", "Europe/", "Europe//Berlin", "../../../etc/passwd", "/etc/localtime",
         "/usr/share/zoneinfo/UTC", "posixrules", "Factory", "EST5EDT", "localtime",
         "right/UTC", "posix/Europe/Berlin",
         "America/Argentina/ComodRivadavia", "Z" * 65, "Europe/Berlin\u0000x", "Europe\\Berlin",
         "%s%s%n", "Europe/Berlin,Asia/Tokyo", "+03:00", "UTC+3", "Asia/Kathmandu",
         "Pacific/Kiritimati", "Antarctica/Troll", "America/St_Johns", "Australia/Lord_Howe"]
COLORS = ["", "#", "#fff", "#FFFFFFF", "#gggggg", "3b82f6", "#3b82f6 ", "rgb(1,2,3)", "#12345G",
          "#\u0000\u0000\u0000\u0000\u0000\u0000", "red"]
EMAILS = ["", "@", "a@", "@b.c", "a@b", "a@b@c.org", "a b@c.org", "\"a\"@c.org", "a@[1.2.3.4]",
          "x" * 65 + "@example.org", "e" * 250 + "@x.org", "A@EXAMPLE.ORG", "a@exa\u0000mple.org",
          "\u00fc@example.org", "a@example.org.", "a@.example.org", "a@example..org"]
IDS = ["0", "-1", "01", "1" * 18, "9" * 19, "9223372036854775807", "abc", "", " 1", "1 ",
       "1e3", "0x10", "1.0", 1, 0, -1, 1.5, 2**63]
TEXTS = ["", " ", " lead", "trail ", "n" * 201, "t" * 501, "d" * 10001, "\u00e9" * 201,
         "Bell\u0007", "Two\nLines", "Tab\there", "Del\u007f", "CR\r", "\u0000", "\ud800",
         "\U0001f600" * 300, "\u202e\u0627\u0644\u0633\u0644\u0627\u0645"]
FEATURES = ["", "A", "a b", "a_b", "-", "f" * 64, "f" * 65, "proj\u0000", "\u00e9", "projector",
            "video", "whiteboard"]
RRULES = [
    "RRULE:", "RRULE:FREQ=", "RRULE:FREQ=SECONDLY;COUNT=3", "RRULE:FREQ=MINUTELY;COUNT=5000",
    "RRULE:FREQ=MINUTELY;COUNT=5001", "RRULE:FREQ=MINUTELY", "RRULE:FREQ=HOURLY",
    "RRULE:FREQ=DAILY;COUNT=0", "RRULE:FREQ=DAILY;COUNT=-1", "RRULE:FREQ=DAILY;COUNT=999999999999",
    "RRULE:FREQ=DAILY;COUNT=18446744073709551617", "RRULE:FREQ=DAILY;INTERVAL=0",
    "RRULE:FREQ=DAILY;INTERVAL=-1", "RRULE:FREQ=DAILY;INTERVAL=2147483648",
    "RRULE:FREQ=WEEKLY;BYDAY=99MO", "RRULE:FREQ=MONTHLY;BYDAY=-0MO",
    "RRULE:FREQ=MONTHLY;BYDAY=+5FR",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=0,32,-32", "RRULE:FREQ=YEARLY;BYYEARDAY=367,-367",
    "RRULE:FREQ=YEARLY;BYWEEKNO=54;BYDAY=MO", "RRULE:FREQ=YEARLY;BYWEEKNO=-53",
    "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-367",
    "RRULE:FREQ=DAILY;BYHOUR=25", "RRULE:FREQ=DAILY;BYMINUTE=60", "RRULE:FREQ=DAILY;BYSECOND=61",
    "RRULE:FREQ=DAILY;UNTIL=garbage", "RRULE:FREQ=DAILY;UNTIL=20300101T000000Z",
    "RRULE:FREQ=DAILY;UNTIL=99991231T235959Z", "RRULE:FREQ=DAILY;UNTIL=20310401",
    "RRULE:FREQ=DAILY;UNTIL=20310401T000000", "RRULE:FREQ=WEEKLY;WKST=XX",
    "RRULE:FREQ=DAILY;FREQ=WEEKLY", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "RRULE:FREQ=YEARLY;BYMONTH=13", "RRULE:FREQ=YEARLY;BYMONTH=0",
    "RRULE:FREQ=DAILY;COUNT=5;UNTIL=20310401T000000Z", "RRULE:FREQ=MONTHLY;BYMONTHDAY=31",
    "RRULE:FREQ=YEARLY;BYDAY=-53MO", "RRULE:FREQ=YEARLY;BYDAY=53SU", "RRULE:FREQ=DAILY;BYDAY=MO,",
    "RRULE:freq=daily;count=3", "RRULE;X=Y:FREQ=DAILY;COUNT=2", "RRULE:FREQ=DAILY;X-NAME=1",
    "RRULE:FREQ=DAILY;;COUNT=2", "RRULE:FREQ=DAILY;COUNT", "RRULE:FREQ=DAILY;=3",
    "RRULE:FREQ=DAILY\r\nRRULE:FREQ=WEEKLY", "RRULE:FREQ=DAILY\u0000;COUNT=2",
    "RRULE:FREQ=WEEKLY;BYDAY=" + ",".join(["MO", "TU", "WE", "TH", "FR", "SA", "SU"] * 80),
    "RRULE:FREQ=YEARLY;BYYEARDAY=" + ",".join(str(d) for d in range(1, 367)),
    "RRULE:FREQ=DAILY;BYHOUR=" + ",".join(str(h % 24) for h in range(1000)),
    "RRULE:FREQ=DAILY;COUNT=3;" + "X" * 4096,
    "EXDATE:", "EXDATE:garbage", "EXDATE:20310303T100000Z,", "EXDATE:20310303T100000",
    "EXDATE;TZID=Mars/Base:20310303T100000", "EXDATE;TZID=:20310303T100000",
    "EXDATE;VALUE=DATE:20310303", "EXDATE;VALUE=DATE:2031030", "EXDATE;VALUE=PERIOD:x",
    "EXDATE:" + ",".join(at(d).replace("-", "").replace(":", "") for d in range(300)),
    "RDATE:20310305T100000Z", "RDATE;VALUE=PERIOD:20310303T100000Z/PT1H", "RDATE:99991231T235959Z",
    "RDATE:00000101T000000Z", "RDATE;TZID=Europe/Berlin:20311026T023000",
    "EXRULE:FREQ=DAILY", "DTSTART:20310303T100000Z", "RRULE", "rrule:FREQ=DAILY", ""]
RRULE_PARTS = ["FREQ=YEARLY", "FREQ=SECONDLY", "FREQ=X", "COUNT=0", "COUNT=5001", "COUNT=-3",
               "COUNT=99999999999999999999", "INTERVAL=0", "INTERVAL=1000000", "INTERVAL=-2",
               "UNTIL=20310310T000000Z", "UNTIL=20300101", "UNTIL=x", "BYDAY=1MO,-1FR",
               "BYDAY=0MO", "BYDAY=", "BYMONTHDAY=-1", "BYMONTHDAY=29,30,31", "BYMONTH=2",
               "BYSETPOS=1,-1", "BYSETPOS=500", "BYYEARDAY=-1", "BYWEEKNO=1", "BYHOUR=0,23",
               "BYMINUTE=0,59", "BYSECOND=0,60", "WKST=SU", "WKST=", "X-FOO=BAR", "=", ";"]
STATUSES = ["accepted", "declined", "tentative", "confirmed", "cancelled", "needs-action",
            "ACCEPTED", "Accepted", "", "delegated"]
ROLES = ["member", "admin", "owner", "freebusy", "read", "write", "Admin", "READ", "", "none"]
SMALL_COUNTS = [0, 1, 4, 5, 7, 8, 50, 51, 1440, 1441, 10000, 10001, 40320, 40321, -5,
                2**31, 2**63 - 1, 1e308, 2.5, "5"]

# Field names (the last one, or the last two, of a member's path) to the values most likely
# to reach the code behind them.
DOMAIN = {
    ("start",): INSTANTS + DATES, ("end",): INSTANTS + DATES,
    ("from",): INSTANTS, ("to",): INSTANTS,
    ("working_hours", "start"): CLOCKS, ("working_hours", "end"): CLOCKS,
    ("time_zone",): ZONES, ("color",): COLORS, ("email",): EMAILS,
    ("recurrence",): RRULES, ("features",): FEATURES, ("feature",): FEATURES,
    ("status",): STATUSES, ("role",): ROLES,
    ("visibility",): ["default", "private", "public", "confidential", "Private", ""],
    ("user_id",): IDS, ("room_id",): IDS, ("users",): IDS, ("rooms",): IDS,
    ("participants",): IDS,
    ("title",): TEXTS, ("name",): TEXTS, ("location",): TEXTS, ("description",): TEXTS,
    ("password",): ["", "short", "p" * 257, "\u0000" * 8, "\ud800" * 8, " " * 8],
    ("current_password",): ["", "wrong password", "p" * 300],
    ("capacity",): SMALL_COUNTS, ("capacity_min",): SMALL_COUNTS,
    ("duration_minutes",): SMALL_COUNTS, ("max_results",): SMALL_COUNTS,
    ("minutes_before",): SMALL_COUNTS, ("days",): SMALL_COUNTS,
    ("active",): [True, False, "true", 1, 0], ("all_day",): [True, False, "false", 1],
    ("skip_conflicts",): [True, False, "yes", 1],
}
UNKNOWN_KEYS = ["id", "etag", "calendar_id", "organizer_id", "x", "", "\u0000", "__proto__",
                "TITLE", "title ", "k" * 300, "\ud800", "recurrence_id", "uid", "version"]
JUNK_BYTES = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"\x00", b"\xff", b"\x80",
              b"\xc0\xaf", b"\xed\xa0\x80", b" ", b"0", b"-", b".", b"e", b"\n", b"/*"]


def domain_of(path):
    for n in (2, 1):
        if len(path) >= n and tuple(path[-n:]) in DOMAIN:
            return DOMAIN[tuple(path[-n:])]
    return None


# --- mutating one value


def tweak_string(rng, s):
    """Near misses of a string: cut, grown, a character replaced or inserted, a digit changed
    (dates, times), spaces around, case changed."""
    how = rng.randrange(10)
    if how == 0 or not s:
        return s[:rng.randrange(len(s) + 1)] + rng.choice([""] + ODD)
    i = rng.randrange(len(s))
    if how == 1:
        return s[:i]
    if how == 2:
        return s[:i] + rng.choice(ODD) + s[i:]
    if how == 3:
        return s[:i] + rng.choice("09-:+ZT.,; \u00a0") + s[i + 1:]
    if how == 4:
        digits = [j for j, c in enumerate(s) if c.isdigit()]
        if digits:
            j = rng.choice(digits)
            return s[:j] + rng.choice("0123456789") * rng.choice([1, 1, 2, 9]) + s[j + 1:]
        return s + "9"
    if how == 5:
        return (s * (LONG // len(s) + 1))[:LONG]
    if how == 6:
        return rng.choice([" ", "\t", "\n", "\u00a0"]) + s + rng.choice(["", " ", "\u0000"])
    if how == 7:
        return s.swapcase()
    if how == 8 and s.startswith(("RRULE:", "EXDATE", "RDATE")):
        return tweak_rule(rng, s)
    return s[::-1]


def tweak_rule(rng, rule):
    """An RRULE/EXDATE/RDATE line with parts dropped, repeated, replaced or added."""
    head, sep, tail = rule.partition(":")
    parts = tail.split(";") if tail else []
    how = rng.randrange(4)
    if how == 0 and parts:
        parts.pop(rng.randrange(len(parts)))
    elif how == 1 and parts:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(parts))
    elif how == 2 and parts:
        i = rng.randrange(len(parts))
        name = parts[i].partition("=")[0]
        parts[i] = name + "=" + str(rng.choice(["0", "-1", "", "99999999999", "MO,", "XX",
                                                "1,1,1", "\u0000", "20310303T100000Z"]))
    else:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(RRULE_PARTS))
    return head + (sep or ":") + ";".join(parts)


def tweak_number(rng, n):
    return rng.choice([n + 1, n - 1, -n, n * 1000, n + 0.5, str(n), 0, -1, 2**31, 2**63,
                       1e308, Raw("1e400"), Raw(f"{n}.0"), Raw(f"{n}e0"), Raw(f"0{n}")])


def tweak_list(rng, items, domain):
    """Lists emptied, grown past their maximum (bounded), an item repeated or mistyped."""
    how = rng.randrange(6)
    if how == 0:
        return []
    if how == 1 and items:
        return [copy.deepcopy(rng.choice(items)) for _ in range(rng.choice([2, 11, 65, 201]))]
    if how == 2 and items:
        return items + [copy.deepcopy(items[0])]
    if how == 3:
        return items + [rng.choice(domain) if domain else rng.choice(ANY)]
    if how == 4:
        return [rng.choice(ANY) for _ in range(rng.randrange(1, 4))]
    return list(reversed(items)) + [None]


def nested(rng, depth):
    """Arrays or objects `depth` deep, with something at the bottom."""
    v = rng.choice([None, 1, "x", [], {}])
    for _ in range(depth):
        v = [v] if rng.random() < 0.7 else {"k": v}
    return v


def replacement(rng, value, path):
    """A new value for a member: another JSON type, a value of its domain, a near miss of the
    old value, deep nesting or a wrapper.  Returns (value, description)."""
    domain = domain_of(path)
    how = rng.random()
    if how < 0.40 and domain:
        return rng.choice(domain), "domain"
    if how < 0.65:
        if isinstance(value, str):
            return tweak_string(rng, value), "tweak"
        if isinstance(value, bool):
            return rng.choice([not value, "true", 1, None]), "tweak"
        if isinstance(value, (int, float)):
            return tweak_number(rng, value), "tweak"
        if isinstance(value, list):
            return tweak_list(rng, value, domain), "tweak"
    if how < 0.70:
        return nested(rng, rng.choice([2, 5, 16, 31, 32, 33, 40])), "nest"
    if how < 0.74:
        return rng.choice([[value], {"value": value}]), "wrap"
    return rng.choice(ANY), "retype"


# --- mutating a whole body


def members(value, path=(), out=None):
    """Every (container, key, path of names) in a JSON value; list items carry their list's
    name (so the items of `recurrence` are looked up as `recurrence`)."""
    out = [] if out is None else out
    if isinstance(value, dict):
        for k in list(value):
            p = path + (k,)
            out.append((value, k, p))
            members(value[k], p, out)
    elif isinstance(value, list):
        for i in range(len(value)):
            out.append((value, i, path))
            members(value[i], path, out)
    return out


def short(v, n=60):
    text = repr(v)
    return text if len(text) <= n else text[:n] + f"...({len(text)} chars)"


# Valid instants far from today: the ends of the calendar, the epoch, 2038, 2106.
FAR_YEARS = [1, 2, 100, 1000, 1582, 1900, 1901, 1969, 1970, 2037, 2038, 2106, 2262, 5000,
             9998, 9999]
SPANS = [timedelta(0), timedelta(seconds=1), timedelta(minutes=5), timedelta(hours=1),
         timedelta(days=1), timedelta(days=31), timedelta(days=32), timedelta(days=62),
         timedelta(days=63), timedelta(days=366), timedelta(days=367), timedelta(hours=-1)]


def far_range(rng, date_only=False):
    """A (start, end) pair of well-formed texts far from now, `end` mostly after `start`."""
    start = datetime(rng.choice(FAR_YEARS), rng.randint(1, 12), rng.randint(1, 28),
                     rng.randrange(24), rng.choice([0, 30, 59]))
    try:
        end = start + rng.choice(SPANS)
    except OverflowError:
        end = start
    if date_only:
        return [f"{t.year:04d}-{t.month:02d}-{t.day:02d}" for t in (start, end)]
    zone = rng.choice(["Z", "+00:00", "+14:00", "-12:00", "+05:45", "-00:30"])
    return [f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
            + zone for t in (start, end)]


def time_pair(o):
    """The names of an object's start/end or from/to pair of instant or date texts, or None."""
    for a, b in (("start", "end"), ("from", "to")):
        if (isinstance(o.get(a), str) and isinstance(o.get(b), str)
                and re.match(r"\d{4}-\d\d-\d\d", o[a])):
            return a, b
    return None


def mutate_tree(rng, body):
    """One structural mutation of `body` in place (or a new root).  Returns (body, note)."""
    spots = members(body)
    objects = [body] if isinstance(body, dict) else []
    objects += [c[k] for c, k, _ in spots if isinstance(c[k], dict)]
    timed = [o for o in objects if time_pair(o)]
    how = rng.random()
    if how < 0.03 or not spots:
        new = rng.choice([[body], "body", 42, None, True, [], Raw("1e400")])
        return new, f"root -> {short(new)}"
    if how < 0.17:
        c, k, p = rng.choice(spots)
        del c[k]
        return body, f"drop {'/'.join(map(str, p))}[{k}]"
    if how < 0.22 and objects:
        o = rng.choice(objects)
        key, val = rng.choice(UNKNOWN_KEYS), rng.choice(ANY)
        o[key] = val
        return body, f"unknown key {short(key)} = {short(val)}"
    if how < 0.32 and timed:
        o = rng.choice(timed)
        a, b = time_pair(o)
        o[a], o[b] = far_range(rng, date_only=len(o[a]) == 10)
        return body, f"times {a}, {b} -> {o[a]}, {o[b]}"
    if how < 0.36 and objects:
        o = rng.choice(objects)
        if not o:
            o["x"] = 1
        pairs = list(o.items())
        k, v = rng.choice(pairs)
        other, _ = replacement(rng, v, (k,))
        pairs.insert(rng.randrange(len(pairs) + 1), (k, rng.choice([v, other])))
        dup = Dup(pairs)
        # Swap the object for its duplicated-key form wherever it sits.
        if o is body:
            return dup, f"duplicate key {k!r}"
        for c, key, _ in spots:
            if c[key] is o:
                c[key] = dup
                return body, f"duplicate key {k!r}"
    c, k, p = rng.choice(spots)
    new, kind = replacement(rng, c[k], p)
    c[k] = new
    return body, f"{kind} {'/'.join(map(str, p)) or '[]'} -> {short(new)}"


def mutate_bytes(rng, data):
    """A few byte-level accidents on the encoded text."""
    i = rng.randrange(len(data) + 1)
    how = rng.randrange(4)
    if how == 0:
        return data[:i], f"bytes cut at {i}"
    if how == 1:
        junk = rng.choice(JUNK_BYTES)
        return data[:i] + junk + data[i:], f"bytes {junk!r} inserted at {i}"
    if how == 2 and data:
        return data[:i] + data[i + 1:], f"byte {i} deleted"
    junk = rng.choice(JUNK_BYTES)
    return data[:i] + junk + data[i + 1:], f"byte {i} -> {junk!r}"


def mutate_body(rng, body):
    """(bytes, notes): 1-3 structural mutations, then sometimes a byte-level one."""
    notes = []
    for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3])):
        # A copy each time: a mutation may insert a value the module keeps (ANY's, say),
        # which a later one must not change in place (its depth grew from request to
        # request until encode recursed too deep: seeds 11 and 12).
        body, note = mutate_tree(rng, copy.deepcopy(body))
        notes.append(note)
        if not isinstance(body, (dict, list)):
            break
    ascii_only = rng.random() < 0.6
    data = encode(body, ascii_only).encode("utf-8", "surrogatepass")
    if not ascii_only:
        notes.append("UTF-8 as is")
    if rng.random() < 0.05:
        data, note = mutate_bytes(rng, data)
        notes.append(note)
    if rng.random() < 0.02:
        # Whitespace up to a few bytes either side of the body limit (max_body_bytes, 1 MiB).
        length = (1 << 20) + rng.randint(-3, 3)
        data += b" " * max(0, length - len(data))
        notes.append(f"padded to {len(data)} bytes")
    return data, notes


# --- mutating query parameters


class Enc:
    """A query value already percent-encoded (raw bytes, broken escapes)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Enc({self.text!r})"


Q_RAW = [Enc("%00"), Enc("a%00b"), Enc("%FF%FE"), Enc("%C0%AF"), Enc("%ED%A0%80"),
         Enc("a%01b"), Enc("%"), Enc("%G1"), Enc("%2"), Enc("+"), Enc("%20"), Enc("%0A"),
         Enc("%E2%80%AE"), Enc("%F0%9F%98%80"), Enc("%26"), Enc("%3D"), Enc("%23")]
Q_NUMBERS = ["", " ", "0", "-1", "1", "1.5", "1e3", "0x10", "+5", " 5", "5 ", "1000", "1001",
             "10000", "10001", "99999999999999999999", "9223372036854775807",
             "-9223372036854775808", "18446744073709551616", "\u0663", "NaN", "inf", "true",
             "null", "[]", "{}"]
CURSORS = ["", "0", "-1", "1", "1.", ".1", "1.0", "1.-1", "0.0", "-9223372036854775808.1",
           "9223372036854775807.9223372036854775807", "99999999999999999999.1",
           "1.99999999999999999999", "1.2.3", "1.2x", "1.2 ", " 1.2", "x", "1e5.1", "nan.1",
           "0x10.0x10", "+1.+1", "1" * 60, "1" * 30 + "." + "1" * 30]
Q_DOMAIN = {"from": INSTANTS, "to": INSTANTS, "limit": Q_NUMBERS,
            "capacity_min": Q_NUMBERS, "cursor": CURSORS, "feature": FEATURES,
            "q": TEXTS[:5] + ["%", "_", "*", "\\", "q" * 200, "q" * 201, "\u00e9" * 200],
            "unread": ["true", "false", "TRUE", "1", "0", "", "yes", "true "],
            "scope": ["following", "all", "this", "", "FOLLOWING", "following\u0000"]}
# Long values: 3000 bytes fits the request-target limit (4096), 5000 does not (414); the
# 10 KB strings of STRINGS, percent-encoded, are 30-60 KB.
Q_ANY = Q_NUMBERS + STRINGS[:6] + ["x" * 3000, "x" * 5000] + STRINGS[10:20] + Q_RAW


def q_value(rng, name, old):
    how = rng.random()
    if how < 0.45 and name in Q_DOMAIN:
        return rng.choice(Q_DOMAIN[name])
    if how < 0.70 and isinstance(old, str):
        return tweak_string(rng, old)
    return rng.choice(Q_ANY)


def mutate_query(rng, params, optional):
    """(pairs, notes): 1-2 mutations of the (name, value) pairs of a valid query; `optional`
    names parameters the route reads that the valid query may lack."""
    pairs = list(params.items())
    notes = []
    for _ in range(rng.choice([1, 1, 2])):
        how = rng.random()
        if how < 0.15 and pairs:
            i = rng.randrange(len(pairs))
            notes.append(f"drop {pairs[i][0]}")
            pairs.pop(i)
        elif how < 0.52 and pairs:
            i = rng.randrange(len(pairs))
            name, old = pairs[i]
            pairs[i] = (name, q_value(rng, name, old))
            notes.append(f"{name} -> {short(pairs[i][1])}")
        elif how < 0.62 and {"from", "to"} <= {n for n, _ in pairs}:
            frm, to = far_range(rng)
            pairs = [(n, {"from": frm, "to": to}.get(n, v)) for n, v in pairs]
            notes.append(f"from, to -> {frm}, {to}")
        elif how < 0.72 and pairs:
            name, old = rng.choice(pairs)
            pairs.insert(rng.randrange(len(pairs) + 1), (name, q_value(rng, name, old)))
            notes.append(f"repeat {name}")
        elif how < 0.84:
            names = list(optional) + ["x", "", "from[]", "limit ", "\u00e9", "a" * 100]
            name = rng.choice(names)
            pairs.append((name, q_value(rng, name, "")))
            notes.append(f"add {short(name)}")
        elif how < 0.90:
            # A value grown until the whole request target is `length` bytes: around the
            # request-target limit (max_url_bytes, 4096) and up to what the connection's
            # memory holds with the headers (24,576 bytes for both).  Past that libmicrohttpd
            # 0.9.75 answers by itself (an HTML 414 or 431) or closes or leaves the connection:
            # test_bad_input.py's test_request_lines_that_fill_the_connections_memory_leave_
            # nothing_behind checks the server's part there.
            length = rng.choice([rng.randint(4000, 4200), rng.randint(20000, MEMORY_TARGET),
                                 rng.randint(8000, MEMORY_TARGET)])
            unit = rng.choice(["x", "9", "%C3%A9"])
            i = rng.randrange(len(pairs) + 1)
            name = pairs[i][0] if i < len(pairs) and isinstance(pairs[i][0], str) else "pad"
            pairs[i:i + 1] = [(name, Pad(length, unit))]
            notes.append(f"{name} grown to a {length}-byte target")
        else:
            extra = rng.choice(["&", "&&", "=", "=x", "from", "limit", ";", "%00=1", "a=b=c"])
            pairs.append((Enc(extra), None))
            notes.append(f"raw {extra!r}")
    return pairs, notes


class Pad:
    """A query value of `unit` (percent-encoded) repeated until the request target is
    `length` bytes long."""

    def __init__(self, length, unit):
        self.length, self.unit = length, unit


def query_text(pairs, path=""):
    """The query string of `pairs`; a Pad value fills the target (path?query) to its length."""
    out, pad = [], None
    for name, value in pairs:
        if isinstance(name, Enc):
            out.append(name.text)
            continue
        n = quote(name.encode("utf-8", "surrogatepass"), safe="")
        if isinstance(value, Pad):
            pad = value
            v = "\0"  # filled below, once the rest is known
        elif isinstance(value, Enc):
            v = value.text
        else:
            v = quote(value.encode("utf-8", "surrogatepass"), safe="")
        out.append(f"{n}={v}")
    text = "&".join(out)
    if pad is not None:
        room = max(0, pad.length - len(path) - len(text))  # "?" takes the placeholder's byte
        fill = pad.unit * (room // len(pad.unit)) + "x" * (room % len(pad.unit))
        text = text.replace("\0", fill, 1)
    return text


# --- the routes


class Route:
    """One route to fuzz.  `body(w, i)` gives the valid bodies for the i-th request (fresh
    names where the server wants them unique): one, or a list of shapes taken in turn;
    `query(w, i)` the valid query.  `optional` lists query parameters the route reads beyond
    the valid query; `rid` marks the instances route, whose recurrence id in the path is
    mutated too."""

    def __init__(self, name, method, path, who="owner", body=None, query=None, optional=(),
                 rid=False):
        self.name, self.method, self.path, self.who = name, method, path, who
        self._body, self.query, self.optional, self.rid = body, query, optional, rid

    def shapes(self, w, i):
        if self._body is None:
            return []
        b = self._body(w, i)
        return b if isinstance(b, list) else [b]

    def body(self, w, i):
        shapes = self.shapes(w, i)
        return shapes[i % len(shapes)] if shapes else None


def event_bodies(w, i):
    d = 7 * (i % 150)  # a fresh week for each request, so room bookings rarely collide
    return [
        {"title": f"Fuzz {i}", "description": "Agenda:\n\tone", "location": "HQ",
         "start": at(d, 9), "end": at(d, 10, 30), "time_zone": "Europe/Berlin",
         "all_day": False, "participants": [{"user_id": w["guest_id"]},
                                            {"email": "outside@example.org"}],
         "visibility": "default", "reminders": [{"minutes_before": 15}], "status": "confirmed"},
        {"title": "All day", "start": day(d + 1), "end": day(d + 3), "all_day": True,
         "time_zone": "America/New_York"},
        {"title": "Series", "start": at(d, 11), "end": at(d, 12), "time_zone": "Europe/Berlin",
         "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=" + day(d + 60).replace("-", "")
                        + "T000000Z", "EXDATE;TZID=Europe/Berlin:"
                        + day(d + 7).replace("-", "") + "T120000",
                        "RDATE:" + day(d + 4).replace("-", "") + "T110000Z"]},
        {"title": "Booked", "start": at(d + 2, 14), "end": at(d + 2, 15),
         "room_id": w["room_id"], "participants": [{"user_id": w["guest_id"]}],
         "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"], "skip_conflicts": True,
         "visibility": "private", "status": "tentative"},
    ]


def event_patches(w, i):
    d = 1000 + i  # a day of its own: the patched event never meets its own older bookings
    return [
        {"title": f"Moved {i}", "all_day": False, "start": at(d, 8), "end": at(d, 9)},
        {"description": "New\ndescription", "location": "Annex"},
        {"all_day": True, "start": day(d), "end": day(d + 1)},
        {"all_day": False, "start": at(d, 7), "end": at(d, 8),
         "recurrence": ["RRULE:FREQ=DAILY;COUNT=4", "EXDATE:" + at(d + 1, 7).replace("-", "")
                        .replace(":", "")]},
        {"participants": [{"user_id": w["guest_id"]}, {"email": "p@example.org"}],
         "reminders": [{"minutes_before": 5}, {"minutes_before": 60}]},
        {"all_day": False, "start": at(d, 13), "end": at(d, 14), "room_id": w["room_id"]},
        {"status": "cancelled", "room_id": w["room_id"]},
        {"room_id": None, "status": "tentative", "visibility": "private",
         "time_zone": "Asia/Tokyo", "recurrence": []},
    ]


def instance_patches(w, i):
    rid = w["rids"][i % len(w["rids"])]
    start = datetime.strptime(rid, "%Y-%m-%dT%H:%M:%SZ") + timedelta(hours=2)
    return [
        {"title": f"One off {i}"},
        {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
         "end": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        {"location": "Elsewhere", "description": "", "status": "tentative"},
        {"participants": [{"user_id": w["guest_id"]}], "visibility": "private"},
        {"status": "cancelled", "room_id": w["room_id"]},
    ]


def range_query(days_=14, **extra):
    return lambda w, i: {"from": at(0), "to": at(days_), **extra}


ROUTES = [
    Route("events-create", "POST", CALENDARS + "/{calendar}/events", body=event_bodies),
    Route("events-patch", "PATCH", EVENTS + "/{patched}", body=event_patches),
    Route("events-rsvp", "POST", EVENTS + "/{invited}/rsvp", who="guest",
          body=lambda w, i: {"status": ["accepted", "declined", "tentative"][i % 3]}),
    Route("instances-patch", "PATCH", EVENTS + "/{series}/instances/{rid}",
          body=instance_patches, optional=("scope",), rid=True),
    Route("calendars-create", "POST", CALENDARS,
          body=lambda w, i: {"name": f"Fuzz calendar {i}", "color": "#10aBcD",
                             "time_zone": "Asia/Kolkata"}),
    Route("calendars-patch", "PATCH", CALENDARS + "/{shared}",
          body=lambda w, i: {"name": f"Renamed {i}", "color": "#000000", "time_zone": "UTC"}),
    Route("calendars-share", "PUT", CALENDARS + "/{shared}/shares/{guest_id}",
          body=lambda w, i: {"role": ["freebusy", "read", "write"][i % 3]}),
    Route("rooms-create", "POST", ROOMS, who="admin",
          body=lambda w, i: {"name": f"Fuzz room {i}", "capacity": 8, "location": "Floor 2",
                             "features": ["projector", "whiteboard"]}),
    Route("rooms-patch", "PATCH", ROOMS + "/{patched_room}", who="admin",
          body=lambda w, i: {"name": f"Patched room {i}", "capacity": 12, "location": "Floor 3",
                             "features": ["video"], "active": True}),
    Route("users-create", "POST", API + "/users", who="admin",
          body=lambda w, i: {"email": f"fuzz{i}@example.org", "name": f"Fuzz {i}",
                             "password": "fuzz password", "role": "member",
                             "time_zone": "Europe/Lisbon"}),
    Route("users-patch-admin", "PATCH", API + "/users/{victim}", who="admin",
          body=lambda w, i: [{"name": f"Victim {i}", "time_zone": "Pacific/Auckland",
                              "role": "member", "active": True},
                             {"password": "new password 1"}]),
    Route("users-patch-self", "PATCH", API + "/users/{owner_id}",
          body=lambda w, i: {"name": f"Owner {i}", "time_zone": "Europe/Berlin"}),
    Route("freebusy", "POST", API + "/freebusy",
          body=lambda w, i: {"from": at(0), "to": at(7), "users": [w["owner_id"], w["guest_id"]],
                             "rooms": [w["room_id"]]}),
    Route("find-time", "POST", API + "/find-time",
          body=lambda w, i: {"participants": [w["owner_id"], w["guest_id"]],
                             "duration_minutes": 45, "from": at(0), "to": at(5),
                             "working_hours": {"start": "09:00", "end": "17:30",
                                               "time_zone": "Europe/Berlin",
                                               "days": [1, 2, 3, 4, 5]},
                             "room": {"capacity_min": 2, "feature": "projector"},
                             "max_results": 5}),
    Route("rooms-available", "GET", ROOMS + "/available",
          query=range_query(1, capacity_min="2", feature="projector", limit="5"),
          optional=("cursor",)),
    Route("rooms-list", "GET", ROOMS,
          query=lambda w, i: {"capacity_min": "1", "limit": "2", "cursor": w["rooms_cursor"]},
          optional=("feature",)),
    Route("room-bookings", "GET", ROOMS + "/{room_id}/bookings",
          query=lambda w, i: {"from": at(0), "to": at(60), "limit": "2",
                              "cursor": w["bookings_cursor"]}),
    Route("users-list", "GET", API + "/users",
          query=lambda w, i: {"q": "fuzz", "limit": "2", "cursor": w["users_cursor"]}),
    Route("notifications-list", "GET", NOTIFICATIONS, who="guest",
          query=lambda w, i: {"unread": "true", "limit": "2",
                              "cursor": w["notifications_cursor"]}),
    Route("agenda", "GET", API + "/me/agenda",
          query=lambda w, i: {"from": at(0), "to": at(60), "limit": "3",
                              "cursor": w["agenda_cursor"]}),
    Route("events-list", "GET", CALENDARS + "/{calendar}/events",
          query=lambda w, i: {"from": at(0), "to": at(60), "limit": "3",
                              "cursor": w["events_cursor"]}),
    Route("instances-list", "GET", EVENTS + "/{series}/instances",
          query=lambda w, i: {"from": at(0), "to": at(366), "limit": "3",
                              "cursor": w["instances_cursor"]}),
]


# --- the world the routes act on


def ok(r, status=(200, 201)):
    assert r.status_code in status, (r.status_code, r.text)
    return r.json()


def next_cursor(server, token, path, params):
    page = ok(server.request("GET", path, token=token, params=params))
    assert page["next_cursor"], (path, page)
    return page["next_cursor"]


@pytest.fixture(scope="module")
def world(server, admin):
    """Two members (an owner, and a guest invited to the owner's events), a victim user for
    the administrator's PATCHes, rooms, a second calendar, an event to patch, one to answer,
    a weekly series, and a real next_cursor for every list route."""
    owner = new_person(server, admin, "fuzzowner", time_zone="Europe/Berlin")
    guest = new_person(server, admin, "fuzzguest")
    victim = server.create_user(admin, "fuzzvictim@example.org", "Victim", password="victim pw 1")
    for n in range(3):
        server.create_user(admin, f"fuzzpage{n}@example.org", f"Fuzz Page {n}")
    room = new_room(server, admin, capacity=20, features=["projector", "video"])
    new_room(server, admin, capacity=3, features=["projector"])  # rooms-list has a 2nd page
    patched_room = new_room(server, admin, capacity=4)
    shared = ok(server.request("POST", CALENDARS, token=owner.token,
                               json_body={"name": "Fuzz shared"}))
    w = {"admin": admin, "owner": owner.token, "guest": guest.token, "owner_id": owner.id,
         "guest_id": guest.id, "victim": victim["id"], "calendar": owner.calendar,
         "shared": shared["id"], "room_id": room["id"], "patched_room": patched_room["id"]}
    create = CALENDARS + f"/{owner.calendar}/events"
    invite = [{"user_id": guest.id}]
    for n in range(4):  # invitations for the guest; bookings for the room
        ok(server.request("POST", create, token=owner.token, json_body={
            "title": f"Setup {n}", "start": at(n, 15), "end": at(n, 16), "participants": invite,
            "room_id": room["id"]}))
    w["patched"] = ok(server.request("POST", create, token=owner.token, json_body={
        "title": "To patch", "start": at(1, 8), "end": at(1, 9), "participants": invite}))["id"]
    w["invited"] = ok(server.request("POST", create, token=owner.token, json_body={
        "title": "To answer", "start": at(2, 8), "end": at(2, 9), "participants": invite}))["id"]
    series = ok(server.request("POST", create, token=owner.token, json_body={
        "title": "Weekly", "start": at(0, 6), "end": at(0, 7), "time_zone": "Europe/Berlin",
        "participants": invite, "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=40"]}))
    w["series"] = series["id"]
    inst = ok(server.request("GET", f"{EVENTS}/{series['id']}/instances", token=owner.token,
                             params={"from": at(0), "to": at(366), "limit": 1000}))
    w["rids"] = [o["recurrence_id"] for o in inst["items"]][:30]
    assert len(w["rids"]) == 30, inst
    w["rooms_cursor"] = next_cursor(server, owner.token, ROOMS, {"capacity_min": 1, "limit": 2})
    w["bookings_cursor"] = next_cursor(server, owner.token, f"{ROOMS}/{room['id']}/bookings",
                                       {"from": at(0), "to": at(60), "limit": 2})
    w["users_cursor"] = next_cursor(server, owner.token, API + "/users", {"q": "fuzz", "limit": 2})
    w["notifications_cursor"] = next_cursor(server, guest.token, NOTIFICATIONS,
                                            {"unread": "true", "limit": 2})
    w["agenda_cursor"] = next_cursor(server, owner.token, API + "/me/agenda",
                                     {"from": at(0), "to": at(60), "limit": 3})
    w["events_cursor"] = next_cursor(server, owner.token, create[:-len("/events")] + "/events",
                                     {"from": at(0), "to": at(60), "limit": 3})
    w["instances_cursor"] = next_cursor(server, owner.token, f"{EVENTS}/{series['id']}/instances",
                                        {"from": at(0), "to": at(366), "limit": 3})
    return w


# --- sending and judging


class Request:
    """One request of a batch, with what it takes to send it again by hand."""

    def __init__(self, route, index, path, query, body, notes):
        self.route, self.index, self.path, self.query = route, index, path, query
        self.body, self.notes = body, notes

    def target(self):
        return self.path + ("?" + self.query if self.query else "")

    def describe(self, target=None):
        """The request as Python expressions (long runs written as repetitions), with the
        mutations that made it."""
        lines = [f"route {self.route.name}, request {self.index} of the batch (seed {SEED}): "
                 + ("; ".join(self.notes) or "the unchanged valid request"),
                 f"  {self.route.method} {compact(target or self.target())}",
                 f"  Authorization: Bearer <the {self.route.who}'s token>"]
        if self.body is not None:
            lines += ["  Content-Type: application/json",
                      f"  body ({len(self.body)} bytes) = {compact(self.body)}"]
        return "\n".join(lines)


def compact(data):
    """A Python expression equal to `data` (str or bytes), runs of a unit of up to 12
    characters repeated 16 times or more written as `unit * n`."""
    pattern = r"(.{1,12}?)\1{15,}"
    if isinstance(data, bytes):
        pattern = pattern.encode()
    parts, pos = [], 0
    for m in re.finditer(pattern, data, re.S):
        if m.start() > pos:
            parts.append(repr(data[pos:m.start()]))
        parts.append(f"{m.group(1)!r} * {len(m.group(0)) // len(m.group(1))}")
        pos = m.end()
    if pos < len(data) or not parts:
        parts.append(repr(data[pos:]))
    return " + ".join(parts)


class StderrWatch:
    """Reads what the server wrote to stderr since the last look, for crash and sanitizer
    reports (the JSON log lines themselves are ignored)."""

    MARKERS = ("Sanitizer", "runtime error:", "killed by signal", "exited with status",
               "; restarting")

    def __init__(self, server):
        self.path = server.stderr_path
        self.pos = self.path.stat().st_size

    def read(self):
        """Everything written since the last look."""
        size = self.path.stat().st_size
        if size <= self.pos:
            return ""
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            text = f.read(size - self.pos).decode("utf-8", "replace")
        self.pos = size
        return text

    def judge(self, text):
        """`text` if it holds a crash or sanitizer report, else ""."""
        return text if any(m in text for m in self.MARKERS) else ""

    def reports(self):
        return self.judge(self.read())


def check_after_batch(failures, healthy, watch):
    """What every fuzz asks of the server once its batch is done: /healthz still answered
    (`healthy`), and nothing on its stderr since the last look that reports a crash."""
    if not healthy:
        failures.add("healthz", "GET /healthz after the batch: no 200 {\"status\": \"ok\"}")
    report = watch.reports()
    if report:
        failures.add("stderr report", f"the server's stderr after the batch:\n{report[-6000:]}")


def judge(r):
    """None if the answer keeps the rules, else (kind, detail): `kind` groups the failures
    that are likely one bug (the route's batch reports the first request of each kind)."""
    s = r.status_code
    ctype = r.headers.get("Content-Type", "")
    if 200 <= s < 300:
        if s == 204:
            return None if not r.content else (f"{s} with a body", "")
        if not ctype.startswith("application/json"):
            return f"{s} not application/json", ctype
        try:
            r.json()
        except ValueError:
            return f"{s} body not JSON", ""
        return None
    if 400 <= s < 500:
        return problem_verdict(r)
    return f"status {s}", ""


def problem_verdict(r):
    """None if `r` is an RFC 9457 problem document for its status, else (kind, detail): the
    4xx rule of every fuzz here."""
    try:
        assert_problem(r, r.status_code)
    except (AssertionError, ValueError, KeyError, TypeError) as e:
        first = (str(e).splitlines() or [""])[0]
        return (f"{r.status_code} not a problem document",
                f"({type(e).__name__}: {first[:200]})")
    return None


# The calendar's edges, where each valid body's (or query's) times are moved in turn before
# the random mutations start: the first year, the Gregorian reform, the Unix epoch, the ends
# of signed and unsigned 32-bit seconds, the last year of four digits.
SWEEP_YEARS = [1, 1582, 1583, 1969, 1970, 2038, 2106, 9999]


def sweep(route, w):
    """The edge sweep of a route: (shape index or None for the query, year) pairs."""
    plan = []
    for year in SWEEP_YEARS:
        for j, shape in enumerate(route.shapes(w, 0)):
            if any(time_pair(o) for o in [shape] + [c[k] for c, k, _ in members(shape)
                                                    if isinstance(c[k], dict)]):
                plan.append((j, year))
        if route.query and {"from", "to"} <= set(route.query(w, 0)):
            plan.append((None, year))
    return plan


def parse_time(text):
    """A naive UTC datetime of an instant text, or a date of a date text."""
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(
        timezone.utc).replace(tzinfo=None)


def time_text(t, date_only):
    """RFC 3339 (UTC) or date text of a datetime, with the year in four digits."""
    day = f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
    return day if date_only else f"{day}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def moved(value, year):
    """A copy of a body whose time pairs start in `year` (same month, day and time of day),
    their lengths kept where the calendar allows."""
    value = copy.deepcopy(value)
    for o in [value] + [c[k] for c, k, _ in members(value) if isinstance(c[k], dict)]:
        pair = time_pair(o)
        if pair:
            a, b = pair
            date_only = len(o[a]) == 10
            start, end = parse_time(o[a]), parse_time(o[b])
            new = start.replace(year=year, day=min(start.day, 28))
            o[a] = time_text(new, date_only)
            try:
                o[b] = time_text(new + (end - start), date_only)
            except OverflowError:
                pass
    return value


def build(rng, route, w, i, plan=()):
    """The i-th request of the route's batch: request 0 is the valid one, unchanged; then the
    edge sweep (`plan`), then random mutations."""
    if 1 <= i <= len(plan):
        return build_swept(route, w, i, *plan[i - 1])
    path_ids = {k: v for k, v in w.items() if isinstance(v, str)}
    notes = []
    if route.rid:
        rid = w["rids"][i % len(w["rids"])]
        if i and rng.random() < 0.12:
            rid = rng.choice(INSTANTS + DATES + [tweak_string(rng, rid)])
            notes.append(f"recurrence id -> {short(rid)}")
        path_ids["rid"] = quote(rid.encode("utf-8", "surrogatepass"), safe=":+")
    path = route.path.format(**path_ids)
    body = route.body(w, i)
    params = route.query(w, i) if route.query else {}
    pairs = list(params.items())
    if i and not notes:
        if body is not None and (not route.optional or rng.random() < 0.85):
            data, notes = mutate_body(rng, body)
            return Request(route, i, path, query_text(pairs, path), data, notes)
        pairs, notes = mutate_query(rng, params, route.optional)
    data = encode(body).encode() if body is not None else None
    return Request(route, i, path, query_text(pairs, path), data, notes)


def build_swept(route, w, i, shape, year):
    """A request of the edge sweep: the times of one valid shape (or the query's from/to)
    moved to `year`."""
    path_ids = {k: v for k, v in w.items() if isinstance(v, str)}
    path_ids["rid"] = w["rids"][i % len(w["rids"])]
    path = route.path.format(**path_ids)
    params = route.query(w, i) if route.query else {}
    body = route.shapes(w, i)[shape] if shape is not None else route.body(w, i)
    if shape is None:
        params = dict(params, **{"from": f"{year:04d}-01-05T00:00:00Z",
                                 "to": f"{year:04d}-01-12T00:00:00Z"})
    else:
        body = moved(body, year)
    data = encode(body).encode() if body is not None else None
    return Request(route, i, path, query_text(list(params.items()), path), data,
                   [f"times moved to the year {year}"])


def send(server, w, req):
    h = {"Authorization": f"Bearer {w[req.route.who]}"}
    if req.body is not None:
        h["Content-Type"] = "application/json"
    long = len(req.target()) > LONG_TARGET
    return requests.request(req.route.method, server.url(req.target()), data=req.body,
                            headers=h, timeout=LONG_TIMEOUT if long else TIMEOUT,
                            allow_redirects=False)


def alive(server):
    try:
        r = requests.get(server.url("/healthz"), timeout=TIMEOUT)
        return r.status_code == 200 and r.json() == {"status": "ok"}
    except (requests.RequestException, ValueError):
        return False


class Failures:
    """The batch's failures, the first request of each kind in full and the others counted."""

    def __init__(self):
        self.first, self.count = {}, {}

    def add(self, kind, text):
        self.count[kind] = self.count.get(kind, 0) + 1
        self.first.setdefault(kind, text)

    def __bool__(self):
        return bool(self.first)

    def report(self):
        return "\n\n".join(f"[{kind}: {self.count[kind]} request(s) of the batch; the first]\n"
                           f"{text}" for kind, text in self.first.items())


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_fuzz_route(server, world, route):
    rng = random.Random(SEED ^ zlib.crc32(route.name.encode()))
    watch = StderrWatch(server)
    failures, statuses, unanswered, slowest = Failures(), {}, 0, 0.0
    plan = sweep(route, world)
    for i in range(max(PER_ROUTE, len(plan) + 1)):
        req = build(rng, route, world, i, plan)
        sent = requests.Request("GET", server.url(req.target())).prepare().path_url
        if len(sent) > MEMORY_TARGET:
            continue  # libmicrohttpd's to answer (see MEMORY_TARGET's use above)
        if unanswered and len(req.target()) > LONG_TARGET:
            continue  # one over-long target went unanswered: each more would cost a timeout
        try:
            r = send(server, world, req)
        except requests.RequestException as e:
            kind = f"no answer ({type(e).__name__})"
            failures.add(kind, f"{req.describe()}\n  -> {kind}: {e!r}")
            unanswered += 1
            if unanswered >= 5 or not alive(server):
                break  # gone, or each one more costs a timeout
            continue
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        slowest = max(slowest, r.elapsed.total_seconds())
        verdict = judge(r)
        if i == 0 and not 200 <= r.status_code < 300:
            verdict = ("valid request refused", "")
        if verdict:
            kind, detail = verdict
            failures.add(kind, f"{req.describe(r.request.path_url)}\n  -> {kind} {detail}\n"
                               f"  answer: {r.status_code} {r.headers.get('Content-Type')} "
                               f"{r.text[:800]}")
        report = watch.reports()
        if report:
            failures.add("stderr report",
                         f"{req.describe()}\n  -> the server's stderr reports:\n{report[-6000:]}")
    check_after_batch(failures, alive(server), watch)
    print(f"{route.name}: {sum(statuses.values())} answers {sorted(statuses.items())}, "
          f"slowest {slowest:.3f} s")
    assert not failures, failures.report()
    # A batch that answered only one way tested one path: the mutations must reach both the
    # handler's refusals and (through the valid request at least) its success.
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses), \
        statuses
