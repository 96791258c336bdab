/* core/user: e-mail normalisation, names, UTF-8 text, passwords, roles and time zone names. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "core/user.h"

#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* `n` copies of `unit` into `buf` (which holds them), NUL-terminated. */
static char *repeat(char *buf, const char *unit, size_t n)
{
    size_t len = strlen(unit);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * len, unit, len);
    buf[n * len] = '\0';
    return buf;
}

/* Assert that `rc`/`err` is a PL_EINVAL naming `field`. */
#define EXPECT_INVALID(rc, err, fieldname, ...)                                                \
    do {                                                                                       \
        cr_expect(eq(int, (rc), PL_EINVAL), __VA_ARGS__);                                      \
        cr_expect(eq(int, (err).status, PL_EINVAL), __VA_ARGS__);                              \
        cr_expect(eq(str, (err).field, fieldname), __VA_ARGS__);                               \
        cr_expect(ne(str, (err).detail, ""), __VA_ARGS__);                                     \
    } while (0)

/* ---- e-mail ---------------------------------------------------------------------------- */

static const struct {
    const char *in, *want;
} email_ok[] = {
    {"alice@example.org", "alice@example.org"},
    {"Alice@Example.ORG", "alice@example.org"},
    {"A.B+Tag@Sub.Example.Org", "a.b+tag@sub.example.org"},
    {"a@b.c", "a@b.c"},
    {"o'brien@example.ie", "o'brien@example.ie"},
};

Test(core_user, email_normalizes)
{
    for (size_t i = 0; i < ARRAY_LEN(email_ok); i++) {
        char out[CORE_USER_EMAIL_MAX + 1];
        struct pl_error err = {0};
        int rc = core_user_email_normalize(email_ok[i].in, "email", out, sizeof out, &err);
        cr_assert(eq(int, rc, PL_OK), "case %zu: %s: %s", i, email_ok[i].in, err.detail);
        cr_expect(eq(str, out, (char *)email_ok[i].want), "case %zu", i);
    }
}

static const char *const email_bad[] = {
    "",
    "a@",
    "alice",                   /* no @ */
    "alice.example.org",       /* no @ */
    "a@b@example.org",         /* two @ */
    "@example.org",            /* empty local part */
    "alice@",                  /* empty domain */
    "alice@localhost",         /* no dot in the domain */
    "alice@.example.org",      /* domain starts with a dot */
    "alice@example.org.",      /* domain ends with a dot */
    "alice@example..org",      /* empty label */
    "al ice@example.org",      /* space */
    " alice@example.org",      /* leading space */
    "alice@example.org ",      /* trailing space */
    "al\tice@example.org",     /* tab */
    "al\x7f" "ice@example.org", /* DEL */
    "\"alice\"@example.org",   /* quotes */
    "alice@[127.0.0.1]",       /* address literal */
    "<alice@example.org>",     /* angle brackets */
    "alice@example.org,bob@example.org",
    "al\\ice@example.org",     /* backslash */
    "al\xff" "ice@example.org", /* not UTF-8 */
    "al\xc3" "@example.org",    /* truncated UTF-8 */
};

Test(core_user, email_rejects)
{
    for (size_t i = 0; i < ARRAY_LEN(email_bad); i++) {
        char out[CORE_USER_EMAIL_MAX + 1];
        struct pl_error err = {0};
        int rc = core_user_email_normalize(email_bad[i], "email", out, sizeof out, &err);
        EXPECT_INVALID(rc, err, "email", "case %zu: \"%s\"", i, email_bad[i]);
    }
}

