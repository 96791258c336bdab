/* Field rules for users, text and time zone names. */
#include "core/user.h"

#include "core/tz.h"

#include <string.h>

size_t core_utf8_char_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                              : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) /* a NUL ends the check here */
            return 0;
    if (len == 3) { /* overlong forms and UTF-16 surrogates */
        unsigned cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    if (len == 4) {
        unsigned cp = ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12);
        if (cp < 0x10000 || cp > 0x10FFFF)
            return 0;
    }
    return len;
}

int core_text_check(const char *s, const char *field, size_t max_chars, bool allow_empty,
                    bool allow_newlines, struct pl_error *err)
{
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t len = core_utf8_char_len((const char *)p);
        if (len == 0)
            return pl_error_set(err, PL_EINVAL, field, "is not valid UTF-8");
        if (len == 2 && c == 0xC2 && p[1] <= 0x9F) /* U+0080..U+009F: C1 controls */
            return pl_error_set(err, PL_EINVAL, field, "must not contain control characters");
        if (len == 1 && (c < 0x20 || c == 0x7F) &&
            !(allow_newlines && (c == '\n' || c == '\r' || c == '\t')))
            return pl_error_set(err, PL_EINVAL, field, "must not contain control characters");
        p += len;
        if (++chars > max_chars)
            return pl_error_set(err, PL_EINVAL, field, "must be at most %zu characters", max_chars);
    }
    if (chars == 0 && !allow_empty)
        return pl_error_set(err, PL_EINVAL, field, "must not be empty");
    return PL_OK;
}

int core_user_email_normalize(const char *in, const char *field, char *out, size_t out_len,
                              struct pl_error *err)
{
    size_t n = strlen(in);
    if (n < 3 || n > CORE_USER_EMAIL_MAX || n + 1 > out_len)
        return pl_error_set(err, PL_EINVAL, field, "must be an e-mail address of at most %d characters",
                            CORE_USER_EMAIL_MAX);
    const char *at = strchr(in, '@');
    if (at == NULL || at != strrchr(in, '@') || at == in || at - in > 64 || at[1] == '\0')
        return pl_error_set(err, PL_EINVAL, field, "must be an e-mail address like name@example.org");
    const char *domain = at + 1;
    if (strchr(domain, '.') == NULL || domain[0] == '.' || in[n - 1] == '.' || strstr(domain, ".."))
        return pl_error_set(err, PL_EINVAL, field, "must have a domain like example.org");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
            c == '\\' || c == '(' || c == ')' || c == '[' || c == ']')
            return pl_error_set(err, PL_EINVAL, field, "must not contain spaces, quotes or brackets");
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[n] = '\0';
    return core_text_check(out, field, CORE_USER_EMAIL_MAX, false, false, err);
}

int core_user_name_check(const char *name, const char *field, struct pl_error *err)
{
    int rc = core_text_check(name, field, CORE_USER_NAME_MAX, false, false, err);
    if (rc == PL_OK && (name[0] == ' ' || name[strlen(name) - 1] == ' '))
        return pl_error_set(err, PL_EINVAL, field, "must not start or end with a space");
    return rc;
}

int core_user_password_check(const char *pw, const char *field, struct pl_error *err)
{
    size_t n = strlen(pw);
    if (n < CORE_USER_PASSWORD_MIN || n > CORE_USER_PASSWORD_MAX)
        return pl_error_set(err, PL_EINVAL, field, "must be %d to %d bytes long",
                            CORE_USER_PASSWORD_MIN, CORE_USER_PASSWORD_MAX);
    return PL_OK;
}

static const char *const role_names[] = {"member", "admin"};

int core_user_role_parse(const char *s, const char *field, int *out, struct pl_error *err)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = i;
            return PL_OK;
        }
    return pl_error_set(err, PL_EINVAL, field, "must be \"member\" or \"admin\"");
}

const char *core_user_role_name(int role)
{
    return role == USER_ROLE_ADMIN ? role_names[1] : role_names[0];
}

int core_tz_known(const char *tz, const char *field, struct pl_error *err)
{
    if (core_tz_zone(tz) != NULL)
        return PL_OK;
    return pl_error_set(err, PL_EINVAL, field, "unknown time zone \"%.64s\"", tz);
}

int core_tz_check(const char *tz, const char *field, struct pl_error *err)
{
    if (!core_tz_name_canonical(tz))
        return pl_error_set(err, PL_EINVAL, field, "must be an IANA time zone name like Europe/Berlin");
    if (core_tz_zone(tz) != NULL)
        return PL_OK;
    return pl_error_set(err, PL_EINVAL, field, "unknown time zone \"%s\"", tz);
}
