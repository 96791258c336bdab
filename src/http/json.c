/* The JSON writer of json.h.  Strings are copied in runs: a table marks the bytes that need
 * an escape (the quote, the backslash and the control characters, exactly the set json_dumps
 * escapes without JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH), and everything between two of them
 * goes in one memcpy.  UTF-8 is not re-checked: every string here comes from jansson or from
 * the database, and both hold only text that was validated on the way in. */
#include "http/json.h"

#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void http_json_init(struct http_json *w)
{
    *w = (struct http_json){0};
}

/* Room for n more bytes (and the final NUL), or false once the writer has failed. */
static bool reserve(struct http_json *w, size_t n)
{
    if (w->failed)
        return false;
    if (n > HTTP_JSON_MAX_BYTES - w->len) {
        w->failed = true;
        return false;
    }
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n + 1)
            cap *= 2;
        w->buf = xrealloc(w->buf, cap);
        w->cap = cap;
    }
    return true;
}

static void put(struct http_json *w, const char *s, size_t n)
{
    if (reserve(w, n)) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    }
}

static void put_char(struct http_json *w, char c)
{
    if (reserve(w, 1))
        w->buf[w->len++] = c;
}

/* Before a value or a key: the comma that separates it from the one before. */
static void separate(struct http_json *w)
{
    if (w->comma)
        put_char(w, ',');
    w->comma = true;
}

static void open_container(struct http_json *w, char c)
{
    separate(w);
    put_char(w, c);
    w->comma = false;
}

static void close_container(struct http_json *w, char c)
{
    put_char(w, c);
    w->comma = true;
}

void http_json_object(struct http_json *w) { open_container(w, '{'); }
void http_json_object_end(struct http_json *w) { close_container(w, '}'); }
void http_json_array(struct http_json *w) { open_container(w, '['); }
void http_json_array_end(struct http_json *w) { close_container(w, ']'); }

/* 1 for the bytes a JSON string must escape. */
static const unsigned char needs_escape[256] = {
    ['\0'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00-0x0f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,          /* 0x10-0x1f */
    ['"'] = 1, ['\\'] = 1,
};

static void put_quoted(struct http_json *w, const char *s, size_t n)
{
    put_char(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape[c])
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\b': put(w, "\\b", 2); break;
        case '\f': put(w, "\\f", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            put(w, esc, 6);
            break;
        }
    }
    put(w, s + run, n - run);
    put_char(w, '"');
}

void http_json_key(struct http_json *w, const char *key)
{
    separate(w);
    put_quoted(w, key, strlen(key));
    put_char(w, ':');
    w->comma = false;
}

void http_json_stringn(struct http_json *w, const char *s, size_t n)
{
    separate(w);
    put_quoted(w, s, n);
}

void http_json_string(struct http_json *w, const char *s)
{
    if (s == NULL)
        http_json_null(w);
    else
        http_json_stringn(w, s, strlen(s));
}

/* Decimal digits of v into the end of buf[24]; returns where they start. */
static char *format_int(char buf[24], long long v)
{
    char *p = buf + 24;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    return p;
}

void http_json_int(struct http_json *w, long long v)
{
    char buf[24], *p = format_int(buf, v);
    separate(w);
    put(w, p, (size_t)(buf + 24 - p));
}

void http_json_int_string(struct http_json *w, long long v)
{
    char buf[24], *p = format_int(buf, v);
    separate(w);
    put_char(w, '"');
    put(w, p, (size_t)(buf + 24 - p));
    put_char(w, '"');
}

void http_json_id(struct http_json *w, long long id)
{
    if (id)
        http_json_int_string(w, id);
    else
        http_json_null(w);
}

void http_json_bool(struct http_json *w, bool v)
{
    separate(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void http_json_null(struct http_json *w)
{
    separate(w);
    put(w, "null", 4);
}

/* Reals (which the API does not write today) go through jansson itself, so that the text is
 * json_dumps's to the last digit. */
static void put_real(struct http_json *w, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        w->failed = true;
        return;
    }
    separate(w);
    put(w, text, strlen(text));
    free(text);
}

void http_json_value(struct http_json *w, const json_t *v)
{
    const char *key;
    json_t *member;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        http_json_object(w);
        /* jansson keeps members in insertion order, which is the order json_dumps writes. */
        json_object_foreach((json_t *)v, key, member) {
            http_json_key(w, key);
            http_json_value(w, member);
        }
        http_json_object_end(w);
        break;
    case JSON_ARRAY:
        http_json_array(w);
        json_array_foreach(v, i, member)
            http_json_value(w, member);
        http_json_array_end(w);
        break;
    case JSON_STRING: http_json_stringn(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: http_json_int(w, (long long)json_integer_value(v)); break;
    case JSON_REAL: put_real(w, v); break;
    case JSON_TRUE: http_json_bool(w, true); break;
    case JSON_FALSE: http_json_bool(w, false); break;
    case JSON_NULL: http_json_null(w); break;
    }
}

char *http_json_finish(struct http_json *w, size_t *len)
{
    char *text = NULL;
    if (reserve(w, 0)) {
        w->buf[w->len] = '\0';
        text = w->buf;
        *len = w->len;
    } else {
        free(w->buf);
    }
    http_json_init(w);
    return text;
}
