#!/usr/bin/python3
"""The W200 benchmark (shared/workload/W200.md): `make bench` runs this.

One run, on this machine, side by side:
  1. the data set: build/planner-seed at each scale asked for (cached as a pristine copy
     under var/bench/, copied fresh for every server start, so runs begin from the same rows);
  2. the ceiling: nginx (Debian's, started here on loopback, access log off) serving a 2 KB
     static JSON file, driven by the same client at the same connection counts;
  3. planner (2 workers = the cores, its default threads, production settings) under the W200
     request mix: a closed loop at 1, 16, 64 and 256 connections (the 64 point three times,
     the median reported), each operation alone at 64 connections (and planner's /healthz,
     its HTTP layer alone), the mix's reads and its writes alone, and an open loop at 100
     requests/s for 60 s during which the CPU time and the RSS of every planner process are
     read from /proc, then the floor at that rate (nginx, planner's /healthz).  Each of these
     runs starts from the same data (W200, its users logged in, its series extended) on a
     server started for it: the mix's creates add thousands of events a run;
  4. agenda p50 against data size (W200, and x10 / x100 with --scales);
and writes bench/results/w200-<date>.md, the raw .json and gnuplot PNGs.

Every non-2xx answer other than a create's 409 is counted by the driver; a run that has any
is reported as invalid (exit status 1), with samples."""
import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOW = "2026-11-24T09:00:00Z"  # the data set's "now": fixed, so that runs compare
SEED = 42
PASSWORD = "bench-password"
OPS = ["agenda", "room_bookings", "freebusy", "find_time", "notifications", "create", "rsvp",
       "update", "delete"]
OP_TITLES = {"agenda": "agenda, 7 days", "room_bookings": "room bookings, 1 day",
             "freebusy": "free/busy, 5 people x 7 days", "find_time": "find a time",
             "notifications": "unread notifications", "create": "create (201 or 409)",
             "rsvp": "RSVP", "update": "update (If-Match)", "delete": "delete"}
# The W200 mix in percent (planner-load's op_weights), and its parts that planner-load --only
# also runs in these proportions.
MIX_WEIGHTS = {"agenda": 45, "room_bookings": 10, "freebusy": 10, "find_time": 5,
               "notifications": 10, "create": 8, "rsvp": 5, "update": 4, "delete": 3}
MIX_PARTS = {"reads": OPS[:5], "writes": OPS[5:]}
TARGETS = {"mix_rps_64": 10000, "mix_p99_64_ms": 10, "agenda_ratio": 0.40,
           "open_cpu_pct": 2.0, "open_rss_mb": 64, "agenda_scale_ratio": 2.0}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: {url}: the server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: {url} did not answer within {timeout} s")


def stop(proc):
    """Stop a process this script started, by its PID, and wait for it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- HTTP set-up calls (few, so plain urllib is enough) -------------------------------------

def call(base, method, path, token=None, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    rq = urllib.request.Request(base + path, data=data, method=method)
    if token:
        rq.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        rq.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(rq, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def make_plan(base, port, users, path):
    """Log in `users` (e-mail addresses) and write the driver's plan: each user's token, id,
    default calendar and the events it was invited to (its RSVP targets)."""
    plan_users = []
    for email in users:
        r = call(base, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
        token, uid = r["token"], r["user"]["id"]
        cals = call(base, "GET", "/api/v1/calendars", token)["items"]
        cal = next(c["id"] for c in cals if c["access"] == "owner" and c["is_default"])
        notes = call(base, "GET", "/api/v1/notifications?limit=200", token)["items"]
        invited = sorted({n["event_id"] for n in notes
                          if n["type"] == "invitation" and n["event_id"]})
        plan_users.append({"id": uid, "token": token, "calendar_id": cal,
                           "invitations": invited})
    rooms = call(base, "GET", "/api/v1/rooms?limit=200", plan_users[0]["token"])["items"]
    plan = {"host": "127.0.0.1", "port": port, "now": NOW, "time_zone": "Europe/Moscow",
            "users": plan_users, "user_ids": [u["id"] for u in plan_users],
            "rooms": [{"id": r["id"], "capacity": r["capacity"]} for r in rooms]}
    with open(path, "w") as f:
        json.dump(plan, f)
    return plan


def first_write(base, plan_path):
    """Create and delete one event, outside the measurements, and return the create's time in
    seconds.  A data set seeded on an earlier day needs every recurring series extended to the
    horizon ahead of today, which the first write does (docs/architecture.md, "Recurring
    events"); that once-a-month cost is reported on its own instead of landing in a phase."""
    with open(plan_path) as f:
        u = json.load(f)["users"][0]
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=3)
    body = {"title": "bench warm-up", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (start + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    t0 = time.monotonic()
    ev = call(base, "POST", f"/api/v1/calendars/{u['calendar_id']}/events", u["token"], body,
              timeout=600)
    took = time.monotonic() - t0
    call(base, "DELETE", f"/api/v1/events/{ev['id']}", u["token"])
    return took


# ---- processes ------------------------------------------------------------------------------

def process_and_children(pid):
    out = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            out += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return out


class Planner:
    def __init__(self, build, db, workdir, workers, threads, mmap_mb=0, cache_mb=4,
                 page_cache_mb=6, port=None):
        self.port = port or free_port()  # the plan names the port: a restart keeps it
        self.base = f"http://127.0.0.1:{self.port}"
        # Appended to: a restart on the same port keeps the log of the runs before it.
        self.log = open(os.path.join(workdir, f"planner-{self.port}.log"), "a")
        self.proc = subprocess.Popen(
            [os.path.join(build, "planner"), "serve", "--database", f"sqlite:{db}",
             "--listen", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--threads", str(threads), "--env", "production", "--sqlite-mmap-mb", str(mmap_mb),
             "--cache-mb", str(cache_mb), "--page-cache-mb", str(page_cache_mb)],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            # Long on a large data set seeded before the latest migrations: they run first.
            wait_http(self.base + "/readyz", self.proc, timeout=600)
        except BaseException:
            self.close()
            raise

    def pids(self):
        """The master and its workers."""
        return process_and_children(self.proc.pid)

    def close(self):
        stop(self.proc)
        self.log.close()


class Nginx:
    """nginx from the Debian package, in a prefix of its own under `workdir`."""

    def __init__(self, workdir, workers):
        self.port = free_port()
        self.dir = os.path.join(workdir, "nginx")
        os.makedirs(os.path.join(self.dir, "html"), exist_ok=True)
        # A 2 KB JSON document shaped like an API answer.
        items = [{"id": str(1000 + i), "title": f"Static meeting {i}",
                  "start": "2026-11-24T09:00:00Z", "end": "2026-11-24T10:00:00Z"}
                 for i in range(40)]
        doc = json.dumps({"items": items})
        while len(doc) > 2048:
            items.pop()
            doc = json.dumps({"items": items})
        doc = doc[:-1] + ', "pad": "' + "x" * (2048 - len(doc) - 11) + '"}'
        assert len(doc) == 2048, len(doc)
        with open(os.path.join(self.dir, "html", "static.json"), "w") as f:
            f.write(doc)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
worker_processes {workers};
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/json;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path {self.dir}/tmp-body;
    proxy_temp_path {self.dir}/tmp-proxy;
    fastcgi_temp_path {self.dir}/tmp-fastcgi;
    uwsgi_temp_path {self.dir}/tmp-uwsgi;
    scgi_temp_path {self.dir}/tmp-scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.dir}/html;
    }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", conf, "-e",
                                      f"{self.dir}/error.log"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{self.port}/static.json", self.proc)
        except BaseException:
            self.close()
            raise

    def pids(self):
        return process_and_children(self.proc.pid)

    def close(self):
        stop(self.proc)


def writer_counters(base):
    """(times the writer lock was taken, held s, waited s) from planner's /metrics."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    got = {}
    for name in ("planner_writer_lock_taken_total", "planner_writer_lock_held_seconds_total",
                 "planner_writer_lock_wait_seconds_total"):
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        got[name] = float(m.group(1)) if m else 0.0
    return (got["planner_writer_lock_taken_total"],
            got["planner_writer_lock_held_seconds_total"],
            got["planner_writer_lock_wait_seconds_total"])


def page_counters(base):
    """[found, read, passed, emptied, checkpoints] of the workers' page caches, from /metrics
    (each worker adds its counts once a second; zeros from a build without the cache or
    the counter)."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return [float(m.group(1)) if m else 0.0 for m in (
        re.search(rf"^planner_page_cache_{name}_total (\S+)$", text, re.M)
        for name in ("found", "read", "passed", "emptied", "checkpoints"))]


