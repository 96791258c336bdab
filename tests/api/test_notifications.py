"""Notifications (API.md "Notifications", issue 3): who hears of what (invitation, update,
cancellation, rsvp, reminder; never the actor), reminders scheduled at start - minutes for the
owner and the participants who have not declined, the due-only newest-first listing, reading
them, and the rule that a refused write leaves no notification behind."""
import time
from datetime import timedelta

import pytest

from conftest import assert_problem
from helpers_events import (CALENDARS, NOTIFICATIONS, Snapshot, create_event, db_counts,
                            db_notifications, db_rows, delete_event, event_body, micros,
                            new_person, new_room, notes_for, notifications, now_utc,
                            patch_event, post_event, rfc3339, slot, utc)


@pytest.fixture
def team(server, admin):
    """Four fresh people per test, so that each test reads only its own notifications."""
    return [new_person(server, admin, name) for name in ("org", "bee", "cee", "dee")]


def rsvp(server, person, event_id, status):
    r = server.request("POST", f"/api/v1/events/{event_id}/rsvp", token=person.token,
                       json_body={"status": status})
    assert r.status_code == 200, r.text
    return r.json()


def types(server, person, event_id=None):
    """The types of a person's due notifications, newest first."""
    return [n["type"] for n in notes_for(server, person, event_id)]


def mark_read(server, person, nid):
    return server.request("POST", f"{NOTIFICATIONS}/{nid}/read", token=person.token)


def share(server, owner, who, role):
    r = server.request("PUT", f"{CALENDARS}/{owner.calendar}/shares/{who.id}",
                       token=owner.token, json_body={"role": role})
    assert r.status_code in (200, 201, 204), r.text


# --- who hears what


def test_invitations_go_to_participants_not_the_actor(server, team):
    org, bee, cee, _ = team
    s, e = slot()
    ev = create_event(server, org, s, e, title="Kick-off",
                      participants=[{"user_id": bee.id}, {"user_id": cee.id},
                                    {"email": "outsider@example.net"}])
    assert types(server, org) == []
    for p in (bee, cee):
        notes = notes_for(server, p)
        assert [n["type"] for n in notes] == ["invitation"]
        n = notes[0]
        assert n["event_id"] == ev["id"] and n["read_at"] is None
        assert isinstance(n["id"], str) and n["id"]
        assert utc(n["created_at"]) <= utc(n["scheduled_for"]) + timedelta(seconds=1)
        assert utc(n["scheduled_for"]) <= now_utc() + timedelta(seconds=2)
        assert n["payload"]["title"] == "Kick-off"
        assert (n["payload"]["start"], n["payload"]["end"]) == (ev["start"], ev["end"])
        assert n["payload"]["actor_id"] == org.id


def test_changes_notify_everyone_else_with_update(server, team):
    org, bee, cee, _ = team
    s, e = slot()
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}, {"user_id": cee.id}])
    r = patch_event(server, org, ev["id"], {"title": "Moved", "start": rfc3339(s + timedelta(
        hours=1))}, etag=ev["etag"])
    assert r.status_code == 200, r.text
    assert types(server, org) == []
    for p in (bee, cee):
        assert types(server, p, ev["id"]) == ["update", "invitation"]
        upd = notes_for(server, p, ev["id"], "update")[0]
        assert upd["payload"]["title"] == "Moved"
        assert upd["payload"]["start"] == rfc3339(s + timedelta(hours=1))


def test_a_writer_changing_the_event_notifies_the_organizer(server, team):
    org, bee, cee, _ = team
    share(server, org, bee, "write")
    s, e = slot()
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}, {"user_id": cee.id}])
    r = patch_event(server, bee, ev["id"], {"location": "Room 7"})
    assert r.status_code == 200, r.text
    assert types(server, org, ev["id"]) == ["update"]
    assert notes_for(server, org, ev["id"])[0]["payload"]["actor_id"] == bee.id
    assert types(server, cee, ev["id"]) == ["update", "invitation"]
    assert types(server, bee, ev["id"]) == ["invitation"]  # nothing for their own change


