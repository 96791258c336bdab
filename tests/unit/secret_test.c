/* secret: argon2id password hashes, bearer tokens and their hashes, constant-time equality. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "config.h"
#include "secret.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void setup(void)
{
    cr_assert(eq(int, secret_init(), 0));
}

TestSuite(secret, .init = setup);

static bool all_of(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

#define BASE64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define HEX_LOWER "0123456789abcdef"

Test(secret, password_hash_and_verify)
{
    static const char *const passwords[] = {
        "correct horse battery staple",
        "p\xc3\xa4ssw\xc3\xb6rd", /* non-ASCII */
        "12345678",
    };
    for (size_t i = 0; i < ARRAY_LEN(passwords); i++) {
        char hash[SECRET_PWHASH_MAX];
        cr_assert(eq(int, secret_password_hash(passwords[i], CONFIG_PWHASH_MIN, hash), 0),
                  "case %zu", i);
        cr_expect(eq(int, strncmp(hash, "$argon2id$", 10), 0), "case %zu: %s", i, hash);
        cr_expect(lt(sz, strlen(hash), (size_t)SECRET_PWHASH_MAX));
        cr_expect(secret_password_verify(hash, passwords[i]), "case %zu", i);
        cr_expect(not(secret_password_verify(hash, "wrong password")), "case %zu", i);
        cr_expect(not(secret_password_verify(hash, "")), "case %zu", i);
        /* A prefix or an extension of the password is a different password. */
        char longer[128];
        snprintf(longer, sizeof longer, "%sx", passwords[i]);
        cr_expect(not(secret_password_verify(hash, longer)), "case %zu", i);
        char shorter[128];
        snprintf(shorter, sizeof shorter, "%.*s", (int)strlen(passwords[i]) - 1, passwords[i]);
        cr_expect(not(secret_password_verify(hash, shorter)), "case %zu", i);
    }
}

Test(secret, password_hash_is_salted)
{
    char h1[SECRET_PWHASH_MAX], h2[SECRET_PWHASH_MAX];
    cr_assert(eq(int, secret_password_hash("same password", CONFIG_PWHASH_MIN, h1), 0));
    cr_assert(eq(int, secret_password_hash("same password", CONFIG_PWHASH_MIN, h2), 0));
    cr_expect(ne(str, h1, h2));
    cr_expect(secret_password_verify(h1, "same password"));
    cr_expect(secret_password_verify(h2, "same password"));
}

Test(secret, verify_garbage_and_null_hash)
{
    cr_expect(not(secret_password_verify("", "password")));
    cr_expect(not(secret_password_verify("not a hash", "password")));
    cr_expect(not(secret_password_verify(NULL, "password")), "no dummy prepared yet");
    cr_assert(eq(int, secret_prepare_dummy(CONFIG_PWHASH_MIN), 0));
    cr_expect(not(secret_password_verify(NULL, "planner-dummy-password")),
              "an unknown account must never verify, even with the dummy's password");
}

Test(secret, tokens)
{
    char seen[8][SECRET_TOKEN_LEN + 1];
    for (size_t i = 0; i < ARRAY_LEN(seen); i++) {
        secret_token_new(seen[i]);
        cr_expect(eq(sz, strlen(seen[i]), (size_t)SECRET_TOKEN_LEN));
        cr_expect(all_of(seen[i], BASE64URL), "token %s", seen[i]);
        for (size_t k = 0; k < i; k++)
            cr_expect(ne(str, seen[i], seen[k]), "tokens %zu and %zu", k, i);
    }
}

Test(secret, new_password)
{
    char a[25], b[25];
    secret_password_new(a);
    secret_password_new(b);
    cr_expect(eq(sz, strlen(a), 24));
    cr_expect(all_of(a, BASE64URL));
    cr_expect(ne(str, a, b));
}

