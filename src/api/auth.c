/* Login, logout, the current user, and bearer-token authentication. */
#include "api/api.h"
#include "api/internal.h"

#include "arena.h"
#include "config.h"
#include "core/throttle.h"
#include "secret.h"
#include "store/sessions.h"
#include "store/users.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int api_authenticate(struct http_request *rq, struct pl_error *err)
{
    const char *h = http_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL)
        return pl_error_set(err, PL_EAUTH, NULL, "a bearer token is required (Authorization: Bearer ...)");
    if (strncasecmp(h, "Bearer ", 7) != 0) /* auth schemes are case-insensitive (RFC 9110) */
        return pl_error_set(err, PL_EAUTH, NULL, "the Authorization header must be \"Bearer <token>\"");
    const char *token = h + 7;
    size_t n = strlen(token);
    if (n != SECRET_TOKEN_LEN ||
        strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n)
        return pl_error_set(err, PL_EAUTH, NULL, "the token is invalid or has expired");
    char hash[SECRET_TOKEN_HASH_LEN + 1];
    secret_token_hash(token, hash);
    struct store_identity id;
    int rc = store_sessions_lookup(rq->db, hash, rq->now_us, &id, err);
    if (rc == PL_ENOTFOUND)
        return pl_error_set(err, PL_EAUTH, NULL, "the token is invalid or has expired");
    if (rc < 0)
        return rc;
    rq->user_id = id.user_id;
    rq->session_id = id.session_id;
    rq->role = id.role;
    return PL_OK;
}

/* Whether either throttling key is over its limit; fills err with the longer wait. */
static int throttled(struct http_request *rq, const char *account_key, const char *address_key,
                     struct pl_error *err)
{
    const struct config *cfg = rq->cfg;
    int64_t window = (int64_t)cfg->login_window_s * 1000000, since = rq->now_us - window;
    int64_t acct_at, addr_at;
    int rc = store_login_failures_nth(rq->db, account_key, since, cfg->login_max_per_account,
                                      &acct_at, err);
    if (rc == PL_OK)
        rc = store_login_failures_nth(rq->db, address_key, since, cfg->login_max_per_address,
                                      &addr_at, err);
    if (rc < 0)
        return rc;
    int wait_acct = core_throttle_retry_after(acct_at, window, rq->now_us);
    int wait_addr = core_throttle_retry_after(addr_at, window, rq->now_us);
    int wait = wait_acct > wait_addr ? wait_acct : wait_addr;
    if (wait == 0)
        return PL_OK;
    rc = pl_error_set(err, PL_ETHROTTLED, NULL,
                      "too many failed logins; try again in %d seconds", wait);
    err->retry_after_s = wait;
    return rc;
}

void api_auth_login(struct http_request *rq)
{
    static const char *const allowed[] = {"email", "password", NULL};
    struct pl_error err = {0};
    const char *email_in, *password, *hash = NULL;
    char email[CORE_USER_EMAIL_MAX + 1];
    struct user u;
    json_t *body;
    if (!api_need_db(rq))
        return;
    if ((body = http_body_object(rq, &err)) == NULL || api_only_fields(body, allowed, &err) < 0 ||
        api_string(body, "email", true, &email_in, &err) < 0 ||
        api_string(body, "password", true, &password, &err) < 0)
        goto fail;
    /* A malformed address cannot match an account: the same 401 as a wrong password, so the
     * answer never tells which part was wrong. */
    if (core_user_email_normalize(email_in, "email", email, sizeof email, NULL) < 0)
        snprintf(email, sizeof email, "%.200s", "(invalid)");
    const char *account_key = arena_printf(rq->arena, "account:%s", email);
    const char *address_key = arena_printf(rq->arena, "address:%s", rq->client_addr);
    if (throttled(rq, account_key, address_key, &err) < 0)
        goto fail;

    int rc = store_users_get_login(rq->db, email, rq->arena, &u, &hash, &err);
    if (rc < 0 && rc != PL_ENOTFOUND)
        goto fail;
    /* With no user, verify against a dummy hash anyway: equal time for both answers. */
    if (!secret_password_verify(rc == PL_OK ? hash : NULL, password)) {
        int64_t since = rq->now_us - (int64_t)rq->cfg->login_window_s * 1000000;
        if (store_login_failures_add(rq->db, account_key, address_key, rq->now_us, since, &err) < 0)
            goto fail;
        http_fail(rq, 401, NULL, "the e-mail or password is wrong");
        return;
    }

    char token[SECRET_TOKEN_LEN + 1], token_hash[SECRET_TOKEN_HASH_LEN + 1];
    secret_token_new(token);
    secret_token_hash(token, token_hash);
    int64_t expires = rq->now_us + (int64_t)rq->cfg->session_ttl_s * 1000000;
    if (store_login_failures_clear(rq->db, account_key, &err) < 0 ||
        store_sessions_create(rq->db, u.id, token_hash, rq->now_us, expires, &err) < 0)
        goto fail;
    http_reply_json(rq, 200, json_pack("{s:s, s:o, s:o}", "token", token, "expires_at",
                                       api_time_json(expires), "user",
                                       api_user_json(&u, api_user_etag(rq, &u))));
    return;
fail:
    http_reply_error(rq, &err);
}

void api_auth_logout(struct http_request *rq)
{
    struct pl_error err = {0};
    if (store_sessions_delete(rq->db, rq->session_id, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    http_reply_empty(rq, 204);
}

void api_auth_me(struct http_request *rq)
{
    struct pl_error err = {0};
    struct user u;
    if (store_users_get(rq->db, rq->user_id, rq->arena, &u, &err) < 0) {
        http_reply_error(rq, &err);
        return;
    }
    const char *etag = api_user_etag(rq, &u);
    if (http_not_modified(rq, etag))
        return;
    rq->etag = etag;
    http_reply_json(rq, 200, api_user_json(&u, etag));
}