def test_participant_changes(server, team):
    org, bee, cee, dee = team
    s, e = slot()
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}, {"user_id": cee.id}])
    r = patch_event(server, org, ev["id"], {"participants": [{"user_id": bee.id},
                                                             {"user_id": dee.id}]})
    assert r.status_code == 200, r.text
    assert types(server, cee, ev["id"]) == ["cancellation", "invitation"]  # removed
    assert types(server, dee, ev["id"]) == ["invitation"]                  # added
    assert types(server, bee, ev["id"]) == ["update", "invitation"]        # stays
    assert types(server, org, ev["id"]) == []


def test_deleting_sends_cancellations(server, team):
    org, bee, cee, _ = team
    s, e = slot()
    ev = create_event(server, org, s, e, title="Doomed",
                      participants=[{"user_id": bee.id}, {"user_id": cee.id}])
    assert delete_event(server, org, ev["id"], etag=ev["etag"]).status_code == 204
    for p in (bee, cee):
        notes = notes_for(server, p, ev["id"])
        assert [n["type"] for n in notes] == ["cancellation", "invitation"]
        assert notes[0]["payload"]["title"] == "Doomed"  # a snapshot: the event is gone
    assert types(server, org) == []


def test_cancelling_sends_cancellations_once(server, team):
    org, bee, _, _ = team
    s, e = slot()
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}])
    r = patch_event(server, org, ev["id"], {"status": "cancelled"})
    assert r.status_code == 200, r.text
    assert types(server, bee, ev["id"]) == ["cancellation", "invitation"]
    # Deleting the already cancelled event tells nobody again.
    assert delete_event(server, org, ev["id"]).status_code == 204
    assert types(server, bee, ev["id"]) == ["cancellation", "invitation"]


def test_rsvp_notifies_the_organizer(server, team):
    org, bee, cee, _ = team
    s, e = slot()
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}, {"user_id": cee.id}])
    rsvp(server, bee, ev["id"], "accepted")
    rsvp(server, cee, ev["id"], "declined")
    notes = notes_for(server, org, ev["id"])
    assert [(n["type"], n["payload"]["status"], n["payload"]["actor_id"]) for n in notes] == [
        ("rsvp", "declined", cee.id), ("rsvp", "accepted", bee.id)]
    assert types(server, bee, ev["id"]) == ["invitation"]
    assert types(server, cee, ev["id"]) == ["invitation"]
    # The organizer answering their own event notifies nobody.
    rsvp(server, org, ev["id"], "tentative")
    assert len(notes_for(server, org, ev["id"])) == 2


def test_the_same_answer_again_changes_nothing(server, team):
    """An answer given again is no news: the organizer hears of it once, the event keeps its
    version (its ETag) and the answerer's reminders stay.  Another answer is news again;
    tentative keeps the reminders as accepted does."""
    org, bee, _, _ = team
    s, e = slot(10, 60)
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}],
                      reminders=[{"minutes_before": 10}])
    want = [(micros(s - timedelta(minutes=10)), 10)]

    def etag():
        r = server.request("GET", f"/api/v1/events/{ev['id']}", token=org.token)
        assert r.status_code == 200, r.text
        return r.json()["etag"]

    def heard():
        return [(n["type"], n["payload"]["status"]) for n in notes_for(server, org, ev["id"])]

    first = rsvp(server, bee, ev["id"], "accepted")
    answered = etag()
    assert answered != ev["etag"]
    assert rsvp(server, bee, ev["id"], "accepted") == first
    assert heard() == [("rsvp", "accepted")]
    assert etag() == answered
    assert reminder_rows(server, bee, ev["id"]) == want
    assert rsvp(server, bee, ev["id"], "tentative")["status"] == "tentative"
    assert heard() == [("rsvp", "tentative"), ("rsvp", "accepted")]
    assert etag() != answered
    assert reminder_rows(server, bee, ev["id"]) == want


# --- reminders


def reminder_rows(server, person, event_id):
    return sorted((sched, int(detail)) for t, sched, detail, _ in
                  db_notifications(server, person.id, event_id) if t == "reminder")


