/* In-app notifications: the due ones, newest first, and marking them read. */
#include "api/internal.h"

#include "http/json.h"
#include "store/notifications.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An instant, or null for 0. */
static void write_time(struct http_json *w, int64_t us)
{
    if (us == 0)
        http_json_null(w);
    else
        api_time_write(w, us);
}

/* One notification, written straight into the listing (http/json.h says why). */
static void write_notification(struct http_json *w, const struct notification *n)
{
    http_json_object(w);
    http_json_key(w, "id");
    http_json_int_string(w, n->id);
    http_json_key(w, "type");
    http_json_plain(w, store_notification_type_name(n->type));
    http_json_key(w, "event_id");
    http_json_id(w, n->event_id);
    http_json_key(w, "created_at");
    write_time(w, n->created_us);
    http_json_key(w, "scheduled_for");
    write_time(w, n->scheduled_us);
    http_json_key(w, "read_at");
    write_time(w, n->read_us);
    http_json_key(w, "payload");
    http_json_object(w);
    http_json_key(w, "title");
    http_json_string(w, n->title);
    http_json_key(w, "start");
    write_time(w, n->start_us);
    http_json_key(w, "end");
    write_time(w, n->end_us);
    http_json_key(w, "actor_id");
    http_json_id(w, n->actor_id);
    if (n->type == NOTIFY_RSVP) {
        http_json_key(w, "status");
        http_json_string(w, n->detail);
    }
    if (n->type == NOTIFY_REMINDER) {
        http_json_key(w, "minutes_before");
        http_json_int(w, strtol(n->detail, NULL, 10));
    }
    http_json_object_end(w);
    http_json_object_end(w);
}

void api_notifications_list(struct http_request *rq)
{
    struct pl_error err = {0};
    int limit;
    long long before_us = 0, before_id = 0;
    struct notification *items;
    size_t n;
    const char *cursor = http_query(rq, "cursor");
    const char *unread = http_query(rq, "unread");
    if (unread && strcmp(unread, "true") != 0 && strcmp(unread, "false") != 0) {
        pl_error_set(&err, PL_EINVAL, "unread", "must be true or false");
        goto fail;
    }
    /* The cursor is "<scheduled_for>.<id>" of the last notification of the previous page. */
    if (cursor && *cursor) {
        char tail;
        if (sscanf(cursor, "%lld.%lld%c", &before_us, &before_id, &tail) != 2 || before_id <= 0) {
            pl_error_set(&err, PL_EINVAL, "cursor", "is not a cursor this server issued");
            goto fail;
        }
    }
    if (api_page_limit(rq, &limit, &err) < 0 ||
        store_notifications_list(rq->db, rq->user_id, unread && strcmp(unread, "true") == 0,
                                 rq->now_us, before_us, before_id, limit + 1, rq->arena, &items,
                                 &n, &err) < 0)
        goto fail;
    bool more = n > (size_t)limit;
    if (more)
        n = (size_t)limit;
    struct http_json w;
    http_json_init(&w);
    http_json_object(&w);
    http_json_key(&w, "items");
    http_json_array(&w);
    for (size_t i = 0; i < n; i++)
        write_notification(&w, &items[i]);
    http_json_array_end(&w);
    http_json_key(&w, "next_cursor");
    if (more) {
        char c[48];
        snprintf(c, sizeof c, "%lld.%lld", (long long)items[n - 1].scheduled_us,
                 (long long)items[n - 1].id);
        http_json_string(&w, c);
    } else {
        http_json_null(&w);
    }
    http_json_object_end(&w);
    http_reply_json_text(rq, 200, &w);
    return;
fail:
    http_reply_error(rq, &err);
}

void api_notifications_read(struct http_request *rq)
{
    struct pl_error err = {0};
    int64_t id;
    if (api_id(rq->params[0], &id, &err) < 0 ||
        store_notifications_read(rq->db, rq->user_id, id, rq->now_us, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    http_reply_empty(rq, 204);
}

void api_notifications_read_all(struct http_request *rq)
{
    struct pl_error err = {0};
    if (store_notifications_read_all(rq->db, rq->user_id, rq->now_us, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    http_reply_empty(rq, 204);
}