/* The local part may be 64 bytes, not 65; the whole address 254, not 255. */
Test(core_user, email_length_limits)
{
    char local[80], domain[260], addr[400], out[CORE_USER_EMAIL_MAX + 1];
    struct pl_error err = {0};

    snprintf(addr, sizeof addr, "%s@example.org", repeat(local, "a", 64));
    cr_expect(eq(int, core_user_email_normalize(addr, "email", out, sizeof out, &err), PL_OK),
              "%s", err.detail);
    snprintf(addr, sizeof addr, "%s@example.org", repeat(local, "a", 65));
    EXPECT_INVALID(core_user_email_normalize(addr, "email", out, sizeof out, &err), err, "email",
                   "65-byte local part");

    /* "a@" + 248 bytes of domain + ".org" = 254. */
    snprintf(addr, sizeof addr, "a@%s.org", repeat(domain, "b", 248));
    cr_assert(eq(sz, strlen(addr), 254));
    memset(&err, 0, sizeof err);
    cr_expect(eq(int, core_user_email_normalize(addr, "email", out, sizeof out, &err), PL_OK),
              "%s", err.detail);
    cr_expect(eq(str, out, addr));
    snprintf(addr, sizeof addr, "a@%s.org", repeat(domain, "b", 249));
    cr_assert(eq(sz, strlen(addr), 255));
    EXPECT_INVALID(core_user_email_normalize(addr, "email", out, sizeof out, &err), err, "email",
                   "255-byte address");
}

Test(core_user, email_output_too_small)
{
    char out[8];
    struct pl_error err = {0};
    int rc = core_user_email_normalize("alice@example.org", "email", out, sizeof out, &err);
    EXPECT_INVALID(rc, err, "email", "8-byte output");
}

/* ---- text and UTF-8 ----------------------------------------------------------------------- */

static const struct {
    const char *in;
    bool allow_empty, allow_newlines;
    int rc;
} text_cases[] = {
    {"plain", false, false, PL_OK},
    {"", true, false, PL_OK},
    {"", false, false, PL_EINVAL},
    {"caf\xc3\xa9", false, false, PL_OK},                   /* U+00E9 */
    {"\xe2\x82\xac", false, false, PL_OK},                  /* U+20AC */
    {"\xf0\x9f\x98\x80", false, false, PL_OK},              /* U+1F600 */
    {"\xed\x9f\xbf", false, false, PL_OK},                  /* U+D7FF, just below surrogates */
    {"\xee\x80\x80", false, false, PL_OK},                  /* U+E000, just above them */
    {"\xf4\x8f\xbf\xbf", false, false, PL_OK},              /* U+10FFFF, the last code point */
    {"\xc0\xaf", false, false, PL_EINVAL},                  /* overlong '/' in 2 bytes */
    {"\xc1\xbf", false, false, PL_EINVAL},                  /* overlong U+007F */
    {"\xe0\x80\xaf", false, false, PL_EINVAL},              /* overlong '/' in 3 bytes */
    {"\xe0\x9f\xbf", false, false, PL_EINVAL},              /* overlong U+07FF */
    {"\xf0\x80\x80\xaf", false, false, PL_EINVAL},          /* overlong '/' in 4 bytes */
    {"\xf0\x8f\xbf\xbf", false, false, PL_EINVAL},          /* overlong U+FFFF */
    {"\xed\xa0\x80", false, false, PL_EINVAL},              /* U+D800 high surrogate */
    {"\xed\xbf\xbf", false, false, PL_EINVAL},              /* U+DFFF low surrogate */
    {"\xed\xa0\xbd\xed\xb8\x80", false, false, PL_EINVAL},  /* CESU-8 surrogate pair */
    {"\xf4\x90\x80\x80", false, false, PL_EINVAL},          /* U+110000 */
    {"\xf5\x80\x80\x80", false, false, PL_EINVAL},          /* lead byte past F4 */
    {"\xf8\x88\x80\x80\x80", false, false, PL_EINVAL},      /* 5-byte form */
    {"\xff", false, false, PL_EINVAL},
    {"\x80", false, false, PL_EINVAL},                      /* lone continuation byte */
    {"a\xc3", false, false, PL_EINVAL},                     /* truncated at the end */
    {"a\xe2\x82", false, false, PL_EINVAL},
    {"a\xf0\x9f\x98", false, false, PL_EINVAL},
    {"\xc3(", false, false, PL_EINVAL},                     /* bad continuation byte */
    {"\xe2(\xa1", false, false, PL_EINVAL},
    {"a\x01z", false, false, PL_EINVAL},                    /* C0 control */
    {"a\x1bz", false, false, PL_EINVAL},                    /* ESC */
    {"a\x7fz", false, false, PL_EINVAL},                    /* DEL */
    {"a\nz", false, false, PL_EINVAL},
    {"a\nz", false, true, PL_OK},
    {"a\r\nz\tq", false, true, PL_OK},
    {"a\x0bz", false, true, PL_EINVAL},                     /* VT is not a newline */
    {"a\x00z", false, false, PL_OK},                        /* C strings end at NUL: "a" */
};

