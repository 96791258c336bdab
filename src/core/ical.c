/* iCalendar parsing and writing.
 *
 * The parser reads the structure of the text itself (unfolding, content lines, BEGIN/END
 * nesting) so that every VEVENT and every property keeps the line it came from, and asks
 * libical to parse, one content line at a time, the values it must understand (dates and
 * times, durations, RRULE, TRIGGER, ATTENDEE parameters).  Parsing a whole VEVENT with libical
 * would lose the line numbers: its parser replaces a bad property by an X-LIC-ERROR property
 * and splits multi-valued ones, so properties no longer match lines.  TEXT values are
 * unescaped here (libical refuses an empty DESCRIPTION, which RFC 5545 allows), and unknown
 * properties are never handed to libical at all: they are kept verbatim.
 *
 * The writer builds the text itself too (escaping, folding at 75 octets on UTF-8 boundaries,
 * CRLF); only the VTIMEZONE components come from libical, from the system tz database. */
#include "core/ical.h"

#include "arena.h"
#include "core/recur.h"
#include "core/time.h"
#include "core/tz.h"
#include "core/user.h"

#include <errno.h>
#include <libical/ical.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define US CORE_TIME_US_PER_S
#define DAY_S INT64_C(86400)
#define NEST_MAX 16      /* component nesting a VCALENDAR may have */
#define TZ_CACHE_MAX 32  /* distinct TZIDs remembered per parse */
#define FOLD_OCTETS 75   /* RFC 5545 section 3.1 */

/* ---- growable text in an arena ----------------------------------------------------------- */

struct text {
    struct arena *a;
    char *p; /* always NUL-terminated */
    size_t len, cap;
};

static void text_init(struct text *t, struct arena *a, size_t cap)
{
    t->a = a;
    t->p = arena_alloc(a, cap);
    t->p[0] = '\0';
    t->len = 0;
    t->cap = cap;
}

static void text_reset(struct text *t)
{
    t->len = 0;
    t->p[0] = '\0';
}

static void text_mem(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap * 2;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = arena_alloc(t->a, cap); /* the old block is left to the arena */
        memcpy(p, t->p, t->len);
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
    text_mem(t, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) text_fmt(struct text *t, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    if ((size_t)k < sizeof buf) {
        text_mem(t, buf, (size_t)k);
        return;
    }
    char *big = arena_alloc(t->a, (size_t)k + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    text_mem(t, big, (size_t)k);
}

/* ---- instants and civil times -------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The UTC civil time of an instant, seconds precision. */
static struct core_civil civil_utc(int64_t us)
{
    int64_t s = floor_div(us, US), days = floor_div(s, DAY_S), rem = s - days * DAY_S, y;
    unsigned m, d;
    core_time_civil_from_days(days, &y, &m, &d);
    return (struct core_civil){(int)y, (int)m, (int)d, (int)(rem / 3600), (int)(rem / 60 % 60),
                               (int)(rem % 60), 0};
}

static int64_t us_of_utc_civil(const struct core_civil *c)
{
    return (core_time_days_from_civil(c->year, (unsigned)c->month, (unsigned)c->day) * DAY_S +
            c->hour * 3600 + c->minute * 60 + c->second) * US;
}

/* `c` moved by `days` calendar days (the time of day stays). */
static struct core_civil civil_add_days(struct core_civil c, int64_t days)
{
    int64_t y, z = core_time_days_from_civil(c.year, (unsigned)c.month, (unsigned)c.day) + days;
    unsigned m, d;
    core_time_civil_from_days(z, &y, &m, &d);
    c.year = (int)y;
    c.month = (int)m;
    c.day = (int)d;
    return c;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Whether libical's reading of a DATE or DATE-TIME is a real date and time: libical checks
 * the shape of the digits only ("20261301T250000" passes). */
static bool time_is_valid(const struct icaltimetype *t)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (t->year < 1 || t->year > 9999 || t->month < 1 || t->month > 12 || t->day < 1 ||
        t->day > mdays[t->month - 1] || (t->month == 2 && t->day == 29 && !is_leap(t->year)))
        return false;
    return t->is_date || (t->hour >= 0 && t->hour <= 23 && t->minute >= 0 && t->minute <= 59 &&
                          t->second >= 0 && t->second <= 60);
}

/* ---- content lines -------------------------------------------------------------------------- */

struct cline {
    const char *text;  /* the unfolded line, NUL-terminated */
    const char *value; /* after the ':' that ends the name and parameters; NULL if malformed */
    size_t name_len;
    int line;      /* the physical line it starts on, 1-based */
    bool is_clean; /* valid UTF-8 without NUL bytes */
};

static bool is_utf8(const char *s)
{
    size_t len;
    while (*s != '\0' && (len = core_utf8_char_len(s)) != 0)
        s += len;
    return *s == '\0';
}

/* Find the name and the value of a content line: NAME *(";" param) ":" value, where a
 * quoted parameter value may hold ':'. */
static void split_line(struct cline *c)
{
    const char *p = c->text;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
           *p == '-')
        p++;
    c->name_len = (size_t)(p - c->text);
    c->value = NULL;
    if (c->name_len == 0 || (*p != ':' && *p != ';'))
        return;
    bool quoted = false;
    for (; *p; p++) {
        if (*p == '"') {
            quoted = !quoted;
        } else if (*p == ':' && !quoted) {
            c->value = p + 1;
            return;
        }
    }
}

/* Unfold `text` into logical lines (RFC 5545 section 3.1): a physical line that starts with
 * a space or a tab continues the previous one.  CRLF and bare LF both end lines; empty lines
 * are skipped.  The unfolded lines never need more room than the text itself: each drops at
 * least its line ending, which pays for its NUL (the last one may have no ending: + 1). */
static struct cline *unfold(const char *text, size_t len, struct arena *a, size_t *n)
{
    char *buf = arena_alloc(a, len + 1);
    size_t w = 0, count = 0, cap = 0, pos = 0;
    struct cline *lines = NULL;
    int phys = 0;
    bool open = false;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a byte-order mark */
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t seg = nl ? (size_t)(nl - s) : len - pos;
        pos += seg + (nl != NULL);
        phys++;
        if (seg > 0 && s[seg - 1] == '\r')
            seg--;
        bool clean = memchr(s, '\0', seg) == NULL;
        if (open && seg > 0 && (s[0] == ' ' || s[0] == '\t')) {
            memcpy(buf + w, s + 1, seg - 1);
            w += seg - 1;
            lines[count - 1].is_clean &= clean;
            continue;
        }
        if (open) {
            buf[w++] = '\0';
            open = false;
        }
        if (seg == 0)
            continue;
        lines = arena_grow(a, lines, count, &cap, sizeof *lines);
        lines[count++] = (struct cline){.text = buf + w, .line = phys, .is_clean = clean};
        memcpy(buf + w, s, seg);
        w += seg;
        open = true;
    }
    if (open)
        buf[w++] = '\0';
    for (size_t i = 0; i < count; i++) {
        lines[i].is_clean = lines[i].is_clean && is_utf8(lines[i].text);
        split_line(&lines[i]);
    }
    *n = count;
    return lines;
}

/* Whether `c` is a content line named `name` (case-insensitive, as RFC 5545 says). */
static bool is(const struct cline *c, const char *name)
{
    size_t n = strlen(name);
    return c->value != NULL && c->name_len == n && strncasecmp(c->text, name, n) == 0;
}

static bool is_begin(const struct cline *c, const char *component)
{
    return is(c, "BEGIN") && strcasecmp(c->value, component) == 0;
}

static bool is_end(const struct cline *c, const char *component)
{
    return is(c, "END") && strcasecmp(c->value, component) == 0;
}

/* The END line of the component that begins at lines[i]: true with *end its index, or false
 * when the component is not closed properly, with *end the line the caller resumes at (always
 * after i: a mismatched END, or the end of the text). */
static bool find_end(const struct cline *lines, size_t i, size_t n, size_t *end)
{
    const char *stack[NEST_MAX];
    size_t depth = 0;
    for (size_t j = i; j < n; j++) {
        const struct cline *c = &lines[j];
        if (is(c, "BEGIN")) {
            if (depth == NEST_MAX) {
                *end = j;
                return false;
            }
            stack[depth++] = c->value;
        } else if (is(c, "END")) {
            if (strcasecmp(c->value, stack[depth - 1]) != 0) {
                *end = j;
                return false;
            }
            if (--depth == 0) {
                *end = j;
                return true;
            }
        }
    }
    *end = n;
    return false;
}

