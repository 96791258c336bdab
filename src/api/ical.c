/* iCalendar export: a whole calendar, one event with its overrides, and the secret
 * subscription feeds calendar apps poll without logging in.
 *
 * What each reader sees follows the event-view rule of core/event.h per event row: those who
 * may see an event in full get it in full, the others a busy-only VEVENT (core_ical_write).  A
 * feed is read as a read share would read the calendar: everything but private events, which
 * are busy-only.  The feed URL travels to calendar apps, other devices and sometimes other
 * people; it is a credential that cannot be scoped, so it carries no more than a read share
 * would, however much its creator (the owner) could see. */
#include "api/api.h"
#include "api/ical.h"
#include "api/internal.h"

#include "arena.h"
#include "core/event.h"
#include "core/ical.h"
#include "secret.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/feeds.h"
#include "store/store.h"

#include <string.h>

#define ICS_TYPE "text/calendar; charset=utf-8"

/* The rows as the writer takes them, each busy-only unless `access` (and taking part) lets
 * the reader see it in full. */
static struct ical_event *to_ical(const struct event_row *rows, size_t n, int access,
                                  struct arena *a)
{
    struct ical_event *ev = arena_zalloc(a, (n ? n : 1) * sizeof *ev);
    for (size_t i = 0; i < n; i++) {
        const struct event_row *r = &rows[i];
        ev[i].ev = r->ev;
        ev[i].attendees = r->participants;
        ev[i].nattendees = r->nparticipants;
        for (size_t k = 0; k < r->nreminders && k < CORE_EVENT_REMINDERS_MAX; k++)
            ev[i].reminders[ev[i].nreminders++] = r->reminders[k];
        ev[i].busy_only = core_event_view(access, r->ev.visibility == EVENT_VISIBILITY_PRIVATE,
                                          r->is_participant) != EVENT_VIEW_FULL;
    }
    return ev;
}

/* Calendar `c` read by `viewer_id` with `access`. */
static int calendar_text(struct store *db, const struct calendar *c, int64_t viewer_id,
                         int access, int64_t now_us, struct arena *a, char **text, size_t *len,
                         struct pl_error *err)
{
    struct event_row *rows;
    size_t n;
    int rc = store_events_of_calendar(db, c->id, viewer_id, a, &rows, &n, err);
    if (rc < 0)
        return rc;
    struct ical_calendar cal = {.name = c->name, .time_zone = c->time_zone, .now_us = now_us};
    return core_ical_write(&cal, to_ical(rows, n, access, a), n, a, text, len, err);
}

int api_ical_calendar_text(struct store *db, int64_t calendar_id, int64_t now_us,
                           struct arena *a, char **text, size_t *len, struct pl_error *err)
{
    struct calendar c;
    int rc = store_calendars_get(db, calendar_id, 0, a, &c, err);
    if (rc < 0)
        return rc;
    return calendar_text(db, &c, c.owner_id, CAL_OWNER, now_us, a, text, len, err);
}

/* Answer with the text, its ETag (a hash of the text itself, so that it changes with anything
 * the text shows: an event, the calendar's name, the reader's access) and 304 when the client
 * has it already. */
static void reply_ics(struct http_request *rq, const char *text, size_t len)
{
    char hash[SECRET_TOKEN_HASH_LEN + 1];
    secret_hash_hex(text, len, hash);
    const char *etag = arena_printf(rq->arena, "\"ics-%.32s\"", hash);
    if (http_not_modified(rq, etag))
        return;
    rq->etag = etag;
    http_reply_text(rq, 200, ICS_TYPE, text, len);
}

/* Calendar params[0] for the caller: 404 without any access. */
static int load_calendar(struct http_request *rq, struct calendar *c, struct pl_error *err)
{
    int64_t id;
    int rc = api_id(rq->params[0], &id, err);
    if (rc == PL_OK)
        rc = store_calendars_get(rq->db, id, rq->user_id, rq->arena, c, err);
    if (rc == PL_OK && c->access == CAL_NONE)
        rc = pl_error_set(err, PL_ENOTFOUND, NULL, "no calendar with id %lld", (long long)id);
    return rc;
}