Test(core_user, text_check_utf8_and_controls)
{
    for (size_t i = 0; i < ARRAY_LEN(text_cases); i++) {
        struct pl_error err = {0};
        int rc = core_text_check(text_cases[i].in, "description", 100, text_cases[i].allow_empty,
                                 text_cases[i].allow_newlines, &err);
        cr_expect(eq(int, rc, text_cases[i].rc), "case %zu: %s", i, err.detail);
        if (text_cases[i].rc != PL_OK)
            cr_expect(eq(str, err.field, "description"), "case %zu", i);
    }
}

/* C1 controls (U+0080..U+009F, e.g. U+0085 NEXT LINE) are control characters too, and the
 * contract says "no control characters except tab, CR and LF". */
Test(core_user, text_check_rejects_c1_controls)
{
    static const char *const c1[] = {"a\xc2\x80z", "a\xc2\x85z", "a\xc2\x9bz", "a\xc2\x9fz"};
    for (size_t i = 0; i < ARRAY_LEN(c1); i++) {
        struct pl_error err = {0};
        int rc = core_text_check(c1[i], "name", 100, false, true, &err);
        cr_expect(eq(int, rc, PL_EINVAL), "case %zu: U+%04X accepted", i,
                  (unsigned)(unsigned char)c1[i][2] & 0xFFu);
    }
}

/* The limit counts code points, not bytes. */
static const struct {
    const char *unit;
    size_t count, max;
    int rc;
} text_len[] = {
    {"a", 10, 10, PL_OK},
    {"a", 11, 10, PL_EINVAL},
    {"\xc3\xa9", 10, 10, PL_OK},         /* 20 bytes, 10 characters */
    {"\xc3\xa9", 11, 10, PL_EINVAL},
    {"\xf0\x9f\x98\x80", 10, 10, PL_OK}, /* 40 bytes, 10 characters */
    {"\xf0\x9f\x98\x80", 11, 10, PL_EINVAL},
};

Test(core_user, text_check_counts_characters)
{
    for (size_t i = 0; i < ARRAY_LEN(text_len); i++) {
        char buf[64];
        struct pl_error err = {0};
        int rc = core_text_check(repeat(buf, text_len[i].unit, text_len[i].count), "t",
                                 text_len[i].max, false, false, &err);
        cr_expect(eq(int, rc, text_len[i].rc), "case %zu: %s", i, err.detail);
    }
}

/* ---- names ---------------------------------------------------------------------------- */

static const struct {
    const char *unit;
    size_t count;
    int rc;
} name_len[] = {
    {"a", 200, PL_OK},
    {"a", 201, PL_EINVAL},
    {"\xc3\xa9", 200, PL_OK},     /* 200 'é' = 400 bytes: fine */
    {"\xc3\xa9", 201, PL_EINVAL},
    {"\xe6\x97\xa5", 200, PL_OK}, /* 200 '日' = 600 bytes */
    {"\xe6\x97\xa5", 201, PL_EINVAL},
};

Test(core_user, name_length_in_characters)
{
    for (size_t i = 0; i < ARRAY_LEN(name_len); i++) {
        char buf[1024];
        struct pl_error err = {0};
        int rc = core_user_name_check(repeat(buf, name_len[i].unit, name_len[i].count), "name",
                                      &err);
        cr_expect(eq(int, rc, name_len[i].rc), "case %zu: %s", i, err.detail);
        if (name_len[i].rc != PL_OK)
            cr_expect(eq(str, err.field, "name"), "case %zu", i);
    }
}