/* ---- the parse ------------------------------------------------------------------------------- */

/* A VTIMEZONE of the file. */
struct zone_def {
    const char *tzid;
    size_t begin, end; /* its BEGIN and END lines */
    icaltimezone *zone; /* built from the definition on first use; freed at the end */
    bool tried;
};

/* What a TZID stands for: an IANA zone, or only a VTIMEZONE of the file. */
struct tzref {
    const char *tzid;
    const char *iana;
    icaltimezone *custom;
};

struct parse_ctx {
    struct arena *a;
    const char *default_tz;
    const struct cline *lines;
    struct zone_def *zones;
    size_t nzones;
    struct tzref cache[TZ_CACHE_MAX];
    size_t ncache;
    struct text scratch; /* a content line wrapped for libical */
    struct ical_event *events;
    size_t nevents, events_cap;
    struct ical_error *errors;
    size_t nerrors, errors_cap;
    bool errors_full;
};

/* Why the VEVENT being read cannot be used. */
struct failure {
    int line;
    char message[CORE_ICAL_MESSAGE_MAX];
};

static int __attribute__((format(printf, 3, 4)))
fail(struct failure *f, int line, const char *fmt, ...)
{
    va_list ap;
    f->line = line;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    return -1;
}

static void add_error(struct parse_ctx *cx, const struct failure *f)
{
    if (cx->errors_full)
        return;
    cx->errors = arena_grow(cx->a, cx->errors, cx->nerrors, &cx->errors_cap, sizeof *cx->errors);
    struct ical_error *e = &cx->errors[cx->nerrors++];
    e->line = f->line;
    if (cx->nerrors == CORE_ICAL_ERRORS_MAX) {
        snprintf(e->message, sizeof e->message,
                 "more than %d VEVENTs cannot be used; the others are not listed",
                 CORE_ICAL_ERRORS_MAX - 1);
        cx->errors_full = true;
        return;
    }
    memcpy(e->message, f->message, sizeof e->message);
}

/* A known IANA zone behind `tzid`: the name itself, or what follows a "/prefix/" such as
 * libical's "/freeassociation.sourceforge.net/Europe/Berlin" or Mozilla's
 * "/mozilla.org/20050126_1/Europe/Berlin".  NULL when there is none. */
static const char *iana_of(const char *tzid)
{
    if (core_tz_check(tzid, NULL, NULL) == PL_OK)
        return tzid;
    for (const char *p = tzid; (p = strchr(p, '/')) != NULL;) {
        p++;
        if (*p && core_tz_check(p, NULL, NULL) == PL_OK)
            return p;
    }
    return NULL;
}

/* Whether an RRULE value's FREQ is YEARLY. */
static bool yearly_rule(const char *v)
{
    while (v != NULL) {
        if (strncasecmp(v, "FREQ=", 5) == 0)
            return strncasecmp(v + 5, "YEARLY", 6) == 0 && (v[11] == ';' || v[11] == '\0');
        v = strchr(v, ';');
        if (v != NULL)
            v++;
    }
    return false;
}

/* The VTIMEZONE `z` as a libical zone, or NULL when libical cannot read it.  A zone's
 * observances recur yearly: libical expands every rule of a zone when it builds it, so a
 * finer one (FREQ=SECONDLY, found by test_fuzz_ical.py) had an import run for good; such a
 * zone is not read. */
static icaltimezone *custom_zone(struct parse_ctx *cx, struct zone_def *z)
{
    if (z->tried)
        return z->zone;
    z->tried = true;
    for (size_t i = z->begin; i <= z->end; i++)
        if (is(&cx->lines[i], "RRULE") &&
            (cx->lines[i].value == NULL || !yearly_rule(cx->lines[i].value)))
            return NULL;
    struct text t;
    text_init(&t, cx->a, 1024);
    text_str(&t, "BEGIN:VCALENDAR\r\n");
    for (size_t i = z->begin; i <= z->end; i++) {
        if (!cx->lines[i].is_clean)
            return NULL;
        text_str(&t, cx->lines[i].text);
        text_str(&t, "\r\n");
    }
    text_str(&t, "END:VCALENDAR\r\n");
    icalcomponent *cal = icalparser_parse_string(t.p);
    if (cal == NULL)
        return NULL;
    icalcomponent *vtz = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
    if (vtz != NULL)
        icalcomponent_remove_component(cal, vtz);
    icalcomponent_free(cal);
    if (vtz == NULL)
        return NULL;
    icaltimezone *zone = icaltimezone_new();
    if (zone == NULL) {
        icalcomponent_free(vtz);
        return NULL;
    }
    if (!icaltimezone_set_component(zone, vtz)) { /* the component was not taken */
        icalcomponent_free(vtz);
        icaltimezone_free(zone, 1);
        return NULL;
    }
    z->zone = zone;
    return zone;
}

/* Resolve a TZID: an IANA name (directly, behind a prefix, or as the X-LIC-LOCATION of the
 * file's VTIMEZONE of that TZID), else the file's VTIMEZONE itself.  NULL when unknown. */
static const struct tzref *resolve_tzid(struct parse_ctx *cx, const char *tzid)
{
    for (size_t i = 0; i < cx->ncache; i++)
        if (strcmp(cx->cache[i].tzid, tzid) == 0)
            return &cx->cache[i];
    struct tzref ref = {.tzid = arena_strdup(cx->a, tzid), .iana = iana_of(tzid)};
    if (ref.iana != NULL)
        ref.iana = arena_strdup(cx->a, ref.iana);
    for (size_t i = 0; ref.iana == NULL && ref.custom == NULL && i < cx->nzones; i++) {
        struct zone_def *z = &cx->zones[i];
        if (strcmp(z->tzid, tzid) != 0)
            continue;
        for (size_t j = z->begin + 1; j < z->end && ref.iana == NULL; j++)
            if (is(&cx->lines[j], "X-LIC-LOCATION") && cx->lines[j].is_clean &&
                core_tz_check(cx->lines[j].value, NULL, NULL) == PL_OK)
                ref.iana = cx->lines[j].value;
        if (ref.iana == NULL)
            ref.custom = custom_zone(cx, z);
    }
    if (ref.iana == NULL && ref.custom == NULL)
        return NULL;
    if (cx->ncache == TZ_CACHE_MAX) /* a file with that many zones: forget the oldest */
        memmove(cx->cache, cx->cache + 1, (TZ_CACHE_MAX - 1) * sizeof cx->cache[0]);
    else
        cx->ncache++;
    cx->cache[cx->ncache - 1] = ref;
    return &cx->cache[cx->ncache - 1];
}

/* Parse one content line with libical.  Returns a VCALENDAR holding its properties (one per
 * value for a multi-valued EXDATE or RDATE), which the caller frees, or NULL after `f` was
 * set from libical's complaint (its X-LIC-ERROR text). */
static icalcomponent *parse_property(struct parse_ctx *cx, const struct cline *c,
                                     struct failure *f)
{
    text_reset(&cx->scratch);
    text_str(&cx->scratch, "BEGIN:VCALENDAR\r\n");
    text_str(&cx->scratch, c->text);
    text_str(&cx->scratch, "\r\nEND:VCALENDAR\r\n");
    icalcomponent *cal = icalparser_parse_string(cx->scratch.p);
    if (cal == NULL) {
        fail(f, c->line, "%.*s cannot be parsed", (int)c->name_len, c->text);
        return NULL;
    }
    icalproperty *e = icalcomponent_get_first_property(cal, ICAL_XLICERROR_PROPERTY);
    if (e != NULL) {
        const char *why = icalproperty_get_xlicerror(e);
        char msg[CORE_ICAL_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", why ? why : "bad value");
        char *cut = strstr(msg, ". Removing entire property");
        if (cut != NULL)
            *cut = '\0';
        fail(f, c->line, "bad %.*s: %s", (int)c->name_len, c->text, msg);
        icalcomponent_free(cal);
        return NULL;
    }
    if (icalcomponent_get_first_property(cal, ICAL_ANY_PROPERTY) == NULL) {
        fail(f, c->line, "%.*s has no value", (int)c->name_len, c->text);
        icalcomponent_free(cal);
        return NULL;
    }
    return cal;
}

/* Whether the parameters of `c`, between its name and the ':' before its value, follow RFC
 * 5545 (section 3.1): each ";" name "=" value *("," value), a name of letters, digits and '-',
 * a value either quoted (no '"' inside) or free of '"', ';', ':' and ','; no control
 * characters but tabs.  libical takes more (";:", `CN="a"b`) that other readers refuse. */
static bool params_ok(const struct cline *c)
{
    const char *p = c->text + c->name_len, *end = c->value - 1;
    while (p < end) {
        if (*p++ != ';')
            return false;
        const char *name = p;
        while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                           (*p >= '0' && *p <= '9') || *p == '-'))
            p++;
        if (p == name || p == end || *p++ != '=')
            return false;
        for (;;) {
            bool quoted = p < end && *p == '"';
            p += quoted;
            for (; p < end && *p != '"' && (quoted || !strchr(";:,", *p)); p++)
                if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
                    return false;
            if (quoted && (p == end || *p++ != '"'))
                return false;
            if (p == end || *p != ',')
                break;
            p++;
        }
    }
    return true;
}

