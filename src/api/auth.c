/*
 * Bearer-token authentication of /api/v1 routes. A token is "kpi_" followed by 64 hex digits (32
 * random bytes); the database keeps only its BLAKE2b-256 hash, so a leaked database does not leak
 * working tokens. Looking a token up by its hash reveals nothing about other tokens. Each
 * connection remembers the tokens it verified until the database changes (a revocation by the
 * API or by `kpi token revoke` on the file is a commit, so it takes effect at the next request);
 * that saves a query per request, and those comparisons are constant-time.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/server.h"
#include "base/crypto.h"
#include "base/str.h"

int api_auth_check(struct api_conn *conn, uint64_t data_version, struct api_request *req, struct api_response *res)
{
    const char *h = req->authorization;
    if (!h || !*h) {
        api_problem(res, 401,
                    "this route needs a token: send 'Authorization: Bearer TOKEN' (create one with 'kpi token create NAME')");
        return -EACCES;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        api_problem(res, 401, "Authorization: expected the 'Bearer' scheme followed by a token");
        return -EACCES;
    }
    const char *token = h + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen(token);
    while (len > 0 && token[len - 1] == ' ')
        len--;
    uint8_t hash[KPI_HASH_SIZE];
    kpi_hash(token, len, hash);
    for (unsigned i = 0; i < API_TOKENS_SEEN; i++) {
        struct api_token_seen *t = &conn->tokens[i];
        if (t->used && t->data_version == data_version && kpi_equal_ct(t->hash, hash, sizeof(hash))) {
            snprintf(req->principal, sizeof(req->principal), "token:%s", t->name);
            return 0;
        }
    }
    struct kpi_token t;
    int r = kpi_store_token_find(req->store, hash, &t);
    if (r == -ENOENT) {
        api_problem(res, 401, "the token is not valid (unknown or revoked)");
        return -EACCES;
    }
    if (r < 0) {
        api_problem(res, 503, "cannot check the token: the database is not available");
        return r;
    }
    struct api_token_seen *seen = &conn->tokens[conn->next_token++ % API_TOKENS_SEEN];
    memcpy(seen->hash, hash, sizeof(seen->hash));
    kpi_strlcpy(seen->name, t.name, sizeof(seen->name));
    seen->data_version = data_version;
    seen->used = true;
    snprintf(req->principal, sizeof(req->principal), "token:%s", t.name);
    return 0;
}