def test_reminders_are_scheduled_for_owner_and_non_decliners(server, team):
    org, bee, cee, dee = team
    s, e = slot(10, 60)
    ev = create_event(server, org, s, e, participants=[
        {"user_id": bee.id}, {"user_id": cee.id}, {"user_id": dee.id},
        {"email": "outsider@example.net"}], reminders=[{"minutes_before": 10},
                                                      {"minutes_before": 1440}])
    assert sorted(r["minutes_before"] for r in ev["reminders"]) == [10, 1440]
    want = sorted([(micros(s - timedelta(minutes=10)), 10),
                   (micros(s - timedelta(minutes=1440)), 1440)])
    for p in (org, bee, cee, dee):
        assert reminder_rows(server, p, ev["id"]) == want, p
        # Not due: the listing does not show them.
        assert "reminder" not in types(server, p, ev["id"])
    rsvp(server, dee, ev["id"], "declined")
    rsvp(server, cee, ev["id"], "tentative")
    assert reminder_rows(server, dee, ev["id"]) == []
    for p in (org, bee, cee):
        assert reminder_rows(server, p, ev["id"]) == want, p
    rsvp(server, dee, ev["id"], "accepted")
    assert reminder_rows(server, dee, ev["id"]) == want


def weekly_series(server, org, guest, first, count=3):
    """A weekly series of `org`'s at 10:00 UTC from `first` (YYYY-MM-DD), `count` times, with
    `guest`, reminded 10 minutes ahead: its id."""
    r = server.request("POST", f"{CALENDARS}/{org.calendar}/events", token=org.token, json_body={
        "title": "weekly", "start": f"{first}T10:00:00Z", "end": f"{first}T11:00:00Z",
        "time_zone": "UTC", "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
        "participants": [{"user_id": guest.id}], "reminders": [{"minutes_before": 10}]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def move_occurrence(server, org, series, day, hour=12):
    """Move the occurrence of `series` on `day` (YYYY-MM-DD) from 10:00 to `hour`."""
    r = server.request("PATCH", f"/api/v1/events/{series}/instances/{day}T10:00:00Z",
                       token=org.token, json_body={"start": f"{day}T{hour}:00:00Z",
                                                   "end": f"{day}T{hour + 1}:00:00Z"})
    assert r.status_code == 200, r.text


def test_a_moved_occurrence_is_reminded_at_its_time_and_follows_the_series(server, team):
    """A moved occurrence (an override, an event of its own) is reminded at its new time, with
    the series' reminders, and the series' reminder of the time it left goes (it stayed, and
    the moved one had none).  Declining the series declines it too, so its reminders go with
    the series' and come back with an acceptance; new reminders of the series are its too."""
    org, bee, _, _ = team
    series = weekly_series(server, org, bee, "2031-03-03")
    move_occurrence(server, org, series, "2031-03-10")

    def reminders(person):
        return sorted(at for t, at, _, _ in db_notifications(server, person.id) if t == "reminder")

    want = sorted(micros(utc(f"2031-03-{d:02d}T{h}:00:00Z") - timedelta(minutes=10))
                  for d, h in ((3, 10), (10, 12), (17, 10)))
    assert reminders(bee) == want and reminders(org) == want
    rsvp(server, bee, series, "declined")
    assert reminders(bee) == []
    assert reminders(org) == want
    rsvp(server, bee, series, "accepted")
    assert reminders(bee) == want
    # The series' reminders are the moved occurrence's too.
    r = server.request("PATCH", f"/api/v1/events/{series}", token=org.token,
                       json_body={"reminders": [{"minutes_before": 30}]})
    assert r.status_code == 200, r.text
    want = sorted(micros(utc(f"2031-03-{d:02d}T{h}:00:00Z") - timedelta(minutes=30))
                  for d, h in ((3, 10), (10, 12), (17, 10)))
    assert reminders(bee) == want and reminders(org) == want
    # Moving it again moves its reminder.
    r = server.request("PATCH", f"/api/v1/events/{series}/instances/2031-03-10T10:00:00Z",
                       token=org.token, json_body={"start": "2031-03-10T14:00:00Z",
                                                   "end": "2031-03-10T15:00:00Z"})
    assert r.status_code == 200, r.text
    want[1] = micros(utc("2031-03-10T14:00:00Z") - timedelta(minutes=30))
    assert reminders(bee) == sorted(want)


def test_a_moved_occurrence_takes_its_reminders_when_it_goes(server, team):
    """An override's reminders go with it: when the occurrence is deleted, when the series'
    new rule no longer has it, and when the series is deleted."""
    org, bee, _, _ = team

    def reminded(person):
        return sorted(datetime_of(at + 10 * 60_000_000) for t, at, _, _
                      in db_notifications(server, person.id) if t == "reminder")

    series = weekly_series(server, org, bee, "2031-03-03")
    move_occurrence(server, org, series, "2031-03-10")
    move_occurrence(server, org, series, "2031-03-17")
    assert reminded(bee) == ["03-03 10:00", "03-10 12:00", "03-17 12:00"]
    r = server.request("DELETE", f"/api/v1/events/{series}/instances/2031-03-10T10:00:00Z",
                       token=org.token)
    assert r.status_code == 204, r.text
    assert reminded(bee) == ["03-03 10:00", "03-17 12:00"]
    r = server.request("PATCH", f"/api/v1/events/{series}", token=org.token,
                       json_body={"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"]})
    assert r.status_code == 200, r.text
    # The new rule has no EXDATE: 03-10 is back, at its time; the override of 03-17 is gone.
    assert reminded(bee) == ["03-03 10:00", "03-10 10:00"]
    move_occurrence(server, org, series, "2031-03-10")
    assert reminded(bee) == ["03-03 10:00", "03-10 12:00"]
    assert server.request("DELETE", f"/api/v1/events/{series}", token=org.token
                          ).status_code == 204
    assert reminded(bee) == [] and reminded(org) == []


def test_occurrences_made_past_the_horizon_get_their_reminders(make_server):
    """A series is expanded a horizon ahead (30 days here) and extended as time or a read
    reaches further; the occurrences an extension makes get their reminders like the first
    ones (they had none: a weekly meeting stopped reminding once it outlived its horizon)."""
    s = make_server(args=("--recurrence-horizon-days", "30"), workers=1, threads=1)
    admin = s.admin_token()
    org, bee = new_person(s, admin, "org"), new_person(s, admin, "bee")
    start = now_utc().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    r = s.request("POST", f"{CALENDARS}/{org.calendar}/events", token=org.token, json_body={
        "title": "weekly", "start": rfc3339(start), "end": rfc3339(start + timedelta(hours=1)),
        "time_zone": "UTC", "recurrence": ["RRULE:FREQ=WEEKLY"],
        "participants": [{"user_id": bee.id}], "reminders": [{"minutes_before": 15}]})
    assert r.status_code == 201, r.text
    series = r.json()["id"]

    def occurrences():
        return [at for (at,) in db_rows(s, "SELECT starts_at FROM event_instances"
                                           " WHERE event_id = ? ORDER BY starts_at", (int(series),))]

    def reminded(person):
        return sorted(at + 15 * 60_000_000 for t, at, _, _
                      in db_notifications(s, person.id, series) if t == "reminder")

    few = reminded(bee)
    assert 4 <= len(few) <= 12 and few == occurrences()  # 30 days ahead and the slack
    # Reading 300 days ahead extends the series; every occurrence is reminded.
    r = s.request("GET", f"{CALENDARS}/{org.calendar}/events", token=org.token,
                  params={"from": rfc3339(start), "to": rfc3339(start + timedelta(days=300))})
    assert r.status_code == 200, r.text
    starts = occurrences()
    assert len(starts) >= 42 and starts[:len(few)] == few
    assert reminded(bee) == starts and reminded(org) == starts


def test_a_cancelled_series_takes_its_moved_occurrences_with_it(server, team):
    """Cancelling a series cancels its moved occurrences too: they stayed confirmed, kept
    their people busy and reminded them.  Restoring the series leaves them cancelled."""
    org, bee, _, _ = team
    series = weekly_series(server, org, bee, "2031-04-07")
    move_occurrence(server, org, series, "2031-04-14")
    april = {"from": "2031-04-01T00:00:00Z", "to": "2031-05-01T00:00:00Z"}

    def agenda():
        r = server.request("GET", "/api/v1/me/agenda", token=bee.token, params=april)
        assert r.status_code == 200, r.text
        return [(o["start"][5:16], o["status"]) for o in r.json()["items"]]

    def busy():
        r = server.request("POST", "/api/v1/freebusy", token=org.token,
                           json_body={**april, "users": [bee.id]})
        assert r.status_code == 200, r.text
        return [i["start"][5:16] for i in r.json()["users"][bee.id]]

    def reminders():
        return [t for t, _, _, _ in db_notifications(server, bee.id) if t == "reminder"]

    assert busy() == ["04-07T10:00", "04-14T12:00", "04-21T10:00"] and len(reminders()) == 3
    r = server.request("PATCH", f"/api/v1/events/{series}", token=org.token,
                       json_body={"status": "cancelled"})
    assert r.status_code == 200, r.text
    assert agenda() == [("04-07T10:00", "cancelled"), ("04-14T12:00", "cancelled"),
                        ("04-21T10:00", "cancelled")]
    assert busy() == [] and reminders() == []
    r = server.request("PATCH", f"/api/v1/events/{series}", token=org.token,
                       json_body={"status": "confirmed"})
    assert r.status_code == 200, r.text
    assert agenda() == [("04-07T10:00", "confirmed"), ("04-14T12:00", "cancelled"),
                        ("04-21T10:00", "confirmed")]
    assert busy() == ["04-07T10:00", "04-21T10:00"] and len(reminders()) == 2


def datetime_of(us):
    """'MM-DD HH:MM' (UTC) of an instant in microseconds."""
    return time.strftime("%m-%d %H:%M", time.gmtime(us // 1_000_000))


def test_reminders_follow_the_event(server, team):
    org, bee, _, _ = team
    s, e = slot(10, 60)
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}],
                      reminders=[{"minutes_before": 30}])
    later = s + timedelta(hours=2)
    assert patch_event(server, org, ev["id"], {"start": rfc3339(later)}).status_code == 200
    for p in (org, bee):
        assert reminder_rows(server, p, ev["id"]) == [(micros(later - timedelta(minutes=30)),
                                                       30)]
    assert patch_event(server, org, ev["id"], {"reminders": [{"minutes_before": 5}]}
                       ).status_code == 200
    for p in (org, bee):
        assert reminder_rows(server, p, ev["id"]) == [(micros(later - timedelta(minutes=5)), 5)]
    # Cancelling drops them; deleting too.
    assert patch_event(server, org, ev["id"], {"status": "cancelled"}).status_code == 200
    assert reminder_rows(server, org, ev["id"]) == []
    assert reminder_rows(server, bee, ev["id"]) == []
    ev2 = create_event(server, org, s, e, reminders=[{"minutes_before": 15}])
    assert len(reminder_rows(server, org, ev2["id"])) == 1
    assert delete_event(server, org, ev2["id"]).status_code == 204
    assert reminder_rows(server, org, ev2["id"]) == []


