/* Secrets through libsodium: argon2id password hashes, random bearer tokens stored only as
 * BLAKE2b hashes, random identifiers, constant-time comparison. */
#ifndef PLANNER_SECRET_H
#define PLANNER_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_PWHASH_MAX 128   /* >= crypto_pwhash_STRBYTES */
#define SECRET_TOKEN_LEN 43     /* base64url of 32 random bytes, no padding */
#define SECRET_TOKEN_HASH_LEN 64 /* hex of a 32-byte BLAKE2b digest */

/* sodium_init(); once in main before threads start.  Returns 0 or -1. */
int secret_init(void);

/* argon2id hash of `pw` at cost `level` (enum config_pwhash) into `out` (SECRET_PWHASH_MAX
 * bytes, NUL-terminated).  Returns 0, or -1 when the hash could not be computed (memory). */
int secret_password_hash(const char *pw, int level, char out[SECRET_PWHASH_MAX]);

/* Whether `pw` matches `hash`.  With hash == NULL it still spends the time of a verification
 * (against a fixed dummy hash) and returns false, so unknown accounts take as long as known
 * ones.  secret_prepare_dummy must have run once for that. */
bool secret_password_verify(const char *hash, const char *pw);
int secret_prepare_dummy(int level);

/* A new bearer token (SECRET_TOKEN_LEN chars + NUL) from 256 random bits. */
void secret_token_new(char out[SECRET_TOKEN_LEN + 1]);
/* A shorter random password for the first admin, 24 chars + NUL. */
void secret_password_new(char out[25]);

/* The hex BLAKE2b-256 of `token`: what the database stores and looks up. */
void secret_token_hash(const char *token, char out[SECRET_TOKEN_HASH_LEN + 1]);

/* The hex BLAKE2b-256 of `len` bytes at `data`. */
void secret_hash_hex(const void *data, size_t len, char out[SECRET_TOKEN_HASH_LEN + 1]);

/* `n` random bytes as 2n hex chars + NUL into `out`. */
void secret_random_hex(char *out, size_t n);

/* An id no other call returns (a request's): 32 hex chars + NUL.  Not a secret: each thread
 * draws a random 128-bit start once and counts up from it, where a random id (randombytes_buf)
 * cost a getrandom system call every time, one of a request's seven (strace). */
#define SECRET_UNIQUE_ID_LEN 32
void secret_unique_id(char out[SECRET_UNIQUE_ID_LEN + 1]);

/* Constant-time equality of two strings of the same length (false when lengths differ). */
bool secret_equal(const char *a, const char *b);

#endif
