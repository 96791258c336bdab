/* http/json: the direct JSON writer must produce exactly what json_dumps(JSON_COMPACT) does,
 * for every jansson value, since http_reply_json switched from one to the other. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "http/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The writer's text for v, compared with jansson's own. */
static void same_as_jansson(json_t *v)
{
    struct http_json w;
    http_json_init(&w);
    http_json_value(&w, v);
    size_t len = 0;
    char *ours = http_json_finish(&w, &len);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    cr_assert(not(eq(ptr, ours, NULL)));
    cr_assert(not(eq(ptr, theirs, NULL)));
    cr_assert(eq(str, ours, theirs));
    cr_assert(eq(sz, len, strlen(theirs)));
    free(ours);
    free(theirs);
    json_decref(v);
}

/* The writer's text is `want`. */
static void finishes_as(struct http_json *w, const char *want)
{
    size_t len;
    char *text = http_json_finish(w, &len);
    cr_assert(eq(str, text, (char *)want));
    cr_assert(eq(sz, len, strlen(want)));
    free(text);
}

Test(http_json, scalars_match_json_dumps)
{
    same_as_jansson(json_integer(0));
    same_as_jansson(json_integer(-1));
    same_as_jansson(json_integer(INT64_MAX));
    same_as_jansson(json_integer(INT64_MIN));
    same_as_jansson(json_real(0.1));
    same_as_jansson(json_real(1e300));
    same_as_jansson(json_real(-3.0));
    same_as_jansson(json_true());
    same_as_jansson(json_false());
    same_as_jansson(json_null());
    same_as_jansson(json_string(""));
}

Test(http_json, every_control_character_and_escape_matches)
{
    char s[160];
    size_t n = 0;
    for (int c = 1; c < 0x80; c++)
        s[n++] = (char)c;
    memcpy(s + n, "\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80/", 11); /* é, U+2028, an emoji, '/' */
    n += 11;
    same_as_jansson(json_stringn(s, n));
    same_as_jansson(json_stringn("a\0b", 3)); /* an embedded NUL */
    same_as_jansson(json_string("\"quoted\" \\ back\\slash"));
}

Test(http_json, long_strings_across_the_writers_chunks_match)
{
    /* Strings are written in chunks of a few KiB: escapes on both sides of every boundary. */
    enum { N = 3 * 4096 + 17 };
    char *s = malloc(N);
    cr_assert(not(eq(ptr, s, NULL)));
    for (size_t i = 0; i < N; i++)
        s[i] = i % 4096 == 0 || i % 4096 == 4095 ? (i % 3 == 0 ? '"' : '\x01') : (char)('a' + i % 26);
    same_as_jansson(json_stringn(s, N));
    same_as_jansson(json_pack("{s:s%}", "k", s, (size_t)N));
    for (size_t i = 0; i < N; i++) /* every byte escaped: six times the length */
        s[i] = '\x1f';
    same_as_jansson(json_stringn(s, N));
    free(s);
}

Test(http_json, every_byte_at_every_place_in_a_word)
{
    /* Plain text goes eight bytes at a time: each byte value at each of the 16 places of a
     * string must still come out as json_dumps writes it (bytes from 0x80 up verbatim). */
    for (int b = 1; b < 256; b++) {
        for (size_t at = 0; at < 16; at++) {
            char s[17];
            memset(s, 'a', 16);
            s[at] = (char)b;
            s[16] = '\0';
            if (b < 0x80) {
                same_as_jansson(json_stringn(s, 16));
                continue;
            }
            struct http_json w;
            http_json_init(&w);
            http_json_stringn(&w, s, 16);
            size_t len;
            char *text = http_json_finish(&w, &len);
            cr_assert(eq(sz, len, 18));
            cr_assert(eq(int, memcmp(text + 1, s, 16), 0));
            free(text);
        }
    }
}

Test(http_json, nested_containers_keep_member_order)
{
    same_as_jansson(json_object());
    same_as_jansson(json_array());
    same_as_jansson(json_pack("{s:[], s:{}, s:[{}, [], n]}", "a", "b", "c"));
    json_t *o = json_object();
    for (int i = 40; i > 0; i--) { /* insertion order is not alphabetical order */
        char key[16];
        snprintf(key, sizeof key, "k%02d\n", i);
        json_object_set_new(o, key, json_pack("{s:i, s:[s, b]}", "n", i, "l", "x\ty", i % 2));
    }
    same_as_jansson(o);
}