def test_the_calendar_owner_gets_reminders_when_someone_else_organizes(server, team):
    org, bee, cee, _ = team
    share(server, org, bee, "write")
    s, e = slot()
    r = post_event(server, bee, event_body(s, e, participants=[{"user_id": cee.id}],
                                           reminders=[{"minutes_before": 20}]),
                   calendar=org.calendar)
    assert r.status_code == 201, r.text
    ev = r.json()
    want = [(micros(s - timedelta(minutes=20)), 20)]
    assert reminder_rows(server, org, ev["id"]) == want   # the owner
    assert reminder_rows(server, bee, ev["id"]) == want   # the organizer (a participant)
    assert reminder_rows(server, cee, ev["id"]) == want


def soon(minutes_from_now, length=30):
    start = now_utc() + timedelta(minutes=minutes_from_now)
    return start, start + timedelta(minutes=length)


def test_due_reminders_are_listed(server, team):
    org, bee, cee, _ = team
    s, e = soon(20)
    ev = create_event(server, org, s, e, title="Soon",
                      participants=[{"user_id": bee.id}, {"user_id": cee.id}],
                      reminders=[{"minutes_before": 30}, {"minutes_before": 10}])
    rsvp(server, cee, ev["id"], "declined")
    for p in (org, bee):
        rem = notes_for(server, p, ev["id"], "reminder")
        assert len(rem) == 1, rem  # the 30-minute one is due; the 10-minute one is not yet
        n = rem[0]
        assert n["scheduled_for"] == rfc3339(s - timedelta(minutes=30))
        assert n["payload"]["minutes_before"] == 30 and n["payload"]["title"] == "Soon"
        assert (n["payload"]["start"], n["payload"]["end"]) == (ev["start"], ev["end"])
        assert n["read_at"] is None
    assert notes_for(server, cee, ev["id"], "reminder") == []