def with_writer_lock(base, run_fn):
    """Run `run_fn` and add what the one writer lock did meanwhile to its result: the share
    of the wall time it was held (1 = every moment: writes are the bottleneck) and the mean
    hold and wait per write transaction, warm-up included; and the pages the workers' page
    caches found, read and passed by."""
    n0, held0, wait0 = writer_counters(base)
    pages0 = page_counters(base)
    t0 = time.monotonic()
    res = run_fn()
    wall = time.monotonic() - t0
    n1, held1, wait1 = writer_counters(base)
    time.sleep(1.1)  # the workers' last page counts
    pages = [b - a for a, b in zip(pages0, page_counters(base))]
    if sum(pages):
        res["page_cache"] = dict(zip(("found", "read", "passed"), pages))
    n = max(n1 - n0, 1)
    res["writer_lock"] = {"taken": n1 - n0, "held_share": (held1 - held0) / wall,
                          "mean_hold_ms": 1000 * (held1 - held0) / n,
                          "mean_wait_ms": 1000 * (wait1 - wait0) / n}
    return res


def median_run(runs):
    """The run with the median throughput (the lower middle one of an even count)."""
    return sorted(runs, key=lambda r: r["rps"])[(len(runs) - 1) // 2]


def driver(build, out, args, server_pids=None):
    """One run of planner-load.  With `server_pids`, the result's "cpu" holds the CPU time the
    server's processes and the client (planner-load) spent over the whole run, warm-up
    included, and its wall time."""
    cmd = [os.path.join(build, "planner-load"), "--out", out] + [str(a) for a in args]
    if server_pids:
        server0, client0, t0 = sum(cpu_ticks(p) for p in server_pids), children_cpu_s(), \
            time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed ({r.returncode}): {r.stderr[-2000:]}")
    with open(out) as f:
        result = json.load(f)
    if server_pids:
        gone = [p for p in server_pids if not os.path.exists(f"/proc/{p}")]
        if gone:
            raise SystemExit(f"bench: planner process {gone} ended during {' '.join(cmd)}"
                             " (a worker's crash: its master logs the signal; the work"
                             " directory is kept)")
        result["cpu"] = {
            "server_s": (sum(cpu_ticks(p) for p in server_pids) - server0) / CLK_TCK,
            "client_s": children_cpu_s() - client0, "wall_s": time.monotonic() - t0}
    return result


def children_cpu_s():
    """User + system CPU time of this process's children that have ended (planner-load's)."""
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def cpu_per_request_us(run):
    """(server, client) CPU microseconds a request over a run of `driver`, taking the warm-up
    to have run at the measured rate; None for a run without the figures."""
    c = run.get("cpu")
    if not c or not run.get("rps"):
        return None
    n = run["rps"] * c["wall_s"]
    return 1e6 * c["server_s"] / n, 1e6 * c["client_s"] / n


# ---- /proc sampling -------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kb(pid):
    """(VmRSS, RssAnon, RssFile) of pid in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key] = int(line.split()[1])
    return out.get("VmRSS", 0), out.get("RssAnon", 0), out.get("RssFile", 0)


def pss_kb(pid):
    """The proportional set size of pid in KiB: its RSS with each page it shares divided by
    the number of processes that map it, so that a sum over processes counts every page
    once."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def sample_during(proc_fn, pids, interval=0.25):
    """Run proc_fn() in a thread-free way: start it as a subprocess-like callable returning a
    Popen, sample CPU ticks and summed RSS of `pids` until it exits."""
    start_ticks = sum(cpu_ticks(p) for p in pids)
    t0 = time.monotonic()
    peak, peak_pss = (0, 0, 0), 0
    p = proc_fn()
    while p.poll() is None:
        now = [sum(x) for x in zip(*(rss_kb(x) for x in pids))]
        if now[0] > peak[0]:
            peak = now
        peak_pss = max(peak_pss, sum(pss_kb(x) for x in pids))
        time.sleep(interval)
    elapsed = time.monotonic() - t0
    ticks = sum(cpu_ticks(x) for x in pids) - start_ticks
    return p, {"cpu_pct_of_one_core": 100.0 * ticks / CLK_TCK / elapsed,
               "cpu_s": ticks / CLK_TCK, "peak_rss_mb": peak[0] / 1024.0,
               "peak_rss_anon_mb": peak[1] / 1024.0, "peak_rss_file_mb": peak[2] / 1024.0,
               "peak_pss_mb": peak_pss / 1024.0, "elapsed_s": elapsed, "processes": len(pids)}


# ---- the run --------------------------------------------------------------------------------

def seeded_db(build, scale, cache):
    """A fresh working copy of the seeded database for `scale` (seeded once, then cached)."""
    pristine = os.path.join(cache, f"w200-x{scale}-seed{SEED}.db")
    if not os.path.exists(pristine):
        log(f"seeding scale {scale} (cached in {pristine})")
        tmp = pristine + ".tmp"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(tmp + suffix):
                os.remove(tmp + suffix)
        r = subprocess.run([os.path.join(build, "planner-seed"), "--database", f"sqlite:{tmp}",
                            "--seed", str(SEED), "--now", NOW, "--scale", str(scale)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"bench: planner-seed failed: {r.stderr[-2000:]}")
        log(f"seeded: {r.stdout.strip()[:300]}")
        for suffix in ("-wal", "-shm"):
            if os.path.exists(tmp + suffix):
                raise SystemExit("bench: planner-seed left a WAL behind")
        os.rename(tmp, pristine)
    # A data set cached by an older build gets the newer migrations once, here, rather than
    # inside every server start.
    r = subprocess.run([os.path.join(build, "planner"), "migrate", "--database",
                        f"sqlite:{pristine}"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench: planner migrate failed: {r.stderr[-2000:]}")
    work = os.path.join(cache, f"work-x{scale}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(work + suffix):
            os.remove(work + suffix)
    shutil.copyfile(pristine, work)
    return work


def copy_database(src, dst):
    """`dst` made a copy of the SQLite database `src` (its WAL too, if it has one; no server
    on either), written out to the disk: else the kernel writes the copy back while the next
    phase runs."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(dst + suffix):
            os.remove(dst + suffix)
    for suffix in ("", "-wal"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)
            fd = os.open(dst + suffix, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def count_events(db):
    """The events in the database `db` now (read beside a running server: WAL mode)."""
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        c.close()


def bench_users(scale, n=200):
    """The simulated users: 200 of the data set's, spread over all of it."""
    total = 200 * scale
    width = 4 if total < 10000 else 5
    step = total // n
    return [f"user{1 + i * step:0{width}d}@w200.example" for i in range(n)]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--report-from":
        # Rewrite the Markdown and the plots of a finished run from its JSON.
        base = sys.argv[2][:-len(".json")]
        with open(sys.argv[2]) as f:
            return 1 if report(json.load(f), base, os.path.basename(base)) else 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "var", "bench"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--scales", default="1", help="data sizes for the p50 curve: 1,10,100")
    ap.add_argument("--connections", default="1,16,64,256")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per closed-loop point")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=3,
                    help="runs of the 64-connection point (the median is reported)")
    ap.add_argument("--open-duration", type=float, default=60.0)
    ap.add_argument("--open-rate", type=float, default=100.0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--threads", type=int, default=2, help="per worker (planner's default: 2)")
    ap.add_argument("--sqlite-mmap-mb", type=int, default=0,
                    help="planner's sqlite_mmap_mb (its default: 0, pread)")
    ap.add_argument("--page-cache-mb", type=int, default=6,
                    help="planner's page_cache_mb, database pages kept per worker (its default: 6)")
    ap.add_argument("--cache-mb", type=int, default=4,
                    help="planner's cache_mb, participant lists kept per worker (its default: 4)")
    ap.add_argument("--quick", action="store_true", help="short phases, for trying the bench")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.warmup, args.open_duration = 3.0, 0.5, 10.0
    scales = [int(s) for s in args.scales.split(",")]
    conns = [int(c) for c in args.connections.split(",")]
    os.makedirs(args.cache, exist_ok=True)
    os.makedirs(args.results, exist_ok=True)
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="planner-bench-")
    os.chmod(work, 0o755)  # nginx's workers (www-data when started as root) read from it
    result = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": machine(), "commit": git_commit(), "workers": args.workers,
              "threads": args.threads, "sqlite_mmap_mb": args.sqlite_mmap_mb,
              "cache_mb": args.cache_mb, "page_cache_mb": args.page_cache_mb,
              "duration_s": args.duration, "closed": {}, "ceiling": {},
              "closed_runs": {}, "ceiling_runs": {},
              "alone": {}, "parts": {}, "open": None, "scales": {}}
    nginx = planner = None
    try:
        nginx = Nginx(work, args.workers)
        db = seeded_db(args.build, 1, args.cache)
        planner = Planner(args.build, db, work, args.workers, args.threads,
                          args.sqlite_mmap_mb, args.cache_mb, args.page_cache_mb)
        plan = os.path.join(work, "plan.json")
        log("logging in 200 users")
        make_plan(planner.base, planner.port, bench_users(1), plan)
        result["first_write_s"] = first_write(planner.base, plan)
        log(f"first write (extends the series' horizon): {result['first_write_s']:.2f} s")
        result["events_at_start"] = count_events(db)
        result["fresh_per_phase"] = True
        # Every phase starts from this state, on a server started for it: W200 as seeded, its
        # users logged in, its series extended.  The mix's creates outnumber its deletes, and
        # at saturation a 10 s phase adds thousands of events, all in the weeks the agendas
        # read; when the phases followed each other on one server, the later ones ran on
        # twice W200's events and more, each on another data set.
        port = planner.port
        planner.close()
        planner = None
        snapshot = os.path.join(work, "w200-start.db")
        copy_database(db, snapshot)

        def fresh():
            nonlocal planner
            if planner:
                planner.close()
                planner = None
            copy_database(snapshot, db)
            planner = Planner(args.build, db, work, args.workers, args.threads,
                              args.sqlite_mmap_mb, args.cache_mb, args.page_cache_mb, port)
        out = os.path.join(work, "out.json")
        alone_c = 64 if 64 in conns else conns[-1]
        for c in conns:
            # The point the targets read is run `repeats` times, ceiling and mix in turn, and
            # the median run of each is reported: runs of the same code on this shared host
            # differ by up to a fifth.
            runs, ceilings = [], []
            for k in range(args.repeats if c == alone_c else 1):
                log(f"{c} connections: nginx ceiling")
                ceilings.append(driver(args.build, out, [
                    "--static", "/static.json", "--port", nginx.port, "--connections", c,
                    "--duration", max(args.duration / 2, 2), "--warmup", args.warmup],
                    nginx.pids()))
                log(f"{c} connections: W200 mix")
                fresh()
                runs.append(with_writer_lock(planner.base, lambda: driver(args.build, out, [
                    "--plan", plan, "--connections", c, "--duration", args.duration,
                    "--warmup", args.warmup], planner.pids())))
                runs[-1]["events_after"] = count_events(db)
                log(f"  {runs[-1]['rps']:.0f} req/s, ceiling {ceilings[-1]['rps']:.0f} req/s,"
                    f" {runs[-1]['events_after']} events after it")
            result["closed"][c], result["ceiling"][c] = median_run(runs), median_run(ceilings)
            if len(runs) > 1:
                result["closed_runs"][c], result["ceiling_runs"][c] = runs, ceilings
        # Each part of the mix after its own operations one by one (only the order of the log).
        for op in OPS:
            log(f"{op} alone at {alone_c} connections")
            fresh()
            result["alone"][op] = driver(args.build, out, [
                "--plan", plan, "--connections", alone_c, "--duration", max(args.duration / 2, 2),
                "--warmup", args.warmup / 2, "--only", op], planner.pids())
            result["alone"][op]["events_after"] = count_events(db)
            for part in [p for p, ops in MIX_PARTS.items() if ops[-1] == op]:
                log(f"the mix's {part} alone at {alone_c} connections")
                fresh()
                result["parts"][part] = driver(args.build, out, [
                    "--plan", plan, "--connections", alone_c,
                    "--duration", max(args.duration / 2, 2), "--warmup", args.warmup / 2,
                    "--only", part], planner.pids())
                result["parts"][part]["events_after"] = count_events(db)
        result["alone_connections"] = alone_c
        # planner's HTTP layer alone (no database, no authentication), against the same
        # ceiling: what is left between an operation and nginx is the operation's own work.
        log(f"healthz alone at {alone_c} connections")
        result["alone_healthz"] = driver(args.build, out, [
            "--static", "/healthz", "--port", planner.port, "--connections", alone_c,
            "--duration", max(args.duration / 2, 2), "--warmup", args.warmup / 2],
            planner.pids())
        # The open loop's server first carries the bench's heaviest load for a few seconds, as
        # the one server of every phase did when they followed each other: the memory a
        # burst leaves behind (page caches full, the allocator's arenas grown) counts in the
        # RSS target.  It adds events as the mix does; their count after is reported.
        fresh()
        burst_s = max(args.duration / 2, 2)
        log(f"burst before the open loop: the mix at {conns[-1]} connections for {burst_s:.0f} s")
        burst = driver(args.build, out, ["--plan", plan, "--connections", conns[-1],
                                         "--duration", burst_s, "--warmup", 0])
        if burst["unexpected"]:
            raise SystemExit(f"bench: the burst had {burst['unexpected']} unexpected answers:"
                             f" {burst['unexpected_samples'][:3]}")
        log(f"open loop: {args.open_rate:.0f} requests/s for {args.open_duration:.0f} s")
        cmd = [os.path.join(args.build, "planner-load"), "--plan", plan, "--connections", "16",
               "--rate", str(args.open_rate), "--duration", str(args.open_duration),
               "--out", out]
        p, usage = sample_during(lambda: subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                                          stderr=subprocess.PIPE, text=True),
                                 planner.pids())
        if p.returncode != 0:
            raise SystemExit(f"bench: open loop failed: {p.stderr.read()[-2000:]}")
        with open(out) as f:
            result["open"] = json.load(f)
        result["open"]["usage"] = usage
        result["open"]["events_after"] = count_events(db)
        result["open"]["burst"] = {"connections": conns[-1], "duration_s": burst_s,
                                   "rps": burst["rps"]}
        log(f"  CPU {usage['cpu_pct_of_one_core']:.2f} % of one core, peak RSS "
            f"{usage['peak_rss_mb']:.1f} MB")
        # The floor at the same rate: what any HTTP server pays on this machine for the
        # wake-ups, the loopback TCP and the HTTP parsing alone.
        floor_s = max(args.open_duration / 2, 5)
        result["open_floor"] = {}
        for label, server, path in (("nginx", nginx, "/static.json"),
                                    ("planner_healthz", planner, "/healthz")):
            log(f"open loop floor: {label} GET {path} at {args.open_rate:.0f}/s for "
                f"{floor_s:.0f} s")
            cmd = [os.path.join(args.build, "planner-load"), "--static", path, "--port",
                   str(server.port), "--connections", "16", "--rate", str(args.open_rate),
                   "--duration", str(floor_s), "--out", out]
            p, fusage = sample_during(lambda: subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), server.pids())
            if p.returncode != 0:
                raise SystemExit(f"bench: floor open loop failed: {p.stderr.read()[-2000:]}")
            with open(out) as f:
                result["open_floor"][label] = json.load(f)
            result["open_floor"][label]["usage"] = fusage
            log(f"  CPU {fusage['cpu_pct_of_one_core']:.2f} % of one core")
        planner.close()
        planner = None
        for scale in scales:
            result["scales"][scale] = data_size_point(args, scale, work, out)
    finally:
        if planner:
            planner.close()
        if nginx:
            nginx.close()
    result["elapsed_s"] = time.monotonic() - started
    name = "w200-" + result["date"][:10]
    base = os.path.join(args.results, name)
    with open(base + ".json", "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    invalid = report(result, base, name)
    shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {base}.md ({result['elapsed_s']:.0f} s)")
    return 1 if invalid else 0


def data_size_point(args, scale, work, out):
    """Every operation's latency at 1 connection (service time without queueing) on a fresh
    copy of the data set of `scale`."""
    db = seeded_db(args.build, scale, args.cache)
    planner = Planner(args.build, db, work, args.workers, args.threads, args.sqlite_mmap_mb,
                      args.cache_mb, args.page_cache_mb)
    try:
        plan = os.path.join(work, f"plan-x{scale}.json")
        log(f"scale {scale}: logging in 200 users")
        make_plan(planner.base, planner.port, bench_users(scale), plan)
        first = first_write(planner.base, plan)
        log(f"scale {scale}: first write (extends the series' horizon) {first:.2f} s")
        log(f"scale {scale}: 1 connection, W200 mix")
        r = driver(args.build, out, ["--plan", plan, "--connections", 1,
                                     "--duration", args.duration, "--warmup", args.warmup])
        r["db_bytes"] = os.path.getsize(db)
        r["first_write_s"] = first
        return r
    finally:
        planner.close()


def machine():
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "cpu": model, "kernel": platform.release(),
            "load_avg_at_start": os.getloadavg()[0]}


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


# ---- the report -----------------------------------------------------------------------------

def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def reads(mmap_mb, page_cache_mb):
    """How planner reads the database file, from its sqlite_mmap_mb and page_cache_mb (absent
    before the page cache existed)."""
    if mmap_mb:
        return (f"the file read through a mapping of up to {mmap_mb} MB, "
                f"`--sqlite-mmap-mb {mmap_mb}`")
    if not page_cache_mb:
        return ("the file read with pread into each connection's cache"
                + (", `--page-cache-mb 0`" if page_cache_mb == 0 else ""))
    return (f"the file's pages kept up to {page_cache_mb} MB per worker for all its connections"
            " (`page_cache_mb`)")


def kept(cache_mb):
    """What planner keeps of participant lists, from its cache_mb (absent before it existed)."""
    if cache_mb is None:
        return "no participant lists kept between requests (before `cache_mb`)"
    if cache_mb == 0:
        return "no participant lists kept between requests, `--cache-mb 0`"
    return f"participant lists kept up to {cache_mb} MB per worker (`cache_mb`)"


def cpu_cell(run):
    """"planner + client" CPU microseconds a request of a run, or "" without them."""
    us = cpu_per_request_us(run)
    return f"{us[0]:.0f} + {us[1]:.0f}" if us else ""


def parts_lines(r, closed, ac):
    """What mixing costs: the server's CPU a request of the mix's reads, of its writes and of
    the whole mix, against the same operations run one at a time (the rows of the table
    before, weighted as in the mix)."""
    def one_by_one(ops):
        costs = [cpu_per_request_us(r["alone"][op]) for op in ops if op in r["alone"]]
        if len(costs) != len(ops) or None in costs:
            return None
        return sum(MIX_WEIGHTS[op] * c[0] for op, c in zip(ops, costs)) / \
            sum(MIX_WEIGHTS[op] for op in ops)
    rows = []
    runs = dict(r.get("parts", {}))
    if ac in closed:
        runs["whole mix"] = closed[ac]
    for part, run in runs.items():
        us, alone = cpu_per_request_us(run), one_by_one(MIX_PARTS.get(part, OPS))
        if us and alone:
            rows.append(f"| {part} | {run['rps']:.0f} | {fmt(run['overall']['p99_ms'])} | "
                        f"{us[0]:.0f} | {alone:.0f} | {us[0] / alone:.2f} |")
    if not rows:
        return []
    return ["", f"The mix's parts at {ac} connections, each in the mix's proportions, against "
            "the same operations run one at a time (the server's CPU a request; the rows above, "
            "weighted as in the mix); the whole mix's row sets its median run against all "
            "nine.  What a part costs beyond its operations alone is what mixing them costs: "
            "the caches that each operation alone keeps warm, the CPU's and the pages', and in "
            "the whole mix what the writes do to the reads: the pages their commits take from "
            "the caches, and the events their creates add as the run goes on.", "",
            "| part | req/s | p99 ms | planner CPU us a request | one at a time | ratio |",
            "|---|---:|---:|---:|---:|---:|"] + rows


def report(r, base, name):
    """Markdown + PNGs; returns True if the run is invalid (unexpected answers)."""
    conns = sorted(int(c) for c in r["closed"])
    closed = {int(c): v for c, v in r["closed"].items()}
    ceiling = {int(c): v for c, v in r["ceiling"].items()}
    runs = {int(c): v for c, v in r.get("closed_runs", {}).items()}
    ceiling_runs = {int(c): v for c, v in r.get("ceiling_runs", {}).items()}
    # Every run counts for the errors, not only the median one reported.
    phases = [x for c, v in closed.items() for x in runs.get(c, [v])] + \
        list(r["alone"].values()) + [r["open"]] + list(r["scales"].values()) + \
        ([r["alone_healthz"]] if "alone_healthz" in r else [])
    unexpected = sum(p["unexpected"] for p in phases)
    m = r["machine"]
    L = [f"# W200 benchmark, {r['date'][:10]}", "",
         f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, Linux {m['kernel']}; "
         f"load average {m['load_avg_at_start']:.2f} at the start. Commit `{r['commit']}`. "
         f"planner: {r['workers']} workers x {r['threads']} threads, SQLite "
         f"({reads(r.get('sqlite_mmap_mb', 0), r.get('page_cache_mb'))}), {kept(r.get('cache_mb'))}, production "
         f"settings. Client: "
         f"build/planner-load (bench/load.c) on the same machine. "
         f"Whole run: {r['elapsed_s']:.0f} s.", ""]
    if unexpected:
        L += [f"**INVALID RUN: {unexpected} unexpected answers** (any non-2xx other than a "
              "create's 409). Samples:", ""]
        for p in phases:
            L += [f"- `{s}`" for s in p.get("unexpected_samples", [])[:5]]
        L.append("")
    L += ["## Closed loop, W200 mix, against the nginx ceiling", "",
          "| connections | planner req/s | p50 ms | p95 ms | p99 ms | nginx 2 KB req/s "
          "| ratio | unexpected | CPU us a request: planner + client | nginx + client |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in conns:
        o, n = closed[c], ceiling[c]
        L.append(f"| {c} | {o['rps']:.0f} | {fmt(o['overall']['p50_ms'])} | "
                 f"{fmt(o['overall']['p95_ms'])} | {fmt(o['overall']['p99_ms'])} | "
                 f"{n['rps']:.0f} | {o['rps'] / n['rps']:.2f} | {o['unexpected']} | "
                 f"{cpu_cell(o)} | {cpu_cell(n)} |")
    for c in sorted(runs):
        L += ["", f"At {c} connections, the median of {len(runs[c])} runs, taken in turn with "
              "the ceiling's: planner " + " / ".join(f"{x['rps']:.0f}" for x in runs[c]) +
              " req/s (p99 " + " / ".join(fmt(x["overall"]["p99_ms"]) for x in runs[c]) +
              " ms), nginx " + " / ".join(f"{x['rps']:.0f}" for x in ceiling_runs.get(c, [])) +
              " req/s."]
    top = 64 if 64 in closed else conns[-1]
    grown = [x["events_after"] for x in runs.get(top, [closed[top]]) if "events_after" in x]
    if r.get("fresh_per_phase") and grown:
        L += ["", f"Every planner run here and below starts from the same data, on a server "
              f"started for it: W200 as seeded, its users logged in and its series extended "
              f"({r['events_at_start']:,} events).  The mix's creates outnumber its deletes, "
              "so each run ends on more: " + " / ".join(f"{g:,}" for g in grown) +
              f" events after the runs at {top} connections."]
    us, nus = cpu_per_request_us(closed[top]), cpu_per_request_us(ceiling[top])
    if us and nus:
        cores, goal = m["cores"], TARGETS["mix_rps_64"]
        L += ["", f"The CPU columns are user + system time over the whole run, warm-up included "
              "(/proc/PID/stat of the server's processes, getrusage of planner-load), per "
              "request.  The client shares the machine with the server: at these costs the "
              f"{cores} cores serve at most {cores * 1e6 / sum(us):,.0f} W200 requests a second "
              f"at {top} connections, server and client together (nginx's file: "
              f"{cores * 1e6 / sum(nus):,.0f}); {goal:,} would need {cores * 1e6 / goal:.0f} us "
              "a request for the two."]
    wl = [(c, closed[c]["writer_lock"]) for c in conns if "writer_lock" in closed[c]]
    if wl:
        L += ["", "The one writer lock (every write transaction of every worker takes it; "
              "`/metrics` before and after each run, warm-up included): held " +
              ", ".join(f"{100 * w['held_share']:.0f} %" for _, w in wl) +
              " of the time at " + ", ".join(str(c) for c, _ in wl) + " connections; per "
              "write, held " + " / ".join(fmt(w["mean_hold_ms"], 3) for _, w in wl) +
              " ms and waited for " + " / ".join(fmt(w["mean_wait_ms"], 3) for _, w in wl) +
              " ms."]
    pc = [(c, closed[c]["page_cache"]) for c in conns if "page_cache" in closed[c]]
    if pc:
        L += ["", "The workers' page caches (`page_cache_mb`; each worker counts into `/metrics` "
              "once a second, warm-up included) found " +
              " / ".join(f"{100 * p['found'] / max(p['found'] + p['read'] + p['passed'], 1):.0f} %"
                         for _, p in pc) +
              " of the database-file pages asked for at " + ", ".join(str(c) for c, _ in pc) +
              " connections; the rest were read with pread (pages still in the WAL always are)."]
    L += ["", f"Per operation inside the mix at {top} connections (the ratio is the operation's "
          "share of the mix's throughput to the ceiling; \"in server\" is the mean time the "
          "server spent on it, from `Server-Timing`: the rest of the latency is waiting for "
          "its turn):", "",
          "| operation | requests | req/s | p50 ms | p95 ms | p99 ms | in server ms "
          "| ratio to nginx |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for op in OPS:
        s = closed[top]["ops"].get(op)
        if s:
            L.append(f"| {OP_TITLES[op]} | {s['count']} | {s['rps']:.0f} | {fmt(s['p50_ms'])} | "
                     f"{fmt(s['p95_ms'])} | {fmt(s['p99_ms'])} | "
                     f"{fmt(s.get('server_total_ms_mean'), 3)} | "
                     f"{s['rps'] / ceiling[top]['rps']:.3f} |")
    pcn = closed[top].get("per_connection")
    if pcn:
        L += ["", f"Each connection's mean latency at {top} connections: from "
              f"{fmt(pcn['mean_ms_min'])} to {fmt(pcn['mean_ms_max'])} ms (median "
              f"{fmt(pcn['mean_ms_median'])}), so no connection is served much more slowly "
              "than the others: the spread of the percentiles is every connection's."
              if pcn["mean_ms_max"] <= 1.5 * pcn["mean_ms_min"] else
              f"Each connection's mean latency at {top} connections: from "
              f"{fmt(pcn['mean_ms_min'])} to {fmt(pcn['mean_ms_max'])} ms (median "
              f"{fmt(pcn['mean_ms_median'])}): some connections are served more slowly than "
              "others."]
    ac = r.get("alone_connections", top)
    L += ["", f"Each operation alone at {ac} connections (closed loop), against the ceiling at "
          "the same count:", "",
          "| operation | req/s | p50 ms | p99 ms | ratio to nginx | unexpected "
          "| CPU us a request: planner + client |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    for op in OPS:
        a = r["alone"].get(op)
        if a:
            L.append(f"| {OP_TITLES[op]} | {a['rps']:.0f} | {fmt(a['overall']['p50_ms'])} | "
                     f"{fmt(a['overall']['p99_ms'])} | {a['rps'] / ceiling[ac]['rps']:.3f} | "
                     f"{a['unexpected']} | {cpu_cell(a)} |")
    h = r.get("alone_healthz")
    if h:
        L.append(f"| planner's `GET /healthz` (HTTP alone: no database, no token) | "
                 f"{h['rps']:.0f} | {fmt(h['overall']['p50_ms'])} | "
                 f"{fmt(h['overall']['p99_ms'])} | {h['rps'] / ceiling[ac]['rps']:.3f} | "
                 f"{h['unexpected']} | {cpu_cell(h)} |")
    # An update or a delete needs an event of the connection's own: the driver creates one
    # when it has none, and those creates are in the row too.
    others = []
    for op in OPS:
        a = r["alone"].get(op, {})
        drawn = {o: s["count"] for o, s in a.get("ops", {}).items() if s.get("count")}
        if set(drawn) - {op}:
            others.append(f"{OP_TITLES[op]}: " + ", ".join(
                f"{n:,} {OP_TITLES.get(o, o).split(' (')[0]}" for o, n in sorted(drawn.items())))
    if others:
        L += ["", "Rows that also count the creates the driver made to have something to "
              "update or delete (requests of each kind): " + "; ".join(others) + "."]
    L += parts_lines(r, closed, ac)
    nus = cpu_per_request_us(ceiling[ac])
    if nus:
        share = TARGETS["agenda_ratio"]
        L += ["", f"nginx's file at {ac} connections: {cpu_cell(ceiling[ac])} us a request.  An "
              f"operation reaches {100 * share:.0f} % of nginx's throughput only if it and the "
              f"client together cost at most {sum(nus) / share:.0f} us a request (when the "
              "cores are the limit for both)."]
    o = r["open"]
    u = o["usage"]
    L += ["", f"## Open loop: {o['rate']:.0f} requests/s for {o['duration_s']:.0f} s "
          "(the old system's peak)", "",
          f"- served {o['requests']} requests ({o['rps']:.1f} req/s), unexpected "
          f"{o['unexpected']}, latency from the scheduled send time: p50 "
          f"{fmt(o['overall']['p50_ms'])} ms, p99 {fmt(o['overall']['p99_ms'])} ms, max "
          f"{fmt(o['overall']['max_ms'])} ms",
          f"- all {u['processes']} planner processes together: CPU "
          f"{u['cpu_pct_of_one_core']:.2f} % of one core (utime + stime from /proc/PID/stat "
          f"over {u['elapsed_s']:.1f} s: {1000 * u['cpu_s'] / max(o['requests'], 1):.2f} ms of "
          f"CPU per request), peak RSS {u['peak_rss_mb']:.1f} MB (sum of VmRSS, sampled every "
          f"0.25 s: {u['peak_rss_anon_mb']:.1f} MB anonymous, {u['peak_rss_file_mb']:.1f} MB "
          "file pages such as the binary and libraries" +
          (" and the mapped database file" if r.get("sqlite_mmap_mb") else "") +
          ", counted once per process)" +
          (f"; peak PSS {u['peak_pss_mb']:.1f} MB (the same pages with each shared one counted "
           "once: the memory the processes take together)" if "peak_pss_mb" in u else "")]
    if "burst" in o:
        b = o["burst"]
        L.append(f"- on a server started for it from the same data as every run, which first "
                 f"carried the mix at {b['connections']} connections for {b['duration_s']:.0f} s "
                 f"({b['rps']:.0f} req/s), so that its memory is that of a server just under "
                 f"load; {o['events_after']:,} events at the end")
    floor = r.get("open_floor")
    if floor:
        L.append("- the floor at the same rate, from the same client, measured right after:")
        for label, what in (("nginx", "nginx serving its 2 KB file"),
                            ("planner_healthz", "planner answering `GET /healthz` (no database)")):
            f = floor.get(label)
            if f:
                fu = f["usage"]
                L.append(f"  - {what}, {f['requests']} requests over {fu['elapsed_s']:.1f} s: "
                         f"{fu['cpu_pct_of_one_core']:.2f} % of one core "
                         f"({1000 * fu['cpu_s'] / max(f['requests'], 1):.2f} ms per request)")
    L += ["", "| operation | requests | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for op in OPS:
        s = o["ops"].get(op)
        if s:
            L.append(f"| {OP_TITLES[op]} | {s['count']} | {fmt(s['p50_ms'])} | "
                     f"{fmt(s['p99_ms'])} |")
    scales = sorted(int(s) for s in r["scales"])
    sc = {int(s): v for s, v in r["scales"].items()}
    if scales:
        L += ["", "## Latency against data size (1 connection, W200 mix)", "",
              "p50 as the client sees it, and in brackets the mean time inside the server "
              "(Server-Timing), which does not include the loopback and wake-up time that "
              "varies from one phase of a run to the next.  The first write, before the "
              "measurement, extends every recurring series to the horizon ahead of today "
              "(the data set was seeded for an earlier \"now\"): once a month in service.", "",
              "| data set | database | agenda p50 ms | free/busy p50 ms | find-time p50 ms | "
              "all ops p50 ms | first write s |", "|---|---:|---:|---:|---:|---:|---:|"]

        def cell(op):
            o = v["ops"].get(op)
            if o is None:  # no answer of that kind in the phase: shown, not hidden
                return "-"
            return f"{fmt(o['p50_ms'], 3)} ({fmt(o.get('server_total_ms_mean'), 3)})"
        for s in scales:
            v = sc[s]
            L.append(f"| W200 x{s} | {v['db_bytes'] / 1e6:.0f} MB | {cell('agenda')} | "
                     f"{cell('freebusy')} | {cell('find_time')} | "
                     f"{fmt(v['overall']['p50_ms'], 3)} | {fmt(v.get('first_write_s'), 2)} |")
    # Targets (issue 5), each met or not, from the figures above.
    t = TARGETS
    rows = [("W200 mix at 64 connections", f">= {t['mix_rps_64']} req/s",
             closed.get(64, {}).get("rps"), lambda v: v >= t["mix_rps_64"], "{:.0f} req/s"),
            ("its p99", f"<= {t['mix_p99_64_ms']} ms",
             closed.get(64, {}).get("overall", {}).get("p99_ms"),
             lambda v: v <= t["mix_p99_64_ms"], "{:.2f} ms"),
            ("agenda alone / nginx ceiling", f">= {t['agenda_ratio']:.0%}",
             r["alone"]["agenda"]["rps"] / ceiling[ac]["rps"] if "agenda" in r["alone"] else None,
             lambda v: v >= t["agenda_ratio"], "{:.1%}"),
            ("CPU at 100 req/s", f"<= {t['open_cpu_pct']} % of one core",
             u["cpu_pct_of_one_core"], lambda v: v <= t["open_cpu_pct"], "{:.2f} %"),
            ("RSS at 100 req/s", f"<= {t['open_rss_mb']} MB", u["peak_rss_mb"],
             lambda v: v <= t["open_rss_mb"], "{:.1f} MB")]
    if 1 in sc and 100 in sc and "agenda" in sc[1]["ops"] and "agenda" in sc[100]["ops"]:
        rows.append(("agenda p50 x100 / W200", f"<= {t['agenda_scale_ratio']}x",
                     sc[100]["ops"]["agenda"]["p50_ms"] / sc[1]["ops"]["agenda"]["p50_ms"],
                     lambda v: v <= t["agenda_scale_ratio"], "{:.2f}x"))
    L += ["", "## Targets", "", "| target | wanted | measured | met |", "|---|---|---:|---|"]
    for label, want, value, ok, f in rows:
        L.append(f"| {label} | {want} | {'-' if value is None else f.format(value)} | "
                 f"{'-' if value is None else ('yes' if ok(value) else '**no**')} |")
    L += ["", "The old system (uvicorn + Celery + PostgreSQL + Redis + nginx) for context: "
          "80-120 req/s at 100-300 ms, on 4 cores / 6 GB.", "",
          f"Plots: [throughput]({name}-throughput.png), [p99]({name}-p99.png)"
          + (f", [p50 against data size]({name}-size.png)" if scales else "") + ".", ""]
    with open(base + ".md", "w") as f:
        f.write("\n".join(L))
    plots(r, base, conns, closed, ceiling, scales, sc)
    return unexpected > 0


def plots(r, base, conns, closed, ceiling, scales, sc):
    if shutil.which("gnuplot") is None:
        log("gnuplot not found: no plots")
        return
    dat = base + ".dat"
    with open(dat, "w") as f:
        f.write("# connections nginx total " + " ".join(OPS) + " | p99 total " +
                " ".join(OPS) + "\n")
        for c in conns:
            o = closed[c]
            rps = [o["ops"].get(op, {}).get("rps", 0) for op in OPS]
            p99 = [o["ops"].get(op, {}).get("p99_ms", 0) for op in OPS]
            f.write(" ".join(str(x) for x in [c, ceiling[c]["rps"], o["rps"]] + rps +
                             [o["overall"]["p99_ms"]] + p99) + "\n")
        f.write("\n\n")
        for s in scales:
            f.write(f"{s} {sc[s]['ops']['agenda']['p50_ms']} {sc[s]['ops']['freebusy']['p50_ms']}"
                    f" {sc[s]['ops']['find_time']['p50_ms']} {sc[s]['overall']['p50_ms']}\n")
    n = len(OPS)
    thr = ", ".join([f"'{dat}' index 0 using 1:2 with linespoints lw 2 title 'nginx 2 KB static'",
                     f"'{dat}' index 0 using 1:3 with linespoints lw 2 title 'W200 mix, total'"] +
                    [f"'{dat}' index 0 using 1:{4 + i} with linespoints title '{op}'"
                     for i, op in enumerate(OPS)])
    p99 = ", ".join([f"'{dat}' index 0 using 1:{4 + n} with linespoints lw 2 title 'W200 mix'"] +
                    [f"'{dat}' index 0 using 1:{5 + n + i} with linespoints title '{op}'"
                     for i, op in enumerate(OPS)])
    script = f"""set terminal pngcairo size 900,560 noenhanced
set logscale x 2
set xlabel 'connections (closed loop)'
set key outside right
set grid
set output '{base}-throughput.png'
set title 'Throughput per operation inside the W200 mix, and the nginx ceiling'
set ylabel 'requests/s'
set logscale y
plot {thr}
set output '{base}-p99.png'
set title 'p99 latency per operation inside the W200 mix'
set ylabel 'p99 (ms)'
plot {p99}
"""
    if scales:
        script += f"""set output '{base}-size.png'
set title 'p50 at 1 connection against data size'
set xlabel 'data set (W200 x N)'
set logscale x 10
unset logscale y
set yrange [0:*]
set ylabel 'p50 (ms)'
plot '{dat}' index 1 using 1:2 with linespoints lw 2 title 'agenda', \\
     '{dat}' index 1 using 1:3 with linespoints title 'free/busy', \\
     '{dat}' index 1 using 1:4 with linespoints title 'find-time', \\
     '{dat}' index 1 using 1:5 with linespoints title 'all operations'
"""
    r2 = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r2.returncode != 0:
        log(f"gnuplot failed: {r2.stderr[-500:]}")
    os.remove(dat)


if __name__ == "__main__":
    sys.exit(main())
