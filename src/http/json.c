/* The JSON writer of json.h.  A table marks the bytes a string must escape (the quote, the
 * backslash and the control characters, exactly the set json_dumps escapes without
 * JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH); a string is copied in one pass into room reserved
 * once for its worst case.  UTF-8 is not re-checked: every string here comes from jansson or from
 * the database, and both hold only text that was validated on the way in. */
#include "http/json.h"

#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void http_json_init(struct http_json *w)
{
    *w = (struct http_json){0};
}

/* The first allocation: room for the common listings whole (an agenda week is 15-19 KB,
 * a page of notifications 26 KB), which grew from 4 KB through three reallocs, a copy each:
 * 2.3 % of an agenda's instructions (callgrind).  malloc gives it untouched; only what is
 * written is ever faulted in. */
#define HTTP_JSON_FIRST_BYTES ((size_t)32 << 10)

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
        size_t cap = w->cap ? w->cap : HTTP_JSON_FIRST_BYTES;
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

/* The escape of a byte that needs one, at p; returns the end. */
static char *put_escape(char *p, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    *p++ = '\\';
    switch (c) {
    case '"': *p++ = '"'; break;
    case '\\': *p++ = '\\'; break;
    case '\b': *p++ = 'b'; break;
    case '\f': *p++ = 'f'; break;
    case '\n': *p++ = 'n'; break;
    case '\r': *p++ = 'r'; break;
    case '\t': *p++ = 't'; break;
    default:
        memcpy(p, "u00", 3);
        p[3] = hex[c >> 4];
        p[4] = hex[c & 15];
        p += 5;
        break;
    }
    return p;
}

/* True when none of the eight bytes in x needs an escape: no byte below 0x20, no '"', no
 * '\\' (the usual "has a zero byte" / "has a byte less than" word tricks, exact as yes/no
 * answers; bytes from 0x80 up, UTF-8, never match). */
static bool plain_word(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
    uint64_t hits = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
                    ((backslash - ones) & ~backslash);
    return (hits & highs) == 0;
}

/* n bytes of s with their escapes at p, where 6 * n bytes are free; returns the end.  Eight
 * bytes at a time while none needs an escape. */
static char *put_escaped(char *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t x;
        if (n - i >= 8 && (memcpy(&x, s + i, 8), plain_word(x))) {
            memcpy(p, &x, 8);
            p += 8;
            i += 8;
            continue;
        }
        size_t end = n - i >= 8 ? i + 8 : n;
        for (; i < end; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!needs_escape[c])
                *p++ = (char)c;
            else
                p = put_escape(p, c);
        }
    }
    return p;
}

/* s as a JSON string value after its separator.  Room is reserved once per chunk for the
 * worst case (every byte escaped to six): most strings here are short, and the bookkeeping
 * per run of plain bytes, not the copying, was what a string cost (callgrind). */
enum { QUOTE_CHUNK = 4096 };
static void put_quoted(struct http_json *w, const char *s, size_t n)
{
    size_t chunk = n < QUOTE_CHUNK ? n : QUOTE_CHUNK;
    if (!reserve(w, 6 * chunk + 3))
        return;
    char *p = w->buf + w->len;
    if (w->comma)
        *p++ = ',';
    *p++ = '"';
    for (;;) {
        p = put_escaped(p, s, chunk);
        w->len = (size_t)(p - w->buf);
        s += chunk;
        n -= chunk;
        if (n == 0)
            break;
        chunk = n < QUOTE_CHUNK ? n : QUOTE_CHUNK;
        if (!reserve(w, 6 * chunk + 1))
            return;
        p = w->buf + w->len;
    }
    *p++ = '"';
    w->len = (size_t)(p - w->buf);
    w->comma = true;
}

void http_json_keyn(struct http_json *w, const char *quoted, size_t n)
{
    if (!reserve(w, n + 1))
        return;
    if (w->comma)
        w->buf[w->len++] = ',';
    memcpy(w->buf + w->len, quoted, n);
    w->len += n;
    w->comma = false;
}

void http_json_member(struct http_json *w, const char *key)
{
    put_quoted(w, key, strlen(key));
    put_char(w, ':');
    w->comma = false;
}

void http_json_stringn(struct http_json *w, const char *s, size_t n)
{
    put_quoted(w, s, n);
}

void http_json_plain(struct http_json *w, const char *s)
{
    size_t n = strlen(s);
    if (!reserve(w, n + 3))
        return;
    char *p = w->buf + w->len;
    if (w->comma)
        *p++ = ',';
    *p++ = '"';
    memcpy(p, s, n);
    p += n;
    *p++ = '"';
    w->len = (size_t)(p - w->buf);
    w->comma = true;
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

char *http_json_raw(struct http_json *w, size_t n)
{
    if (!reserve(w, n + 1))
        return NULL;
    char *p = w->buf + w->len;
    if (w->comma)
        *p++ = ',';
    return p;
}

void http_json_raw_end(struct http_json *w, char *end)
{
    w->len = (size_t)(end - w->buf);
    w->comma = true;
}

char *http_json_raw_string(char *p, const char *s, size_t n)
{
    if (s == NULL)
        return HTTP_JSON_RAW_LIT(p, "null");
    *p++ = '"';
    p = put_escaped(p, s, n);
    *p++ = '"';
    return p;
}

char *http_json_raw_id(char *p, long long id)
{
    return id ? http_json_raw_int_string(p, id) : HTTP_JSON_RAW_LIT(p, "null");
}

char *http_json_raw_int_string(char *p, long long v)
{
    char buf[24], *d = format_int(buf, v);
    size_t n = (size_t)(buf + 24 - d);
    *p++ = '"';
    memcpy(p, d, n);
    p += n;
    *p++ = '"';
    return p;
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
            http_json_member(w, key);
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
