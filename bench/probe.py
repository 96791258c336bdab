#!/usr/bin/python3
"""Per-request costs of one build, for comparing two builds in pairs (bench/README.md).

    bench/probe.py cpu BUILD [--op OP] [--connections 64] [--seconds 10] [--workers 2 --threads 2]
        a closed loop (after 2 s of warm-up) against a fresh copy of the W200 x1 data: req/s,
        p99, and per request the planner processes' user and system CPU time (/proc/PID/stat)
        and their read and write system calls (/proc/PID/io: pread of pages, WAL writes);
        then the writer lock's share of the time and its hold and wait per write (/metrics).
    bench/probe.py side BUILD OTHER --rate 100 --connections 16 [--op OP] [--seconds 10]
            [--rounds 5]
        both builds at the same time, each on its own copy of the data and driven by its own
        client at the same rate: the CPU share of each and their ratio, round after round.
        The host's noise (at 100 req/s every request runs cold, and how cold depends on what
        else the machine does) then falls on both alike, which turns in a row did not give.
    bench/probe.py callgrind BUILD [--op OP] [--seconds 10]
        one worker, one thread under valgrind's callgrind: instructions per request, counted
        between a zeroing and a dump of the counters around a 1-connection loop.

OP is an operation of planner-load --only, or `mix` (the W200 mix, the default), or `reads` or
`writes` (the mix's reads or its writes alone, in the mix's proportions).  BUILD is a
directory holding `planner` (a copy of another build's binary will do); planner-load comes
from build/.  --data DB starts from a copy of DB instead (the x1 data with a change applied).  Uses the data set that `make bench` caches in var/bench/ (run it once first).
Runs of the same code on a shared host differ by up to a fifth: compare builds in turns
(A, B, A, B, ...), not across sessions."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: the server, the plan, the data set)

LOAD = os.path.join(run.ROOT, "build", "planner-load")


def start(build, workdir, workers, threads, wrapper=(), data=None):
    """A planner on a fresh copy of the x1 data (or of `data`), its users logged in:
    (process, base URL, plan)."""
    pristine = data or os.path.join(run.ROOT, "var", "bench", f"w200-x1-seed{run.SEED}.db")
    if not os.path.exists(pristine):
        raise SystemExit(f"probe: no {pristine}: run `make bench` once first")
    db = os.path.join(workdir, "probe.db")
    shutil.copyfile(pristine, db)
    port = run.free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(workdir, "planner.log"), "w")
    proc = subprocess.Popen(list(wrapper) + [
        os.path.join(build, "planner"), "serve", "--database", f"sqlite:{db}",
        "--listen", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
        "--env", "production"], stdout=log, stderr=subprocess.STDOUT)
    try:
        run.wait_http(base + "/readyz", proc, timeout=600)
        plan = os.path.join(workdir, "plan.json")
        run.make_plan(base, port, run.bench_users(1), plan)
        run.first_write(base, plan)
    except BaseException:
        run.stop(proc)
        raise
    return proc, base, plan


def load(plan, op, connections, seconds, out, rate=None):
    only = [] if op == "mix" else ["--only", op]
    if rate:
        only += ["--rate", str(rate)]
    subprocess.run([LOAD, "--plan", plan, "--connections", str(connections), "--duration",
                    str(seconds), "--warmup", "0", "--out", out] + only,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        return json.load(f)


def counters(pids):
    """Summed (utime, stime) ticks and (syscr, syscw) of `pids`."""
    total = [0, 0, 0, 0]
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total[0] += int(fields[11])
        total[1] += int(fields[12])
        with open(f"/proc/{pid}/io") as f:
            io = dict(line.split(": ") for line in f.read().splitlines())
        total[2] += int(io["syscr"])
        total[3] += int(io["syscw"])
    return total


def cpu(args, workdir):
    proc, base, plan = start(args.build, workdir, args.workers, args.threads, data=args.data)
    try:
        pids = run.process_and_children(proc.pid)
        out = os.path.join(workdir, "out.json")
        load(plan, args.op, args.connections, 2, out, args.rate)
        before, pages0 = counters(pids), run.page_counters(base)
        r = run.with_writer_lock(
            base, lambda: load(plan, args.op, args.connections, args.seconds, out, args.rate))
        after = counters(pids)
        rss = [sum(x) for x in zip(*(run.rss_kb(pid) for pid in pids))]
        time.sleep(1.1)  # the workers publish their page counts once a second
        pages = [b - a for a, b in zip(pages0, run.page_counters(base))]
    finally:
        run.stop(proc)
    n = r["requests"]
    d = [b - a for a, b in zip(before, after)]
    us = 1e6 / run.CLK_TCK / n
    if args.rate:
        print(f"{args.op} at {args.rate:g} req/s: {100 * (d[0] + d[1]) / run.CLK_TCK / args.seconds:.2f}"
              " % of one core")
    print(f"{args.op}: {r['rps']:.0f} req/s, p99 {r['overall']['p99_ms']:.2f} ms, per request:"
          f" user {d[0] * us:.0f} us, system {d[1] * us:.0f} us, read calls {d[2] / n:.1f},"
          f" write calls {d[3] / n:.1f} ({n} requests, {r['unexpected']} unexpected)")
    print(f"  RSS at the end: {rss[0] / 1024:.1f} MB ({rss[1] / 1024:.1f} MB anonymous)")
    if sum(pages):
        print(f"  page cache, per request: found {pages[0] / n:.1f}, read {pages[1] / n:.1f},"
              f" passed {pages[2] / n:.1f}; emptied {pages[3] / args.seconds:.1f}/s,"
              f" checkpoints followed {pages[4] / args.seconds:.1f}/s")
    w = r["writer_lock"]
    if w["taken"]:
        print(f"  writer lock: held {100 * w['held_share']:.0f} % of the time, per write held"
              f" {w['mean_hold_ms']:.3f} ms and waited {w['mean_wait_ms']:.3f} ms")


def side(args, workdir):
    if not args.rate or not args.other:
        raise SystemExit("probe: side takes two builds and --rate")
    builds = [args.build, args.other]
    servers = []
    try:
        for i, build in enumerate(builds):
            os.mkdir(os.path.join(workdir, str(i)))
            servers.append(start(build, os.path.join(workdir, str(i)), args.workers,
                                 args.threads, data=args.data))
        pids = [run.process_and_children(proc.pid) for proc, _, _ in servers]
        outs = [os.path.join(workdir, str(i), "out.json") for i in range(2)]
        ratios = []
        for rnd in range(args.rounds):
            before, t0 = [counters(p) for p in pids], time.monotonic()
            clients = [subprocess.Popen(
                [LOAD, "--plan", plan, "--connections", str(args.connections), "--duration",
                 str(args.seconds), "--warmup", "2", "--out", out, "--rate", str(args.rate)]
                + ([] if args.op == "mix" else ["--only", args.op]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for (_, _, plan), out in zip(servers, outs)]
            if any(c.wait() != 0 for c in clients):
                raise SystemExit("probe: planner-load failed")
            after, elapsed = [counters(p) for p in pids], time.monotonic() - t0
            shares = []
            for b, a, out in zip(before, after, outs):
                with open(out) as f:
                    r = json.load(f)
                if r["unexpected"]:
                    raise SystemExit(f"probe: {r['unexpected']} unexpected answers")
                # Over the clients' whole run, their 2 s of warm-up included (the same rate).
                ticks = (a[0] - b[0]) + (a[1] - b[1])
                shares.append(100 * ticks / run.CLK_TCK / elapsed)
            ratios.append(shares[1] / shares[0] if shares[0] else float("inf"))
            print(f"round {rnd + 1}: {args.op} at {args.rate:g} req/s: {shares[0]:.2f} % /"
                  f" {shares[1]:.2f} % of one core (ratio {ratios[-1]:.2f})", flush=True)
        ratios.sort()
        print(f"median ratio {ratios[len(ratios) // 2]:.2f} ({builds[1]} against {builds[0]};"
              f" {sum(r < 1 for r in ratios)} of {len(ratios)} rounds lower)")
    finally:
        for proc, _, _ in servers:
            run.stop(proc)


def callgrind(args, workdir):
    wrapper = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--compress-strings=no",
               f"--callgrind-out-file={workdir}/cg.%p"]
    proc, _, plan = start(args.build, workdir, 1, 1, wrapper, data=args.data)
    try:
        out = os.path.join(workdir, "out.json")
        load(plan, args.op, 1, 3, out)  # warm-up
        subprocess.run(["callgrind_control", "-z"], stdout=subprocess.DEVNULL, check=True)
        r = load(plan, args.op, 1, args.seconds, out)
        subprocess.run(["callgrind_control", "-d"], stdout=subprocess.DEVNULL, check=True)
    finally:
        run.stop(proc)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(os.path.join(workdir, "probe.db" + suffix)):
                os.remove(os.path.join(workdir, "probe.db" + suffix))
    # The worker's dump is the largest of the dumps (the master's is nearly empty).
    dumps = [os.path.join(workdir, f) for f in os.listdir(workdir)
             if f.startswith("cg.") and f.count(".") == 2]
    worker = max(dumps, key=os.path.getsize)
    with open(worker) as f:
        ir = next(int(line.split()[1]) for line in f
                  if line.startswith(("summary:", "totals:")))
    print(f"{args.op}: {ir / r['requests']:,.0f} instructions per request"
          f" ({r['requests']} requests; profile {worker})")
    own = self_costs(worker)
    print("where they go, per request (a function's own instructions, not its callees'):")
    for (obj, fn), n in sorted(own.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {n / r['requests']:9,.0f}  {100 * n / ir:5.1f} %  {fn}  ({os.path.basename(obj)})")


def self_costs(path):
    """{(object, function): instructions spent in the function itself} from a callgrind dump
    (written with --compress-strings=no).  A cost line that follows `calls=` is the call's
    inclusive cost and counts for the callee, not here; the rest are the function's own."""
    own, obj, fn, after_call = {}, "?", "?", False
    with open(path) as f:
        for line in f:
            if line.startswith("ob="):
                obj = line[3:].strip()
            elif line.startswith("fn="):
                fn, after_call = line[3:].strip(), False
            elif line.startswith("calls="):
                after_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) >= 2 and not after_call:
                    own[(obj, fn)] = own.get((obj, fn), 0) + int(parts[1])
                after_call = False
    return own


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["cpu", "side", "callgrind"])
    ap.add_argument("build")
    ap.add_argument("other", nargs="?", help="side: the build to set against BUILD")
    ap.add_argument("--op", default="mix", choices=["mix", "reads", "writes"] + run.OPS)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rate", type=float, help="an open loop at RATE requests/s in all (as"
                    " the bench's 100 req/s phase) instead of a closed one; also prints the"
                    " CPU share")
    ap.add_argument("--data", help="a copy of the x1 data to start from (e.g. with a schema"
                    " change applied), in place of var/bench's")
    ap.add_argument("--top", type=int, default=15, help="callgrind: how many functions to list")
    ap.add_argument("--rounds", type=int, default=5, help="side: how many times")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (profiles)")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="planner-probe-")
    try:
        {"cpu": cpu, "side": side, "callgrind": callgrind}[args.what](args, workdir)
    finally:
        if args.keep or args.what == "callgrind":
            print(f"work directory: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