/* A line kept verbatim goes out again in every export and feed of its calendar, where one
 * value a calendar app cannot read can make it refuse the whole calendar (python3-icalendar
 * does).  So its parameters must follow the grammar, and a value that is not text (by the
 * property's name: unknown IANA and X- names are text, as RFC 5545 has them passed on) must
 * be one libical reads, exactly. */
static int check_kept(struct parse_ctx *cx, const struct cline *c, struct failure *f)
{
    int nl = (int)c->name_len;
    if (!params_ok(c))
        return fail(f, c->line, "bad %.*s: its parameters are not NAME=value;...", nl, c->text);
    char name[64] = "";
    if (c->name_len < sizeof name)
        memcpy(name, c->text, c->name_len);
    icalvalue_kind k = icalproperty_kind_to_value_kind(icalproperty_string_to_kind(name));
    if (k == ICAL_TEXT_VALUE || k == ICAL_X_VALUE || k == ICAL_NO_VALUE)
        return 0; /* whatever libical says of it (the parameters are checked above) */
    icalcomponent *cal = parse_property(cx, c, f);
    if (cal == NULL)
        return -1;
    icalcomponent_free(cal);
    /* libical reads an INTEGER as C's atoi does ("REPEAT:x" is 0) and skips spaces around
     * other values ("TRIGGER: -PT1H"): the text goes out as it came. */
    const char *v = c->value, *digits = v + (*v == '-' || *v == '+');
    size_t n = strlen(v);
    if (k == ICAL_INTEGER_VALUE &&
        (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits)))
        return fail(f, c->line, "bad %.*s: not an integer", nl, c->text);
    if (n > 0 && (strchr(" \t", v[0]) || strchr(" \t", v[n - 1])))
        return fail(f, c->line, "bad %.*s: spaces around the value", nl, c->text);
    return 0;
}

/* The TZID parameter of `p` (copied into the arena), or NULL. */
static const char *tzid_of(struct parse_ctx *cx, icalproperty *p)
{
    icalparameter *z = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    const char *v = z ? icalparameter_get_tzid(z) : NULL;
    return v ? arena_strdup(cx->a, v) : NULL;
}

/* A DATE or DATE-TIME as the event reads it. */
struct when {
    int64_t us;
    bool is_date;
    const char *zone; /* the IANA zone of a TZID, NULL for UTC, floating and VTIMEZONE-only */
    bool is_utc;
};

/* The UTC instant of `t` (given with `tzid`, which may be NULL): UTC as it is, a TZID through
 * its zone, dates and floating times in `local_tz`. */
static int instant_of(struct parse_ctx *cx, const struct icaltimetype *t, const char *tzid,
                      const char *local_tz, const struct cline *c, struct when *out,
                      struct failure *f)
{
    if (!time_is_valid(t))
        return fail(f, c->line, "%.*s is not a valid date or time", (int)c->name_len, c->text);
    struct core_civil civil = {t->year, t->month, t->day, t->is_date ? 0 : t->hour,
                               t->is_date ? 0 : t->minute,
                               t->is_date ? 0 : (t->second > 59 ? 59 : t->second), 0};
    *out = (struct when){.is_date = t->is_date != 0};
    if (!t->is_date && icaltime_is_utc(*t)) {
        out->is_utc = true;
        out->us = us_of_utc_civil(&civil);
        return 0;
    }
    if (!t->is_date && tzid != NULL) {
        const struct tzref *ref = resolve_tzid(cx, tzid);
        if (ref == NULL)
            return fail(f, c->line, "unknown TZID \"%.60s\": neither an IANA time zone nor a"
                        " VTIMEZONE of the file", tzid);
        if (ref->custom != NULL) {
            struct icaltimetype local = *t;
            local.zone = NULL;
            out->us = (int64_t)icaltime_as_timet_with_zone(local, ref->custom) * US;
            return 0;
        }
        out->zone = ref->iana;
        local_tz = ref->iana;
    }
    if (core_tz_to_utc(local_tz, &civil, &out->us, NULL, NULL) < 0)
        return fail(f, c->line, "unknown time zone \"%.60s\"", local_tz);
    return 0;
}

/* What is known of the event's start once DTSTART is read. */
struct start {
    struct when when;
    const char *tz;      /* ev.time_zone */
    const char *calc_tz; /* the zone nominal days are counted in (UTC for a UTC DTSTART) */
};

/* The instant an exception date (EXDATE, RDATE, RECURRENCE-ID) stands for, in the series'
 * terms: an all-day series' local midnight of its date, a timed series' instant (a DATE
 * meaning that day at the series' time of day). */
static int exception_instant(struct parse_ctx *cx, const struct icaltimetype *t,
                             const char *tzid, const struct start *s, const struct cline *c,
                             int64_t *us, struct failure *f)
{
    struct when w;
    if (instant_of(cx, t, tzid, s->tz, c, &w, f) < 0)
        return -1;
    struct core_civil civil;
    if (s->when.is_date) {
        if (w.is_date) {
            *us = w.us;
            return 0;
        }
        if (core_tz_from_utc(s->tz, w.us, &civil, NULL, NULL) < 0)
            return fail(f, c->line, "unknown time zone");
        civil.hour = civil.minute = civil.second = 0;
    } else {
        if (!w.is_date) {
            *us = w.us;
            return 0;
        }
        struct core_civil at;
        if (core_tz_from_utc(s->tz, s->when.us, &at, NULL, NULL) < 0)
            return fail(f, c->line, "unknown time zone");
        civil = (struct core_civil){t->year, t->month, t->day, at.hour, at.minute, at.second, 0};
    }
    if (core_tz_to_utc(s->tz, &civil, us, NULL, NULL) < 0)
        return fail(f, c->line, "unknown time zone");
    return 0;
}

/* Append one normalised recurrence line (core/recur.h) for the instant `us`. */
static void recurrence_line(struct text *t, const char *name, int64_t us, const struct start *s)
{
    if (t->len > 0)
        text_str(t, "\n");
    struct core_civil c;
    if (s->when.is_date && core_tz_from_utc(s->tz, us, &c, NULL, NULL) == PL_OK) {
        text_fmt(t, "%s;VALUE=DATE:%04d%02d%02d", name, c.year, c.month, c.day);
        return;
    }
    c = civil_utc(us);
    text_fmt(t, "%s:%04d%02d%02dT%02d%02d%02dZ", name, c.year, c.month, c.day, c.hour, c.minute,
             c.second);
}

