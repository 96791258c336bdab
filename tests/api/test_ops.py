"""Operations endpoints and the headers every response carries (API.md "Operations")."""
import re
import time

import pytest
import requests

from conftest import assert_problem

# Label values are quoted and may hold braces (routes such as "GET /api/v1/events/{id}").
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
TIMING_RE = re.compile(r'(?:^|,\s*)db;dur=(\d+(?:\.\d+)?);desc="(\d+) queries"')


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(labels)): value}.  Every non-comment line
    must be a valid sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            if line.startswith("# TYPE"):
                assert len(line.split()) == 4, line
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not a Prometheus sample: {line!r}"
        labels = frozenset(LABEL_RE.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def scrape(server):
    r = server.request("GET", "/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    return r.text, parse_metrics(r.text)


def requests_total(samples, route, status):
    key = ("planner_http_requests_total",
           frozenset({("route", route), ("status", str(status))}))
    return samples.get(key, 0.0)


def wait_for_count(server, route, status, want, timeout=5.0):
    """Counters are bumped when a response completes, a hair after the client has it."""
    deadline = time.time() + timeout
    while True:
        got = requests_total(scrape(server)[1], route, status)
        if got >= want or time.time() > deadline:
            return got
        time.sleep(0.05)


def server_timing(r):
    h = r.headers.get("Server-Timing")
    assert h, (r.status_code, r.headers)
    m = TIMING_RE.search(h)
    assert m, h
    return float(m.group(1)), int(m.group(2))


def test_healthz(server):
    r = server.request("GET", "/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok"}


def test_healthz_head(server):
    r = requests.head(server.url("/healthz"), timeout=10)
    assert r.status_code == 200
    assert r.content == b""


def test_readyz(server):
    r = server.request("GET", "/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert isinstance(body["schema_version"], int) and body["schema_version"] >= 1
    assert body.get("database") == "sqlite"


def test_openapi_document(server):
    r = server.request("GET", "/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert isinstance(doc, dict)
    assert str(doc.get("openapi", "")).startswith("3.")
    assert "/api/v1/auth/login" in doc["paths"]
    assert "/api/v1/users/{id}" in doc["paths"]


def test_metrics_is_prometheus_text(server):
    text, samples = scrape(server)
    assert "# TYPE planner_http_requests_total counter" in text
    assert "# TYPE planner_http_request_duration_seconds histogram" in text
    assert text.endswith("\n")
    assert any(name == "planner_http_requests_total" for name, _ in samples)


def test_request_counter_counts_exactly(server):
    # The series exists from the first request on; wait for that request's own count, which
    # lands a hair after its answer (waiting for any count >= 1 could read the series before
    # it, when earlier tests had made it already, and count that request among the n).
    base = requests_total(scrape(server)[1], "GET /healthz", 200)
    server.request("GET", "/healthz")
    before = wait_for_count(server, "GET /healthz", 200, base + 1)
    n = 7
    for _ in range(n):
        assert server.request("GET", "/healthz").status_code == 200
    after = wait_for_count(server, "GET /healthz", 200, before + n)
    assert after == before + n


def test_request_counter_by_status(server, admin):
    before = requests_total(scrape(server)[1], "GET /api/v1/me", 401)
    ok_before = requests_total(scrape(server)[1], "GET /api/v1/me", 200)
    for _ in range(3):
        assert server.request("GET", "/api/v1/me").status_code == 401
    assert server.request("GET", "/api/v1/me", token=admin).status_code == 200
    assert wait_for_count(server, "GET /api/v1/me", 401, before + 3) == before + 3
    assert wait_for_count(server, "GET /api/v1/me", 200, ok_before + 1) == ok_before + 1


def test_unmatched_requests_are_counted_apart(server):
    before = requests_total(scrape(server)[1], "unmatched", 404)
    assert server.request("GET", "/no/such/thing").status_code == 404
    assert wait_for_count(server, "unmatched", 404, before + 1) == before + 1
    text, _ = scrape(server)
    assert "/no/such/thing" not in text  # paths never become label values


def test_latency_histogram(server):
    for _ in range(3):
        server.request("GET", "/readyz")
    wait_for_count(server, "GET /readyz", 200, 3)
    text, samples = scrape(server)
    route = ("route", "GET /readyz")
    buckets = sorted(
        ((float("inf") if dict(k[1])["le"] == "+Inf" else float(dict(k[1])["le"])), v)
        for k, v in samples.items()
        if k[0] == "planner_http_request_duration_seconds_bucket" and route in k[1])
    assert len(buckets) >= 2 and buckets[-1][0] == float("inf")
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    count = samples[("planner_http_request_duration_seconds_count", frozenset({route}))]
    total = samples[("planner_http_request_duration_seconds_sum", frozenset({route}))]
    assert count == buckets[-1][1] >= 3
    assert 0 < total < 60 * count


def test_process_metrics(server):
    _, samples = scrape(server)
    rss = samples[("process_resident_memory_bytes", frozenset())]
    assert rss > 1024 * 1024
    assert samples[("process_cpu_seconds_total", frozenset())] >= 0
    # conftest starts --workers 2: the master and two workers.
    assert samples[("planner_processes", frozenset())] == 3
    per_process = [v for (name, _), v in samples.items()
                   if name == "planner_process_resident_memory_bytes"]
    assert len(per_process) == 3 and all(v > 0 for v in per_process)


@pytest.mark.parametrize("method,path,auth,status", [
    ("GET", "/healthz", False, 200),
    ("GET", "/readyz", False, 200),
    ("GET", "/metrics", False, 200),
    ("GET", "/api/v1/openapi.json", False, 200),
    ("GET", "/api/v1/me", True, 200),
    ("GET", "/api/v1/users", True, 200),
    ("GET", "/api/v1/me", False, 401),
    ("GET", "/nowhere", False, 404),
    ("DELETE", "/healthz", False, 405),
    ("POST", "/api/v1/auth/logout", False, 401),
], ids=lambda v: str(v).replace("/", "_") if isinstance(v, str) else None)
def test_server_timing_on_every_response(server, admin, method, path, auth, status):
    r = server.request(method, path, token=admin if auth else None)
    assert r.status_code == status
    dur, queries = server_timing(r)
    assert dur >= 0 and queries >= 0
    # Milliseconds with exactly three decimals, the whole request no shorter than its queries.
    m = re.fullmatch(r'db;dur=(\d+\.\d{3});desc="\d+ queries", total;dur=(\d+\.\d{3})',
                     r.headers["Server-Timing"])
    assert m, r.headers["Server-Timing"]
    assert float(m.group(2)) >= float(m.group(1)), r.headers["Server-Timing"]


def test_server_timing_query_counts(server, admin):
    _, q_me = server_timing(server.request("GET", "/api/v1/me", token=admin))
    assert q_me > 0
    dur, q_health = server_timing(server.request("GET", "/healthz"))
    assert q_health == 0 and dur == 0
    _, q_list = server_timing(server.request("GET", "/api/v1/users", token=admin))
    assert q_list > 0


def test_request_id_echoed(server):
    r = server.request("GET", "/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    r = server.request("GET", "/api/v1/me", headers={"X-Request-Id": "trace.42:x_Y"})
    assert r.status_code == 401
    assert r.headers["X-Request-Id"] == "trace.42:x_Y"


@pytest.mark.parametrize("bad", ["x" * 200, "a b", "semi;colon", "quote\"d", "é-accent"],
                         ids=["200-chars", "space", "semicolon", "quote", "non-ascii"])
def test_request_id_replaced_when_malformed(server, bad):
    r = server.request("GET", "/healthz", headers={"X-Request-Id": bad.encode("utf-8")})
    rid = r.headers["X-Request-Id"]
    assert rid != bad
    assert re.fullmatch(r"[0-9a-f]{32}", rid), rid


def test_request_id_generated_and_unique(server):
    ids = {server.request("GET", "/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_problem_responses_carry_request_id(server):
    r = server.request("GET", "/nowhere", headers={"X-Request-Id": "find-me-1"})
    assert_problem(r, 404, "not-found")
    assert r.headers["X-Request-Id"] == "find-me-1"


def counts_over_agenda_reads(server, admin, email, event, names, enough):
    """A new user with one event reads their agenda's week twenty times; the growth of the
    /metrics counters `names` over the reads, waited for (workers add theirs once a second)
    until `enough` of it or 5 s."""
    server.create_user(admin, email, "Counted")
    token = server.login(email, "correct horse")
    cal = server.request("GET", "/api/v1/calendars", token=token).json()["items"][0]["id"]
    r = server.request("POST", f"/api/v1/calendars/{cal}/events", token=token, json_body=event)
    assert r.status_code == 201, r.text

    def counts():
        _, samples = scrape(server)
        return [samples[(name, frozenset())] for name in names]

    before = counts()
    week = {"from": event["start"][:8] + "01T00:00:00Z", "to": event["start"][:8] + "08T00:00:00Z"}
    for _ in range(20):
        r = server.request("GET", "/api/v1/me/agenda", token=token, params=week)
        assert r.status_code == 200, r.text
        assert [e["title"] for e in r.json()["items"]] == [event["title"]], r.text
    deadline = time.time() + 5
    while True:
        grown = [b - a for a, b in zip(before, counts())]
        if enough(*grown) or time.time() > deadline:
            return grown
        time.sleep(0.2)


def test_participant_list_counts(server, admin):
    """Each worker adds the participant lists it found in its cache and read from the
    database to /metrics (once a second): twenty agenda reads of one event, spread over two
    workers, are at least one read and nine finds."""
    found, read = counts_over_agenda_reads(
        server, admin, "ops-lists@example.org",
        {"title": "counted", "start": "2031-06-02T09:00:00Z", "end": "2031-06-02T10:00:00Z",
         "participants": [{"email": "guest@elsewhere.org"}]},
        ("planner_participant_lists_found_total", "planner_participant_lists_read_total"),
        lambda found, read: found >= 9 and read >= 1)
    assert found >= 9 and read >= 1, (found, read)


def test_page_cache_counts(server, admin):
    """Each worker adds the database pages its page cache found and read (page_cache_mb, on
    by default) to /metrics, once a second: agenda reads of a new event find pages that an
    earlier request read, in one worker or the other."""
    found, read = counts_over_agenda_reads(
        server, admin, "ops-pages@example.org",
        {"title": "paged", "start": "2031-07-02T09:00:00Z", "end": "2031-07-02T10:00:00Z"},
        ("planner_page_cache_found_total", "planner_page_cache_read_total"),
        lambda found, read: found >= 20)
    assert found >= 20 and read >= 0, (found, read)


def test_writer_lock_counts(server, admin):
    """/metrics counts the times every worker's writers took the one writer lock, and the time
    it was held: five new users are at least five transactions (a login writes
    a session too), and held time moves with them while reads move nothing."""
    def counts():
        _, samples = scrape(server)
        return (samples[("planner_writer_lock_taken_total", frozenset())],
                samples[("planner_writer_lock_held_seconds_total", frozenset())],
                samples[("planner_writer_lock_wait_seconds_total", frozenset())])

    n0, held0, wait0 = counts()
    for _ in range(5):
        assert server.request("GET", "/api/v1/me", token=admin).status_code == 200
    n1, held1, wait1 = counts()
    assert (n1, held1, wait1) == (n0, held0, wait0), "reads took the writer lock"
    for i in range(5):
        server.create_user(admin, f"ops-writer-{i}@example.org", "Writer")
    n2, held2, wait2 = counts()
    assert n2 - n1 >= 5, (n1, n2)
    assert held2 > held1 and wait2 >= wait1, (held1, held2, wait1, wait2)
