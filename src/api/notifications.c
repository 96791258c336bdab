/* In-app notifications: the due ones, newest first, and marking them read. */
#include "api/internal.h"

#include "store/notifications.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *notification_json(const struct notification *n)
{
    json_t *payload = json_pack("{s:s, s:o, s:o, s:o}", "title", n->title, "start",
                                api_time_json(n->start_us), "end", api_time_json(n->end_us),
                                "actor_id", n->actor_id ? api_id_json(n->actor_id) : json_null());
    if (n->type == NOTIFY_RSVP)
        json_object_set_new(payload, "status", json_string(n->detail));
    if (n->type == NOTIFY_REMINDER)
        json_object_set_new(payload, "minutes_before", json_integer(strtol(n->detail, NULL, 10)));
    return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "id", api_id_json(n->id), "type",
                     store_notification_type_name(n->type), "event_id",
                     n->event_id ? api_id_json(n->event_id) : json_null(), "created_at",
                     api_time_json(n->created_us), "scheduled_for", api_time_json(n->scheduled_us),
                     "read_at", n->read_us ? api_time_json(n->read_us) : json_null(), "payload",
                     payload);
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
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, notification_json(&items[i]));
    json_t *next = json_null();
    if (more) {
        char c[48];
        snprintf(c, sizeof c, "%lld.%lld", (long long)items[n - 1].scheduled_us,
                 (long long)items[n - 1].id);
        next = json_string(c);
    }
    http_reply_json(rq, 200, json_pack("{s:o, s:o}", "items", list, "next_cursor", next));
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