/* TEXT value unescaping (RFC 5545 section 3.3.11), into the arena. */
static char *unescape(struct arena *a, const char *v)
{
    char *out = arena_alloc(a, strlen(v) + 1), *w = out;
    for (const char *p = v; *p; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
            *w++ = *p == 'n' || *p == 'N' ? '\n' : *p;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return out;
}

/* Control characters (line breaks included) as spaces: for one-line fields. */
static char *one_line(char *s)
{
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = ' ';
    return s;
}

/* The lines of one VEVENT that matter once they have all been seen. */
struct vevent_lines {
    const struct cline *uid, *summary, *description, *location, *dtstart, *dtend, *duration,
        *status, *class_, *sequence, *rrule, *recurrence_id, *organizer;
    const struct cline **exdates, **rdates, **attendees;
    size_t nexdates, nrdates, nattendees, cap_ex, cap_rd, cap_at;
};

/* The reminder a VALARM at lines[b..e] stands for, in minutes before the start, or -1 when it
 * is not one (then it is kept verbatim). */
static int alarm_minutes(struct parse_ctx *cx, size_t b, size_t e)
{
    const struct cline *action = NULL, *trigger = NULL;
    for (size_t i = b + 1; i < e; i++) {
        const struct cline *c = &cx->lines[i];
        if (c->value == NULL || !c->is_clean || is(c, "BEGIN"))
            return -1;
        if (is(c, "ACTION")) {
            if (action != NULL)
                return -1;
            action = c;
        } else if (is(c, "TRIGGER")) {
            if (trigger != NULL)
                return -1;
            trigger = c;
        }
    }
    if (action == NULL || trigger == NULL ||
        (strcasecmp(action->value, "DISPLAY") != 0 && strcasecmp(action->value, "AUDIO") != 0))
        return -1;
    struct failure ignored;
    icalcomponent *cal = parse_property(cx, trigger, &ignored);
    if (cal == NULL)
        return -1;
    icalproperty *p = icalcomponent_get_first_property(cal, ICAL_TRIGGER_PROPERTY);
    int minutes = -1;
    if (p != NULL) {
        struct icaltriggertype tr = icalproperty_get_trigger(p);
        icalparameter *rel = icalproperty_get_first_parameter(p, ICAL_RELATED_PARAMETER);
        int secs = icaldurationtype_as_int(tr.duration);
        if (icaltime_is_null_time(tr.time) &&
            (rel == NULL || icalparameter_get_related(rel) == ICAL_RELATED_START) && secs <= 0 &&
            secs % 60 == 0 && -secs / 60 <= CORE_EVENT_REMINDER_MAX_MIN)
            minutes = -secs / 60;
    }
    icalcomponent_free(cal);
    return minutes;
}

/* A participant from a mailto: address and its CN, or false when the address is not one. */
static bool person_of(struct parse_ctx *cx, icalproperty *p, const char *address,
                      struct participant *out)
{
    if (address == NULL || strncasecmp(address, "mailto:", 7) != 0)
        return false;
    char email[CORE_USER_EMAIL_MAX + 1];
    if (core_user_email_normalize(address + 7, NULL, email, sizeof email, NULL) != PL_OK)
        return false;
    icalparameter *cn = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
    const char *name = cn ? icalparameter_get_cn(cn) : NULL;
    *out = (struct participant){.email = arena_strdup(cx->a, email),
                                .name = one_line(arena_strdup(cx->a, name ? name : "")),
                                .role = PARTICIPANT_ATTENDEE, .rsvp = RSVP_NEEDS_ACTION};
    return true;
}

/* Read an ATTENDEE into ie->attendees; false when it is to be kept verbatim instead. */
static bool read_attendee(struct parse_ctx *cx, const struct cline *c, struct ical_event *ie,
                          size_t *cap)
{
    struct failure ignored;
    icalcomponent *cal = parse_property(cx, c, &ignored);
    if (cal == NULL)
        return false;
    icalproperty *p = icalcomponent_get_first_property(cal, ICAL_ATTENDEE_PROPERTY);
    struct participant who;
    bool ok = p != NULL && person_of(cx, p, icalproperty_get_attendee(p), &who);
    if (ok) {
        icalparameter *cutype = icalproperty_get_first_parameter(p, ICAL_CUTYPE_PARAMETER);
        icalparameter *partstat = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
        icalparameter_cutype ct = cutype ? icalparameter_get_cutype(cutype) : ICAL_CUTYPE_NONE;
        ok = ct != ICAL_CUTYPE_ROOM && ct != ICAL_CUTYPE_RESOURCE;
        switch (partstat ? icalparameter_get_partstat(partstat) : ICAL_PARTSTAT_NONE) {
        case ICAL_PARTSTAT_ACCEPTED: who.rsvp = RSVP_ACCEPTED; break;
        case ICAL_PARTSTAT_DECLINED: who.rsvp = RSVP_DECLINED; break;
        case ICAL_PARTSTAT_TENTATIVE: who.rsvp = RSVP_TENTATIVE; break;
        default: who.rsvp = RSVP_NEEDS_ACTION; break;
        }
    }
    icalcomponent_free(cal);
    if (!ok)
        return false;
    for (size_t i = 0; i < ie->nattendees; i++)
        if (strcmp(ie->attendees[i].email, who.email) == 0)
            return true; /* listed twice: the first one stands */
    ie->attendees = arena_grow(cx->a, ie->attendees, ie->nattendees, cap, sizeof *ie->attendees);
    ie->attendees[ie->nattendees++] = who;
    return true;
}

static void read_organizer(struct parse_ctx *cx, const struct cline *c, struct ical_event *ie)
{
    struct failure ignored;
    icalcomponent *cal = parse_property(cx, c, &ignored);
    if (cal == NULL)
        return;
    icalproperty *p = icalcomponent_get_first_property(cal, ICAL_ORGANIZER_PROPERTY);
    struct participant who;
    if (p != NULL && person_of(cx, p, icalproperty_get_organizer(p), &who)) {
        ie->organizer_email = who.email;
        ie->organizer_name = who.name;
    }
    icalcomponent_free(cal);
}

/* The date or date-time value of the single-valued property at `c` (DTSTART, DTEND,
 * RECURRENCE-ID), with its TZID. */
static int read_time(struct parse_ctx *cx, const struct cline *c, struct icaltimetype *t,
                     const char **tzid, bool *this_and_future, struct failure *f)
{
    icalcomponent *cal = parse_property(cx, c, f);
    if (cal == NULL)
        return -1;
    icalproperty *p = icalcomponent_get_first_property(cal, ICAL_ANY_PROPERTY);
    icalvalue *v = icalproperty_get_value(p);
    icalvalue_kind k = v ? icalvalue_isa(v) : ICAL_NO_VALUE;
    int rc = 0;
    if (k == ICAL_DATETIME_VALUE || k == ICAL_DATE_VALUE) {
        *t = icalvalue_get_datetime(v);
        *tzid = tzid_of(cx, p);
        icalparameter *range = icalproperty_get_first_parameter(p, ICAL_RANGE_PARAMETER);
        *this_and_future = range != NULL &&
                           icalparameter_get_range(range) == ICAL_RANGE_THISANDFUTURE;
    } else {
        rc = fail(f, c->line, "%.*s must be a DATE or DATE-TIME", (int)c->name_len, c->text);
    }
    icalcomponent_free(cal);
    return rc;
}

/* Keep a property or a nested component verbatim. */
static void keep(struct text *t, const struct cline *c)
{
    if (t->len > 0)
        text_str(t, "\n");
    text_str(t, c->text);
}

/* Remember a line of a property that may repeat. */
static void push(struct parse_ctx *cx, const struct cline ***list, size_t *n, size_t *cap,
                 const struct cline *c)
{
    *list = arena_grow(cx->a, (void *)*list, *n, cap, sizeof **list);
    (*list)[(*n)++] = c;
}

/* Sort the lines of the VEVENT at lines[b..e] into `vl`, reading reminders, attendees and the
 * lines to keep as they come. */
static int collect(struct parse_ctx *cx, size_t b, size_t e, struct ical_event *ie,
                   struct vevent_lines *vl, struct text *props, struct text *comps,
                   struct failure *f)
{
    static const struct {
        const char *name;
        size_t offset;
    } once[] = {
        {"UID", offsetof(struct vevent_lines, uid)},
        {"SUMMARY", offsetof(struct vevent_lines, summary)},
        {"DESCRIPTION", offsetof(struct vevent_lines, description)},
        {"LOCATION", offsetof(struct vevent_lines, location)},
        {"DTSTART", offsetof(struct vevent_lines, dtstart)},
        {"DTEND", offsetof(struct vevent_lines, dtend)},
        {"DURATION", offsetof(struct vevent_lines, duration)},
        {"STATUS", offsetof(struct vevent_lines, status)},
        {"CLASS", offsetof(struct vevent_lines, class_)},
        {"SEQUENCE", offsetof(struct vevent_lines, sequence)},
        {"RRULE", offsetof(struct vevent_lines, rrule)},
        {"RECURRENCE-ID", offsetof(struct vevent_lines, recurrence_id)},
        {"ORGANIZER", offsetof(struct vevent_lines, organizer)},
    };
    size_t att_cap = 0;
    for (size_t i = b + 1; i < e; i++) {
        const struct cline *c = &cx->lines[i];
        if (!c->is_clean)
            return fail(f, c->line, "the line is not valid UTF-8");
        if (c->value == NULL)
            return fail(f, c->line, "not a content line (NAME:value): \"%.40s\"", c->text);
        if (is(c, "BEGIN")) {
            size_t end;
            if (!find_end(cx->lines, i, e, &end))
                return fail(f, c->line, "BEGIN:%.40s without its END", c->value);
            for (size_t k = i + 1; k < end; k++) /* well-formed, kept or not */
                if (!cx->lines[k].is_clean || cx->lines[k].value == NULL)
                    return fail(f, cx->lines[k].line, "%s",
                                cx->lines[k].is_clean ? "not a content line (NAME:value)"
                                                      : "the line is not valid UTF-8");
            int m = is_begin(c, "VALARM") ? alarm_minutes(cx, i, end) : -1;
            bool dup = false;
            for (size_t k = 0; m >= 0 && k < ie->nreminders; k++)
                dup |= ie->reminders[k] == m;
            if (m >= 0 && !dup && ie->nreminders < CORE_EVENT_REMINDERS_MAX) {
                ie->reminders[ie->nreminders++] = m;
            } else if (!(m >= 0 && dup)) { /* a second alarm at the same time adds nothing */
                for (size_t k = i; k <= end; k++) {
                    const struct cline *in = &cx->lines[k];
                    if (!is(in, "BEGIN") && !is(in, "END") && check_kept(cx, in, f) < 0)
                        return -1;
                    keep(comps, in);
                }
            }
            i = end;
            continue;
        }
        if (is(c, "END"))
            return fail(f, c->line, "END:%.40s inside VEVENT", c->value);
        bool known = false;
        for (size_t k = 0; k < sizeof once / sizeof once[0] && !known; k++) {
            if (!is(c, once[k].name))
                continue;
            const struct cline **slot = (const struct cline **)((char *)vl + once[k].offset);
            if (*slot != NULL)
                return fail(f, c->line, "more than one %s", once[k].name);
            *slot = c;
            known = true;
        }
        if (known)
            continue;
        if (is(c, "EXDATE")) {
            push(cx, &vl->exdates, &vl->nexdates, &vl->cap_ex, c);
        } else if (is(c, "RDATE")) {
            push(cx, &vl->rdates, &vl->nrdates, &vl->cap_rd, c);
        } else if (is(c, "ATTENDEE")) {
            if (!read_attendee(cx, c, ie, &att_cap)) {
                if (check_kept(cx, c, f) < 0)
                    return -1;
                keep(props, c);
            } else if (ie->nattendees > CORE_EVENT_PARTICIPANTS_MAX) {
                return fail(f, c->line, "more than %d attendees", CORE_EVENT_PARTICIPANTS_MAX);
            }
        } else if (is(c, "EXRULE")) {
            return fail(f, c->line, "EXRULE is not supported (RFC 5545 deprecates it)");
        } else if (!is(c, "DTSTAMP") && !is(c, "CREATED") && !is(c, "LAST-MODIFIED")) {
            if (check_kept(cx, c, f) < 0)
                return -1;
            keep(props, c);
        }
    }
    return 0;
}

/* DTSTART: the start instant, whether it is a date, and the event's zone. */
static int read_start(struct parse_ctx *cx, const struct cline *c, struct start *s,
                      struct failure *f)
{
    struct icaltimetype t;
    const char *tzid;
    bool thisandfuture;
    if (read_time(cx, c, &t, &tzid, &thisandfuture, f) < 0 ||
        instant_of(cx, &t, tzid, cx->default_tz, c, &s->when, f) < 0)
        return -1;
    s->tz = s->when.zone ? s->when.zone : cx->default_tz;
    s->calc_tz = s->when.is_utc ? "UTC" : s->tz;
    return 0;
}

/* DTEND or DURATION (or neither): the end instant. */
static int read_end(struct parse_ctx *cx, const struct vevent_lines *vl, const struct start *s,
                    int64_t *end_us, struct failure *f)
{
    if (vl->dtend && vl->duration)
        return fail(f, vl->duration->line, "DTEND and DURATION must not both be given");
    if (vl->dtend) {
        struct icaltimetype t;
        const char *tzid;
        bool thisandfuture;
        struct when w;
        if (read_time(cx, vl->dtend, &t, &tzid, &thisandfuture, f) < 0 ||
            instant_of(cx, &t, tzid, s->tz, vl->dtend, &w, f) < 0)
            return -1;
        if (w.is_date != s->when.is_date)
            return fail(f, vl->dtend->line, "DTEND must be a %s like DTSTART",
                        s->when.is_date ? "DATE" : "DATE-TIME");
        if (w.us <= s->when.us)
            return fail(f, vl->dtend->line, "DTEND must be after DTSTART");
        *end_us = w.us;
        return 0;
    }
    struct core_civil start;
    if (core_tz_from_utc(s->calc_tz, s->when.us, &start, NULL, NULL) < 0)
        return fail(f, vl->dtstart->line, "unknown time zone");
    int64_t days = 1, secs = 0;
    if (vl->duration) {
        icalcomponent *cal = parse_property(cx, vl->duration, f);
        if (cal == NULL)
            return -1;
        icalproperty *p = icalcomponent_get_first_property(cal, ICAL_DURATION_PROPERTY);
        struct icaldurationtype d =
            p ? icalproperty_get_duration(p) : icaldurationtype_null_duration();
        icalcomponent_free(cal);
        days = (int64_t)d.weeks * 7 + d.days;
        secs = (int64_t)d.hours * 3600 + (int64_t)d.minutes * 60 + d.seconds;
        if (d.is_neg || (days == 0 && secs == 0))
            return fail(f, vl->duration->line, "DURATION must be positive");
        if (s->when.is_date && secs != 0)
            return fail(f, vl->duration->line, "an all-day event's DURATION must be whole days");
        if (days > 366)
            return fail(f, vl->duration->line, "DURATION is too long");
    } else if (!s->when.is_date) {
        return fail(f, vl->dtstart->line, "the event has no length: DTSTART without DTEND or"
                    " DURATION (Planner needs the end after the start)");
    }
    /* Nominal days are counted on the wall clock (RFC 5545 section 3.3.6), then exact time. */
    struct core_civil later = civil_add_days(start, days);
    if (core_tz_to_utc(s->calc_tz, &later, end_us, NULL, NULL) < 0)
        return fail(f, vl->dtstart->line, "unknown time zone");
    *end_us += secs * US;
    return 0;
}

/* RRULE, EXDATE and RDATE as core/recur.h's normalised lines. */
static int read_recurrence(struct parse_ctx *cx, const struct vevent_lines *vl,
                           const struct start *s, struct event *ev, struct failure *f)
{
    struct text t;
    size_t count = 0;
    if (!vl->rrule && vl->nexdates == 0 && vl->nrdates == 0)
        return 0;
    if (vl->recurrence_id)
        return fail(f, (vl->rrule      ? vl->rrule
                        : vl->nexdates ? vl->exdates[0]
                                       : vl->rdates[0])->line,
                    "an occurrence (RECURRENCE-ID) cannot recur itself");
    text_init(&t, cx->a, 256);
    if (vl->rrule) {
        icalcomponent *cal = parse_property(cx, vl->rrule, f);
        if (cal == NULL)
            return -1;
        icalproperty *p = icalcomponent_get_first_property(cal, ICAL_RRULE_PROPERTY);
        char *rule = NULL;
        if (p != NULL) {
            struct icalrecurrencetype r = icalproperty_get_rrule(p);
            if (r.freq != ICAL_NO_RECURRENCE)
                rule = icalrecurrencetype_as_string_r(&r);
        }
        icalcomponent_free(cal);
        if (rule == NULL)
            return fail(f, vl->rrule->line, "RRULE needs a FREQ");
        text_str(&t, "RRULE:");
        text_str(&t, rule);
        free(rule);
        count++;
        /* Checked as the JSON API checks a client's rule, which also asks libical to start it
         * (core_recur_parse): a rule that never occurs (BYMONTH=3;BYDAY=2SU;BYMONTHDAY=-1)
         * has libical search up to the year 20000, 0.12 s each time the series is expanded.
         * The zone does not change the verdict; the calendar's may be a stored name the
         * check would not take (core_tz_known). */
        const char *line = t.p;
        char *normal;
        struct pl_error err = {0};
        if (core_recur_parse(&line, 1, "UTC", s->when.is_date, cx->a, &normal, &err) < 0)
            return fail(f, vl->rrule->line, "bad RRULE: %s", err.detail);
    }
    for (int kind = 0; kind < 2; kind++) {
        const struct cline *const *lines = kind == 0 ? vl->exdates : vl->rdates;
        size_t n = kind == 0 ? vl->nexdates : vl->nrdates;
        for (size_t i = 0; i < n; i++) {
            icalcomponent *cal = parse_property(cx, lines[i], f);
            if (cal == NULL)
                return -1;
            int rc = 0;
            for (icalproperty *p = icalcomponent_get_first_property(cal, ICAL_ANY_PROPERTY);
                 p != NULL && rc == 0;
                 p = icalcomponent_get_next_property(cal, ICAL_ANY_PROPERTY)) {
                struct icaltimetype v;
                if (kind == 0) {
                    v = icalproperty_get_exdate(p);
                } else {
                    struct icaldatetimeperiodtype dp = icalproperty_get_rdate(p);
                    v = icaltime_is_null_time(dp.time) ? dp.period.start : dp.time;
                }
                int64_t us;
                if ((rc = exception_instant(cx, &v, tzid_of(cx, p), s, lines[i], &us, f)) < 0)
                    break;
                if (++count > CORE_RECUR_LINES_MAX) {
                    rc = fail(f, lines[i]->line, "more than %d recurrence lines (RRULE, EXDATE and"
                              " RDATE values)", CORE_RECUR_LINES_MAX);
                    break;
                }
                recurrence_line(&t, kind == 0 ? "EXDATE" : "RDATE", us, s);
            }
            icalcomponent_free(cal);
            if (rc < 0)
                return rc;
        }
    }
    ev->recurrence = t.p;
    return 0;
}

/* The line to blame for a field core_event_check refused. */
static int line_of_field(const struct vevent_lines *vl, const char *field, int fallback)
{
    const struct cline *c = strcmp(field, "title") == 0         ? vl->summary
                            : strcmp(field, "description") == 0 ? vl->description
                            : strcmp(field, "location") == 0    ? vl->location
                            : vl->dtend                          ? vl->dtend
                            : vl->duration                       ? vl->duration
                                                                 : vl->dtstart;
    return c ? c->line : fallback;
}

/* Turn the VEVENT at lines[b..e] into an event, or into an error. */
static int read_vevent(struct parse_ctx *cx, size_t b, size_t e, struct ical_event *ie,
                       struct failure *f)
{
    struct vevent_lines vl = {0};
    struct text props, comps;
    struct start s;
    struct event *ev = &ie->ev;
    int line0 = cx->lines[b].line;
    text_init(&props, cx->a, 64);
    text_init(&comps, cx->a, 64);
    ie->line = line0;
    if (collect(cx, b, e, ie, &vl, &props, &comps, f) < 0)
        return -1;
    if (vl.uid == NULL)
        return fail(f, line0, "VEVENT has no UID");
    if (vl.dtstart == NULL)
        return fail(f, line0, "VEVENT has no DTSTART");
    ev->uid = unescape(cx->a, vl.uid->value);
    struct pl_error why = {0};
    if (core_text_check(ev->uid, "UID", CORE_ICAL_UID_MAX, false, false, &why) < 0)
        return fail(f, vl.uid->line, "UID %s", why.detail);
    if (read_start(cx, vl.dtstart, &s, f) < 0 || read_end(cx, &vl, &s, &ev->end_us, f) < 0)
        return -1;
    ev->start_us = s.when.us;
    ev->all_day = s.when.is_date;
    ev->time_zone = s.tz;
    if (vl.recurrence_id) {
        struct icaltimetype t;
        const char *tzid;
        bool thisandfuture;
        if (read_time(cx, vl.recurrence_id, &t, &tzid, &thisandfuture, f) < 0)
            return -1;
        if (thisandfuture)
            return fail(f, vl.recurrence_id->line, "RANGE=THISANDFUTURE is not supported");
        if (exception_instant(cx, &t, tzid, &s, vl.recurrence_id, &ev->recurrence_id, f) < 0)
            return -1;
    }
    if (read_recurrence(cx, &vl, &s, ev, f) < 0)
        return -1;

    ev->title = vl.summary ? one_line(unescape(cx->a, vl.summary->value)) : "";
    if (ev->title[0] == '\0')
        ev->title = CORE_ICAL_UNTITLED;
    ev->description = vl.description ? unescape(cx->a, vl.description->value) : "";
    ev->location = vl.location ? one_line(unescape(cx->a, vl.location->value)) : "";
    ev->status = EVENT_STATUS_CONFIRMED;
    if (vl.status) {
        const char *v = vl.status->value;
        if (strcasecmp(v, "TENTATIVE") == 0)
            ev->status = EVENT_STATUS_TENTATIVE;
        else if (strcasecmp(v, "CANCELLED") == 0)
            ev->status = EVENT_STATUS_CANCELLED;
        else if (strcasecmp(v, "CONFIRMED") != 0)
            return fail(f, vl.status->line, "STATUS must be TENTATIVE, CONFIRMED or CANCELLED");
    }
    ev->visibility = vl.class_ && strcasecmp(vl.class_->value, "PUBLIC") != 0
                         ? EVENT_VISIBILITY_PRIVATE
                         : EVENT_VISIBILITY_DEFAULT;
    if (vl.sequence) {
        char *end;
        errno = 0;
        long long q = strtoll(vl.sequence->value, &end, 10);
        if (errno != 0 || end == vl.sequence->value || *end != '\0' || q < 0 || q > INT32_MAX)
            return fail(f, vl.sequence->line, "SEQUENCE must be a non-negative integer");
        ev->sequence = q;
    }
    if (vl.organizer)
        read_organizer(cx, vl.organizer, ie);
    for (size_t i = 0; ie->organizer_email && i < ie->nattendees; i++)
        if (strcmp(ie->attendees[i].email, ie->organizer_email) == 0)
            ie->attendees[i].role = PARTICIPANT_ORGANIZER;
    if (core_event_check(ev, &why) < 0)
        return fail(f, line_of_field(&vl, why.field, line0), "%s %s",
                    strcmp(why.field, "title") == 0         ? "SUMMARY"
                    : strcmp(why.field, "description") == 0 ? "DESCRIPTION"
                    : strcmp(why.field, "location") == 0    ? "LOCATION"
                                                            : "the event's end",
                    why.detail);
    if (props.len > 0 && comps.len > 0)
        text_str(&props, "\n");
    text_mem(&props, comps.p, comps.len);
    ev->ical_extra = props.len > 0 ? props.p : NULL;
    return 0;
}

/* Record the VTIMEZONE at lines[b..e] under its TZID. */
static void add_zone(struct parse_ctx *cx, size_t b, size_t e, size_t *cap)
{
    for (size_t j = b + 1; j < e; j++) {
        if (is(&cx->lines[j], "BEGIN"))
            break; /* the TZID comes before STANDARD and DAYLIGHT */
        if (is(&cx->lines[j], "TZID") && cx->lines[j].is_clean) {
            cx->zones = arena_grow(cx->a, cx->zones, cx->nzones, cap, sizeof *cx->zones);
            cx->zones[cx->nzones++] = (struct zone_def){.tzid = cx->lines[j].value, .begin = b,
                                                        .end = e};
            return;
        }
    }
}

int core_ical_parse(const char *text, size_t len, const char *default_tz, struct arena *a,
                    struct ical_event **events, size_t *n, struct ical_error **errors,
                    size_t *nerrors, struct pl_error *err)
{
    int rc;
    if ((rc = core_tz_known(default_tz, "time_zone", err)) < 0) /* the calendar's, stored */
        return rc;
    size_t nlines;
    const struct cline *lines = unfold(text, len, a, &nlines);
    if (nlines == 0 || !is_begin(&lines[0], "VCALENDAR"))
        return pl_error_set(err, PL_EINVAL, NULL,
                            "not iCalendar: the text must begin with BEGIN:VCALENDAR");
    struct parse_ctx cx = {.a = a, .default_tz = default_tz, .lines = lines};
    text_init(&cx.scratch, a, 256);

    /* First the structure: which lines are VEVENTs and VTIMEZONEs (zones may come last). */
    struct range {
        size_t begin, end;
        bool closed;
    } *vevents = NULL;
    size_t nvevents = 0, vcap = 0, zcap = 0;
    bool in_calendar = false;
    for (size_t i = 0; i < nlines;) {
        const struct cline *c = &lines[i];
        if (is_begin(c, "VCALENDAR") || is_end(c, "VCALENDAR")) {
            in_calendar = is(c, "BEGIN");
            i++;
            continue;
        }
        if (!in_calendar && is_begin(c, "VEVENT")) {
            /* Nothing is dropped silently: a VEVENT after END:VCALENDAR (files pasted
             * together) is reported at its line. */
            size_t end;
            bool closed = find_end(lines, i, nlines, &end);
            struct failure f;
            fail(&f, c->line, "VEVENT outside BEGIN:VCALENDAR ... END:VCALENDAR");
            add_error(&cx, &f);
            i = closed ? end + 1 : end;
            continue;
        }
        if (!in_calendar || !is(c, "BEGIN")) { /* calendar properties, stray lines */
            i++;
            continue;
        }
        size_t end;
        bool closed = find_end(lines, i, nlines, &end);
        if (is_begin(c, "VEVENT")) {
            vevents = arena_grow(a, vevents, nvevents, &vcap, sizeof *vevents);
            vevents[nvevents++] = (struct range){i, end, closed};
        } else if (closed && is_begin(c, "VTIMEZONE")) {
            add_zone(&cx, i, end, &zcap);
        }
        i = closed ? end + 1 : end;
    }

    for (size_t k = 0; k < nvevents; k++) {
        struct failure f;
        struct ical_event ie = {0};
        if (!vevents[k].closed) {
            fail(&f, lines[vevents[k].begin].line, "VEVENT without END:VEVENT");
            add_error(&cx, &f);
        } else if (read_vevent(&cx, vevents[k].begin, vevents[k].end, &ie, &f) < 0) {
            add_error(&cx, &f);
        } else {
            cx.events = arena_grow(a, cx.events, cx.nevents, &cx.events_cap, sizeof *cx.events);
            cx.events[cx.nevents++] = ie;
        }
    }
    for (size_t i = 0; i < cx.nzones; i++)
        if (cx.zones[i].zone != NULL)
            icaltimezone_free(cx.zones[i].zone, 1);
    *events = cx.events;
    *n = cx.nevents;
    *errors = cx.errors;
    *nerrors = cx.nerrors;
    return PL_OK;
}

/* ---- the writer ---------------------------------------------------------------------------- */

/* A zone the output refers to, and whether it has its VTIMEZONE. */
struct out_zone {
    const char *name;
    bool has_vtimezone;
};

struct writer {
    struct text out;  /* the document */
    struct text line; /* the content line being built */
    struct out_zone *zones;
    size_t nzones;
};

/* Fold the line being built into the document: at most 75 octets a line, never inside a
 * UTF-8 sequence, continuation lines starting with a space. */
static void emit(struct writer *w)
{
    const char *s = w->line.p;
    size_t n = w->line.len, i = 0, room = FOLD_OCTETS;
    while (n - i > room) {
        size_t k = room;
        while (k > 1 && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k--; /* s[i + k] would start the next line: not a continuation byte */
        text_mem(&w->out, s + i, k);
        text_mem(&w->out, "\r\n ", 3);
        i += k;
        room = FOLD_OCTETS - 1;
    }
    text_mem(&w->out, s + i, n - i);
    text_mem(&w->out, "\r\n", 2);
    text_reset(&w->line);
}

/* A whole line whose value needs no escaping. */
static void put_raw(struct writer *w, const char *name, const char *value)
{
    text_str(&w->line, name);
    text_str(&w->line, ":");
    text_str(&w->line, value);
    emit(w);
}

/* ":" and a TEXT value, escaped (RFC 5545 section 3.3.11). */
static void add_text_value(struct writer *w, const char *v)
{
    text_str(&w->line, ":");
    for (const char *p = v; *p;) {
        size_t run = strcspn(p, "\\;,\n\r");
        text_mem(&w->line, p, run);
        p += run;
        if (*p == '\0')
            break;
        if (*p == '\n')
            text_str(&w->line, "\\n");
        else if (*p != '\r') /* CRLF in a description is one line break */
            text_mem(&w->line, (const char[]){'\\', *p}, 2);
        p++;
    }
}

static void put_text(struct writer *w, const char *name, const char *value)
{
    text_str(&w->line, name);
    add_text_value(w, value);
    emit(w);
}

/* ";NAME=value", quoted when the value holds ':', ';' or ','.  A parameter value cannot hold
 * a DQUOTE or control characters: those become ' and spaces. */
static void add_param(struct writer *w, const char *name, const char *value)
{
    bool quote = strpbrk(value, ":;,") != NULL;
    text_fmt(&w->line, ";%s=%s", name, quote ? "\"" : "");
    for (const char *p = value; *p; p++) {
        char c = *p == '"' ? '\'' : ((unsigned char)*p < 0x20 || *p == 0x7F) ? ' ' : *p;
        text_mem(&w->line, &c, 1);
    }
    if (quote)
        text_str(&w->line, "\"");
}

static const struct out_zone *zone_get(const struct writer *w, const char *name)
{
    for (size_t i = 0; i < w->nzones; i++)
        if (strcmp(w->zones[i].name, name) == 0)
            return &w->zones[i];
    return NULL;
}

/* NAME;VALUE=DATE:yyyymmdd for all-day events, NAME;TZID=zone:local for timed ones in a zone
 * with a VTIMEZONE, else NAME:utcZ. */
static void put_when(struct writer *w, const char *name, int64_t us, bool all_day,
                     const char *tz)
{
    struct core_civil c;
    if (tz == NULL)
        tz = "UTC";
    if (all_day && core_tz_from_utc(tz, us, &c, NULL, NULL) == PL_OK) {
        text_fmt(&w->line, "%s;VALUE=DATE:%04d%02d%02d", name, c.year, c.month, c.day);
        emit(w);
        return;
    }
    const struct out_zone *z = zone_get(w, tz);
    if (z != NULL && z->has_vtimezone && core_tz_from_utc(tz, us, &c, NULL, NULL) == PL_OK) {
        text_str(&w->line, name);
        add_param(w, "TZID", tz);
        text_fmt(&w->line, ":%04d%02d%02dT%02d%02d%02d", c.year, c.month, c.day, c.hour,
                 c.minute, c.second);
        emit(w);
        return;
    }
    c = civil_utc(us);
    text_fmt(&w->line, "%s:%04d%02d%02dT%02d%02d%02dZ", name, c.year, c.month, c.day, c.hour,
             c.minute, c.second);
    emit(w);
}

/* libical's VTIMEZONE of `tz` with the IANA name as its TZID (libical's own carries a
 * "/freeassociation.sourceforge.net/" prefix), as text the caller frees; NULL when libical has
 * none (UTC has no component at all). */
static char *vtimezone_text(const char *tz)
{
    if (strcmp(tz, "UTC") == 0)
        return NULL;
    icaltimezone *zone = core_tz_zone(tz);
    icalcomponent *c = zone ? icaltimezone_get_component(zone) : NULL;
    if (c == NULL)
        return NULL;
    icalcomponent *copy = icalcomponent_new_clone(c);
    if (copy == NULL)
        return NULL;
    icalproperty *p = icalcomponent_get_first_property(copy, ICAL_TZID_PROPERTY);
    if (p != NULL)
        icalproperty_set_tzid(p, tz);
    else
        icalcomponent_add_property(copy, icalproperty_new_tzid(tz));
    char *s = icalcomponent_as_ical_string_r(copy);
    icalcomponent_free(copy);
    return s;
}

/* Every zone a timed event is written in, with its VTIMEZONE appended to the document. */
static void write_zones(struct writer *w, struct arena *a, const struct ical_event *events,
                        size_t n)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        const char *tz = events[i].ev.time_zone;
        if (events[i].ev.all_day || tz == NULL || zone_get(w, tz) != NULL)
            continue;
        char *vtz = vtimezone_text(tz);
        w->zones = arena_grow(a, w->zones, w->nzones, &cap, sizeof *w->zones);
        w->zones[w->nzones++] = (struct out_zone){tz, vtz != NULL};
        if (vtz != NULL) {
            text_str(&w->out, vtz); /* libical's text is folded and CRLF-terminated */
            free(vtz);
        }
    }
}