def test_a_reminder_appears_when_due_and_lists_first(server, team):
    """A reminder is hidden until its time, then is the newest notification: it lists before
    notifications made earlier than it became due, even if they were made after the event."""
    org, bee, _, _ = team
    start = now_utc() + timedelta(seconds=66)
    ev = create_event(server, org, start, start + timedelta(minutes=30), title="Imminent",
                      reminders=[{"minutes_before": 1}])
    due = start - timedelta(minutes=1)
    assert notes_for(server, org, ev["id"], "reminder") == []
    # Something else happens to org before the reminder is due.
    other = create_event(server, bee, *slot(), participants=[{"user_id": org.id}])
    wait = (due - now_utc()).total_seconds() + 1.2
    assert 0 < wait < 10
    time.sleep(wait)
    notes = notes_for(server, org)
    assert [(n["type"], n["event_id"]) for n in notes] == [
        ("reminder", ev["id"]), ("invitation", other["id"])], notes
    assert notes[0]["scheduled_for"] == rfc3339(due)


def test_listing_is_newest_first_and_pages(server, team):
    org, bee, _, _ = team
    made = []
    for k in range(5):
        made.append(create_event(server, org, *slot(), title=f"N{k}",
                                 participants=[{"user_id": bee.id}])["id"])
    items = notifications(server, bee)
    assert [n["event_id"] for n in items] == made[::-1]
    stamps = [utc(n["scheduled_for"]) for n in items]
    assert stamps == sorted(stamps, reverse=True)
    r = server.request("GET", NOTIFICATIONS, token=bee.token, params={"limit": 2})
    page = r.json()
    assert [n["event_id"] for n in page["items"]] == made[:-3:-1]
    seen = [n["id"] for n in page["items"]]
    while page["next_cursor"]:
        page = server.request("GET", NOTIFICATIONS, token=bee.token,
                              params={"limit": 2, "cursor": page["next_cursor"]}).json()
        seen += [n["id"] for n in page["items"]]
    assert seen == [n["id"] for n in items]


