/* libsodium wrappers. */
#include "secret.h"

#include "config.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static char dummy_hash[SECRET_PWHASH_MAX];

int secret_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

static void cost(int level, unsigned long long *ops, size_t *mem)
{
    switch (level) {
    case CONFIG_PWHASH_MODERATE:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    case CONFIG_PWHASH_MIN:
        /* For tests only: argon2id's floor, a few milliseconds. */
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
        break;
    default:
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
}

int secret_password_hash(const char *pw, int level, char out[SECRET_PWHASH_MAX])
{
    unsigned long long ops;
    size_t mem;
    cost(level, &ops, &mem);
    _Static_assert(SECRET_PWHASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer too small");
    return crypto_pwhash_str(out, pw, strlen(pw), ops, mem) == 0 ? 0 : -1;
}

int secret_prepare_dummy(int level)
{
    return secret_password_hash("planner-dummy-password", level, dummy_hash);
}

bool secret_password_verify(const char *hash, const char *pw)
{
    if (hash == NULL) {
        /* The result is irrelevant (and false): only the time spent matters. */
        if (dummy_hash[0] != '\0' && crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw)) == 0)
            return false;
        return false;
    }
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void secret_token_new(char out[SECRET_TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, SECRET_TOKEN_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void secret_password_new(char out[25])
{
    unsigned char raw[18];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, 25, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void secret_hash_hex(const void *data, size_t len, char out[SECRET_TOKEN_HASH_LEN + 1])
{
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, data, len, NULL, 0);
    sodium_bin2hex(out, SECRET_TOKEN_HASH_LEN + 1, digest, sizeof digest);
}

void secret_token_hash(const char *token, char out[SECRET_TOKEN_HASH_LEN + 1])
{
    secret_hash_hex(token, strlen(token), out);
}

void secret_random_hex(char *out, size_t n)
{
    unsigned char raw[64];
    if (n > sizeof raw)
        n = sizeof raw;
    randombytes_buf(raw, n);
    sodium_bin2hex(out, 2 * n + 1, raw, n);
}

void secret_unique_id(char out[SECRET_UNIQUE_ID_LEN + 1])
{
    static _Thread_local uint64_t next[2]; /* the high half, then the count */
    static _Thread_local bool drawn;
    if (!drawn) {
        randombytes_buf(next, sizeof next);
        drawn = true;
    }
    next[1]++;
    snprintf(out, SECRET_UNIQUE_ID_LEN + 1, "%016" PRIx64 "%016" PRIx64, next[0], next[1]);
}

bool secret_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}
