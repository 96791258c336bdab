/* iCalendar import: every VEVENT of a file becomes an event of the calendar, idempotently by
 * UID.  A VEVENT already imported is skipped unless its SEQUENCE is higher, which updates it; an
 * override (RECURRENCE-ID) is matched to its series by UID.  The whole file is one transaction.
 * Imports notify nobody: a bulk load is not a stream of invitations. */
#include "api/internal.h"

#include "arena.h"
#include "config.h"
#include "core/ical.h"
#include "core/recur.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/store.h"
#include "store/users.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The people of an imported event: attendees whose address belongs to a user become that user;
 * the importing user organises the event, and the ORGANIZER attendee (if any) keeps its role
 * only as an attendee row. */
static int people_of(struct http_request *rq, const struct ical_event *x, struct participant **out,
                     size_t *n, struct pl_error *err)
{
    const char **emails = arena_alloc(rq->arena, (x->nattendees + 1) * sizeof *emails);
    for (size_t i = 0; i < x->nattendees; i++)
        emails[i] = x->attendees[i].email;
    struct user *users;
    int rc = store_users_lookup_emails(rq->db, emails, x->nattendees, rq->arena, &users, err);
    if (rc < 0)
        return rc;
    struct participant *list = arena_alloc(rq->arena, (x->nattendees + 1) * sizeof *list);
    size_t k = 0;
    for (size_t i = 0; i < x->nattendees; i++) {
        struct participant p = x->attendees[i];
        if (users[i].id) {
            p.user_id = users[i].id;
            p.email = users[i].email;
            p.name = users[i].name;
        }
        bool dup = false; /* an address listed twice, or two addresses of one user */
        for (size_t j = 0; j < k && !dup; j++)
            dup = p.user_id ? list[j].user_id == p.user_id : strcmp(list[j].email, p.email) == 0;
        if (!dup)
            list[k++] = p;
    }
    *out = list;
    *n = k;
    return PL_OK;
}

static void add_error(struct import_result *out, int line, const char *message)
{
    json_array_append_new(out->errors, json_pack("{s:i, s:s}", "line", line, "message", message));
}

/* Write one parsed VEVENT (insert, update or skip).  Overrides come after their series. */
static int import_one(struct http_request *rq, int64_t calendar_id, const char *tz,
                      struct ical_event *x, int64_t horizon, struct import_result *out,
                      struct pl_error *err)
{
    struct event *ev = &x->ev, old, series;
    ev->calendar_id = calendar_id;
    ev->organizer_id = rq->user_id;
    if (ev->time_zone == NULL || *ev->time_zone == '\0')
        ev->time_zone = tz;
    if (ev->recurrence_id) {
        int rc = store_events_find_uid(rq->db, calendar_id, ev->uid, rq->arena, &series, err);
        if (rc == PL_ENOTFOUND || (rc == PL_OK && series.recurrence == NULL)) {
            add_error(out, x->line, "RECURRENCE-ID for a UID with no recurring event in the calendar");
            return PL_OK;
        }
        if (rc < 0)
            return rc;
        ev->parent_id = series.id;
        ev->uid = arena_printf(rq->arena, "%s/%lld", series.uid, (long long)ev->recurrence_id);
    }
    int rc = store_events_find_uid(rq->db, calendar_id, ev->uid, rq->arena, &old, err);
    if (rc < 0 && rc != PL_ENOTFOUND)
        return rc;
    bool exists = rc == PL_OK;
    if (exists && ev->sequence <= old.sequence) {
        out->skipped++;
        return PL_OK;
    }
    struct participant *people;
    size_t npeople;
    int64_t *starts = NULL;
    size_t nstarts = 0;
    if ((rc = people_of(rq, x, &people, &npeople, err)) < 0)
        return rc;
    if (ev->recurrence) {
        struct pl_error why = {0};
        struct recur_series s = {ev->recurrence, ev->start_us, ev->time_zone, ev->all_day};
        rc = core_recur_expand(&s, ev->start_us, horizon, CORE_RECUR_MAX_PER_SERIES, rq->arena,
                               &starts, &nstarts, &why);
        if (rc < 0) {
            add_error(out, x->line, rc == PL_ETOOBIG ? "the rule makes too many occurrences"
                                                     : "the recurrence rule cannot be expanded");
            return PL_OK;
        }
    }
    if (exists) {
        ev->id = old.id;
        if ((rc = store_events_update(rq->db, ev, old.version, rq->now_us, err)) < 0)
            return rc;
        out->updated++;
    } else {
        if ((rc = store_events_insert(rq->db, ev, rq->now_us, err)) < 0)
            return rc;
        out->imported++;
    }
    if ((rc = store_events_set_participants(rq->db, ev->id, people, npeople, err)) < 0 ||
        (rc = store_events_set_reminders(rq->db, ev->id, x->reminders, x->nreminders, err)) < 0 ||
        (exists && ev->recurrence && (rc = api_events_drop_stale_overrides(rq, ev, err)) < 0) ||
        (rc = api_events_index(rq, ev, horizon, starts, nstarts, err)) < 0)
        return rc;
    /* An override changes which occurrences its series has. */
    if (ev->parent_id && (rc = api_events_index(rq, &series, horizon, NULL, 0, err)) < 0)
        return rc;
    return PL_OK;
}

