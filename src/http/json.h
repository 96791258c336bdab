/* A JSON writer that appends straight to one growing buffer.  jansson builds a tree of
 * allocated nodes and json_dumps then walks it a character at a time: for a week's agenda
 * (20 KB) that was half of the request's time (~0.5 ms of ~1.1 ms, measured).  Hot listings
 * write their items here directly, and http_reply_json encodes every other jansson tree with
 * http_json_value, which produces the same text as json_dumps(JSON_COMPACT).
 *
 * Commas are the writer's business: a value or a key after another value gets one.  Errors
 * (a body over HTTP_JSON_MAX_BYTES) are sticky and reported once, by http_json_finish. */
#ifndef PLANNER_HTTP_JSON_H
#define PLANNER_HTTP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTTP_JSON_MAX_BYTES ((size_t)256 << 20)

struct http_json {
    char *buf; /* malloc'd; NUL-terminated by http_json_finish */
    size_t len, cap;
    bool comma;  /* the next value or key needs a ',' first */
    bool failed; /* grew past HTTP_JSON_MAX_BYTES */
};

/* An empty writer; nothing is allocated until the first write. */
void http_json_init(struct http_json *w);
/* Open and close objects and arrays. */
void http_json_object(struct http_json *w);
void http_json_object_end(struct http_json *w);
void http_json_array(struct http_json *w);
void http_json_array_end(struct http_json *w);
/* A member name, which must be a string literal needing no escapes (the API's own names):
 * it is quoted at compile time.  The next call writes its value. */
#define http_json_key(w, name) http_json_keyn((w), "\"" name "\":", sizeof "\"" name "\":" - 1)
/* A member name already quoted and followed by its ':', n bytes. */
void http_json_keyn(struct http_json *w, const char *quoted, size_t n);
/* A member name from run-time text, escaped as needed. */
void http_json_member(struct http_json *w, const char *key);
/* Values.  http_json_string(w, NULL) writes null. */
void http_json_string(struct http_json *w, const char *s);
void http_json_stringn(struct http_json *w, const char *s, size_t n);
/* A string the writer knows needs no escape: the API's own names (an enum's) and formatted
 * instants, printable ASCII without '"' or '\\'.  Copied as it is, which saves the escape
 * scan: listings write several of these per item. */
void http_json_plain(struct http_json *w, const char *s);
void http_json_int(struct http_json *w, long long v);
/* An integer as a JSON string ("42"), the way the API writes ids. */
void http_json_int_string(struct http_json *w, long long v);
/* The same, or null for 0 (no id). */
void http_json_id(struct http_json *w, long long id);
void http_json_bool(struct http_json *w, bool v);
void http_json_null(struct http_json *w);
/* Raw writing, for the hot listings' small objects whose size is bounded before they are
 * written: one room check and one comma decision for the whole object instead of one per
 * key and value.  http_json_raw returns where at most `n` bytes may be written (the
 * separating comma, when one is due, is already there), or NULL once the writer has failed;
 * http_json_raw_end takes the end of what was written, a value.  In between, the text is
 * the caller's, written with the helpers below (each returns the end of what it wrote). */
char *http_json_raw(struct http_json *w, size_t n);
void http_json_raw_end(struct http_json *w, char *end);
/* s as a JSON string, or null for NULL: at most 6 * n + 2 bytes. */
char *http_json_raw_string(char *p, const char *s, size_t n);
/* An integer as http_json_int_string writes it ("42"), and an id as http_json_id does ("42",
 * or null for 0): at most HTTP_JSON_RAW_ID_MAX bytes. */
#define HTTP_JSON_RAW_ID_MAX 24
char *http_json_raw_int_string(char *p, long long v);
char *http_json_raw_id(char *p, long long id);
/* A string literal's bytes, as they are (the caller's JSON). */
#define HTTP_JSON_RAW_LIT(p, lit) ((char *)memcpy((p), "" lit, sizeof lit - 1) + sizeof lit - 1)
/* Any jansson value, written as json_dumps(v, JSON_COMPACT) would. */
void http_json_value(struct http_json *w, const json_t *v);
/* The text (caller frees) and its length, or NULL if the writer failed (then the buffer is
 * freed).  The writer is left empty. */
char *http_json_finish(struct http_json *w, size_t *len);

#endif