/* BLAKE2b-256, checked against Python's hashlib.blake2b(digest_size=32). */
static const struct {
    const char *token, *hex;
} token_hashes[] = {
    {"abc", "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"},
    {"", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
};

Test(secret, token_hash)
{
    for (size_t i = 0; i < ARRAY_LEN(token_hashes); i++) {
        char out[SECRET_TOKEN_HASH_LEN + 1];
        secret_token_hash(token_hashes[i].token, out);
        cr_expect(eq(str, out, (char *)token_hashes[i].hex), "case %zu", i);
    }
    char token[SECRET_TOKEN_LEN + 1], h1[SECRET_TOKEN_HASH_LEN + 1], h2[SECRET_TOKEN_HASH_LEN + 1];
    secret_token_new(token);
    secret_token_hash(token, h1);
    secret_token_hash(token, h2);
    cr_expect(eq(sz, strlen(h1), (size_t)SECRET_TOKEN_HASH_LEN));
    cr_expect(all_of(h1, HEX_LOWER), "%s", h1);
    cr_expect(eq(str, h1, h2), "not deterministic");
    token[0] = token[0] == 'A' ? 'B' : 'A';
    secret_token_hash(token, h2);
    cr_expect(ne(str, h1, h2));
}

Test(secret, random_hex)
{
    static const size_t sizes[] = {1, 8, 16, 32, 64};
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        char a[2 * 64 + 1], b[2 * 64 + 1];
        secret_random_hex(a, sizes[i]);
        secret_random_hex(b, sizes[i]);
        cr_expect(eq(sz, strlen(a), 2 * sizes[i]), "case %zu", i);
        cr_expect(all_of(a, HEX_LOWER), "case %zu", i);
        if (sizes[i] >= 8)
            cr_expect(ne(str, a, b), "case %zu", i);
    }
}

/* Unique ids: 32 lowercase hex digits, never the same twice in a thread nor in two threads
 * (a start shared by the threads, or drawn the same, would repeat ids across them). */
enum { UNIQUE_IDS = 1000 };
typedef char unique_ids[UNIQUE_IDS][SECRET_UNIQUE_ID_LEN + 1];

static void *make_unique_ids(void *out)
{
    char(*ids)[SECRET_UNIQUE_ID_LEN + 1] = out;
    for (size_t i = 0; i < UNIQUE_IDS; i++)
        secret_unique_id(ids[i]);
    return NULL;
}

Test(secret, unique_ids_differ_within_and_across_threads)
{
    static unique_ids mine, theirs;
    pthread_t t;
    make_unique_ids(mine);
    cr_assert(eq(int, pthread_create(&t, NULL, make_unique_ids, theirs), 0));
    cr_assert(eq(int, pthread_join(t, NULL), 0));
    size_t repeats = 0, shared = 0;
    for (size_t i = 0; i < UNIQUE_IDS; i++) {
        cr_assert(eq(sz, strlen(mine[i]), (size_t)SECRET_UNIQUE_ID_LEN), "%s", mine[i]);
        cr_assert(all_of(mine[i], HEX_LOWER), "%s", mine[i]);
        for (size_t j = 0; j < UNIQUE_IDS; j++) {
            repeats += j < i && strcmp(mine[i], mine[j]) == 0;
            shared += strcmp(mine[i], theirs[j]) == 0;
        }
    }
    cr_expect(eq(sz, repeats, 0), "ids one thread made twice");
    cr_expect(eq(sz, shared, 0), "ids both threads made");
}

static const struct {
    const char *a, *b;
    bool want;
} equals[] = {
    {"", "", true},
    {"token", "token", true},
    {"token", "tokeN", false},
    {"token", "Token", false},
    {"token", "toke", false},
    {"toke", "token", false},
    {"token", "", false},
    {"", "token", false},
};

Test(secret, equal)
{
    for (size_t i = 0; i < ARRAY_LEN(equals); i++)
        cr_expect(eq(int, secret_equal(equals[i].a, equals[i].b), equals[i].want),
                  "case %zu: \"%s\" vs \"%s\"", i, equals[i].a, equals[i].b);
}
