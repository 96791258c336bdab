/* The status vocabulary's slugs and the error setter. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pl_error_slug(int status)
{
    switch (status) {
    case PL_EINVAL: return "validation";
    case PL_ENOTFOUND: return "not-found";
    case PL_ECONFLICT: return "conflict";
    case PL_EPRECOND: return "precondition-failed";
    case PL_ETOOBIG: return "payload-too-large";
    case PL_EAUTH: return "unauthorized";
    case PL_EFORBIDDEN: return "forbidden";
    case PL_ETHROTTLED: return "rate-limited";
    case PL_EMALFORMED: return "malformed-json";
    case PL_EMEDIA: return "unsupported-media-type";
    case PL_EMETHOD: return "method-not-allowed";
    case PL_EUNAVAIL: return "unavailable";
    default: return "internal";
    }
}

int pl_error_vset(struct pl_error *err, int status, const char *field, const char *fmt,
                  va_list ap)
{
    if (err == NULL)
        return status;
    err->status = status;
    err->type = pl_error_slug(status);
    err->retry_after_s = 0;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    return status;
}

int pl_error_set(struct pl_error *err, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pl_error_vset(err, status, field, fmt, ap);
    va_end(ap);
    return rc;
}
