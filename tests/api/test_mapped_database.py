"""`--sqlite-mmap-mb`: the workers read the database file through a mapping that they keep from
one request to the next, and still see every commit of every other connection at once."""
import threading


def mapped_by(pid, path):
    """Whether process `pid` has the file `path` mapped."""
    with open(f"/proc/{pid}/maps") as f:
        return any(line.rstrip().endswith(path) for line in f)


def children(s):
    pid = s.proc.pid
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def test_mapped_workers_read_every_commit_at_once(make_server):
    s = make_server(args=("--sqlite-mmap-mb", "64"), workers=2, threads=2)
    people = s.writers("m", 3)
    rng = {"from": "2027-03-01T00:00:00Z", "to": "2027-04-01T00:00:00Z"}
    missing, failures, lock = [], [], threading.Lock()

    def writer(token, cal, k):
        """Each create, then at once the agenda (on whichever connection): it has the event."""
        for i in range(40):
            day = 1 + i % 28
            at = f"2027-03-{day:02d}T{8 + k:02d}"
            body = {"title": f"m{k}-{i}", "start": f"{at}:{i % 4 * 15:02d}:00Z",
                    "end": f"{at}:{i % 4 * 15 + 10:02d}:00Z"}
            r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=token, json_body=body)
            a = s.request("GET", "/api/v1/me/agenda", token=token,
                          params=dict(rng, limit="1000"))
            with lock:
                if r.status_code != 201 or a.status_code != 200:
                    failures.append((r.status_code, a.status_code, a.text[:200]))
                elif r.json()["id"] not in {o["event_id"] for o in a.json()["items"]}:
                    missing.append(body["title"])

    threads = [threading.Thread(target=writer, args=(t, c, k))
               for k, (t, c) in enumerate(people)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    assert missing == [], "an agenda read after the create did not show it"
    path = s.db[len("sqlite:"):]
    workers = children(s)
    assert len(workers) == 2
    assert all(mapped_by(p, path) for p in workers), "a worker does not map the database"
    for token, _ in people:
        items = s.request("GET", "/api/v1/me/agenda", token=token,
                          params=dict(rng, limit="1000")).json()["items"]
        assert len(items) == 40


def test_without_the_setting_nothing_is_mapped(make_server):
    s = make_server(workers=1, threads=1)
    admin = s.admin_token()
    assert s.request("GET", "/api/v1/users", token=admin).status_code == 200
    path = s.db[len("sqlite:"):]
    assert not any(mapped_by(p, path) for p in children(s))