static const char *status_text(int status)
{
    return status == EVENT_STATUS_TENTATIVE   ? "TENTATIVE"
           : status == EVENT_STATUS_CANCELLED ? "CANCELLED"
                                              : "CONFIRMED";
}

static const char *partstat_text(int rsvp)
{
    return rsvp == RSVP_ACCEPTED    ? "ACCEPTED"
           : rsvp == RSVP_DECLINED  ? "DECLINED"
           : rsvp == RSVP_TENTATIVE ? "TENTATIVE"
                                    : "NEEDS-ACTION";
}

static void put_instant(struct writer *w, const char *name, int64_t us)
{
    struct core_civil c = civil_utc(us);
    text_fmt(&w->line, "%s:%04d%02d%02dT%02d%02d%02dZ", name, c.year, c.month, c.day, c.hour,
             c.minute, c.second);
    emit(w);
}

static void put_person(struct writer *w, const char *name, const char *cn, const char *email,
                       const char *role, const char *partstat)
{
    text_str(&w->line, name);
    if (cn != NULL && *cn != '\0')
        add_param(w, "CN", cn);
    if (role != NULL)
        add_param(w, "ROLE", role);
    if (partstat != NULL)
        add_param(w, "PARTSTAT", partstat);
    text_str(&w->line, ":mailto:");
    text_str(&w->line, email);
    emit(w);
}