def test_read_and_unread_interleave_in_the_listing_and_its_pages(server, team):
    """Read and unread rows sit in two indexes (migration 015); the full listing merges them
    newest first, and a page boundary may fall on either side."""
    org, bee, _, _ = team
    made = [create_event(server, org, *slot(), title=f"I{k}",
                         participants=[{"user_id": bee.id}])["id"] for k in range(6)]
    items = notifications(server, bee)
    assert [n["event_id"] for n in items] == made[::-1]
    for n in items[1::2]:
        assert mark_read(server, bee, n["id"]).status_code == 204
    after = notifications(server, bee)
    assert [n["id"] for n in after] == [n["id"] for n in items]
    assert [n["read_at"] is not None for n in after] == [False, True] * 3
    for limit in (1, 2, 4):
        page = server.request("GET", NOTIFICATIONS, token=bee.token,
                              params={"limit": limit}).json()
        seen = [n["id"] for n in page["items"]]
        while page["next_cursor"]:
            page = server.request("GET", NOTIFICATIONS, token=bee.token,
                                  params={"limit": limit, "cursor": page["next_cursor"]}).json()
            seen += [n["id"] for n in page["items"]]
        assert seen == [n["id"] for n in items], limit
    assert [n["id"] for n in notifications(server, bee, unread="true")] == [
        n["id"] for n in items[0::2]]