Test(http_json, direct_writes_separate_with_commas)
{
    struct http_json w;
    http_json_init(&w);
    http_json_object(&w);
    http_json_key(&w, "id");
    http_json_int_string(&w, 42);
    http_json_key(&w, "items");
    http_json_array(&w);
    http_json_int(&w, -7);
    http_json_string(&w, NULL);
    http_json_object(&w);
    http_json_object_end(&w);
    http_json_bool(&w, false);
    http_json_plain(&w, "needs-action");
    http_json_plain(&w, "");
    http_json_array_end(&w);
    http_json_key(&w, "t");
    http_json_string(&w, "line\nnext");
    http_json_key(&w, "at");
    http_json_plain(&w, "2026-12-06T10:00:00Z");
    http_json_object_end(&w);
    finishes_as(&w, "{\"id\":\"42\",\"items\":[-7,null,{},false,\"needs-action\",\"\"],"
                    "\"t\":\"line\\nnext\",\"at\":\"2026-12-06T10:00:00Z\"}");
}

Test(http_json, a_failed_writer_returns_null_and_frees)
{
    struct http_json w;
    http_json_init(&w);
    http_json_string(&w, "some text");
    w.len = HTTP_JSON_MAX_BYTES - 3; /* as if it had grown that far */
    http_json_string(&w, "this does not fit");
    cr_assert(w.failed);
    w.len = 0;
    size_t len = 99;
    cr_assert(eq(ptr, http_json_finish(&w, &len), NULL));
    cr_assert(eq(sz, len, 99));
    cr_assert(eq(ptr, w.buf, NULL));
}

/* The writer's text for one string written with http_json_string, into out. */
static void string_form(const char *s, size_t n, char *out, size_t cap)
{
    struct http_json w;
    http_json_init(&w);
    if (s == NULL)
        http_json_string(&w, NULL);
    else
        http_json_stringn(&w, s, n);
    size_t len;
    char *text = http_json_finish(&w, &len);
    cr_assert(lt(sz, len, cap));
    memcpy(out, text, len + 1);
    free(text);
}

Test(http_json, raw_strings_and_ids_match_the_writers_own)
{
    /* Every byte value, at each place of a 16-byte string, then NULL and the empty string:
     * the raw form, given its bound (6 n + 2), writes what http_json_stringn does. */
    for (int b = 0; b < 258; b++) {
        for (size_t at = 0; at < 16; at++) {
            char s[17], want[128], got[128];
            memset(s, 'a', 16);
            s[at] = (char)b;
            const char *str = b == 256 ? NULL : s;
            size_t n = b == 257 ? 0 : 16;
            string_form(str, n, want, sizeof want);
            memset(got, '#', sizeof got);
            char *end = http_json_raw_string(got, str, n);
            cr_assert(le(sz, (size_t)(end - got), str ? 6 * n + 2 : 4));
            *end = '\0';
            cr_assert(eq(str, got, want), "byte %d at %zu", b, at);
        }
    }
    static const long long ids[] = {0, 1, 42, -7, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        struct http_json w;
        http_json_init(&w);
        http_json_int_string(&w, ids[i]);
        http_json_id(&w, ids[i]);
        size_t len;
        char *want = http_json_finish(&w, &len), got[2 * HTTP_JSON_RAW_ID_MAX + 2];
        char *p = http_json_raw_int_string(got, ids[i]);
        cr_assert(le(sz, (size_t)(p - got), HTTP_JSON_RAW_ID_MAX));
        *p++ = ',';
        char *q = http_json_raw_id(p, ids[i]);
        cr_assert(le(sz, (size_t)(q - p), HTTP_JSON_RAW_ID_MAX));
        *q = '\0';
        cr_assert(eq(str, got, want));
        free(want);
    }
}

Test(http_json, raw_objects_take_their_comma_and_leave_one_due)
{
    struct http_json w;
    http_json_init(&w);
    http_json_array(&w);
    for (int i = 0; i < 3; i++) {
        char *p = http_json_raw(&w, 64);
        cr_assert(not(eq(ptr, p, NULL)));
        p = HTTP_JSON_RAW_LIT(p, "{\"n\":");
        p = http_json_raw_id(p, i);
        http_json_raw_end(&w, p);
        http_json_key(&w, "s");
        http_json_string(&w, "x");
        http_json_object_end(&w);
    }
    http_json_int(&w, 7);
    http_json_array_end(&w);
    finishes_as(&w, "[{\"n\":null,\"s\":\"x\"},{\"n\":\"1\",\"s\":\"x\"},"
                    "{\"n\":\"2\",\"s\":\"x\"},7]");
    size_t len;

    /* A writer that has failed hands out no room. */
    http_json_init(&w);
    w.failed = true;
    cr_assert(eq(ptr, http_json_raw(&w, 8), NULL));
    cr_assert(eq(ptr, http_json_finish(&w, &len), NULL));
}
