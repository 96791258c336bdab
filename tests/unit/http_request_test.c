/* http/request: the pure helpers (the rest needs a live libmicrohttpd connection and is
 * covered by tests/api). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "http/request.h"

#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *json;
    int limit, want;
} depths[] = {
    {"", 32, 0},
    {"42", 32, 0},
    {"\"text\"", 32, 0},
    {"{}", 32, 1},
    {"[]", 32, 1},
    {"{\"a\":[1,2,{\"b\":[]}]}", 32, 4},
    {"[[],[],[]]", 32, 2},             /* siblings do not add up */
    {"[[[]]],[[]]", 32, 3},
    {"{\"a\":{\"b\":{\"c\":{}}}}", 32, 4},
    /* Brackets inside strings do not count. */
    {"{\"a\":\"[[[[{{{{\"}", 32, 1},
    {"[\"]]]]\", [[1]]]", 32, 3},
    /* Escaped quotes do not end the string... */
    {"{\"a\":\"x\\\"[[[[\"}", 32, 1},
    {"[\"\\\\\", [[]]]", 32, 3},       /* ...but an escaped backslash does not escape the quote */
    {"[\"\\\\\\\"[[\"]", 32, 1},       /* \\ then \" inside: still one string */
    {"{\"k[\":\"v{\"}", 32, 1},        /* keys are strings too */
    /* The count stops early once it passes the limit. */
    {"[[[[[[[[[[]]]]]]]]]]", 3, 4},
    {"[[[]]]", 3, 3},
};

Test(http_request, json_depth)
{
    for (size_t i = 0; i < ARRAY_LEN(depths); i++) {
        int got = http_json_depth(depths[i].json, strlen(depths[i].json), depths[i].limit);
        cr_expect(eq(int, got, depths[i].want), "case %zu: %s", i, depths[i].json);
    }
}

/* Only `len` bytes are read: the body need not be NUL-terminated, and a trailing backslash
 * inside a string must not step past the end. */
Test(http_request, json_depth_respects_len)
{
    static const char text[] = "[[[[[[";
    cr_expect(eq(int, http_json_depth(text, 2, 32), 2));
    static const char esc[] = "[\"\\";
    cr_expect(eq(int, http_json_depth(esc, sizeof esc - 1, 32), 1));
}

/* A body nested far deeper than the limit answers quickly without scanning it all. */
Test(http_request, json_depth_deep)
{
    static char deep[200001];
    memset(deep, '[', 100000);
    memset(deep + 100000, ']', 100000);
    int got = http_json_depth(deep, 200000, HTTP_JSON_DEPTH_MAX);
    cr_expect(gt(int, got, HTTP_JSON_DEPTH_MAX));
    cr_expect(le(int, got, HTTP_JSON_DEPTH_MAX + 1));
}

static const struct {
    const char *id;
    bool ok;
} ids[] = {
    {"a", true},
    {"0123456789abcdef", true},
    {"req-1.2_3:4", true},
    {"ABCxyz-._:", true},
    {"", false},
    {"has space", false},
    {"semi;colon", false},
    {"new\nline", false},
    {"quote\"", false},
    {"slash/", false},
    {"caf\xc3\xa9", false},
    {"{\"json\":1}", false},
};

Test(http_request, request_id_is_valid)
{
    for (size_t i = 0; i < ARRAY_LEN(ids); i++)
        cr_expect(eq(int, http_request_id_is_valid(ids[i].id), ids[i].ok), "case %zu: \"%s\"", i,
                  ids[i].id);
}

Test(http_request, request_id_length)
{
    char id[80];
    memset(id, 'a', sizeof id);
    id[64] = '\0';
    cr_expect(eq(int, http_request_id_is_valid(id), true), "64 chars");
    id[64] = 'a';
    id[65] = '\0';
    cr_expect(eq(int, http_request_id_is_valid(id), false), "65 chars");
}
