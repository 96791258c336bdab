#!/usr/bin/python3
"""A week's agenda with 10 % recurring events against the same agenda with single events only.

Usage: recurring_agenda.py [--build DIR] [--requests N] [--json]

Issue 4 asks, as a benchmark figure, that "a week's agenda with 10 % recurring events costs no
more than 1.5x the same agenda with only single events".  This script starts its own
`planner serve` (one worker, two threads, production) on a fresh SQLite database and builds,
through the HTTP API, two users with the same agenda for the week of Monday 2027-03-01
(Europe/Moscow): 30 occurrences on weekdays with the same times, titles, locations and
participant counts.  S's 30 are single events; R's are 27 single events and one occurrence each
of 3 weekly series that began weeks earlier (two with COUNT, one with UNTIL).  Both also get
the same single events in the weeks around it.  After checking that the two agendas have the
same shape, it sends N requests of each agenda, interleaved (S, R, S, R, ...) one at a time
after a warm-up, and compares the server-side time (`Server-Timing: total;dur=MS`)."""
import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import requests

from run import free_port, stop  # bench/run.py, beside this file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = "/api/v1"
TZ = dt.timezone(dt.timedelta(hours=3))  # Europe/Moscow: UTC+3 all year since 2014
WEEK = dt.datetime(2027, 3, 1, tzinfo=TZ)  # a Monday
PASSWORD = "bench-password"
WARMUP = 200
# The measured week: 6 meetings a weekday, (hour, minute, minutes long).
SLOTS = [(9, 0, 30), (10, 0, 60), (11, 30, 45), (13, 0, 60), (14, 30, 90), (16, 30, 30)]
# R's recurring occurrences: slot index in the week -> (weeks before the week it began, RRULE).
SERIES = {2: (8, "RRULE:FREQ=WEEKLY;COUNT=12"),
          15: (6, "RRULE:FREQ=WEEKLY;COUNT=10"),
          27: (4, "RRULE:FREQ=WEEKLY;UNTIL=20270430T000000Z")}
BACKGROUND_WEEKS = [-3, -2, -1, 1, 2, 3]  # the same single events for both, at 08:00 and 18:00


def start_server(binary, tmp):
    """Start `planner serve` on a new database in tmp; return (process, base URL)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    env["PLANNER_PWHASH"] = "min"  # logins and user creation only; the agenda never hashes
    with open(f"{tmp}/stdout.txt", "w") as out, open(f"{tmp}/stderr.txt", "w") as err:
        proc = subprocess.Popen(
            [binary, "serve", "--database", f"sqlite:{tmp}/db", "--listen", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "2", "--env", "production"],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc, base, tmp):
    """Wait for /readyz; return the administrator's password, printed once on stdout."""
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"planner exited with status {proc.returncode}: see {tmp}/stderr.txt")
        try:
            if requests.get(base + "/readyz", timeout=1).status_code == 200:
                with open(f"{tmp}/stdout.txt") as out:
                    return re.search(r"password (\S+)", out.read()).group(1)
        except requests.RequestException:
            pass
        time.sleep(0.05)
    sys.exit("planner did not become ready")


class Client:
    """One user's session: JSON requests with its bearer token."""

    def __init__(self, http, base, email, password):
        self.http, self.base = http, base
        self.token = None
        login = self.call("POST", "/auth/login", {"email": email, "password": password})
        self.token, self.user = login["token"], login["user"]

    def request(self, method, path, body=None, params=None):
        """The response, which must be a 200 or 201 (else exit with its status and body)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        r = self.http.request(method, self.base + API + path, json=body, params=params,
                              headers=headers, timeout=30)
        if r.status_code not in (200, 201):
            sys.exit(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r

    def call(self, method, path, body=None, params=None):
        return self.request(method, path, body, params).json()

    def default_calendar(self):
        return next(c["id"] for c in self.call("GET", "/calendars")["items"]
                    if c["access"] == "owner" and c["is_default"])


def make_user(admin, name):
    email = f"{name.lower()}@recurring.example"
    admin.call("POST", "/users", {"email": email, "name": name, "password": PASSWORD,
                                  "time_zone": "Europe/Moscow"})
    return Client(admin.http, admin.base, email, PASSWORD)


def event(i, start, minutes, others, title_prefix="Meeting"):
    """Event number i at start: its title, location and 3 or 4 participants depend on i only."""
    people = [others[(i + k) % len(others)] for k in range(3 + i % 2)]
    return {"title": f"{title_prefix} {i}", "location": f"Floor {i % 4 + 1}",
            "start": start.isoformat(), "end": (start + dt.timedelta(minutes=minutes)).isoformat(),
            "time_zone": "Europe/Moscow", "participants": [{"user_id": p} for p in people]}


def week_slots():
    """The measured week's 30 (start, minutes), in order."""
    return [(WEEK + dt.timedelta(days=d, hours=h, minutes=m), length)
            for d in range(5) for h, m, length in SLOTS]


