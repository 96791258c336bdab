/* In-app notifications: the due ones, newest first, and marking them read. */
#include "api/internal.h"

#include "http/json.h"
#include "store/notifications.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An instant, or null for 0, raw: at most API_TIME_RAW_MAX bytes. */
static char *raw_time(char *q, int64_t us)
{
    return us ? api_time_raw(q, us) : HTTP_JSON_RAW_LIT(q, "null");
}

/* One notification, written straight into the listing (http/json.h says why), raw up to its
 * type's own payload member: room is checked once for the object's longest form. */
static void write_notification(struct http_json *w, const struct notification *n)
{
    static const char keys[] = "{\"id\":,\"type\":\"\",\"event_id\":,\"created_at\":,"
                               "\"scheduled_for\":,\"read_at\":,\"payload\":{\"title\":,"
                               "\"start\":,\"end\":,\"actor_id\":";
    const char *type = store_notification_type_name(n->type);
    size_t lt = n->title ? strlen(n->title) : 0;
    char *q = http_json_raw(w, sizeof keys + 5 * API_TIME_RAW_MAX + 3 * HTTP_JSON_RAW_ID_MAX +
                                   strlen(type) + 6 * lt + 8);
    if (q == NULL)
        return;
    q = HTTP_JSON_RAW_LIT(q, "{\"id\":");
    q = http_json_raw_int_string(q, n->id);
    q = HTTP_JSON_RAW_LIT(q, ",\"type\":\"");
    q = stpcpy(q, type);
    q = HTTP_JSON_RAW_LIT(q, "\",\"event_id\":");
    q = http_json_raw_id(q, n->event_id);
    q = HTTP_JSON_RAW_LIT(q, ",\"created_at\":");
    q = raw_time(q, n->created_us);
    q = HTTP_JSON_RAW_LIT(q, ",\"scheduled_for\":");
    q = raw_time(q, n->scheduled_us);
    q = HTTP_JSON_RAW_LIT(q, ",\"read_at\":");
    q = raw_time(q, n->read_us);
    q = HTTP_JSON_RAW_LIT(q, ",\"payload\":{\"title\":");
    q = http_json_raw_string(q, n->title, lt);
    q = HTTP_JSON_RAW_LIT(q, ",\"start\":");
    q = raw_time(q, n->start_us);
    q = HTTP_JSON_RAW_LIT(q, ",\"end\":");
    q = raw_time(q, n->end_us);
    q = HTTP_JSON_RAW_LIT(q, ",\"actor_id\":");
    q = http_json_raw_id(q, n->actor_id);
    /* Still inside the payload: its type's own member, then both '}'. */
    http_json_raw_end(w, q);
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
