/* Users as the domain sees them, and the rules their fields obey. */
#ifndef PLANNER_CORE_USER_H
#define PLANNER_CORE_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CORE_USER_EMAIL_MAX 254    /* RFC 5321 path limit */
#define CORE_USER_NAME_MAX 200     /* characters */
#define CORE_USER_PASSWORD_MIN 8   /* bytes */
#define CORE_USER_PASSWORD_MAX 256 /* bytes; argon2 takes more, but nobody types more */
#define CORE_TZ_NAME_MAX 64

enum user_role { USER_ROLE_MEMBER, USER_ROLE_ADMIN };

struct user {
    int64_t id;
    const char *email, *name, *time_zone; /* owned by whoever filled the struct */
    int role;                             /* enum user_role */
    bool is_active;
    int64_t version; /* bumped by every change; the ETag derives from it */
    int64_t created_us, updated_us;
};

/* Lower-case and check an e-mail address into `out` (out_len >= CORE_USER_EMAIL_MAX + 1):
 * one '@', a non-empty local part of at most 64 bytes, a dotted domain, no spaces or control
 * characters.  Returns PL_OK or PL_EINVAL naming `field`. */
PL_MUST_CHECK int core_user_email_normalize(const char *in, const char *field, char *out,
                                            size_t out_len, struct pl_error *err);

/* A display name: 1 to CORE_USER_NAME_MAX characters, no control characters. */
PL_MUST_CHECK int core_user_name_check(const char *name, const char *field, struct pl_error *err);

/* A password: CORE_USER_PASSWORD_MIN to _MAX bytes. */
PL_MUST_CHECK int core_user_password_check(const char *pw, const char *field, struct pl_error *err);

/* "member" / "admin" <-> enum user_role. */
PL_MUST_CHECK int core_user_role_parse(const char *s, const char *field, int *out,
                                       struct pl_error *err);
const char *core_user_role_name(int role);

/* The length in bytes (1 to 4) of the UTF-8 character that starts at p, or 0 if the bytes
 * there are not one (RFC 3629: no overlong form, no UTF-16 surrogate, nothing past U+10FFFF).
 * p is NUL-terminated: no byte past a NUL is read. */
size_t core_utf8_char_len(const char *p);

/* Check text: valid UTF-8, 0 (when allow_empty) or 1 to max_chars code points, no control
 * characters except (when allow_newlines) tab, CR and LF.  PL_EINVAL names `field`. */
PL_MUST_CHECK int core_text_check(const char *s, const char *field, size_t max_chars,
                                  bool allow_empty, bool allow_newlines, struct pl_error *err);

/* An IANA time zone name known to the system tz database ("Europe/Moscow", "UTC"), and the
 * zone's own name (core_tz_name_canonical): what input is held to. */
PL_MUST_CHECK int core_tz_check(const char *tz, const char *field, struct pl_error *err);
/* A name the tz database has a zone under: what a stored row is held to, so that a row named
 * before core_tz_check refused other paths to a zone (posix/Europe/Berlin) still reads. */
PL_MUST_CHECK int core_tz_known(const char *tz, const char *field, struct pl_error *err);

#endif