def build_agenda(user, others, recurring):
    """Create the measured week (with R's series when recurring) and the background."""
    cal = user.default_calendar()
    for i, (start, minutes) in enumerate(week_slots()):
        body = event(i, start, minutes, others)
        if recurring and i in SERIES:
            weeks, rule = SERIES[i]
            first = start - dt.timedelta(weeks=weeks)
            body.update(start=first.isoformat(),
                        end=(first + dt.timedelta(minutes=minutes)).isoformat(),
                        recurrence=[rule])
        user.call("POST", f"/calendars/{cal}/events", body)
    for w in BACKGROUND_WEEKS:
        for d in range(5):
            for n, hour in enumerate((8, 18)):
                start = WEEK + dt.timedelta(weeks=w, days=d, hours=hour)
                user.call("POST", f"/calendars/{cal}/events",
                          event(d * 2 + n, start, 45, others, "Background"))


def agenda_params():
    utc = dt.timezone.utc
    return {"from": WEEK.astimezone(utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "to": (WEEK + dt.timedelta(days=7)).astimezone(utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def check_agendas(single, recurring):
    """Both weeks have the same items; exactly 3 of R's are occurrences of a series."""
    s = single.call("GET", "/me/agenda", params=agenda_params())["items"]
    r = recurring.call("GET", "/me/agenda", params=agenda_params())["items"]
    if len(s) != len(r) or len(s) != len(week_slots()):
        sys.exit(f"agendas differ: {len(s)} single-only items, {len(r)} with recurring ones")
    shape = [[(o["start"], o["end"], o["title"], o["location"], len(o["participants"]))
              for o in items] for items in (s, r)]
    if shape[0] != shape[1]:
        sys.exit("agendas differ in times, titles, locations or participants")
    counts = [sum(o["recurrence_id"] is not None for o in items) for items in (s, r)]
    if counts != [0, len(SERIES)]:
        sys.exit(f"expected 0 and {len(SERIES)} recurring items, found {counts}")
    return len(s), counts


def measure(users, n):
    """Interleaved agenda requests; per user, the server-side and client-side times in ms."""
    server = {u: [] for u in users}
    client = {u: [] for u in users}
    for k in range(WARMUP + n):
        for u in users:
            t0 = time.perf_counter()
            r = u.request("GET", "/me/agenda", params=agenda_params())
            elapsed = (time.perf_counter() - t0) * 1000
            if k >= WARMUP:
                timing = r.headers["Server-Timing"]
                server[u].append(float(re.search(r"total;dur=([0-9.]+)", timing).group(1)))
                client[u].append(elapsed)
    return server, client


def summary(server, client):
    t = sorted(server)
    figures = {"p50": statistics.median(t), "p95": t[int(len(t) * 0.95)],
               "mean": statistics.mean(t), "client_p50": statistics.median(client)}
    return {k: round(v, 4) for k, v in figures.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="holds the planner binary")
    ap.add_argument("--requests", type=int, default=2000, help="measured requests per agenda")
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = ap.parse_args()
    binary = os.path.join(args.build, "planner")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} not found: run make first")
    with tempfile.TemporaryDirectory(prefix="planner-recurring-") as tmp:
        proc, base = start_server(binary, tmp)
        try:
            admin_password = wait_ready(proc, base, tmp)
            http = requests.Session()
            admin = Client(http, base, "admin@planner.local", admin_password)
            others = [make_user(admin, f"Participant{i}").user["id"] for i in range(6)]
            single, recurring = make_user(admin, "S"), make_user(admin, "R")
            build_agenda(single, others, recurring=False)
            build_agenda(recurring, others, recurring=True)
            items, counts = check_agendas(single, recurring)
            server, client = measure([single, recurring], args.requests)
        finally:
            stop(proc)
    rows = {"single": summary(server[single], client[single]),
            "recurring": summary(server[recurring], client[recurring])}
    ratio = {k: rows["recurring"][k] / rows["single"][k] for k in ("p50", "mean")}
    print(f"agenda of the week of {WEEK.date()} (Europe/Moscow), {args.requests} requests each"
          f" after {WARMUP} of warm-up, interleaved; server-side ms (Server-Timing total)")
    print(f"{'agenda':10} {'items':>5} {'recurring':>9} {'p50':>7} {'p95':>7} {'mean':>7}"
          f" {'client p50':>10}")
    for (name, row), n in zip(rows.items(), counts):
        print(f"{name:10} {items:5} {n:9} {row['p50']:7.3f} {row['p95']:7.3f} {row['mean']:7.3f}"
              f" {row['client_p50']:10.3f}")
    verdict = "met" if max(ratio.values()) <= 1.5 else "NOT met"
    print(f"recurring / single: p50 {ratio['p50']:.3f}x, mean {ratio['mean']:.3f}x"
          f" (issue 4 target <= 1.5x: {verdict})")
    if args.json:
        print(json.dumps({"week": str(WEEK.date()), "requests": args.requests, "items": items,
                          "recurring_items": counts[1], **rows, "ratio_p50": round(ratio["p50"], 4),
                          "ratio_mean": round(ratio["mean"], 4)}))


if __name__ == "__main__":
    main()
