/* The one status vocabulary of Planner (0 is success, negative PL_E* is failure) and the
 * caller-owned error detail that travels with it up to http/, which alone maps it to
 * RFC 9457 problem+json. */
#ifndef PLANNER_ERROR_H
#define PLANNER_ERROR_H

#include <stdarg.h>

#define PL_MUST_CHECK __attribute__((warn_unused_result))

enum pl_status {
    PL_OK = 0,
    PL_ENOMEM = -1,
    PL_EINVAL = -2,      /* 422 validation: a field has a bad value */
    PL_ENOTFOUND = -3,   /* 404 */
    PL_ECONFLICT = -4,   /* 409 */
    PL_EPRECOND = -5,    /* 412 */
    PL_ETOOBIG = -6,     /* 413 */
    PL_EDB = -7,         /* 500: the database failed */
    PL_EAUTH = -8,       /* 401 */
    PL_EFORBIDDEN = -9,  /* 403 */
    PL_ETHROTTLED = -10, /* 429, with retry_after_s */
    PL_EMALFORMED = -11, /* 400: the body or a parameter cannot be parsed */
    PL_EMEDIA = -12,     /* 415 */
    PL_EMETHOD = -13,    /* 405 */
    PL_EUNAVAIL = -14,   /* 503: not ready, or shutting down */
    PL_EINTERNAL = -15,  /* 500: a bug */
};

/* Filled by the failing callee; `type` is a stable slug ("validation", "conflict", ...) that
 * becomes "/problems/<type>".  `field` is empty when no single field is at fault. */
struct pl_error {
    int status;
    const char *type;
    char field[64];
    char detail[256];
    int retry_after_s;
};

/* Record an error in `err` (which may be NULL) and return `status`, so callers can write
 * `return pl_error_set(err, PL_EINVAL, "name", "must not be empty");`.  A NULL `field` means
 * none.  The detail is formatted with printf rules and truncated to fit. */
int pl_error_set(struct pl_error *err, int status, const char *field, const char *fmt,
                               ...) __attribute__((format(printf, 4, 5)));

/* pl_error_set with the detail's arguments in a va_list. */
int pl_error_vset(struct pl_error *err, int status, const char *field, const char *fmt,
                  va_list ap) __attribute__((format(printf, 4, 0)));

/* The default problem slug for a status ("validation" for PL_EINVAL, ...). Never NULL. */
const char *pl_error_slug(int status);

#endif
