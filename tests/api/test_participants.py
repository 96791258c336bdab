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


def test_rsvp_changes_only_the_answerers_busy_time(server, admin):
    """An RSVP re-indexes only the answering user's claim on the occurrences (the series'
    and its overrides'); free/busy must follow it and nobody else's may move."""
    people = {}
    for name in ("org", "p1", "p2"):
        u = server.create_user(admin, f"rsvp-busy-{name}@example.org", name)
        people[name] = (u["id"], server.login(f"rsvp-busy-{name}@example.org", "correct horse"))
    org, org_token = people["org"]
    cal = server.request("GET", "/api/v1/calendars", token=org_token).json()["items"][0]["id"]
    r = server.request("POST", f"/api/v1/calendars/{cal}/events", token=org_token, json_body={
        "title": "weekly", "start": "2031-03-03T10:00:00Z", "end": "2031-03-03T11:00:00Z",
        "time_zone": "UTC", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"],
        "participants": [{"user_id": people["p1"][0]}, {"user_id": people["p2"][0]}]})
    assert r.status_code == 201, r.text
    series = r.json()["id"]
    r = server.request("PATCH", f"/api/v1/events/{series}/instances/2031-03-10T10:00:00Z",
                       token=org_token, json_body={"start": "2031-03-10T12:00:00Z",
                                                   "end": "2031-03-10T13:00:00Z"})
    assert r.status_code == 200, r.text
    starts = ["2031-03-03T10:00:00Z", "2031-03-10T12:00:00Z", "2031-03-17T10:00:00Z",
              "2031-03-24T10:00:00Z"]

    def busy():
        r = server.request("POST", "/api/v1/freebusy", token=org_token, json_body={
            "from": "2031-03-01T00:00:00Z", "to": "2031-03-31T00:00:00Z",
            "users": [people[n][0] for n in ("org", "p1", "p2")]})
        assert r.status_code == 200, r.text
        return {n: [(i["start"], i["status"]) for i in r.json()["users"][people[n][0]]]
                for n in ("org", "p1", "p2")}

    def answer(status):
        r = server.request("POST", f"/api/v1/events/{series}/rsvp", token=people["p1"][1],
                           json_body={"status": status})
        assert r.status_code == 200, r.text

    everyone_busy = [(s, "busy") for s in starts]
    before = busy()
    assert before["org"] == everyone_busy
    answer("declined")
    after = busy()
    assert after["p1"] == []
    assert after["org"] == before["org"] and after["p2"] == before["p2"]
    answer("tentative")
    assert busy()["p1"] == [(s, "tentative") for s in starts]
    answer("accepted")
    assert busy() == {"org": everyone_busy, "p1": everyone_busy, "p2": before["p2"]}
