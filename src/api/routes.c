/* Every route the server answers.  The OpenAPI document (docs/openapi.json) lists the same
 * set; tests/api/test_openapi.py holds the two together.  Matching is first-listed-first, so
 * literal segments come before a {placeholder} in the same position. */
#include "api/api.h"
#include "api/internal.h"

#define R(method, pattern, handler, access)                                                     \
    {method, pattern, handler, access, method " " pattern, HTTP_SIDE_NONE}
/* A route that can take far longer than the rest (an argon2id hash is ~110 ms of CPU and
 * 64 MB; an import parses up to max_body_bytes of iCalendar): it runs on the worker's side
 * thread for its kind, so that it holds up no other connection (http/server.c). */
#define SLOW(method, pattern, handler, access, side)                                            \
    {method, pattern, handler, access, method " " pattern, side}

const struct http_route api_routes[] = {
    R("GET", "/healthz", api_ops_healthz, HTTP_PUBLIC),
    R("GET", "/readyz", api_ops_readyz, HTTP_PUBLIC),
    R("GET", "/metrics", api_ops_metrics, HTTP_PUBLIC),
    R("GET", "/api/v1/openapi.json", api_ops_openapi, HTTP_PUBLIC),
    SLOW("POST", "/api/v1/auth/login", api_auth_login, HTTP_PUBLIC, HTTP_SIDE_PASSWORD),
    R("POST", "/api/v1/auth/logout", api_auth_logout, HTTP_USER),
    R("GET", "/api/v1/me", api_auth_me, HTTP_USER),
    R("GET", "/api/v1/me/agenda", api_events_agenda, HTTP_USER),
    SLOW("POST", "/api/v1/users", api_users_create, HTTP_ADMIN, HTTP_SIDE_PASSWORD),
    R("GET", "/api/v1/users", api_users_list, HTTP_USER),
    R("GET", "/api/v1/users/{id}", api_users_get, HTTP_USER),
    SLOW("PATCH", "/api/v1/users/{id}", api_users_patch, HTTP_USER, HTTP_SIDE_PASSWORD),
    R("DELETE", "/api/v1/users/{id}", api_users_delete, HTTP_ADMIN),
    R("GET", "/api/v1/calendars", api_calendars_list, HTTP_USER),
    R("POST", "/api/v1/calendars", api_calendars_create, HTTP_USER),
    R("GET", "/api/v1/calendars/{id}", api_calendars_get, HTTP_USER),
    R("PATCH", "/api/v1/calendars/{id}", api_calendars_patch, HTTP_USER),
    R("DELETE", "/api/v1/calendars/{id}", api_calendars_delete, HTTP_USER),
    R("PUT", "/api/v1/calendars/{id}/shares/{user_id}", api_calendars_share, HTTP_USER),
    R("DELETE", "/api/v1/calendars/{id}/shares/{user_id}", api_calendars_unshare, HTTP_USER),
    R("GET", "/api/v1/calendars/{id}/events", api_events_list, HTTP_USER),
    R("GET", "/api/v1/calendars/{id}/export.ics", api_ical_calendar_export, HTTP_USER),
    R("POST", "/api/v1/calendars/{id}/feed", api_ical_feed_create, HTTP_USER),
    R("DELETE", "/api/v1/calendars/{id}/feed", api_ical_feed_delete, HTTP_USER),
    R("POST", "/api/v1/calendars/{id}/events", api_events_create, HTTP_USER),
    SLOW("POST", "/api/v1/calendars/{id}/import", api_import, HTTP_USER, HTTP_SIDE_IMPORT),
    /* Before "/api/v1/events/{id}", whose placeholder would take "42.ics" whole. */
    R("GET", "/api/v1/events/{id}.ics", api_ical_event_export, HTTP_USER),
    R("GET", "/api/v1/events/{id}", api_events_get, HTTP_USER),
    R("PATCH", "/api/v1/events/{id}", api_events_patch, HTTP_USER),
    R("DELETE", "/api/v1/events/{id}", api_events_delete, HTTP_USER),
    R("POST", "/api/v1/events/{id}/rsvp", api_events_rsvp, HTTP_USER),
    R("GET", "/api/v1/events/{id}/instances", api_events_instances, HTTP_USER),
    R("PATCH", "/api/v1/events/{id}/instances/{recurrence_id}", api_events_instance_patch, HTTP_USER),
    R("DELETE", "/api/v1/events/{id}/instances/{recurrence_id}", api_events_instance_delete, HTTP_USER),
    R("GET", "/api/v1/rooms", api_rooms_list, HTTP_USER),
    R("POST", "/api/v1/rooms", api_rooms_create, HTTP_ADMIN),
    R("GET", "/api/v1/rooms/available", api_rooms_available, HTTP_USER),
    R("GET", "/api/v1/rooms/{id}", api_rooms_get, HTTP_USER),
    R("PATCH", "/api/v1/rooms/{id}", api_rooms_patch, HTTP_ADMIN),
    R("DELETE", "/api/v1/rooms/{id}", api_rooms_delete, HTTP_ADMIN),
    R("GET", "/api/v1/rooms/{id}/bookings", api_rooms_bookings, HTTP_USER),
    R("POST", "/api/v1/freebusy", api_schedule_freebusy, HTTP_USER),
    R("POST", "/api/v1/find-time", api_schedule_find_time, HTTP_USER),
    R("GET", "/api/v1/notifications", api_notifications_list, HTTP_USER),
    R("POST", "/api/v1/notifications/read-all", api_notifications_read_all, HTTP_USER),
    R("POST", "/api/v1/notifications/{id}/read", api_notifications_read, HTTP_USER),
    /* The token in the path is the credential (api/ical.c). */
    R("GET", "/feeds/{token}.ics", api_ical_feed_get, HTTP_PUBLIC),
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
