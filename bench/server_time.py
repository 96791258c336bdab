#!/usr/bin/python3
"""Server-side time of the W200 read operations, from each answer's Server-Timing header.

Usage: server_time.py BASE_URL [--requests N] [--seed S]
Against a server on a database made by planner-seed (users userNNNN@w200.example, password
bench-password): logs in 20 users, then sends N requests of each operation one at a time and
prints p50/p95/p99 of `total;dur` (time from request to response inside the server) and the
query count.  Sequential on purpose: this measures the cost of one request, not throughput."""
import argparse
import datetime as dt
import random
import re
import statistics
import sys

import requests


def timing(r):
    total = float(re.search(r"total;dur=([0-9.]+)", r.headers["Server-Timing"]).group(1))
    queries = int(re.search(r'desc="(\d+) queries"', r.headers["Server-Timing"]).group(1))
    body = r.json()
    items = len(body.get("items", body.get("slots", [])))
    return total, queries, items


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", default=None, help="the --now the data was seeded with (RFC 3339)")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    s = requests.Session()
    now = dt.datetime.now(dt.timezone.utc) if args.now is None else dt.datetime.fromisoformat(
        args.now.replace("Z", "+00:00"))
    users = []
    for i in rnd.sample(range(1, 201), 20):
        r = s.post(f"{args.base}/api/v1/auth/login",
                   json={"email": f"user{i:04d}@w200.example", "password": "bench-password"})
        r.raise_for_status()
        users.append((r.json()["token"], r.json()["user"]["id"]))
    ids = [u for _, u in users]
    ops = {}

    def run(name, fn):
        samples = []
        for _ in range(args.requests):
            token, uid = rnd.choice(users)
            r = fn(token, uid)
            if r.status_code != 200:
                sys.exit(f"{name}: {r.status_code} {r.text[:200]}")
            samples.append(timing(r))
        ops[name] = samples

    def week():
        start = now + dt.timedelta(days=rnd.randint(-150, 150))
        return start, start + dt.timedelta(days=7)

    def agenda(token, uid):
        a, b = week()
        return s.get(f"{args.base}/api/v1/me/agenda", params={"from": iso(a), "to": iso(b)},
                     headers={"Authorization": f"Bearer {token}"})

    def freebusy(token, uid):
        a, b = week()
        return s.post(f"{args.base}/api/v1/freebusy", headers={"Authorization": f"Bearer {token}"},
                      json={"from": iso(a), "to": iso(b), "users": rnd.sample(ids, 5)})

    def find_time(token, uid):
        a = now + dt.timedelta(days=rnd.randint(1, 100))
        return s.post(f"{args.base}/api/v1/find-time", headers={"Authorization": f"Bearer {token}"},
                      json={"participants": rnd.sample(ids, 4), "duration_minutes": 60,
                            "from": iso(a), "to": iso(a + dt.timedelta(days=7)),
                            "working_hours": {"start": "09:00", "end": "18:00",
                                              "time_zone": "Europe/Moscow"},
                            "room": {"capacity_min": 4}, "max_results": 5})

    run("agenda (7 days)", agenda)
    run("free/busy (5 people, 7 days)", freebusy)
    run("find-time (4 people, 60 min, room >= 4)", find_time)
    print(f"{'operation':44} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'queries':>8}"
          f" {'items':>6} {'us/item':>8}")
    for name, samples in ops.items():
        t = sorted(x for x, _, _ in samples)
        q = statistics.median(x for _, x, _ in samples)
        items = statistics.mean(x for _, _, x in samples)
        per = statistics.median(x * 1000 / i for x, _, i in samples if i) if items else 0
        print(f"{name:44} {t[len(t) // 2]:8.3f} {t[int(len(t) * .95)]:8.3f} "
              f"{t[int(len(t) * .99)]:8.3f} {q:8.0f} {items:6.1f} {per:8.1f}")


if __name__ == "__main__":
    main()
