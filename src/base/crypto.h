/*
 * The crypto wrapper: randomness, token hashing and constant-time comparison, after libsodium. The
 * only file that includes sodium.h is crypto.c, so the rest of kpi never depends on it directly.
 */
#ifndef KPI_BASE_CRYPTO_H
#define KPI_BASE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KPI_HASH_SIZE 32

/* Initialises the library (idempotent, thread-safe). Returns 0 or -EIO. */
int kpi_crypto_init(void);
/* Fills buf with n bytes from the OS's cryptographic random source. */
void kpi_random_bytes(void *buf, size_t n);
/* BLAKE2b-256 of data: how API tokens are stored. A token is 32 random bytes, so a fast hash is
 * enough (no password stretching is needed for a secret nobody can guess). */
void kpi_hash(const void *data, size_t len, uint8_t out[KPI_HASH_SIZE]);
/* Compares n bytes in time independent of where they differ. */
bool kpi_equal_ct(const void *a, const void *b, size_t n);

/* A new API token: "kpi_" followed by 64 hex digits (32 random bytes). size >= KPI_TOKEN_TEXT_SIZE. */
#define KPI_TOKEN_TEXT_SIZE 69
void kpi_token_generate(char *out, size_t size);
/* Whether a token name is 1 to 64 of letters, digits, '.', '_' and '-'. */
bool kpi_token_name_valid(const char *name);

#endif