static const struct {
    const char *in;
    int rc;
} names[] = {
    {"Alice Smith", PL_OK},
    {"\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0", PL_OK}, /* Анна */
    {"A", PL_OK},
    {"", PL_EINVAL},
    {" ", PL_EINVAL},
    {" Alice", PL_EINVAL},
    {"Alice ", PL_EINVAL},
    {"Ali\nce", PL_EINVAL},
    {"Ali\tce", PL_EINVAL},
    {"Ali\x1b[31mce", PL_EINVAL},
    {"Ali\xed" "ce", PL_EINVAL},
};

Test(core_user, name_check)
{
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        struct pl_error err = {0};
        int rc = core_user_name_check(names[i].in, "display_name", &err);
        cr_expect(eq(int, rc, names[i].rc), "case %zu: \"%s\": %s", i, names[i].in, err.detail);
        if (names[i].rc != PL_OK)
            cr_expect(eq(str, err.field, "display_name"), "case %zu", i);
    }
}

/* ---- passwords and roles ---------------------------------------------------------------- */

static const struct {
    const char *unit;
    size_t count;
    int rc;
} passwords[] = {
    {"", 0, PL_EINVAL},
    {"x", 7, PL_EINVAL},
    {"x", 8, PL_OK},
    {"\xc3\xa9", 4, PL_OK}, /* 4 characters but 8 bytes: the bound is in bytes */
    {"x", 256, PL_OK},
    {"x", 257, PL_EINVAL},
};

Test(core_user, password_bounds)
{
    for (size_t i = 0; i < ARRAY_LEN(passwords); i++) {
        char buf[600];
        struct pl_error err = {0};
        int rc = core_user_password_check(repeat(buf, passwords[i].unit, passwords[i].count),
                                          "password", &err);
        cr_expect(eq(int, rc, passwords[i].rc), "case %zu", i);
        if (passwords[i].rc != PL_OK)
            cr_expect(eq(str, err.field, "password"), "case %zu", i);
    }
}

static const struct {
    const char *in;
    int rc, role;
} roles[] = {
    {"member", PL_OK, USER_ROLE_MEMBER},
    {"admin", PL_OK, USER_ROLE_ADMIN},
    {"Admin", PL_EINVAL, -1},
    {"admin ", PL_EINVAL, -1},
    {"", PL_EINVAL, -1},
    {"owner", PL_EINVAL, -1},
};

Test(core_user, role_parse_and_name)
{
    for (size_t i = 0; i < ARRAY_LEN(roles); i++) {
        struct pl_error err = {0};
        int role = -1;
        int rc = core_user_role_parse(roles[i].in, "role", &role, &err);
        cr_expect(eq(int, rc, roles[i].rc), "case %zu: \"%s\"", i, roles[i].in);
        cr_expect(eq(int, role, roles[i].role), "case %zu", i);
        if (rc == PL_OK)
            cr_expect(eq(str, (char *)core_user_role_name(role), (char *)roles[i].in),
                      "case %zu", i);
        else
            cr_expect(eq(str, err.field, "role"), "case %zu", i);
    }
    cr_expect(eq(str, (char *)core_user_role_name(42), "member"));
}

/* ---- time zones ------------------------------------------------------------------------- */