def test_read_one_and_unread_filter(server, team):
    org, bee, cee, _ = team
    evs = [create_event(server, org, *slot(), participants=[{"user_id": bee.id}])
           for _ in range(3)]
    items = notifications(server, bee)
    assert len(items) == 3
    target = items[1]
    r = mark_read(server, bee, target["id"])
    assert r.status_code == 204, r.text
    after = {n["id"]: n for n in notifications(server, bee)}
    assert after[target["id"]]["read_at"] is not None
    read_at = after[target["id"]]["read_at"]
    utc(read_at)
    assert all(n["read_at"] is None for i, n in after.items() if i != target["id"])
    unread = notifications(server, bee, unread="true")
    assert [n["id"] for n in unread] == [n["id"] for n in items if n["id"] != target["id"]]
    assert [n["id"] for n in notifications(server, bee, unread="false")] == [
        n["id"] for n in items]
    # Reading again is harmless and keeps the first time.
    assert mark_read(server, bee, target["id"]).status_code == 204
    again = {n["id"]: n for n in notifications(server, bee)}
    assert again[target["id"]]["read_at"] == read_at
    # Someone else's notification, or none at all: 404, nothing changes.
    assert_problem(mark_read(server, cee, items[0]["id"]), 404, "not-found")
    assert_problem(mark_read(server, bee, "999999999"), 404, "not-found")
    assert_problem(mark_read(server, bee, "nope"), 404)
    assert notifications(server, bee, unread="true") == unread
    assert_problem(server.request("GET", NOTIFICATIONS, token=bee.token,
                                  params={"unread": "yes"}), 422, "validation", "unread")
    assert evs


def test_read_all_leaves_future_reminders_unread(server, team):
    org, bee, _, _ = team
    s, e = slot()
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}],
                      reminders=[{"minutes_before": 15}])
    create_event(server, org, *slot(), participants=[{"user_id": bee.id}])
    assert len(notifications(server, bee, unread="true")) == 2
    r = server.request("POST", f"{NOTIFICATIONS}/read-all", token=bee.token)
    assert r.status_code == 204, r.text
    assert notifications(server, bee, unread="true") == []
    assert all(n["read_at"] for n in notifications(server, bee))
    # The reminder is not due yet: it stays unread, and cannot be read by id either.
    rows = [row for row in db_notifications(server, bee.id, ev["id"]) if row[0] == "reminder"]
    assert len(rows) == 1 and rows[0][3] is None
    future_id = server_reminder_id(server, bee, ev["id"])
    assert_problem(mark_read(server, bee, future_id), 404, "not-found")
    # New notifications after read-all are unread.
    create_event(server, org, *slot(), participants=[{"user_id": bee.id}])
    assert len(notifications(server, bee, unread="true")) == 1


def server_reminder_id(server, person, event_id):
    rows = db_rows(server, "SELECT id FROM notifications WHERE user_id = ? AND event_id = ?"
                   " AND type = 'reminder'", (int(person.id), int(event_id)))
    assert len(rows) == 1, rows
    return str(rows[0][0])


def test_a_read_reminder_does_not_come_back(server, team):
    """Reading a due reminder is final: someone else's RSVP or a change to the title must not
    make a second, unread copy of it."""
    org, bee, cee, _ = team
    s, e = soon(20)
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}, {"user_id": cee.id}],
                      reminders=[{"minutes_before": 30}])
    rem = notes_for(server, bee, ev["id"], "reminder")
    assert len(rem) == 1
    assert mark_read(server, bee, rem[0]["id"]).status_code == 204
    rsvp(server, cee, ev["id"], "accepted")
    assert patch_event(server, org, ev["id"], {"title": "Renamed"}).status_code == 200
    rems = notes_for(server, bee, ev["id"], "reminder")
    assert len(rems) == 1 and rems[0]["read_at"] is not None, rems
    assert [n for n in notifications(server, bee, unread="true")
            if n["type"] == "reminder"] == []


def test_a_due_reminder_keeps_its_id(server, team):
    """Someone else answering the invitation must not replace the reminders others already
    have: the id a client holds must still work."""
    org, bee, cee, _ = team
    s, e = soon(20)
    ev = create_event(server, org, s, e, participants=[{"user_id": bee.id}, {"user_id": cee.id}],
                      reminders=[{"minutes_before": 30}])
    rem = notes_for(server, bee, ev["id"], "reminder")
    assert len(rem) == 1
    rsvp(server, cee, ev["id"], "tentative")
    assert [n["id"] for n in notes_for(server, bee, ev["id"], "reminder")] == [rem[0]["id"]]
    assert mark_read(server, bee, rem[0]["id"]).status_code == 204


# --- refused writes leave no notification


