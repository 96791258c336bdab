"""A participant invited by the e-mail address of a registered user becomes that user: they see
the event, get the invitation and can answer it."""


def test_email_of_a_user_is_that_user(server, admin):
    org = server.create_user(admin, "pm-org@example.org", "Org")
    guest = server.create_user(admin, "pm-guest@example.org", "Guest")
    to = server.login("pm-org@example.org", "correct horse")
    tg = server.login("pm-guest@example.org", "correct horse")
    cal = server.request("GET", "/api/v1/calendars", token=to).json()["items"][0]["id"]
    r = server.request("POST", f"/api/v1/calendars/{cal}/events", token=to, json_body={
        "title": "by mail", "start": "2027-01-05T10:00:00Z", "end": "2027-01-05T11:00:00Z",
        "visibility": "private",
        "participants": [{"email": "PM-Guest@Example.org"}, {"email": "outsider@elsewhere.org"}]})
    assert r.status_code == 201, r.text
    ev = r.json()
    people = {p["email"]: p for p in ev["participants"]}
    assert people["pm-guest@example.org"]["user_id"] == guest["id"]
    assert people["pm-guest@example.org"]["name"] == "Guest"
    assert people["outsider@elsewhere.org"]["user_id"] is None
    assert server.request("GET", f"/api/v1/events/{ev['id']}", token=tg).json()["title"] == "by mail"
    inv = server.request("GET", "/api/v1/notifications", token=tg).json()["items"]
    assert [n["type"] for n in inv if n["event_id"] == ev["id"]] == ["invitation"]
    assert server.request("POST", f"/api/v1/events/{ev['id']}/rsvp", token=tg,
                          json_body={"status": "accepted"}).status_code == 200
    assert org["id"] != guest["id"]