static const struct {
    const char *in;
    int rc;
} zones[] = {
    {"Europe/Moscow", PL_OK},
    {"UTC", PL_OK},
    {"America/New_York", PL_OK},
    {"America/Argentina/Buenos_Aires", PL_OK},
    {"Asia/Kolkata", PL_OK},
    {"Mars/Base", PL_EINVAL},
    {"Europe/Atlantis", PL_EINVAL},
    {"../etc/passwd", PL_EINVAL},
    {"Europe/../../etc/passwd", PL_EINVAL},
    {"/etc/passwd", PL_EINVAL},
    {"/usr/share/zoneinfo/UTC", PL_EINVAL},
    {"", PL_EINVAL},
    {"Europe/Moscow\n", PL_EINVAL},
    {"Europe/Moscow ", PL_EINVAL},
    {"Europe\\Moscow", PL_EINVAL},
    {"Europe/Mos%63ow", PL_EINVAL},
    /* other paths to a zone's file, which a calendar app cannot match to the zone */
    {"posix/Europe/Berlin", PL_EINVAL},
    {"right/Europe/Berlin", PL_EINVAL},
    {"Europe//Berlin", PL_EINVAL},
    {"Europe/Berlin/", PL_EINVAL},
    {"localtime", PL_EINVAL},
    {"posixrules", PL_EINVAL},
    {"Etc/GMT+5", PL_OK},
    {"US/Eastern", PL_OK},
    {"GB", PL_OK},
};

Test(core_user, tz_check)
{
    for (size_t i = 0; i < ARRAY_LEN(zones); i++) {
        struct pl_error err = {0};
        int rc = core_tz_check(zones[i].in, "time_zone", &err);
        cr_expect(eq(int, rc, zones[i].rc), "case %zu: \"%s\": %s", i, zones[i].in, err.detail);
        if (zones[i].rc != PL_OK)
            cr_expect(eq(str, err.field, "time_zone"), "case %zu", i);
    }
}

/* What a stored row is held to: any name the tz database has a zone under, still no path. */
Test(core_user, tz_known)
{
    static const struct {
        const char *in;
        int rc;
    } known[] = {{"Europe/Berlin", PL_OK},       {"posix/Europe/Berlin", PL_OK},
                 {"Europe//Berlin", PL_OK},      {"Mars/Base", PL_EINVAL},
                 {"../etc/passwd", PL_EINVAL},   {"/usr/share/zoneinfo/UTC", PL_EINVAL}};
    for (size_t i = 0; i < ARRAY_LEN(known); i++) {
        struct pl_error err = {0};
        cr_expect(eq(int, core_tz_known(known[i].in, "time_zone", &err), known[i].rc), "%s",
                  known[i].in);
    }
}

Test(core_user, tz_check_too_long)
{
    char buf[CORE_TZ_NAME_MAX + 8];
    struct pl_error err = {0};
    int rc = core_tz_check(repeat(buf, "A", CORE_TZ_NAME_MAX + 1), "time_zone", &err);
    EXPECT_INVALID(rc, err, "time_zone", "65-byte name");
}

/* One character's length, at each edge RFC 3629 draws. */
Test(core_user, utf8_char_len)
{
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {"a", 1}, {"\x7f", 1}, {"\xc2\x80", 2}, {"\xdf\xbf", 2}, {"\xe0\xa0\x80", 3},
        {"\xed\x9f\xbf", 3}, {"\xee\x80\x80", 3}, {"\xef\xbf\xbf", 3},
        {"\xf0\x90\x80\x80", 4}, {"\xf4\x8f\xbf\xbf", 4},
        {"\x80", 0},                                 /* a continuation byte alone */
        {"\xc0\xaf", 0}, {"\xc1\xbf", 0},            /* overlong 2-byte forms */
        {"\xe0\x9f\xbf", 0},                         /* overlong 3-byte form */
        {"\xed\xa0\x80", 0}, {"\xed\xbf\xbf", 0},    /* UTF-16 surrogates */
        {"\xf0\x8f\xbf\xbf", 0},                     /* overlong 4-byte form */
        {"\xf4\x90\x80\x80", 0}, {"\xf5\x80\x80\x80", 0}, /* past U+10FFFF */
        {"\xff", 0}, {"\xc3", 0}, {"\xe2\x82", 0},   /* cut short by the NUL */
        {"\xe2\x28\xa1", 0},                         /* a bad continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert(eq(sz, core_utf8_char_len(cases[i].s), cases[i].len), "case %zu", i);
}