void api_ical_calendar_export(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar c;
    char *text;
    size_t len;
    if (load_calendar(rq, &c, &err) < 0 ||
        calendar_text(rq->db, &c, rq->user_id, c.access, rq->now_us, rq->arena, &text, &len,
                      &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    reply_ics(rq, text, len);
}

void api_ical_event_export(struct http_request *rq)
{
    struct pl_error err = {0};
    struct event ev;
    struct event_row *rows;
    size_t n, len;
    int64_t id;
    int access;
    bool participant;
    char *text;
    if (api_id(rq->params[0], &id, &err) < 0 ||
        store_events_get(rq->db, id, rq->user_id, rq->arena, &ev, &access, &participant, &err) < 0)
        goto fail;
    /* As GET /api/v1/events/{id}: not even confirmed to exist for those who may not see it,
     * and an override is reached through its series. */
    if (core_event_view(access, ev.visibility == EVENT_VISIBILITY_PRIVATE, participant) ==
            EVENT_VIEW_NONE ||
        ev.parent_id != 0) {
        pl_error_set(&err, PL_ENOTFOUND, NULL, "no event with id %lld", (long long)id);
        goto fail;
    }
    if (store_events_of_series(rq->db, id, rq->user_id, rq->arena, &rows, &n, &err) < 0)
        goto fail;
    /* No calendar name: a participant without access to the calendar would learn it. */
    struct ical_calendar cal = {.now_us = rq->now_us};
    if (core_ical_write(&cal, to_ical(rows, n, access, rq->arena), n, rq->arena, &text, &len,
                        &err) < 0)
        goto fail;
    reply_ics(rq, text, len);
    return;
fail:
    http_reply_error(rq, &err);
}

/* ---- feeds ---------------------------------------------------------------------------------- */

void api_ical_feed_create(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar c;
    char token[SECRET_TOKEN_LEN + 1], hash[SECRET_TOKEN_HASH_LEN + 1];
    if (load_calendar(rq, &c, &err) < 0)
        goto fail;
    if (c.access != CAL_OWNER) {
        pl_error_set(&err, PL_EFORBIDDEN, NULL, "only the calendar's owner may publish a feed");
        goto fail;
    }
    secret_token_new(token);
    secret_token_hash(token, hash);
    if (store_feeds_set(rq->db, c.id, hash, rq->user_id, rq->now_us, &err) < 0)
        goto fail;
    const char *url = arena_printf(rq->arena, "/feeds/%s.ics", token);
    rq->location = url;
    http_reply_json(rq, 201, json_pack("{s:o, s:s, s:s, s:o}", "calendar_id", api_id_json(c.id),
                                       "url", url, "token", token, "created_at",
                                       api_time_json(rq->now_us)));
    /* The answer holds the secret: it must not be stored for Idempotency-Key replays (the
     * database keeps only hashes).  A retry with the key makes a new feed instead. */
    api_idempotency_release(rq);
    return;
fail:
    http_reply_error(rq, &err);
}

void api_ical_feed_delete(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar c;
    if (load_calendar(rq, &c, &err) < 0)
        goto fail;
    if (c.access != CAL_OWNER) {
        pl_error_set(&err, PL_EFORBIDDEN, NULL, "only the calendar's owner may revoke its feed");
        goto fail;
    }
    if (store_feeds_delete(rq->db, c.id, &err) < 0)
        goto fail;
    http_reply_empty(rq, 204);
    return;
fail:
    http_reply_error(rq, &err);
}

/* Whether `token` has the form secret_token_new gives (base64url, SECRET_TOKEN_LEN). */
static bool is_token(const char *token)
{
    return strlen(token) == SECRET_TOKEN_LEN &&
           strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
               SECRET_TOKEN_LEN;
}

void api_ical_feed_get(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar_feed feed;
    struct calendar c;
    char hash[SECRET_TOKEN_HASH_LEN + 1], *text;
    size_t len;
    if (!api_need_db(rq))
        return;
    /* The token is the credential: looked up by its hash, which is all the database holds.
     * Unknown, revoked and malformed tokens get the same answer. */
    if (!is_token(rq->params[0])) {
        pl_error_set(&err, PL_ENOTFOUND, NULL, "no feed at this address");
        goto fail;
    }
    secret_token_hash(rq->params[0], hash);
    if (store_feeds_lookup(rq->db, hash, &feed, &err) < 0 ||
        store_calendars_get(rq->db, feed.calendar_id, 0, rq->arena, &c, &err) < 0 ||
        calendar_text(rq->db, &c, 0, CAL_READ, rq->now_us, rq->arena, &text, &len, &err) < 0)
        goto fail;
    reply_ics(rq, text, len);
    return;
fail:
    http_reply_error(rq, &err);
}