/* The lines of a '\n'-separated list, each as one content line. */
static void put_lines(struct writer *w, const char *lines)
{
    for (const char *p = lines; p != NULL && *p;) {
        size_t k = strcspn(p, "\n");
        if (k > 0) {
            text_mem(&w->line, p, k);
            emit(w);
        }
        p += k + (p[k] == '\n');
    }
}

/* Events by row id, for overrides to find their series. */
struct id_index {
    int64_t id;
    size_t index;
};

static int by_id(const void *x, const void *y)
{
    int64_t a = ((const struct id_index *)x)->id, b = ((const struct id_index *)y)->id;
    return (a > b) - (a < b);
}

/* The event whose id is `id` in `ids` (sorted by id), or NULL. */
static const struct ical_event *find_by_id(const struct ical_event *events,
                                           const struct id_index *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid].id == id)
            return &events[ids[mid].index];
        if (ids[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void write_event(struct writer *w, struct arena *a, const struct ical_calendar *cal,
                        const struct ical_event *ie, const struct ical_event *series)
{
    const struct event *ev = &ie->ev;
    bool busy = ie->busy_only;
    text_str(&w->out, "BEGIN:VEVENT\r\n");
    const char *uid = ev->uid;
    if (ev->parent_id != 0) {
        if (series != NULL) {
            uid = series->ev.uid;
        } else { /* the store's "<series uid>/<recurrence id>" */
            const char *slash = strrchr(uid, '/');
            if (slash != NULL && slash[1] != '\0' &&
                strspn(slash + 1, "0123456789") == strlen(slash + 1))
                uid = arena_strndup(a, uid, (size_t)(slash - uid));
        }
    }
    put_text(w, "UID", uid ? uid : "");
    put_instant(w, "DTSTAMP", ev->updated_us > 0 ? ev->updated_us : cal->now_us);
    if (ev->parent_id != 0) {
        const struct event *s = series ? &series->ev : ev;
        put_when(w, "RECURRENCE-ID", ev->recurrence_id, s->all_day, s->time_zone);
    }
    put_when(w, "DTSTART", ev->start_us, ev->all_day, ev->time_zone);
    put_when(w, "DTEND", ev->end_us, ev->all_day, ev->time_zone);
    if (busy) {
        put_raw(w, "SUMMARY", "Busy");
        put_raw(w, "CLASS", "PRIVATE");
    } else {
        if (ev->created_us > 0)
            put_instant(w, "CREATED", ev->created_us);
        if (ev->updated_us > 0)
            put_instant(w, "LAST-MODIFIED", ev->updated_us);
        put_text(w, "SUMMARY", ev->title ? ev->title : "");
        if (ev->description && *ev->description)
            put_text(w, "DESCRIPTION", ev->description);
        if (ev->location && *ev->location)
            put_text(w, "LOCATION", ev->location);
        put_raw(w, "CLASS", ev->visibility == EVENT_VISIBILITY_PRIVATE ? "PRIVATE" : "PUBLIC");
    }
    put_raw(w, "STATUS", status_text(ev->status));
    text_fmt(&w->line, "SEQUENCE:%lld", (long long)ev->sequence);
    emit(w);
    if (!busy) {
        const struct participant *org = NULL;
        for (size_t i = 0; i < ie->nattendees && org == NULL; i++)
            if (ie->attendees[i].role == PARTICIPANT_ORGANIZER)
                org = &ie->attendees[i];
        if (org != NULL)
            put_person(w, "ORGANIZER", org->name, org->email, NULL, NULL);
        else if (ie->organizer_email != NULL)
            put_person(w, "ORGANIZER", ie->organizer_name, ie->organizer_email, NULL, NULL);
        for (size_t i = 0; i < ie->nattendees; i++) {
            const struct participant *p = &ie->attendees[i];
            put_person(w, "ATTENDEE", p->name, p->email,
                       p->role == PARTICIPANT_ORGANIZER ? "CHAIR" : "REQ-PARTICIPANT",
                       partstat_text(p->rsvp));
        }
    }
    if (ev->parent_id == 0)
        put_lines(w, ev->recurrence);
    if (!busy) {
        put_lines(w, ev->ical_extra);
        for (size_t i = 0; i < ie->nreminders; i++) {
            text_str(&w->out, "BEGIN:VALARM\r\n");
            put_raw(w, "ACTION", "DISPLAY");
            put_text(w, "DESCRIPTION", ev->title ? ev->title : "");
            text_fmt(&w->line, "TRIGGER:%sPT%dM", ie->reminders[i] > 0 ? "-" : "",
                     ie->reminders[i]);
            emit(w);
            text_str(&w->out, "END:VALARM\r\n");
        }
    }
    text_str(&w->out, "END:VEVENT\r\n");
}

int core_ical_write(const struct ical_calendar *cal, const struct ical_event *events, size_t n,
                    struct arena *a, char **out, size_t *len, struct pl_error *err)
{
    (void)err; /* nothing in the events can make writing fail */
    struct writer w = {0};
    text_init(&w.out, a, 4096 + n * 1024);
    text_init(&w.line, a, 256);
    text_str(&w.out, "BEGIN:VCALENDAR\r\n");
    put_raw(&w, "VERSION", "2.0");
    put_raw(&w, "PRODID", "-//Planner//Planner Calendar//EN");
    put_raw(&w, "CALSCALE", "GREGORIAN");
    if (cal->name != NULL)
        put_text(&w, "X-WR-CALNAME", cal->name);
    if (cal->time_zone != NULL)
        put_raw(&w, "X-WR-TIMEZONE", cal->time_zone);
    write_zones(&w, a, events, n);

    /* Overrides name their series by row id: find it by binary search over the ids. */
    struct id_index *ids = arena_alloc(a, (n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = (struct id_index){events[i].ev.id, i};
    qsort(ids, n, sizeof *ids, by_id);
    for (size_t i = 0; i < n; i++) {
        const struct ical_event *series =
            events[i].ev.parent_id ? find_by_id(events, ids, n, events[i].ev.parent_id) : NULL;
        write_event(&w, a, cal, &events[i], series);
    }
    text_str(&w.out, "END:VCALENDAR\r\n");
    *out = w.out.p;
    *len = w.out.len;
    return PL_OK;
}
