"""Regression: a request answered early by the Idempotency-Key check (422 for a key reused on
another request, 409 while the first runs) left its lookup statement open, so the thread's
database connection kept reading an old snapshot: rows committed afterwards by any other
connection (another thread or worker) were invisible to it until its next write."""
import sqlite3


def test_idempotency_refusal_does_not_pin_a_snapshot(make_server):
    s = make_server(workers=1, threads=1)  # every request on the one connection
    admin = s.admin_token()
    s.create_user(admin, "snap@example.org", "Snap")
    t = s.login("snap@example.org", "correct horse")
    cal = s.request("GET", "/api/v1/calendars", token=t).json()["items"][0]["id"]
    body = {"title": "a", "start": "2027-05-03T09:00:00Z", "end": "2027-05-03T10:00:00Z"}
    key = {"Idempotency-Key": "snapshot-regress"}
    assert s.request("POST", f"/api/v1/calendars/{cal}/events", token=t, json_body=body,
                     headers=key).status_code == 201
    r = s.request("POST", f"/api/v1/calendars/{cal}/events", token=t,
                  json_body=dict(body, title="b"), headers=key)
    assert r.status_code == 422, r.text
    # Another connection commits a room (as another worker would)...
    db = sqlite3.connect(s.db[len("sqlite:"):])
    with db:
        cur = db.execute("INSERT INTO rooms (name, capacity, created_at, updated_at)"
                         " VALUES ('Fresh', 4, 0, 0)")
    db.close()
    # ...and the server's connection sees it at once.
    r = s.request("GET", f"/api/v1/rooms/{cur.lastrowid}", token=t)
    assert r.status_code == 200, r.text


def test_one_statement_writes_beside_other_writers(make_server):
    """Regression: a write of one statement with no transaction of its own (marking
    notifications read, logging out) ran inside the request's read snapshot, and upgrading
    that to a write failed at once (503, "the database is busy") whenever another connection
    had committed since the request began: about 1 in 9 beside three busy writers."""
    import threading
    s = make_server()
    people = s.writers("w", 4)
    codes, lock = [], threading.Lock()

    def writer(token, cal, k):
        for i in range(60):
            body = {"title": "w", "start": f"2027-06-{1 + i % 28:02d}T{8 + k}:00:00Z",
                    "end": f"2027-06-{1 + i % 28:02d}T{8 + k}:30:00Z"}
            s.request("POST", f"/api/v1/calendars/{cal}/events", token=token, json_body=body)

    def marker(token):
        for _ in range(120):
            r = s.request("POST", "/api/v1/notifications/read-all", token=token, json_body={})
            with lock:
                codes.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(t, c, k)) for k, (t, c) in
               enumerate(people[:3])] + [threading.Thread(target=marker, args=(people[3][0],))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert codes and set(codes) == {204}, {c: codes.count(c) for c in set(codes)}
    # Logging out is such a write too.
    t = s.login("w3@example.org", "correct horse")
    assert s.request("POST", "/api/v1/auth/logout", token=t).status_code == 204
