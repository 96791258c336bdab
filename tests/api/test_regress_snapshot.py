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
