"""`planner import FILE.ics --calendar ID [--atomic]` (issue 4), black-box: the import is the
API's own (the calendar's owner imports), the result is JSON on stdout, exit 0 when every
VEVENT went in (or was already there), 1 when any could not or the import failed, 2 on usage
errors with a one-line reason; a progress line on stderr only when stderr is a terminal."""
import json
import os
import pty
import select
import subprocess
from datetime import date, timedelta

from conftest import ASAN, BIN
from helpers_events import CALENDARS, new_person
from test_import import events_by_uid, malformed, vcal, vevent

SLOW = 4 if ASAN else 1


def run(*args, stdin=None, env=None, timeout=60):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    e.update(env or {})
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True, env=e,
                       timeout=timeout * SLOW)
    if ASAN:
        err = p.stderr.decode(errors="replace")
        assert "Sanitizer" not in err and "runtime error:" not in err, err[-4000:]
    return p


def cli_import(server, calendar, path, *more):
    return run("import", str(path), "--calendar", str(calendar), "--database", server.db, *more)


def result(p):
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 1, p.stdout
    return json.loads(lines[0])


def usage_error(p, *words):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.decode().strip().splitlines()
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert p.stdout == b""


def sample(n=5, prefix="cli"):
    day = lambda i: (date(2033, 4, 1) + timedelta(days=i)).strftime("%Y%m%d")  # noqa: E731
    return vcal(*[vevent(f"{prefix}-{i}@ext", f"{day(i)}T090000Z", f"{day(i)}T100000Z",
                         f"CLI event {i}", "X-CLI:kept") for i in range(n)])


def test_cli_import_then_the_api_lists_the_events(server, admin, tmp_path):
    person = new_person(server, admin, "cliimp")
    f = tmp_path / "in.ics"
    f.write_bytes(sample())
    p = cli_import(server, person.calendar, f)
    assert p.returncode == 0, p.stderr
    assert result(p) == {"imported": 5, "updated": 0, "skipped": 0, "errors": []}
    assert b"writing" not in p.stderr  # no terminal, no progress line
    evs = events_by_uid(server, person)
    assert sorted(evs) == [f"cli-{i}@ext" for i in range(5)]
    # The calendar's owner imported: they organise, as if they had posted the file.
    assert {e["organizer_id"] for e in evs.values()} == {person.id}
    # Re-running changes nothing.
    p = cli_import(server, person.calendar, f)
    assert p.returncode == 0, p.stderr
    assert result(p) == {"imported": 0, "updated": 0, "skipped": 5, "errors": []}
    assert events_by_uid(server, person) == evs
    # And the HTTP export re-imports as nothing new, from the CLI too.
    r = server.request("GET", f"{CALENDARS}/{person.calendar}/export.ics", token=person.token)
    (tmp_path / "out.ics").write_bytes(r.content)
    p = cli_import(server, person.calendar, tmp_path / "out.ics")
    assert p.returncode == 0 and result(p)["skipped"] == 5, p.stdout
    # The export through the CLI is the same text.
    p = run("export", "--calendar", person.calendar, "--database", server.db)
    assert p.returncode == 0 and p.stdout == r.content


def test_cli_import_from_stdin(server, admin):
    person = new_person(server, admin, "clistdin")
    p = run("import", "-", "--calendar", person.calendar, "--database", server.db,
            stdin=sample(3, "stdin"))
    assert p.returncode == 0, p.stderr
    assert result(p)["imported"] == 3


def test_cli_import_errors_and_atomic(server, admin, tmp_path):
    person = new_person(server, admin, "clibad")
    f = tmp_path / "bad.ics"
    f.write_bytes(malformed())
    p = cli_import(server, person.calendar, f, "--atomic")
    assert p.returncode == 1, p.stderr
    res = result(p)
    assert (res["imported"], res["updated"], len(res["errors"])) == (0, 0, 4)
    assert all(isinstance(e["line"], int) for e in res["errors"])
    assert "atomic" in p.stderr.decode()
    assert events_by_uid(server, person) == {}
    p = cli_import(server, person.calendar, f)
    assert p.returncode == 1, p.stderr  # some VEVENTs could not be imported
    res = result(p)
    assert (res["imported"], len(res["errors"])) == (2, 4)
    assert set(events_by_uid(server, person)) == {"good-1@ext", "good-2@ext"}


def test_cli_import_failures_exit_1(server, admin, tmp_path):
    person = new_person(server, admin, "clifail")
    f = tmp_path / "ok.ics"
    f.write_bytes(sample(1, "fail"))
    p = cli_import(server, 999999, f)
    assert p.returncode == 1 and b"no such calendar" in p.stderr, p.stderr
    p = cli_import(server, person.calendar, tmp_path / "missing.ics")
    assert p.returncode == 1 and b"missing.ics" in p.stderr, p.stderr
    (tmp_path / "junk.ics").write_bytes(b"this is not a calendar\n")
    p = cli_import(server, person.calendar, tmp_path / "junk.ics")
    assert p.returncode == 1 and p.stdout == b"", (p.stdout, p.stderr)
    # Over 1 GiB: refused before reading (a sparse file costs no disk).
    big = tmp_path / "big.ics"
    with open(big, "wb") as fh:
        fh.truncate((1 << 30) + 1)
    p = cli_import(server, person.calendar, big)
    assert p.returncode == 1 and b"1 GiB" in p.stderr, p.stderr
    assert events_by_uid(server, person) == {}


def test_cli_import_usage_errors_exit_2(server, tmp_path):
    f = tmp_path / "x.ics"
    f.write_bytes(sample(1, "usage"))
    usage_error(run("import", str(f), "--calendar", "1", "--frobnicate", "--database", server.db),
                "--frobnicate")
    usage_error(run("import", str(f), "--database", server.db), "--calendar")
    usage_error(run("import", "--calendar", "1", "--database", server.db), "FILE")
    usage_error(run("import", str(f), str(f), "--calendar", "1", "--database", server.db),
                str(f))
    usage_error(run("import", str(f), "--calendar", "abc", "--database", server.db), "--calendar",
                "abc")
    usage_error(run("import", str(f), "--calendar"), "calendar")
    usage_error(run("import", str(f), "--calendar", "1", "--workers", "x", "--database",
                    server.db), "workers")
    p = run("import", "--help")
    assert p.returncode == 0 and b"--calendar" in p.stdout and b"--atomic" in p.stdout
    p = run("--help")
    assert p.returncode == 0 and b"import" in p.stdout


def test_cli_import_shows_progress_on_a_terminal(server, admin, tmp_path):
    person = new_person(server, admin, "clitty")
    f = tmp_path / "tty.ics"
    f.write_bytes(sample(50, "tty"))
    master, slave = pty.openpty()
    e = {k: v for k, v in os.environ.items() if not k.startswith("PLANNER_")}
    proc = subprocess.Popen([BIN, "import", str(f), "--calendar", person.calendar, "--database",
                             server.db], stdout=subprocess.PIPE, stderr=slave, env=e)
    os.close(slave)
    seen = b""
    while True:
        r, _, _ = select.select([master], [], [], 30 * SLOW)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=30 * SLOW)
    os.close(master)
    assert proc.returncode == 0, seen
    assert json.loads(out)["imported"] == 50
    text = seen.decode(errors="replace")
    assert "parsing 50 VEVENTs" in text, text
    assert "writing [" in text and "50/50 100%" in text, text
    assert "imported 50, updated 0, skipped 0, 0 errors" in text, text