int api_import_ics(struct http_request *rq, int64_t calendar_id, const char *text, size_t len,
                   bool atomic, api_import_progress_fn progress, void *progress_ctx,
                   struct import_result *out, struct pl_error *err)
{
    struct calendar cal;
    struct ical_event *events;
    struct ical_error *errors;
    size_t n, nerrors;
    int64_t horizon;
    int rc;
    out->imported = out->updated = out->skipped = 0;
    out->errors = json_array();
    if ((rc = store_calendars_get(rq->db, calendar_id, rq->user_id, rq->arena, &cal, err)) < 0)
        return rc;
    if (progress)
        progress(progress_ctx, "parsing", 0, len);
    if ((rc = core_ical_parse(text, len, cal.time_zone, rq->arena, &events, &n, &errors, &nerrors,
                              err)) < 0)
        return rc;
    for (size_t i = 0; i < nerrors; i++)
        add_error(out, errors[i].line, errors[i].message);
    if (atomic && nerrors > 0)
        return pl_error_set(err, PL_EINVAL, "body", "the file has %zu unusable VEVENTs; nothing"
                            " was imported (atomic)", nerrors);
    if ((rc = store_begin(rq->db, err)) < 0)
        return rc;
    if ((rc = api_materialize(rq, 0, true, &horizon, err)) < 0)
        goto fail;
    /* Series and single events first, then the overrides that point at them. */
    size_t done = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            if ((events[i].ev.recurrence_id != 0) != (pass == 1))
                continue;
            if (progress)
                progress(progress_ctx, "writing", done, n);
            if ((rc = import_one(rq, calendar_id, cal.time_zone, &events[i], horizon, out,
                                 err)) < 0)
                goto fail;
            done++;
        }
    if (progress)
        progress(progress_ctx, "writing", done, n);
    if (atomic && json_array_size(out->errors) > 0) {
        rc = pl_error_set(err, PL_EINVAL, "body", "some VEVENTs could not be imported; nothing"
                          " was imported (atomic)");
        goto fail;
    }
    return store_commit(rq->db, err);
fail:
    store_rollback(rq->db);
    return rc;
}

void api_import(struct http_request *rq)
{
    struct pl_error err = {0};
    struct calendar cal;
    struct import_result res = {0};
    int64_t id;
    const char *ct = http_header(rq, "Content-Type");
    const char *atomic = http_query(rq, "atomic");
    if (api_id(rq->params[0], &id, &err) < 0 ||
        store_calendars_get(rq->db, id, rq->user_id, rq->arena, &cal, &err) < 0)
        goto fail;
    if (cal.access == CAL_NONE) {
        pl_error_set(&err, PL_ENOTFOUND, NULL, "no calendar with id %lld", (long long)id);
        goto fail;
    }
    if (!core_event_may_write(cal.access)) {
        pl_error_set(&err, PL_EFORBIDDEN, NULL, "you may not add events to this calendar");
        goto fail;
    }
    if (ct == NULL || strncasecmp(ct, "text/calendar", 13) != 0) {
        pl_error_set(&err, PL_EMEDIA, NULL, "the body must be sent as text/calendar");
        goto fail;
    }
    if (atomic && strcmp(atomic, "true") != 0 && strcmp(atomic, "false") != 0) {
        pl_error_set(&err, PL_EINVAL, "atomic", "must be true or false");
        goto fail;
    }
    if (api_import_ics(rq, id, rq->body ? rq->body : "", rq->body_len,
                       atomic && strcmp(atomic, "true") == 0, NULL, NULL, &res, &err) < 0) {
        if (err.status == PL_EINVAL && res.errors && json_array_size(res.errors) > 0) {
            /* Atomic: the problem document lists every unusable VEVENT. */
            http_reply_error(rq, &err);
            json_t *p = json_loadb(rq->resp_body, rq->resp_len, 0, NULL);
            if (p) {
                json_object_set(p, "import_errors", res.errors);
                http_reply_json(rq, 422, p);
                rq->resp_type = "application/problem+json";
            }
            json_decref(res.errors);
            return;
        }
        json_decref(res.errors);
        goto fail;
    }
    http_reply_json(rq, 200, json_pack("{s:I, s:I, s:I, s:o}", "imported", (json_int_t)res.imported,
                                       "updated", (json_int_t)res.updated, "skipped",
                                       (json_int_t)res.skipped, "errors", res.errors));
    return;
fail:
    http_reply_error(rq, &err);
}