def test_refused_creates_leave_no_notification(server, admin, team):
    org, bee, cee, dee = team
    room = new_room(server, admin, capacity=3)
    s, e = slot()
    held = create_event(server, dee, s, e, room_id=room["id"])
    snap = Snapshot(server, [org, bee, cee, dee], s - timedelta(hours=1), e + timedelta(hours=1),
                    calendars=[(org, org.calendar), (dee, dee.calendar)])
    people = [{"user_id": bee.id}, {"user_id": cee.id}]
    refused = [
        (409, event_body(s, e, room_id=room["id"], participants=people,
                         reminders=[{"minutes_before": 5}])),
        (422, event_body(e, e + timedelta(hours=1), room_id=room["id"],
                         participants=people + [{"email": "x@example.net"}],
                         reminders=[{"minutes_before": 5}])),
        (422, event_body(e, e + timedelta(hours=1),
                         participants=people + [{"user_id": "999999"}],
                         reminders=[{"minutes_before": 5}])),
        (422, event_body(e, e + timedelta(hours=1), participants=people,
                         recurrence=["RRULE:FREQ=MINUTELY"])),  # too many occurrences
    ]
    for status, body in refused:
        r = post_event(server, org, body)
        assert r.status_code == status, r.text
        snap.assert_unchanged()
    assert held


def test_refused_changes_leave_no_notification(server, admin, team):
    org, bee, cee, dee = team
    room = new_room(server, admin, capacity=10)
    s, e = slot()
    held = create_event(server, dee, s, e, room_id=room["id"])
    ev = create_event(server, org, e, e + timedelta(hours=1), room_id=room["id"],
                      participants=[{"user_id": bee.id}], reminders=[{"minutes_before": 5}])
    snap = Snapshot(server, [org, bee, cee, dee], s - timedelta(hours=1), e + timedelta(hours=2))
    counts = db_counts(server)
    # A move into the held slot that would also invite cee and drop bee: 409, nothing at all.
    r = patch_event(server, org, ev["id"], {"start": rfc3339(s), "participants": [
        {"user_id": cee.id}]})
    assert r.status_code == 409, r.text
    assert [c["event_id"] for c in r.json()["conflicts"]] == [held["id"]]
    # A stale If-Match: 412, nothing at all.
    assert patch_event(server, org, ev["id"], {"title": "x"}, etag='"e0-0"').status_code == 412
    assert delete_event(server, org, ev["id"], etag='"e0-0"').status_code == 412
    # An RSVP with a bad status: 422, no rsvp notification.
    r = server.request("POST", f"/api/v1/events/{ev['id']}/rsvp", token=bee.token,
                       json_body={"status": "perhaps"})
    assert r.status_code == 422
    snap.assert_unchanged()
    assert db_counts(server) == counts


def test_listing_shape_of_each_type(server, team):
    """The listing is written by hand (src/http/json.h): every type's exact keys, with
    minutes_before a number and status a string where they belong."""
    org, bee, _, _ = team
    start = now_utc() + timedelta(minutes=5)
    ev = create_event(server, org, start, start + timedelta(minutes=30), title='Soon "now"',
                      participants=[{"user_id": bee.id}], reminders=[{"minutes_before": 10}])
    rsvp(server, bee, ev["id"], "tentative")
    common = {"id", "type", "event_id", "created_at", "scheduled_for", "read_at", "payload"}
    payload = {"title", "start", "end", "actor_id"}
    seen = {}
    for person in (org, bee):
        for n in notes_for(server, person, ev["id"]):
            assert set(n) == common, n
            assert n["event_id"] == ev["id"] and n["read_at"] is None
            assert isinstance(n["id"], str) and n["id"].isdigit()
            utc(n["created_at"]), utc(n["scheduled_for"])
            p = n["payload"]
            assert p["title"] == 'Soon "now"' and (p["start"], p["end"]) == (ev["start"], ev["end"])
            extra = {"rsvp": {"status"}, "reminder": {"minutes_before"}}.get(n["type"], set())
            assert set(p) == payload | extra, n
            seen[(person.id, n["type"])] = p
    assert seen[(org.id, "rsvp")]["status"] == "tentative"
    assert seen[(org.id, "rsvp")]["actor_id"] == bee.id
    assert seen[(bee.id, "invitation")]["actor_id"] == org.id
    for who in (org.id, bee.id):
        assert seen[(who, "reminder")]["minutes_before"] == 10
