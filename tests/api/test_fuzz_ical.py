"""A deterministic mutation fuzz of the iCalendar import (API.md "iCalendar": POST
/api/v1/calendars/{id}/import): every file of a corpus of valid iCalendar files gets a batch of
imports made from it, and whatever the file, the server must answer properly, keep answering,
and still export, list and publish the calendar it imported into.

Why: the import is the server's largest parser of untrusted text (its own unfolding and
BEGIN/END structure, libical underneath for dates, durations, rules, zones and attendees), and
test_import.py names the answer only for the malformed files someone thought of.  The JSON
routes have test_fuzz.py; this is its counterpart for text/calendar bodies.

Each corpus file (one test each, so a failure names it; all built below) must first import
unchanged with a 200 and no error lines: the corpus is valid.  Then the edge sweep: the times
of its VEVENTs moved to the calendar's edges (the years 0, 1, 1582, 1899, 1900, 1969, 1970,
2038, 2106, 9999, 10000).  Then random mutations at every level: content lines dropped,
duplicated, swapped, truncated, moved or added; BEGIN/END unbalanced or nested (up to 200
levels); whole VEVENTs duplicated (the same UID twice), dropped or moved out of the VCALENDAR;
property names, parameters and values replaced by odd ones (empty, 10 KB, NUL bytes, invalid
UTF-8, lone CR, odd Unicode, quotes, semicolons, commas, colons); dates and times at the
calendar's edges or impossible (month 13, day 32, hour 24, second 60/61, negative years, with
and without Z), VALUE=DATE mismatches, DTEND before DTSTART, DURATIONs such as P, PT, -P1D or
P999999999D; RRULEs malformed or extreme (test_fuzz.py's catalogue and more), or rules libical
searches far for, their VEVENT repeated (a costly rule costs as many times); TZIDs unknown or
odd, VTIMEZONEs missing, malformed, with odd offsets or rules (renamed first when they stand
for an IANA zone, which the import would use instead), or forty of them; RECURRENCE-IDs
without a series; UIDs empty, huge or shaped like an override's stored UID; ATTENDEEs with odd
mailto: values, or hundreds; alarms with odd triggers; broken folding, lone CR or mixed line
endings, byte flips, a BOM, bodies a few bytes either side of the body limit (max_body_bytes,
1 MiB); now and then ?atomic=, another Content-Type or an empty body.  Most imports give their
VEVENTs fresh UIDs (so that they are written, not skipped); some re-import the batch's first
UIDs with a higher SEQUENCE (updates) or the same (skips).

The rules checked are only the ones no input may break:

  * never a 5xx (nor a 1xx/3xx), never a connection closed or left without an answer within
    TIMEOUT (an import that does not end holds up the worker's every later import: the batch
    stops there);
  * 200: a JSON object with exactly the documented keys, integer counts (not negative), and
    error lines {line, message} whose line is within the body;
  * 4xx: an RFC 9457 problem document whose `status` is the HTTP status;
  * no worker crash or restart in the server's stderr, and with PLANNER_ASAN=1 no sanitizer
    report (checked after every request, so the report names the request; leaks show when
    the batch's server stops);
  * every CHECK_EVERY imports and after the batch: the calendar's export.ics and a few of its
    events' .ics (which python3-icalendar must parse, as test_import.py says of every export),
    its events listing and the owner's agenda over a year around the corpus and over a year at
    an edge, and its feed (parsed too after the batch) all answer 200; then GET /healthz.

The batches are reproducible: each corpus file has its own random.Random seeded from a fixed
seed and the file's name (PLANNER_FUZZ_SEED picks another seed, PLANNER_FUZZ_REQUESTS another
batch size), and its own server (make_server), so that `pytest -k <file>` replays a batch
exactly and a hang or a crash stays the batch's.  Under the sanitizers each file gets fewer
imports (their servers run 3-10x slower; the release build covers the full batch).  A failure prints, for each kind of failure,
the first offending request (its target, headers and exact body as Python expressions) with
the answer, the mutations that made it and its index in the batch (an import may depend on
what the batch's earlier ones left in the calendar: UIDs, series); for a document
python3-icalendar refuses, the first of its components that it refuses on its own.

Found by it and fixed (2026-12-07, each with a test of its own in test_import.py or
core_recur): a VTIMEZONE with a MINUTELY or SECONDLY observance ran the import for good
(core/ical.c custom_zone); a BYSETPOS past its period's days cost 1.1 s a VEVENT
(core/recur.c period_days_max); kept lines libical cannot read (a VALARM's TRIGGER:x or
-P1Y, an X- component's DTSTART:x, REPEAT:Mail) went out verbatim and made python3-icalendar
refuse the whole export and feed (core/ical.c check_kept); zoneinfo paths such as
posix/Europe/Berlin were taken as zone names (core_tz_name_canonical).  And outside its rules:
the import did not check a rule as the JSON API does, and took one that never occurs
(BYDAY=2SU;BYMONTHDAY=-1, 0.12 s an expansion; now refused from the rule alone, core/recur.c
never_matches); a plain VEVENT whose UID had an override's stored form ("s@x/<start in us>")
took that override over (api/import.c)."""
import codecs
import os
import random
import re
import subprocess
import zlib

import pytest
import requests

from conftest import ASAN
from helpers_events import API, CALENDARS, EVENTS, new_person
from test_fuzz import (ODD, RRULE_PARTS, RRULES, Failures, StderrWatch, alive,
                       check_after_batch, compact, problem_verdict, short, tweak_rule,
                       tweak_string)

SEED = int(os.environ.get("PLANNER_FUZZ_SEED", "20261123"))
PER_FILE = int(os.environ.get("PLANNER_FUZZ_REQUESTS", "100" if ASAN else "300"))  # a file
CHECK_EVERY = 150  # imports between two looks at the export, the listings and the feed
TIMEOUT = 30 if ASAN else 10  # seconds for one answer: the slowest seen take 2 s (ASan)
BODY_LIMIT = 1 << 20  # max_body_bytes' default (src/config.c)
LONG = 10240  # "very long": far over every field's limit, far under the body limit
ICS = "text/calendar"

# The corpus lives in 2027 (within the server's recurrence horizon of now, December 2026):
# the listings look at that year, and at one of these edge years in turn: before 1901 and
# 1970, past the horizon (the series are expanded on demand), at the end of signed 32-bit
# seconds, at the end of the 20 years ahead that a listing may reach.
CORPUS_YEAR = "2027"
LIST_WINDOWS = [("2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"),
                ("1900-01-01T00:00:00Z", "1901-01-01T00:00:00Z"),
                ("1969-07-01T00:00:00Z", "1970-07-01T00:00:00Z"),
                ("2029-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
                ("2037-07-01T00:00:00Z", "2038-07-01T00:00:00Z"),
                ("2045-01-01T00:00:00Z", "2046-01-01T00:00:00Z")]

HAVE_ICALENDAR = subprocess.run(["/usr/bin/python3", "-c", "import icalendar"],
                                capture_output=True).returncode == 0
if HAVE_ICALENDAR:
    import icalendar


# --- text to bytes

def _raw_surrogates(e):
    """Encoding error handler: U+DC80..U+DCFF stand for the raw (invalid UTF-8) bytes 80..FF,
    other lone surrogates are written as the bytes of their code points (CESU, invalid too)."""
    out = b""
    for ch in e.object[e.start:e.end]:
        c = ord(ch)
        out += bytes([c - 0xDC00]) if 0xDC80 <= c <= 0xDCFF else ch.encode("utf-8", "surrogatepass")
    return out, e.end


codecs.register_error("fuzzical", _raw_surrogates)


def raw(s):
    return s.encode("utf-8", "fuzzical")


# --- the corpus: valid files, as lists of unfolded content lines

# %U% in a UID is the request's UID suffix, %OWNER% and %GUEST% the e-mail addresses of the
# calendar's owner and of another user.
BERLIN = ["BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100",
          "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000",
          "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT", "BEGIN:STANDARD",
          "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000",
          "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD", "END:VTIMEZONE"]
OUTLOOK = [line.replace("Europe/Berlin", "W. Europe Standard Time") for line in BERLIN]
ALIAS = ["BEGIN:VTIMEZONE", "TZID:Central Alias", "X-LIC-LOCATION:America/Chicago",
         "BEGIN:STANDARD", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0600", "DTSTART:19701101T020000",
         "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD", "BEGIN:DAYLIGHT",
         "TZOFFSETFROM:-0600", "TZOFFSETTO:-0500", "DTSTART:19700308T020000",
         "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT", "END:VTIMEZONE"]
ALARM = ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M",
         "END:VALARM"]


def vevent(uid, *lines):
    return ["BEGIN:VEVENT", f"UID:{uid}-%U%@fuzz", "DTSTAMP:20261201T000000Z", *lines,
            "END:VEVENT"]


def vcalendar(*parts, extra=()):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Planner tests//fuzz ical//EN", *extra]
    for p in parts:
        out += p
    return out + ["END:VCALENDAR"]


class Corpus:
    """A valid file: its content lines, line ending, whether long lines are folded, and the
    time zone of the calendar it is imported into (floating times and dates are read in it)."""

    def __init__(self, name, lines, eol="\r\n", fold=False, zone="Europe/Berlin"):
        self.name, self.lines, self.eol, self.fold, self.zone = name, lines, eol, fold, zone


LONG_TEXT = ("Quarterly review \u2013 agenda: budget, hiring; risks \\, issues \\; blockers. "
             "\u00dcberpr\u00fcfung der Ma\u00dfnahmen \U0001f4c5 ") * 6
