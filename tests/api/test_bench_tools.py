"""The benchmark's own tools against a real server (bench/README.md): planner-seed makes the
W200 data set, bench/run.py logs its users in and writes the driver's plan, and planner-load
drives the mix, its reads alone and its writes alone.  `make bench` is not part of `make
test`; this keeps what it stands on from breaking unseen: every answer must be one the mix
expects, and each part must draw only its own operations."""
import json
import os
import subprocess
import sys

import pytest

from conftest import Server, assert_sanitizer_clean

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import run  # noqa: E402  (bench/run.py: the plan and the data set's users)

SEED = os.path.join(ROOT, "build", "planner-seed")
LOAD = os.path.join(ROOT, "build", "planner-load")
READS = {"agenda", "room_bookings", "freebusy", "find_time", "notifications"}
WRITES = {"create", "rsvp", "update", "delete"}


@pytest.fixture(scope="module")
def bench_server(tmp_path_factory):
    for tool in (SEED, LOAD):
        assert os.access(tool, os.X_OK), f"{tool} is missing: `make test` builds it"
    d = tmp_path_factory.mktemp("bench")
    seeded = subprocess.run([SEED, "--database", f"sqlite:{d}/planner.db", "--scale", "1",
                             "--seed", str(run.SEED), "--now", run.NOW],
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    assert json.loads(seeded.stdout.splitlines()[-1])["users"] == 200
    s = Server(d).start()
    plan = str(d / "plan.json")
    run.make_plan(s.base, s.port, run.bench_users(1, n=8), plan)
    run.first_write(s.base, plan)  # extends the series to today's horizon, as the bench does
    yield s, plan
    assert s.stop() == 0, s.stderr()[-4000:]
    assert_sanitizer_clean(s)


def drive(plan, out, only=None):
    """planner-load for a second and a half at 4 connections: its JSON report."""
    cmd = [LOAD, "--plan", plan, "--connections", "4", "--duration", "1.5", "--warmup", "0",
           "--out", out] + (["--only", only] if only else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        report = json.load(f)
    assert report["requests"] > 0
    assert report["unexpected"] == 0, r.stderr
    return {op: o["count"] for op, o in report["ops"].items() if o["count"]}


def test_the_reads_draw_the_five_reads_in_the_mix_proportions(bench_server, tmp_path):
    _, plan = bench_server
    counts = drive(plan, str(tmp_path / "reads.json"), "reads")
    assert set(counts) == READS
    # 45 of the reads' 80: 56 %; a weight table read past its end would draw writes instead.
    share = counts["agenda"] / sum(counts.values())
    assert 0.45 < share < 0.67, counts


def test_the_writes_draw_only_writes(bench_server, tmp_path):
    _, plan = bench_server
    counts = drive(plan, str(tmp_path / "writes.json"), "writes")
    # An RSVP without invitations left falls back to the notifications, as in the mix.
    assert not set(counts) - WRITES - {"notifications"}, counts
    assert {"create", "rsvp", "update", "delete"} <= set(counts), counts
    assert counts.get("notifications", 0) < counts["rsvp"], counts


def test_the_whole_mix_draws_reads_and_writes(bench_server, tmp_path):
    _, plan = bench_server
    counts = drive(plan, str(tmp_path / "mix.json"))
    assert set(counts) == READS | WRITES, counts
    share = counts["agenda"] / sum(counts.values())
    assert 0.35 < share < 0.55, counts


def test_an_unknown_part_is_refused(bench_server, tmp_path):
    _, plan = bench_server
    r = subprocess.run([LOAD, "--plan", plan, "--connections", "1", "--duration", "1",
                        "--out", str(tmp_path / "x.json"), "--only", "everything"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "reads or writes" in r.stderr
