#!/usr/bin/env python3
"""Write an N-event iCalendar file for the import benchmark (issue 4: `planner import` of
100,000 events in under 10 s).  Deterministic: the same N and seed give the same bytes.

Mix: mostly single timed events spread over one year (Europe/Berlin, UTC or floating), a few
all-day ones, 10% weekly series (COUNT or UNTIL, some with an EXDATE), attendees on about a
third, an X- property and CATEGORIES on some so that the unknown-property path is exercised.

usage: bench/make_ics.py N [OUT.ics] [--seed S] [--attendee-domain D]
(without OUT the text goes to stdout)"""
import argparse
import random
import sys
from datetime import datetime, timedelta

YEAR_START = datetime(2026, 1, 1, 0, 0)  # a year around "now": series reach into the horizon
ZONES = ("Europe/Berlin", "UTC", None)  # None: floating local time
TITLES = ("Standup", "Design review", "1:1", "Planning", "Customer call", "Retro",
          "Lunch & learn", "Budget, Q3; draft", "Interview", "Offsite prep")
BYDAY = ("MO", "TU", "WE", "TH", "FR")


def fmt(dt):
    return dt.strftime("%Y%m%dT%H%M%S")


def fold(line):
    """RFC 5545 folding at 75 octets (ASCII here, so characters are octets)."""
    out = [line[:75]]
    line = line[75:]
    while line:
        out.append(" " + line[:74])
        line = line[74:]
    return "\r\n".join(out)


def vevent(i, rng, domain):
    lines = ["BEGIN:VEVENT", f"UID:bench-{i:07d}@planner.bench",
             "DTSTAMP:20300101T000000Z", f"SEQUENCE:{rng.randrange(3)}"]
    day = YEAR_START + timedelta(days=rng.randrange(365))
    kind = rng.random()
    recurring = i % 10 == 0  # exactly 10%
    if kind < 0.05 and not recurring:
        lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{day + timedelta(days=1 + rng.randrange(3)):%Y%m%d}"]
    else:
        start = day + timedelta(hours=7 + rng.randrange(11), minutes=15 * rng.randrange(4))
        end = start + timedelta(minutes=30 * (1 + rng.randrange(4)))
        zone = ZONES[rng.randrange(len(ZONES))]
        if zone == "UTC":
            lines += [f"DTSTART:{fmt(start)}Z", f"DTEND:{fmt(end)}Z"]
        elif zone:
            lines += [f"DTSTART;TZID={zone}:{fmt(start)}", f"DTEND;TZID={zone}:{fmt(end)}"]
        else:
            lines += [f"DTSTART:{fmt(start)}", f"DTEND:{fmt(end)}"]
        if recurring:
            if rng.random() < 0.5:
                lines.append(f"RRULE:FREQ=WEEKLY;COUNT={4 + rng.randrange(49)}")
            else:
                until = start + timedelta(weeks=4 + rng.randrange(49))
                lines.append(f"RRULE:FREQ=WEEKLY;BYDAY={BYDAY[start.weekday() % 5]};"
                             f"UNTIL={fmt(until)}Z")
            if rng.random() < 0.3 and zone is not None and start.weekday() < 5:
                ex = start + timedelta(weeks=1 + rng.randrange(3))
                if zone == "UTC":
                    lines.append(f"EXDATE:{fmt(ex)}Z")
                else:
                    lines.append(f"EXDATE;TZID={zone}:{fmt(ex)}")
    title = TITLES[rng.randrange(len(TITLES))]
    lines.append(f"SUMMARY:{title.replace(',', chr(92) + ',').replace(';', chr(92) + ';')} #{i}")
    if rng.random() < 0.3:
        lines.append(f"DESCRIPTION:Agenda for event {i}\\nBring notes. " + "lorem ipsum " * 8)
    if rng.random() < 0.2:
        lines.append(f"LOCATION:Room {rng.randrange(1, 40)}")
    if rng.random() < 0.33:
        org = rng.randrange(500)
        lines.append(f"ORGANIZER;CN=Person {org}:mailto:person{org}@{domain}")
        for k in range(1 + rng.randrange(4)):
            a = rng.randrange(500)
            lines.append(f"ATTENDEE;CN=Person {a};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:"
                         f"mailto:person{a}@{domain}")
    if rng.random() < 0.1:
        lines.append(f"X-BENCH-TAG:tag-{rng.randrange(100)}")
    if rng.random() < 0.1:
        lines.append("CATEGORIES:Work,Bench")
    if rng.random() < 0.1:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder",
                  f"TRIGGER:-PT{5 * (1 + rng.randrange(6))}M", "END:VALARM"]
    lines.append("END:VEVENT")
    return "".join(fold(l) + "\r\n" for l in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out", nargs="?")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--attendee-domain", default="bench.example")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Planner//bench make_ics//EN\r\n"
             "CALSCALE:GREGORIAN\r\n"]
    parts += [vevent(i, rng, args.attendee_domain) for i in range(args.n)]
    parts.append("END:VCALENDAR\r\n")
    data = "".join(parts).encode()
    if args.out:
        with open(args.out, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)


if __name__ == "__main__":
    main()