CORPUS = [
    Corpus("tzid-with-vtimezone", vcalendar(BERLIN, vevent(
        "berlin", "DTSTART;TZID=Europe/Berlin:20270302T100000",
        "DTEND;TZID=Europe/Berlin:20270302T113000", "SUMMARY:Planning", "LOCATION:Room 1"))),
    Corpus("utc-and-floating", vcalendar(
        vevent("utc", "DTSTART:20270303T090000Z", "DTEND:20270303T100000Z", "SUMMARY:UTC"),
        vevent("floating", "DTSTART:20270303T140000", "DURATION:PT45M", "SUMMARY:Floating")),
        zone="America/St_Johns"),
    Corpus("all-day", vcalendar(
        vevent("two-days", "DTSTART;VALUE=DATE:20270305", "DTEND;VALUE=DATE:20270307",
               "SUMMARY:Offsite"),
        vevent("one-day", "DTSTART;VALUE=DATE:20270308", "SUMMARY:Holiday"),
        vevent("by-duration", "DTSTART;VALUE=DATE:20270309", "DURATION:P2D",
               "SUMMARY:Trip")), zone="Pacific/Kiritimati"),
    Corpus("daily-exdate-rdate", vcalendar(vevent(
        "daily", "DTSTART;TZID=Europe/Berlin:20270308T080000",
        "DTEND;TZID=Europe/Berlin:20270308T083000", "SUMMARY:Stand-up",
        "RRULE:FREQ=DAILY;COUNT=10",
        "EXDATE;TZID=Europe/Berlin:20270310T080000,20270311T080000",
        "RDATE;TZID=Europe/Berlin:20270320T080000",
        "RDATE;VALUE=PERIOD:20270325T070000Z/PT1H"))),
    Corpus("weekly-until-byday", vcalendar(vevent(
        "weekly", "DTSTART;TZID=America/New_York:20270301T090000",
        "DTEND;TZID=America/New_York:20270301T100000", "SUMMARY:Sync",
        "RRULE:FREQ=WEEKLY;UNTIL=20270601T000000Z;BYDAY=MO,WE,FR;WKST=SU"))),
    Corpus("monthly-bysetpos-bymonthday", vcalendar(
        vevent("last-workday", "DTSTART:20270331T150000Z", "DTEND:20270331T160000Z",
               "SUMMARY:Month end", "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=12"),
        vevent("mid-and-last", "DTSTART:20270315T120000Z", "DTEND:20270315T123000Z",
               "SUMMARY:Payroll",
               "RRULE:FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15,-1;UNTIL=20271231T235959Z"))),
    Corpus("yearly-all-day", vcalendar(
        vevent("second-sunday", "DTSTART;VALUE=DATE:20270314", "DTEND;VALUE=DATE:20270315",
               "SUMMARY:Anniversary", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;COUNT=5"),
        vevent("until-date", "DTSTART;VALUE=DATE:20270401", "SUMMARY:Fools",
               "RRULE:FREQ=YEARLY;UNTIL=20300101", "EXDATE;VALUE=DATE:20280401")),
        zone="Asia/Kathmandu"),
    Corpus("override-first", vcalendar(
        vevent("series", "DTSTART;TZID=Europe/Berlin:20270315T120000",
               "DTEND;TZID=Europe/Berlin:20270315T130000", "SUMMARY:Weekly (moved)",
               "RECURRENCE-ID;TZID=Europe/Berlin:20270315T100000", "SEQUENCE:1"),
        vevent("series", "DTSTART;TZID=Europe/Berlin:20270301T100000",
               "DTEND;TZID=Europe/Berlin:20270301T110000", "SUMMARY:Weekly",
               "RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE;TZID=Europe/Berlin:20270308T100000"))),
    Corpus("people", vcalendar(vevent(
        "people", "DTSTART:20270402T090000Z", "DTEND:20270402T100000Z", "SUMMARY:People",
        'ORGANIZER;CN="Owner, The":mailto:%OWNER%',
        "ATTENDEE;CN=Owner;PARTSTAT=ACCEPTED:mailto:%OWNER%",
        "ATTENDEE;CN=Guest;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:%GUEST%",
        "ATTENDEE;PARTSTAT=TENTATIVE:mailto:ext@elsewhere.example",
        "ATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:room@example.org",
        "ATTENDEE;PARTSTAT=DECLINED;ROLE=OPT-PARTICIPANT:MAILTO:Upper.Case@Example.ORG",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:x@example.org"))),
    Corpus("alarms-status-sequence", vcalendar(
        vevent("cancelled", "DTSTART:20270405T090000Z", "DTEND:20270405T100000Z",
               "SUMMARY:Cancelled", "STATUS:CANCELLED", "SEQUENCE:3", "CLASS:CONFIDENTIAL",
               *ALARM, "BEGIN:VALARM", "ACTION:EMAIL", "SUMMARY:Mail", "DESCRIPTION:Mail me",
               "ATTENDEE:mailto:me@example.org", "TRIGGER:-PT1H", "END:VALARM",
               "BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER;RELATED=START:-PT1H", "END:VALARM"),
        vevent("tentative", "DTSTART:20270406T090000Z", "DTEND:20270406T100000Z",
               "SUMMARY:Maybe", "STATUS:TENTATIVE", "CLASS:PUBLIC", "SEQUENCE:0"))),
    Corpus("unknown-properties-folded", vcalendar(vevent(
        "unknown", "DTSTART;TZID=Europe/Berlin:20270407T100000",
        "DTEND;TZID=Europe/Berlin:20270407T110000", "SUMMARY:" + LONG_TEXT[:200],
        "DESCRIPTION:" + LONG_TEXT + "\\nSecond line", 'X-CUSTOM;X-PARAM="a:b;c":some value',
        "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE", "CATEGORIES:Work,Planning", "GEO:52.52;13.405",
        "URL:https://example.org/meeting/42", "TRANSP:TRANSPARENT",
        "ATTACH;FMTTYPE=application/pdf:https://files.example/agenda.pdf",
        "X-LONG-ONE:" + "x" * 300), extra=["X-WR-CALNAME:Fuzz", "METHOD:PUBLISH"]),
        fold=True),
    Corpus("bare-lf-several", vcalendar(*[vevent(
        f"lf{k}", f"DTSTART:202704{10 + k:02d}T0{k}0000Z", f"DTEND:202704{10 + k:02d}T0{k}3000Z",
        f"SUMMARY:LF {k}", f"DESCRIPTION:Number {k}") for k in range(6)]),
        eol="\n", zone="UTC"),
    Corpus("todo-journal-mixed", vcalendar(
        ["BEGIN:VTODO", "UID:todo-%U%@fuzz", "DTSTAMP:20261201T000000Z", "SUMMARY:Todo",
         "DUE:20270420T170000Z", *ALARM, "END:VTODO"],
        vevent("between", "DTSTART:20270420T090000Z", "DTEND:20270420T100000Z",
               "SUMMARY:Between"),
        ["BEGIN:VJOURNAL", "UID:journal-%U%@fuzz", "DTSTAMP:20261201T000000Z",
         "DTSTART;VALUE=DATE:20270420", "SUMMARY:Journal", "END:VJOURNAL"],
        ["BEGIN:VFREEBUSY", "UID:fb-%U%@fuzz", "DTSTAMP:20261201T000000Z",
         "FREEBUSY:20270420T090000Z/PT1H", "END:VFREEBUSY"],
        vevent("after", "DTSTART:20270421T090000Z", "DTEND:20270421T100000Z",
               "SUMMARY:After"))),
    Corpus("outlook-vtimezone-only", vcalendar(OUTLOOK, vevent(
        "outlook", "DTSTART;TZID=W. Europe Standard Time:20270412T090000",
        "DTEND;TZID=W. Europe Standard Time:20270412T100000", "SUMMARY:Outlook",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "EXDATE;TZID=W. Europe Standard Time:20270419T090000"))),
    Corpus("prefixed-and-aliased-tzids", vcalendar(
        ALIAS,
        vevent("mozilla", "DTSTART;TZID=/mozilla.org/20050126_1/Europe/Paris:20270413T090000",
               "DTEND;TZID=/mozilla.org/20050126_1/Europe/Paris:20270413T100000",
               "SUMMARY:Mozilla"),
        vevent("libical", "DTSTART;TZID=/freeassociation.sourceforge.net/Asia/Tokyo:"
               "20270414T090000", "DURATION:PT1H30M", "SUMMARY:Libical"),
        vevent("alias", "DTSTART;TZID=Central Alias:20270415T090000",
               "DTEND;TZID=Central Alias:20270415T100000", "SUMMARY:Alias",
               "RRULE:FREQ=DAILY;COUNT=3")), zone="Australia/Lord_Howe"),
]


# --- looking at content lines

def name_of(line):
    """The property (or BEGIN/END) name of a content line, upper-cased."""
    m = re.match(r"[A-Za-z0-9-]*", line)
    return m.group(0).upper()


def split(line):
    """(name, parameters with their ';'s, value) of a content line; value None without an
    unquoted ':'."""
    name = re.match(r"[A-Za-z0-9-]*", line).group(0)
    quoted = False
    for i in range(len(name), len(line)):
        if line[i] == '"':
            quoted = not quoted
        elif line[i] == ":" and not quoted:
            return name, line[len(name):i], line[i + 1:]
    return name, line[len(name):], None


def join(name, params, value):
    return name + params + ("" if value is None else ":" + value)


def blocks(lines, component=None):
    """(begin, end) indexes of the closed components (`component` only, if given)."""
    out, stack = [], []
    for i, line in enumerate(lines):
        n, _, v = split(line)
        if n.upper() == "BEGIN" and v is not None:
            stack.append((v.upper(), i))
        elif n.upper() == "END" and v is not None and stack and stack[-1][0] == v.upper():
            comp, b = stack.pop()
            if component is None or comp == component:
                out.append((b, i))
    return sorted(out)


def props(lines, names=None, within=None):
    """Indexes of the property lines (not BEGIN/END), of `names` only if given, inside a
    component `within` if given."""
    spans = blocks(lines, within) if within else [(0, len(lines) - 1)]
    out = []
    for b, e in spans:
        for i in range(b + 1, e) if within else range(b, e + 1):
            n = name_of(lines[i])
            if n not in ("BEGIN", "END") and (names is None or n in names):
                out.append(i)
    return sorted(set(out))


# --- the values mutations draw from

ODD_VALUES = [
    "", " ", "x" * LONG, "\u00e9" * (LONG // 2), "\x00", "a\x00b", "\udcff\udcfe", "\udcc0\udcaf",
    "\udced\udca0\udc80", "\udce2\udc82", "\ud800", "a\rb", "\r", "\u202e\u05e9\u05dc\u05d5\u05dd",
    "\U0001f600" * 100, "e\u0301" * 40, "\ufeff", "\u2028\u2029", "\t", "\x7f", "\u0085",
    '"', '"unterminated', 'a"b"c', ";", ",", ":", ";;;", ",,,", ":::", "\\", "a\\", "\\n\\N\\;\\,",
    "\\x", "%s%n%x", "0", "-1", "99999999999999999999", "TRUE", "mailto:", "BEGIN:VEVENT",
    "</script>", "'; DROP TABLE events;--", "a" * 1000, "a" * 1001, "\u00a0"]
ODD_NAMES = [
    "", "X-", "x-lower", "X-" + "N" * LONG, "X-\x00", "X-\udcff", "X_UNDERSCORE", "1", "-",
    "dtstart", "DTSTART", "DTEND", "DURATION", "UID", "RRULE", "RDATE", "EXDATE", "EXRULE",
    "RECURRENCE-ID", "SEQUENCE", "STATUS", "CLASS", "ATTENDEE", "ORGANIZER", "SUMMARY",
    "BEGIN", "END", "TZID", "X-LIC-LOCATION", "VALARM", "TRIGGER", "X-\u00e9", " DTSTART"]
ODD_PARAMS = [
    ";", ";=", ";X=", ";=V", ";X-P", ";TZID=", ";TZID=Nowhere/Special", ';TZID="Europe/Berlin"',
    ';TZID="unterminated', ";TZID=/mozilla.org/20050126_1/Europe/Berlin",
    ";TZID=/freeassociation.sourceforge.net/America/New_York", ";TZID=" + "/" * 2000,
    ";TZID=" + "a/" * 3000, ";TZID=Europe/Berlin;TZID=Asia/Tokyo", ";TZID=../../../etc/passwd",
    ";TZID=UTC", ";TZID=Etc/GMT+14", ";TZID=posixrules", ";TZID=W. Europe Standard Time",
    ";TZID=Central Alias", ";VALUE=DATE", ";VALUE=DATE-TIME", ";VALUE=PERIOD", ";VALUE=TEXT",
    ";VALUE=DURATION", ";VALUE=X-ODD", ";RANGE=THISANDFUTURE", ";RANGE=THISANDPRIOR",
    ";RELATED=END", ';X-P="a:b;c,d"', ';X-P=a,b,"c"', ';CN="quoted"x', ";PARTSTAT=",
    ";PARTSTAT=X-ODD", ";CUTYPE=ROOM", ";CUTYPE=RESOURCE", ";X-P=" + "p" * LONG, ";\x00=1",
    ';X-P="\udcff"', ";ENCODING=BASE64", ";CHARSET=latin1", ";ROLE=CHAIR", ";RSVP=MAYBE",
    ";CN=" + "c" * 300, ";X-P=\u00e9\U0001f600", ";FBTYPE=BUSY", ";VALUE=DATE;VALUE=DATE-TIME"]
# The years of the edge sweep and the odd dates: the first ones, the Gregorian reform, the
# ends of the import's range (1900) and of 32-bit seconds (signed and unsigned), the last one.
EDGE_YEARS = ["0000", "0001", "1582", "1899", "1900", "1969", "1970", "2038", "2106", "9999",
              "10000"]
MORE_YEARS = ["-001", "0", "01", "12345", "2027", "2028", "1583", "1601", "2037", "2262"]
MONTHS = ["01", "02", "12", "13", "00", "99", "1"]
DAYS = ["01", "28", "29", "30", "31", "32", "00", "1"]
CLOCKS = ["T000000", "T235959", "T240000", "T235960", "T235961", "T120000", "T-10000",
          "T9999", "T", "T1200", "T12000000", "T996060", "T023000"]
ZONES = ["Z", "", "z", "+0100", "Z Z", "ZZ"]
DURATIONS = ["P", "PT", "-P1D", "+P1D", "P999999999D", "PT0S", "P0D", "P1D", "P366D", "P367D",
             "PT1H", "PT1H30M", "P1W", "P1W2D", "P1Y", "P1M", "P1DT", "PT-1H", "P-1D",
             "PT99999999999S", "PT2147483648S", "P52W", "P53W", "PT1.5H", "pt1h", "P1DT1H1M1S",
             "-PT0S", "PT24H", "P2147483647W", "", "1H", "PPT1H"]
ICAL_RRULES = [
    "RRULE:FREQ=SECONDLY", "RRULE:FREQ=SECONDLY;COUNT=100000", "RRULE:FREQ=MINUTELY;INTERVAL=1",
    "RRULE:FREQ=HOURLY;UNTIL=20270302T000000Z", "RRULE:FREQ=DAILY;INTERVAL=0",
    "RRULE:FREQ=DAILY;INTERVAL=99999999", "RRULE:FREQ=YEARLY;INTERVAL=4294967297",
    "RRULE:FREQ=DAILY;COUNT=0", "RRULE:FREQ=DAILY;COUNT=4294967296",
    "RRULE:FREQ=DAILY;UNTIL=19000101T000000Z", "RRULE:FREQ=WEEKLY;UNTIL=20270101",
    "RRULE:FREQ=WEEKLY;UNTIL=20270601T000000", "RRULE:FREQ=WEEKLY;UNTIL=99991231",
    "RRULE:FREQ=WEEKLY;UNTIL=00010101T000000Z", "RRULE:FREQ=WEEKLY;WKST=XX;BYDAY=MO",
    "RRULE:FREQ=WEEKLY;WKST=;BYDAY=SU", "RRULE:FREQ=WEEKLY;WKST=MO,TU",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=-31", "RRULE:FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2",
    "RRULE:FREQ=YEARLY;BYYEARDAY=366;COUNT=3", "RRULE:FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH",
    "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3",
    "RRULE:FREQ=MONTHLY;BYDAY=5FR;COUNT=20", "RRULE:FREQ=MONTHLY;BYDAY=-5MO;BYSETPOS=1,-1",
    "RRULE:FREQ=MONTHLY;BYSETPOS=366;BYDAY=MO", "RRULE:FREQ=YEARLY;BYSETPOS=-366;BYYEARDAY=1",
    "RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;"
    "BYMINUTE=0,15,30,45", "RRULE:FREQ=MINUTELY;BYSECOND=0,1,2,3,4,5;COUNT=3000",
    "RRULE:FREQ=YEARLY;BYDAY=MO;BYMONTH=1;BYWEEKNO=1;BYYEARDAY=1;BYMONTHDAY=1",
    "RRULE:FREQ=DAILY;RSCALE=GREGORIAN;SKIP=FORWARD", "RRULE:FREQ=DAILY;COUNT=3\\;X",
    "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "RRULE:FREQ=DAILY;UNTIL=20270301T000000Z;COUNT=2"]
# Rules whose next occurrence libical searches far for, or finds none of.
SEARCHING_RULES = [
    "RRULE:FREQ=MONTHLY;BYSETPOS=6;BYDAY=MO", "RRULE:FREQ=MONTHLY;BYSETPOS=-6;BYDAY=FR",
    "RRULE:FREQ=MONTHLY;BYSETPOS=100;BYDAY=MO,TU", "RRULE:FREQ=YEARLY;BYSETPOS=54;BYDAY=MO",
    "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
    "RRULE:FREQ=YEARLY;INTERVAL=4;BYYEARDAY=366",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=31;BYDAY=FR;BYMONTH=2,4",
    "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "RRULE:FREQ=YEARLY;BYWEEKNO=53;BYDAY=SU;BYMONTH=1",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYMONTHDAY=-1",
    "RRULE:FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8"]
ODD_TZIDS = ["", "Nowhere/Special", "Europe/Berlin ", "europe/berlin", "Europe//Berlin", "/",
             "//", "Europe/", "/Europe/Berlin", "/x/y/z/Europe/Berlin", "UTC", "GMT", "Z",
             "Etc/GMT-14", "Etc/GMT+12", "America/Argentina/ComodRivadavia", "Factory",
             "posix/Europe/Berlin", "right/UTC", "../zoneinfo/UTC", "/etc/localtime",
             "W. Europe Standard Time", "Central Alias", "Europe/Berlin,Asia/Tokyo",
             "Europe/Berlin\u00e9", "\U0001f600", "a" * 300, "/" * 300 + "UTC"]
TZ_OFFSETS = ["+2400", "-9999", "+0000", "-0000", "+235959", "+2359", "-2359", "+0100", "99",
              "", "0100", "+01", "+1:00", "+01000", "+0160", "+9999", "-0001", "+0030"]
TZ_RULES = ["RRULE:FREQ=SECONDLY", "RRULE:FREQ=MINUTELY", "RRULE:FREQ=MINUTELY;COUNT=100000",
            "RRULE:FREQ=DAILY", "RRULE:FREQ=SECONDLY;INTERVAL=3600",
            "RRULE:FREQ=YEARLY;BYMONTH=13;BYDAY=-1SU", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=9SU",
            "RRULE:FREQ=YEARLY;COUNT=0", "RRULE:FREQ=YEARLY;UNTIL=19700101T000000Z",
            "RRULE:FREQ=YEARLY;UNTIL=99991231T235959Z", "RRULE:FREQ=YEARLY;INTERVAL=0",
            "RRULE:", "RRULE:FREQ=HOURLY;INTERVAL=1", "RDATE:20270301T020000",
            "RDATE:99991231T000000", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU"]
TZ_STARTS = ["00000101T000000", "00010101T000000", "16010101T000000", "19700101T000000",
             "99991231T235959", "20270301T020000", "20270301", "garbage", "",
             "19700329T020000Z", "20380119T031408", "21060207T062816"]
MAILTOS = ["mailto:", "mailto:a", "mailto:a@", "mailto:@b.c", "mailto:a@b@c.org",
           "mailto:a b@c.org", 'mailto:"a"@c.org', "mailto:a@[1.2.3.4]", "MAILTO:%GUEST%",
           "mailto:%GUEST%", "mailto:" + "x" * 65 + "@example.org",
           "mailto:" + "e" * 250 + "@x.org", "mailto:a@exa\x00mple.org",
           "mailto:\u00fc@example.org",
           "mailto:a@example.org.", "mailto:a@.example.org", "mailto:a@example..org",
           "mailto:%OWNER%", "http://example.org/", "urn:uuid:1234", "", "mailto:mailto:a@b.org",
           "mailto:a@b.org?subject=hi", "mailto:a%40b.org", "mailto:A@B.ORG,c@d.org"]
TRIGGERS = ["-PT15M", "PT0S", "-PT0S", "PT15M", "-PT40321M", "-PT40320M", "-P4W", "-P5W",
            "-PT999999999M", "-PT1S", "-PT90S", "P", "", "garbage", "-P1D", "-PT1H30M",
            "20270301T090000Z", "-P1Y"]
ODD_UIDS = ["", " ", "x" * 1000, "x" * 1001, "x" * LONG, "\x00", "a\x00b", "\udcff",
            "u\\;v\\,w", "with space", "\u00e9\U0001f600", "%U%", "0", "/", "//", "a/b"]
ODD_LINES = ["", ":", ";", "X", "X:", ":value", "BEGIN", "END", "BEGIN:", "END:", "BEGIN:VEVENT",
             "END:VEVENT", "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VALARM", "END:VALARM",
             "BEGIN:VTIMEZONE", "END:VTIMEZONE", "BEGIN:X-" + "C" * 300, "END:X-ODD",
             "DTSTART:20270301T090000Z", "DTEND:20270301T080000Z", "DURATION:PT1H",
             "RECURRENCE-ID:20270301T090000Z", "UID:", "SUMMARY", "X-A;B=\"c:d\"", "\x00",
             "\udcff", "\u00e9", " ", "\t", "BEGIN:VEVENT:X", "END;X=Y:VEVENT",
             "begin:vevent", "end:vevent", "EXRULE:FREQ=DAILY", "STATUS:DRAFT",
             "SEQUENCE:2147483648", "CLASS:", "X-" + "Y" * LONG + ":v"]
JUNK_BYTES = [b"\x00", b"\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\r", b"\n", b"\r\n ",
              b" ", b"\t", b":", b";", b",", b'"', b"\\", b"=", b"\x1b", b"\xef\xbb\xbf"]
TIME_PROPS = ("DTSTART", "DTEND", "EXDATE", "RDATE", "RECURRENCE-ID", "DUE")


# --- mutations of the content lines: each changes `lines` in place and returns a note, or
# None when it does not apply to this file (another is drawn)

def m_drop_line(rng, lines):
    i = rng.randrange(len(lines))
    return f"drop line {i} {short(lines.pop(i), 40)}"


def m_duplicate_line(rng, lines):
    i = rng.randrange(len(lines))
    j = rng.choice([i, i + 1, rng.randrange(len(lines) + 1)])
    lines.insert(j, lines[i])
    return f"duplicate line {i} {short(lines[i], 40)} at {j}"


def m_swap_lines(rng, lines):
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return f"swap lines {i} and {j}"


def m_move_line(rng, lines):
    line = lines.pop(rng.randrange(len(lines)))
    j = rng.randrange(len(lines) + 1)
    lines.insert(j, line)
    return f"move {short(line, 40)} to {j}"


def m_truncate_line(rng, lines):
    i = rng.randrange(len(lines))
    k = rng.randrange(len(lines[i]) + 1)
    lines[i] = lines[i][:k]
    return f"cut line {i} to {k} characters: {short(lines[i], 40)}"


def m_odd_line(rng, lines):
    line = rng.choice(ODD_LINES)
    j = rng.randrange(len(lines) + 1)
    lines.insert(j, line)
    return f"line {short(line, 40)} inserted at {j}"


def m_unbalance(rng, lines):
    begins = [i for i, l in enumerate(lines) if name_of(l) == "BEGIN"]
    ends = [i for i, l in enumerate(lines) if name_of(l) == "END"]
    how = rng.randrange(5)
    if how == 0 and ends:
        i = rng.choice(ends)
        return f"drop {short(lines.pop(i), 40)} (line {i})"
    if how == 1 and begins:
        i = rng.choice(begins)
        return f"drop {short(lines.pop(i), 40)} (line {i})"
    if how == 2 and ends:
        i = rng.choice(ends)
        other = rng.choice(["VEVENT", "VTODO", "VCALENDAR", "VALARM", "VTIMEZONE", "X-Y", ""])
        lines[i] = "END:" + other
        return f"line {i} -> END:{other}"
    comp = rng.choice(["VEVENT", "VCALENDAR", "VALARM", "VTIMEZONE", "STANDARD", "X-Y"])
    line = rng.choice(["BEGIN:", "END:"]) + comp
    j = rng.randrange(len(lines) + 1)
    lines.insert(j, line)
    return f"{line} inserted at {j}"


def m_nest(rng, lines):
    """Components nested `depth` deep inside a VEVENT (or anywhere), their ENDs sometimes
    missing or out of order."""
    spans = blocks(lines, "VEVENT")
    at = rng.randint(*rng.choice(spans)) + 1 if spans and rng.random() < 0.8 \
        else rng.randrange(len(lines))
    depth = rng.choice([2, 15, 16, 17, 40, 200])
    comp = rng.choice(["X-N", "VALARM", "VEVENT", "VCALENDAR", "VTIMEZONE", "STANDARD"])
    names = [f"{comp}{k}" if comp == "X-N" else comp for k in range(depth)]
    inner = [f"X-DEPTH:{depth}"]
    ends = ["END:" + n for n in reversed(names)]
    how = rng.randrange(4)
    if how == 1:
        ends = ends[:rng.randrange(len(ends))]
    elif how == 2:
        ends = list(reversed(ends))
    lines[at:at] = ["BEGIN:" + n for n in names] + inner + ends
    return f"{depth} BEGIN:{comp} nested at {at}" + ["", ", ENDs cut", ", ENDs reversed",
                                                      ""][how]


def m_duplicate_block(rng, lines):
    spans = blocks(lines, "VEVENT") or blocks(lines)
    if not spans:
        return None
    b, e = rng.choice(spans)
    copy = lines[b:e + 1]
    how = rng.randrange(3)
    note = f"duplicate the block at {b}"
    if how == 1:  # the same UID, a higher SEQUENCE
        copy = [l for l in copy if name_of(l) != "SEQUENCE"]
        copy.insert(1, f"SEQUENCE:{rng.choice([1, 5, 2147483647])}")
        note += " with a new SEQUENCE"
    elif how == 2:
        note += ", an hour later"
        copy = [re.sub(r"T(\d\d)", lambda m: f"T{(int(m.group(1)) + 1) % 24:02d}", l, count=1)
                if name_of(l) in ("DTSTART", "DTEND") else l for l in copy]
    j = rng.choice([e + 1, b, rng.randrange(len(lines) + 1)])
    lines[j:j] = copy * rng.choice([1, 1, 1, 30])
    return note


def m_drop_block(rng, lines):
    spans = blocks(lines)
    spans = [s for s in spans if s != (0, len(lines) - 1)]
    if not spans:
        return None
    b, e = rng.choice(spans)
    note = f"drop the block {short(lines[b], 40)} at {b}"
    del lines[b:e + 1]
    return note


def m_outside(rng, lines):
    """A VEVENT after END:VCALENDAR, a second VCALENDAR, or text before BEGIN:VCALENDAR."""
    spans = blocks(lines, "VEVENT")
    how = rng.randrange(4)
    if how == 0 and spans:
        b, e = rng.choice(spans)
        block = lines[b:e + 1]
        del lines[b:e + 1]
        lines.extend(block)
        return "a VEVENT moved after END:VCALENDAR"
    if how == 1:
        lines.extend(list(lines))
        return "the VCALENDAR twice"
    if how == 2:
        lines[0:0] = rng.choice([["X-BEFORE:1"], ["BEGIN:VEVENT", "END:VEVENT"], [" folded"],
                                 ["END:VCALENDAR"]])
        return "lines before BEGIN:VCALENDAR"
    lines[:] = [l for l in lines if name_of(l) != "END" or split(l)[2] != "VCALENDAR"]
    return "no END:VCALENDAR"


def m_rename(rng, lines):
    i = rng.choice(props(lines) or [0])
    name, params, value = split(lines[i])
    new = rng.choice(ODD_NAMES)
    lines[i] = join(new, params, value)
    return f"rename {name} (line {i}) -> {short(new, 40)}"


def m_params(rng, lines):
    i = rng.choice(props(lines) or [0])
    name, params, value = split(lines[i])
    new = rng.choice(ODD_PARAMS)
    params = params + new if rng.random() < 0.5 else new
    lines[i] = join(name, params, value)
    return f"params of {name} (line {i}) -> {short(params, 50)}"


def m_value(rng, lines):
    i = rng.choice(props(lines) or [0])
    name, params, value = split(lines[i])
    if value is not None and rng.random() < 0.4:
        new = tweak_string(rng, value)
    else:
        new = rng.choice(ODD_VALUES + ODD)
        if value and rng.random() < 0.3:
            new = value + new if rng.random() < 0.5 else new + value
    lines[i] = join(name, params, new)
    return f"value of {name} (line {i}) -> {short(new, 50)}"


def odd_datetime(rng, date_only=False):
    """A DATE or DATE-TIME text at the calendar's edges, or not a date at all."""
    year = rng.choice(EDGE_YEARS + MORE_YEARS)
    month, day = "03", "01"
    if rng.random() < 0.4:
        month, day = rng.choice(MONTHS), rng.choice(DAYS)
    elif rng.random() < 0.3:
        month, day = rng.choice([("02", "29"), ("12", "31"), ("01", "01"), ("02", "28")])
    if date_only:
        return year + month + day
    clock = "T090000" if rng.random() < 0.6 else rng.choice(CLOCKS)
    return year + month + day + clock + rng.choice(["Z", "Z", ""] + ZONES)


def m_dates(rng, lines):
    """Date and date-time values moved to the edges, their types mixed, or end before start."""
    spots = props(lines, TIME_PROPS)
    if not spots:
        return None
    i = rng.choice(spots)
    name, params, value = split(lines[i])
    how = rng.randrange(6)
    if how == 0:  # a DATE against a DATE-TIME
        if "VALUE=DATE" in params.upper():
            lines[i] = join(name, params.replace("VALUE=DATE", "VALUE=DATE-TIME"), value)
        else:
            lines[i] = join(name, params + ";VALUE=DATE", (value or "")[:8])
        return f"{name} (line {i}) -> {short(lines[i], 60)}"
    if how == 1:  # DTEND before DTSTART (or equal)
        starts, ends = props(lines, ("DTSTART",), "VEVENT"), props(lines, ("DTEND",), "VEVENT")
        if starts and ends:
            s, e = rng.choice(starts), rng.choice(ends)
            sv, ev = split(lines[s]), split(lines[e])
            lines[s] = join(sv[0], ev[1], ev[2])
            lines[e] = join(ev[0], sv[1], sv[2] if rng.random() < 0.5 else ev[2])
            return f"DTSTART (line {s}) and DTEND (line {e}) swapped"
    if how == 2 and value:  # a list of values
        vals = [odd_datetime(rng) for _ in range(rng.choice([2, 3, 50]))]
        lines[i] = join(name, params, ",".join([value] + vals))
        return f"{name} (line {i}) -> a list of {len(vals) + 1}"
    date_only = "VALUE=DATE" in params.upper() and "DATE-TIME" not in params.upper()
    new = odd_datetime(rng, date_only and rng.random() < 0.7)
    if rng.random() < 0.2:
        new += rng.choice(["/PT1H", "/20270301T100000Z", "/P", "/"])
    lines[i] = join(name, params, new)
    return f"{name} (line {i}) -> {new!r}"


def m_duration(rng, lines):
    """DTEND replaced by (or joined by) an odd DURATION."""
    spans = blocks(lines, "VEVENT")
    if not spans:
        return None
    b, e = rng.choice(spans)
    d = rng.choice(DURATIONS)
    ends = [i for i in range(b, e) if name_of(lines[i]) in ("DTEND", "DURATION")]
    if ends and rng.random() < 0.75:
        lines[ends[0]] = f"DURATION:{d}"
        return f"line {ends[0]} -> DURATION:{d}"
    lines.insert(b + 1, f"DURATION:{d}")
    return f"DURATION:{d} added at {b + 1}"


def m_rrule(rng, lines):
    """An RRULE (EXDATE, RDATE) from the catalogues, or the file's RRULE tweaked; sometimes
    its VEVENT is repeated with UIDs of their own (a rule costly to expand costs as many
    times)."""
    spans = blocks(lines, "VEVENT")
    rules = props(lines, ("RRULE",), "VEVENT")
    how, searching = rng.random(), False
    if rules and how < 0.25:
        i = rng.choice(rules)
        for _ in range(rng.choice([1, 1, 2, 3])):
            lines[i] = tweak_rule(rng, lines[i])
        note = f"RRULE (line {i}) -> {short(lines[i], 80)}"
    elif rules and how < 0.4:
        i = rng.choice(rules)
        part = rng.choice(RRULE_PARTS)
        lines[i] += ";" + part
        note = f"RRULE (line {i}) + {part}"
    elif not spans:
        return None
    elif rules and how < 0.75:
        i = rng.choice(rules)
        searching = rng.random() < 0.15
        lines[i] = rng.choice(SEARCHING_RULES if searching else RRULES + ICAL_RRULES)
        note = f"RRULE (line {i}) -> {short(lines[i], 80)}"
    else:
        i = rng.choice(spans)[0] + 1
        searching = rng.random() < 0.15
        lines.insert(i, rng.choice(SEARCHING_RULES if searching else RRULES + ICAL_RRULES))
        note = f"{short(lines[i], 80)} added at {i}"
    if rng.random() < (0.5 if searching else 0.03):
        b, e = [s for s in blocks(lines, "VEVENT") if s[0] < i < s[1]][0]
        n = rng.choice([20, 30] if searching else [20])
        lines[e + 1:e + 1] = [f"{l}-c{k}" if name_of(l) == "UID" else l
                              for k in range(n) for l in lines[b:e + 1]]
        note += f", its VEVENT {n} times more (UIDs -c0...)"
    return note


def m_tzid(rng, lines):
    """TZID parameters renamed to odd or unknown zones, or one put on a UTC or DATE value."""
    spots = props(lines, TIME_PROPS)
    if not spots:
        return None
    i = rng.choice(spots)
    name, params, value = split(lines[i])
    tz = rng.choice(ODD_TZIDS)
    if "TZID=" in params.upper():
        params = re.sub(r"(?i)TZID=(\"[^\"]*\"|[^;:]*)", lambda m: "TZID=" + tz, params)
    else:
        params += ";TZID=" + tz
    lines[i] = join(name, params, value)
    return f"TZID of {name} (line {i}) -> {short(tz, 40)}"


def m_vtimezone(rng, lines):
    """A VTIMEZONE with odd offsets, rules or starts, without its observances, with hundreds,
    or gone.  A file without one gets one first (its VEVENTs' times then use its TZID); a
    VTIMEZONE of an IANA zone is often renamed first (the TZIDs that use it too), since the
    import reads the file's own rules only for a TZID that names no IANA zone."""
    notes = []
    zones = blocks(lines, "VTIMEZONE")
    if not zones:
        tzid = rng.choice(["Fuzz Zone", "Fuzz Zone", "Europe/Berlin", "Nowhere/Special"])
        lines[1:1] = [l.replace("Europe/Berlin", tzid) for l in BERLIN]
        for i in props(lines, ("DTSTART", "DTEND"), "VEVENT"):
            n, p, v = split(lines[i])
            if v and "VALUE=DATE" not in p.upper() and "TZID" not in p.upper():
                lines[i] = join(n, p + ";TZID=" + tzid, v.rstrip("Zz"))
        notes.append(f"a VTIMEZONE {tzid!r} added, the VEVENTs' times in it")
        if rng.random() < 0.4:
            return notes[0]
    elif rng.random() < 0.5:
        b, e = rng.choice(zones)
        old = [split(lines[i])[2] for i in range(b + 1, e) if name_of(lines[i]) == "TZID"]
        if old and old[0]:
            new = "Fuzz Custom"
            for i in range(len(lines)):
                n, p, v = split(lines[i])
                if b < i < e and n.upper() == "TZID":
                    lines[i] = "TZID:" + new
                elif b < i < e and n.upper() == "X-LIC-LOCATION":
                    lines[i] = "X-LIC-COMMENT:" + (v or "")
                elif "TZID=" + old[0] in p:
                    lines[i] = join(n, p.replace("TZID=" + old[0], "TZID=" + new), v)
            notes.append(f"the VTIMEZONE {old[0]!r} renamed {new!r}")
    zones = blocks(lines, "VTIMEZONE")
    if not zones:
        return "; ".join(notes) or None
    notes.append(zone_change(rng, lines, *rng.choice(zones)))
    return "; ".join(n for n in notes if n) or None


def zone_change(rng, lines, b, e):
    """One change to the VTIMEZONE at lines[b..e]; its note (None if none applied)."""
    inner = [i for i in range(b + 1, e) if name_of(lines[i]) not in ("BEGIN", "END")]
    if not inner:
        return None
    how = rng.choice([0, 0, 1, 1, 1, 1, 2, 2, 3, 4, 5, 6])
    if how == 0:
        i = rng.choice([i for i in inner if name_of(lines[i]).startswith("TZOFFSET")] or inner)
        off = rng.choice(TZ_OFFSETS)
        lines[i] = split(lines[i])[0] + ":" + off
        return f"{short(lines[i], 40)} in the VTIMEZONE (line {i})"
    if how == 1:
        rule = rng.choice(TZ_RULES)
        rules = [i for i in inner if name_of(lines[i]) in ("RRULE", "RDATE")]
        i = rng.choice(rules) if rules else e
        lines[i:i + bool(rules)] = [rule]
        return f"{rule} in the VTIMEZONE (line {i})"
    if how == 2:
        starts = [i for i in inner if name_of(lines[i]) == "DTSTART"]
        if starts:
            i = rng.choice(starts)
            lines[i] = "DTSTART:" + rng.choice(TZ_STARTS)
            return f"{lines[i]} in the VTIMEZONE (line {i})"
    if how == 3:
        subs = [(sb, se) for sb, se in blocks(lines) if b < sb and se < e]
        if subs:
            sb, se = rng.choice(subs)
            if rng.random() < 0.5:
                del lines[sb:se + 1]
                return f"an observance of the VTIMEZONE dropped (line {sb})"
            lines[se + 1:se + 1] = lines[sb:se + 1] * rng.choice([2, 50, 200])
            return f"an observance of the VTIMEZONE repeated (line {sb})"
    if how == 4:
        del lines[b:e + 1]
        return "the VTIMEZONE dropped"
    if how == 5:
        tzids = [i for i in inner if name_of(lines[i]) == "TZID"]
        if tzids:
            i = tzids[0]
            lines[i] = "TZID:" + rng.choice(ODD_TZIDS)
            return f"{short(lines[i], 40)} (line {i})"
    i = rng.choice(inner)
    lines[i] = join(*split(lines[i])[:2], rng.choice(ODD_VALUES))
    return f"a VTIMEZONE value (line {i}) -> {short(lines[i], 40)}"


def m_many_zones(rng, lines):
    """Forty VTIMEZONEs of distinct TZIDs, each used by an EXDATE (more than the parser's cache
    of resolved TZIDs holds)."""
    spans = blocks(lines, "VEVENT")
    if not spans:
        return None
    n = rng.choice([33, 40])
    zones, exdates = [], []
    for k in range(n):
        tzid = f"Fuzz Zone {k}" if rng.random() < 0.8 else f"/prefix{k}/Europe/Berlin"
        off = f"+{k % 14:02d}00"
        zones += ["BEGIN:VTIMEZONE", f"TZID:{tzid}", "BEGIN:STANDARD", f"TZOFFSETFROM:{off}",
                  f"TZOFFSETTO:{off}", "DTSTART:19700101T000000", "END:STANDARD",
                  "END:VTIMEZONE"]
        exdates.append(f"EXDATE;TZID={tzid}:202703{1 + k % 28:02d}T090000")
    b, _ = rng.choice(spans)
    lines[b + 1:b + 1] = exdates if rng.random() < 0.5 else exdates + exdates
    lines[1:1] = zones
    return f"{n} VTIMEZONEs, an EXDATE in each"


def m_recurrence_id(rng, lines):
    """A RECURRENCE-ID where there is no series to override, or an odd one."""
    spans = blocks(lines, "VEVENT")
    if not spans:
        return None
    b, e = rng.choice(spans)
    rid = rng.choice(["RECURRENCE-ID:20270301T090000Z", "RECURRENCE-ID;VALUE=DATE:20270301",
                      "RECURRENCE-ID;RANGE=THISANDFUTURE:20270301T090000Z",
                      "RECURRENCE-ID;TZID=Europe/Berlin:20270308T100000",
                      "RECURRENCE-ID:" + odd_datetime(rng), "RECURRENCE-ID:"])
    if rng.random() < 0.5:  # a second copy of the VEVENT as an override of it
        copy = [l for l in lines[b:e + 1] if name_of(l) not in ("RRULE", "EXDATE", "RDATE",
                                                               "RECURRENCE-ID")]
        copy.insert(1, rid)
        lines[e + 1:e + 1] = copy
        return f"an override {rid!r} of the VEVENT at {b}"
    lines.insert(b + 1, rid)
    return f"{rid!r} added to the VEVENT at {b}"


def m_uid(rng, lines):
    """UIDs empty, huge, odd, shared between VEVENTs, or shaped like an override's stored
    UID ("<series UID>/<recurrence id>")."""
    uids = props(lines, ("UID",), "VEVENT")
    if not uids:
        return None
    i = rng.choice(uids)
    how = rng.randrange(3)
    if how == 0:
        new = rng.choice(ODD_UIDS)
    elif how == 1:
        new = split(lines[rng.choice(uids)])[2] or ""
    else:
        new = (split(lines[i])[2] or "") + "/" + rng.choice(["1804406400000000", "0", "-1",
                                                             "99999999999999999999", ""])
    lines[i] = "UID:" + new
    return f"UID (line {i}) -> {short(new, 50)}"


def m_attendee(rng, lines):
    """ATTENDEE and ORGANIZER lines with odd addresses and parameters, or hundreds of them."""
    spans = blocks(lines, "VEVENT")
    if not spans:
        return None
    b, _ = rng.choice(spans)
    if rng.random() < 0.15:
        n = rng.choice([199, 200, 201, 400])
        same = rng.random() < 0.3
        new = [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{'same' if same else f'p{k}'}@example.org"
               for k in range(n)]
        lines[b + 1:b + 1] = new
        return f"{n} ATTENDEEs" + (" (one address)" if same else "")
    name = rng.choice(["ATTENDEE", "ATTENDEE", "ORGANIZER"])
    params = "".join(rng.choice(ODD_PARAMS + [";PARTSTAT=ACCEPTED", ";CN=Name", ""])
                     for _ in range(rng.randrange(3)))
    line = f"{name}{params}:{rng.choice(MAILTOS)}"
    lines.insert(b + 1, line)
    return f"{short(line, 70)} added"


def m_fields(rng, lines):
    """SUMMARY, DESCRIPTION, LOCATION, SEQUENCE, STATUS or CLASS given odd values, twice, or
    around their limits."""
    spans = blocks(lines, "VEVENT")
    if not spans:
        return None
    b, _ = rng.choice(spans)
    name = rng.choice(["SUMMARY", "DESCRIPTION", "LOCATION", "SEQUENCE", "STATUS", "CLASS"])
    values = {"SEQUENCE": ["-1", "2147483647", "2147483648", "", "1.5", "0x10", " 1", "1 ",
                           "99999999999999999999", "+3", "\u0663"],
              "STATUS": ["DRAFT", "", "cancelled", "NEEDS-ACTION", "CONFIRMED;X", "FINAL"],
              "CLASS": ["", "PRIVATE", "X-ODD", "public"],
              "SUMMARY": ["s" * 500, "s" * 501, "\\n" * 600, "\u00e9" * 500],
              "DESCRIPTION": ["d" * 10000, "d" * 10001, "\\n" * 6000, "\\" * 9999],
              "LOCATION": ["l" * 500, "l" * 501, "\\;" * 300]}[name]
    value = rng.choice(values + ODD_VALUES)
    old = [i for i in range(b, len(lines)) if name_of(lines[i]) == name][:1]
    if old and rng.random() < 0.7:
        lines[old[0]] = f"{name}:{value}"
    else:
        lines.insert(b + 1, f"{name}:{value}")
    return f"{name} -> {short(value, 50)}"


def m_alarm(rng, lines):
    """VALARMs with odd triggers and actions, or more than the reminders an event may have."""
    spans = blocks(lines, "VEVENT")
    if not spans:
        return None
    b, _ = rng.choice(spans)
    n = rng.choice([1, 1, 1, 2, 11, 12, 60])
    new = []
    for k in range(n):
        trigger = rng.choice(TRIGGERS) if n < 3 else f"-PT{k + 1}M"
        params = rng.choice(["", "", ";RELATED=END", ";VALUE=DATE-TIME", ";VALUE=DURATION",
                             ";RELATED=X"])
        action = rng.choice(["DISPLAY", "DISPLAY", "AUDIO", "EMAIL", "X-ODD", ""])
        new += ["BEGIN:VALARM", f"ACTION:{action}", f"TRIGGER{params}:{trigger}"]
        if rng.random() < 0.1:
            new.append(f"TRIGGER:{rng.choice(TRIGGERS)}")
        new.append("END:VALARM")
    lines[b + 1:b + 1] = new
    return f"{n} VALARM(s), the first {short(new[1:3], 60)}"


LINE_MUTATIONS = [  # (weight, mutation)
    (6, m_drop_line), (4, m_duplicate_line), (3, m_swap_lines), (3, m_move_line),
    (5, m_truncate_line), (4, m_odd_line), (5, m_unbalance), (3, m_nest),
    (4, m_duplicate_block), (3, m_drop_block), (2, m_outside), (4, m_rename), (6, m_params),
    (9, m_value), (10, m_dates), (5, m_duration), (10, m_rrule), (6, m_tzid),
    (8, m_vtimezone), (1, m_many_zones), (4, m_recurrence_id), (4, m_uid), (4, m_attendee),
    (4, m_fields), (3, m_alarm)]
_WEIGHTS = [w for w, _ in LINE_MUTATIONS]


def mutate_lines(rng, lines):
    """1-3 mutations of the content lines (in place); their notes."""
    notes = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        for _ in range(20):
            if not lines:
                lines.append("BEGIN:VCALENDAR")
            (_, mutation), = rng.choices(LINE_MUTATIONS, _WEIGHTS)
            note = mutation(rng, lines)
            if note:
                notes.append(note)
                break
    return notes


# --- writing a file, and mutations of its bytes

def fold(line, width=75, ws=b" "):
    """RFC 5545 folding of one line's bytes: `width` octets, then continuations of
    width - 1 octets (at least one) after `ws` (UTF-8 sequences may be split: unfolding joins
    them)."""
    if len(line) <= width:
        return [line]
    out, i, step = [line[:width]], width, max(1, width - 1)
    while i < len(line):
        out.append(ws + line[i:i + step])
        i += step
    return out


def serialize(lines, eol="\r\n", fold_at=None, ws=b" "):
    out = []
    for line in lines:
        data = raw(line)
        out += fold(data, fold_at, ws) if fold_at else [data]
    end = raw(eol)
    return end.join(out) + end


def write(rng, lines, corpus):
    """The bytes of the mutated lines: the corpus' line endings and folding, or others."""
    notes = []
    eol, fold_at, ws = corpus.eol, 75 if corpus.fold else None, b" "
    how = rng.random()
    if how < 0.04:
        eol = rng.choice(["\r", "\n\r", "\r\r\n", "\n\n", "\r\n\r\n"])
        notes.append(f"lines end with {eol!r}")
    elif how < 0.10:
        fold_at, ws = rng.choice([1, 2, 3, 74, 75, 76, 200]), rng.choice([b" ", b"\t"])
        notes.append(f"every line folded at {fold_at} octets with {ws!r}")
    data = serialize(lines, eol, fold_at, ws)
    if rng.random() < 0.04:  # line endings mixed line by line
        parts = data.split(raw(eol))
        data = b"".join(p + rng.choice([b"\r\n", b"\n", b"\r\n", b"\r"]) for p in parts[:-1])
        notes.append("mixed line endings")
    return data, notes


def mutate_bytes(rng, data):
    """A few byte-level accidents: flipped bits, junk inserted, bytes deleted, the text cut,
    folding broken."""
    notes = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        i = rng.randrange(len(data) + 1)
        how = rng.randrange(7)
        if how == 0 and i < len(data):
            bit = 1 << rng.randrange(8)
            data = data[:i] + bytes([data[i] ^ bit]) + data[i + 1:]
            notes.append(f"byte {i} xor {bit:#04x}")
        elif how == 1:
            junk = rng.choice(JUNK_BYTES)
            data = data[:i] + junk + data[i:]
            notes.append(f"{junk!r} inserted at {i}")
        elif how == 2:
            k = rng.choice([1, 1, 2, 8])
            data = data[:i] + data[i + k:]
            notes.append(f"{k} byte(s) deleted at {i}")
        elif how == 3:
            data = data[:i]
            notes.append(f"cut at {i}")
        elif how == 4:
            start = rng.choice([b" continued\r\n", b"\tX\r\n", b" \r\n", b"\r\n \r\n",
                                b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\r\n"])
            data = start + data
            notes.append(f"{start!r} before the first line")
        elif how == 5:
            ends = [m.end() for m in re.finditer(rb"\n", data)]
            if ends:
                j = rng.choice(ends)
                gap = rng.choice([b" \r\n", b"\t\r\n", b" ", b"  \r\n \r\n", b" \xc3\r\n \xa9\r\n"])
                data = data[:j] + gap + data[j:]
                notes.append(f"{gap!r} after the line ending at {j}")
        else:
            ends = [m.start() for m in re.finditer(rb"\r?\n", data)]
            if ends:
                j = rng.choice(ends)
                data = data[:j] + rng.choice([b"\r\n ", b"\n\t", b"\r \r\n"]) + data[j:]
                notes.append(f"a fold at {j}")
    return data, notes


def pad_to_limit(rng, data):
    """Calendar-level X- lines (or a VEVENT's long DESCRIPTION, or trailing line endings)
    until the body is a few bytes either side of the body limit."""
    target = BODY_LIMIT + rng.randint(-3, 3)
    room = target - len(data)
    if room <= 0:
        return data[:target], f"cut to {target} bytes"
    how = rng.randrange(3)
    cut = data.rfind(b"END:VCALENDAR")
    if how == 0 and cut > 0 and room > 20:  # many short calendar properties
        unit = b"X-PAD:" + b"p" * 90 + b"\r\n"
        pad = unit * ((room - 40) // len(unit))
        pad += b"X-PAD:" + b"q" * (room - len(pad) - 8) + b"\r\n"
        return data[:cut] + pad + data[cut:], f"X-PAD lines: {target} bytes"
    cut = data.find(b"END:VEVENT")
    if how == 1 and cut > 0 and room > 20:  # one long folded DESCRIPTION
        n = room * 74 // 77
        while True:
            body = b"DESCRIPTION:" + b"d" * n
            pad = b"\r\n ".join(body[k:k + 74] for k in range(0, len(body), 74)) + b"\r\n"
            if len(pad) <= room:
                break
            n -= 1
        return (data[:cut] + pad + data[cut:] + b" " * (room - len(pad)),
                f"a long DESCRIPTION: {target} bytes")
    return data + b"\r\n" * (room // 2) + b" " * (room % 2), f"line endings: {target} bytes"


# --- requests

class Import:
    """One import of a batch, with what it takes to send it again by hand."""

    def __init__(self, corpus, index, body, notes, ctype=ICS, atomic=None):
        self.corpus, self.index, self.body, self.notes = corpus, index, body, notes
        self.ctype, self.atomic = ctype, atomic

    def describe(self, calendar):
        target = f"{CALENDARS}/{calendar}/import" + (
            f"?atomic={self.atomic}" if self.atomic is not None else "")
        return "\n".join([
            f"corpus file {self.corpus.name}, request {self.index} of the batch (seed {SEED}; "
            f"`pytest -k {self.corpus.name}` replays it on a server of its own): "
            + ("; ".join(self.notes) or "the unchanged valid file"),
            f"  POST {target}",
            "  Authorization: Bearer <the owner's token>",
            f"  Content-Type: {self.ctype!r}",
            f"  body ({len(self.body)} bytes) = {compact(self.body)}"])


def substitute(lines, uid, who):
    out = []
    for line in lines:
        line = line.replace("%U%", uid).replace("%OWNER%", who["owner_email"])
        out.append(line.replace("%GUEST%", who["guest_email"]))
    return out


def with_sequence(lines, seq):
    """The VEVENTs' SEQUENCE set to `seq` (added where missing)."""
    old = set(props(lines, ("SEQUENCE",), "VEVENT"))
    out = [l for i, l in enumerate(lines) if i not in old]
    for b, _ in reversed(blocks(out, "VEVENT")):
        out.insert(b + 1, f"SEQUENCE:{seq}")
    return out


def sweep_years(lines, year):
    """The VEVENTs' times (and UNTILs) moved from the corpus year to `year`."""
    spans = blocks(lines, "VEVENT")
    out = list(lines)
    for i, line in enumerate(lines):
        if any(b < i < e for b, e in spans) and name_of(line) in TIME_PROPS + ("RRULE",):
            out[i] = re.sub(CORPUS_YEAR + r"(?=\d{4}(T|\b|,|/|;|$))", year, line)
    return out


def build(rng, corpus, who, i):
    """The i-th import of the corpus file's batch: 0 is the valid file, unchanged; then the
    edge sweep; then random mutations."""
    lines = substitute(corpus.lines, "base", who)
    if i == 0:
        return Import(corpus, i, serialize(lines, corpus.eol, 75 if corpus.fold else None), [])
    if i <= len(EDGE_YEARS):
        year = EDGE_YEARS[i - 1]
        lines = sweep_years(substitute(corpus.lines, f"y{year}", who), year)
        return Import(corpus, i, serialize(lines, corpus.eol, 75 if corpus.fold else None),
                      [f"times moved to the year {year}"])
    mode = rng.random()
    if mode < 0.6:
        lines, notes = substitute(corpus.lines, str(i), who), [f"UIDs with -{i}"]
    elif mode < 0.85:
        lines, notes = with_sequence(lines, i), [f"the first UIDs, SEQUENCE:{i}"]
    else:
        notes = ["the first UIDs"]
    ctype, atomic = ICS, None
    kind = rng.random()
    if kind < 0.015:  # not iCalendar at all, or not said to be
        ctype = rng.choice(["application/json", "text/plain", "", "text/calendarx",
                            "TEXT/CALENDAR; charset=latin1", "text/calendar; charset=\x7f",
                            "multipart/form-data; boundary=x", "text/calendar\t;"])
        notes.append(f"Content-Type {ctype!r}")
    elif kind < 0.025:
        notes.append("an empty body")
        return Import(corpus, i, rng.choice([b"", b"\r\n", b" ", b"\xef\xbb\xbf"]), notes)
    notes += mutate_lines(rng, lines)
    data, more = write(rng, lines, corpus)
    notes += more
    if rng.random() < 0.08:
        data, more = mutate_bytes(rng, data)
        notes += more
    if rng.random() < 0.012:
        data, note = pad_to_limit(rng, data)
        notes.append(note)
    a = rng.random()
    if a < 0.10:
        atomic = "true"
    elif a < 0.13:
        atomic = rng.choice(["false", "TRUE", "1", "", "true\x00"])
    if atomic is not None:
        notes.append(f"atomic={atomic!r}")
    return Import(corpus, i, data, notes, ctype, atomic)


def send(server, who, calendar, req):
    h = {"Authorization": f"Bearer {who['token']}"}
    if req.ctype:
        h["Content-Type"] = req.ctype
    params = {"atomic": req.atomic} if req.atomic is not None else None
    return requests.post(server.url(f"{CALENDARS}/{calendar}/import"), data=req.body,
                         headers=h, params=params, timeout=TIMEOUT)


def judge(r, body):
    """None if the answer keeps the rules, else (kind, detail)."""
    s = r.status_code
    if s == 200:
        if not r.headers.get("Content-Type", "").startswith("application/json"):
            return "200 not application/json", r.headers.get("Content-Type", "")
        try:
            res = r.json()
        except ValueError:
            return "200 body not JSON", ""
        if not isinstance(res, dict) or set(res) != {"imported", "updated", "skipped", "errors"}:
            return "200 without the documented keys", ""
        if not all(type(res[k]) is int and res[k] >= 0 for k in ("imported", "updated",
                                                                    "skipped")):
            return "200 with counts that are not counts", ""
        if not isinstance(res["errors"], list):
            return "200 with errors not a list", ""
        physical = body.count(b"\n") + 1
        for e in res["errors"]:
            if not (isinstance(e, dict) and set(e) == {"line", "message"}
                    and type(e["line"]) is int and isinstance(e["message"], str)
                    and e["message"]):
                return "200 with a malformed error line", short(e, 200)
            if not 1 <= e["line"] <= physical:
                return "200 with an error line outside the body", f"{e} ({physical} lines)"
        return None
    if 400 <= s < 500:
        return problem_verdict(r)
    return f"status {s}", ""


# --- what must still work after the imports

def look_around(server, who, calendar, feed, k, seen, last=False):
    """The calendar's export (python3-icalendar parses it), a few of its events' .ics, its
    listing and the owner's agenda over the corpus year and the k-th edge year, its feed
    (parsed too after the batch, `last`): [(what, problem)] for those that failed.  A
    document refused for a reason not in `seen` (after_kind's) is searched for the component
    to blame (slow: not again for the same reason)."""
    bad = []
    auth = {"Authorization": f"Bearer {who['token']}"}

    def get(what, path, params=None, token=True):
        try:
            r = requests.get(server.url(path), params=params, headers=auth if token else {},
                             timeout=TIMEOUT)
        except requests.RequestException as e:
            bad.append((what, f"no answer: {e!r}"))
            return None
        if r.status_code != 200:
            bad.append((what, f"{r.status_code} {r.text[:600]}"))
            return None
        return r

    def calendar_text(what, r, parse=True):
        if r is None:
            return
        data = r.content
        if not (data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")):
            bad.append((what, f"not a VCALENDAR: {compact(data[:300])} ... "
                              f"{compact(data[-300:])}"))
        elif HAVE_ICALENDAR and parse:
            try:
                cal = icalendar.Calendar.from_ical(data)
                assert cal.name == "VCALENDAR", cal.name
            except Exception as e:  # noqa: BLE001 - any refusal is the finding
                problem = f"python3-icalendar refuses it: {type(e).__name__}: {str(e)[:200]}"
                if after_kind(what, problem) not in seen:
                    seen.add(after_kind(what, problem))
                    problem += "\n" + culprit(data)
                bad.append((what, problem))

    calendar_text("export.ics", get("export.ics", f"{CALENDARS}/{calendar}/export.ics"))
    ids = []
    for frm, to in (LIST_WINDOWS[0], LIST_WINDOWS[1 + k % (len(LIST_WINDOWS) - 1)]):
        params = {"from": frm, "to": to, "limit": "1000"}
        for page in range(3):
            r = get(f"events {frm}..{to} page {page}", f"{CALENDARS}/{calendar}/events", params)
            if r is None:
                break
            ids += [o.get("event_id") for o in r.json().get("items", [])]
            if not r.json().get("next_cursor"):
                break
            params["cursor"] = r.json()["next_cursor"]
        get(f"agenda {frm}..{to}", f"{API}/me/agenda", {"from": frm, "to": to, "limit": "1000"})
    ids = [i for i in dict.fromkeys(ids) if i]
    for eid in ids[:2] + ids[-2:]:
        calendar_text(f"event {eid}.ics", get(f"event {eid}.ics", f"{EVENTS}/{eid}.ics"))
    calendar_text("feed", get("feed", feed, token=False), parse=last)
    return bad


def culprit(data):
    """The first top-level component of a document python3-icalendar refuses that it refuses
    on its own (in a VCALENDAR of its own), as text: where the refusal comes from."""
    lines = data.split(b"\r\n")
    start = None
    for i, line in enumerate(lines[1:-2], 1):
        if start is None and line.startswith(b"BEGIN:"):
            start, comp = i, line[6:]
        elif start is not None and line == b"END:" + comp:
            part = b"\r\n".join([b"BEGIN:VCALENDAR", *lines[start:i + 1], b"END:VCALENDAR", b""])
            try:
                icalendar.Calendar.from_ical(part)
            except Exception:  # noqa: BLE001
                text = part.decode("utf-8", "replace")
                return "  refused on its own:\n    " + (
                    text[:1500] + (" ..." if len(text) > 1500 else "")).replace("\r\n", "\n    ")
            start = None
    return ""


def after_kind(what, problem):
    """The kind of a failure found after the imports: what failed and how, numbers left out
    (a document a parser refuses stays refused: one kind for each reason)."""
    how = re.sub(r"\d+", "N", problem.splitlines()[0])[:100]
    return f"GET {what.split()[0]} after the imports: {how}"


def batch_world(make_server, corpus):
    """A server of the batch's own (a hang or a crash stays the batch's, and `pytest -k`
    replays a batch exactly), its owner's calendar in the corpus file's zone, that calendar's
    feed, and another user the files name as an attendee."""
    server = make_server(args=("--drain-timeout-s", "1"))  # a hung import: stop soon anyway
    admin = server.admin_token()
    owner = new_person(server, admin, "icalfuzz", time_zone="Europe/Berlin")
    guest = new_person(server, admin, "icalguest")
    who = {"token": owner.token, "owner_email": owner.email, "guest_email": guest.email}
    h = {"Authorization": f"Bearer {owner.token}"}
    r = requests.post(server.url(CALENDARS), json={"name": f"Fuzz {corpus.name}",
                                                   "time_zone": corpus.zone},
                      headers=h, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    cal = r.json()["id"]
    r = requests.post(server.url(f"{CALENDARS}/{cal}/feed"), headers=h, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return server, who, cal, r.json()["url"]


@pytest.mark.parametrize("corpus", CORPUS, ids=[c.name for c in CORPUS])
def test_fuzz_import(make_server, corpus):
    rng = random.Random(SEED ^ zlib.crc32(corpus.name.encode()))
    server, who, calendar, feed = batch_world(make_server, corpus)
    watch = StderrWatch(server)
    failures, statuses, slowest, hung = Failures(), {}, 0.0, False
    with_errors = written = 0
    looks = CORPUS.index(corpus)  # which edge year the listings look at next (in turn)
    seen = set()  # the reasons python3-icalendar gave for refusing a document
    n = max(PER_FILE, len(EDGE_YEARS) + 1)
    for i in range(n):
        req = build(rng, corpus, who, i)
        try:
            r = send(server, who, calendar, req)
        except requests.RequestException as e:
            kind = f"no answer ({type(e).__name__})"
            failures.add(kind, f"{req.describe(calendar)}\n  -> {kind} within {TIMEOUT} s: "
                               f"{e!r}")
            # Imports run one at a time on a worker's import thread: behind one that never
            # ends, every other import of that worker waits as long.  What the worker answers
            # next would tell more of this import than of the batch: the batch ends here.
            hung = True
            break
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        slowest = max(slowest, r.elapsed.total_seconds())
        verdict = judge(r, req.body)
        if i == 0 and verdict is None:
            res = r.json()
            vevents = sum(1 for l in corpus.lines if l == "BEGIN:VEVENT")
            if r.status_code != 200 or res["errors"] or res["imported"] != vevents:
                verdict = ("the valid file is not imported whole", f"{vevents} VEVENTs")
        if verdict:
            kind, detail = verdict
            failures.add(kind, f"{req.describe(calendar)}\n  -> {kind} {detail}\n"
                               f"  answer: {r.status_code} {r.headers.get('Content-Type')} "
                               f"{r.text[:800]}")
        elif r.status_code == 200:
            res = r.json()
            with_errors += bool(res["errors"])
            written += i > 0 and res["imported"] + res["updated"] > 0
        report = watch.reports()
        if report:
            failures.add("stderr report", f"{req.describe(calendar)}\n  -> the server's stderr "
                                          f"reports:\n{report[-6000:]}")
        if i % CHECK_EVERY == CHECK_EVERY - 1 and i < n - 1:  # (the last: after the loop)
            for what, problem in look_around(server, who, calendar, feed, looks, seen):
                failures.add(after_kind(what, problem),
                             f"after request {i} of the batch (seed {SEED}), GET {what}: "
                             f"{problem}\n  (any import of the batch so far may be the cause; the"
                             f" last one was: {req.describe(calendar)})")
            looks += 1
    if not hung:
        for what, problem in look_around(server, who, calendar, feed, looks, seen, last=True):
            failures.add(after_kind(what, problem),
                         f"after the batch (seed {SEED}), GET {what}: {problem}")
    check_after_batch(failures, alive(server), watch)
    print(f"{corpus.name}: {sum(statuses.values())} answers {sorted(statuses.items())}, "
          f"{with_errors} with error lines, {written} writing, slowest {slowest:.3f} s")
    assert not failures, failures.report()
    # A batch that answered only one way tested one path: the mutations must reach the
    # import's refusals (4xx and error lines) and its writes (in a batch of some size).
    assert PER_FILE < 100 or with_errors and written and any(400 <= s < 500 for s in statuses), \
        (statuses, with_errors, written)
