/*
 * libsodium behind the small interface of crypto.h: the only file that includes sodium.h.
 */
#include "base/crypto.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

int kpi_crypto_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

void kpi_random_bytes(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

void kpi_hash(const void *data, size_t len, uint8_t out[KPI_HASH_SIZE])
{
    crypto_generichash(out, KPI_HASH_SIZE, data, len, NULL, 0);
}

bool kpi_equal_ct(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void kpi_token_generate(char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    if (size < KPI_TOKEN_TEXT_SIZE) {
        if (size)
            out[0] = '\0';
        return;
    }
    memcpy(out, "kpi_", 4);
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[4 + 2 * i] = hex[raw[i] >> 4];
        out[5 + 2 * i] = hex[raw[i] & 15];
    }
    out[68] = '\0';
    sodium_memzero(raw, sizeof(raw));
}

bool kpi_token_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}
