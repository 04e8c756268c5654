/*
 * The blocking HTTP client of the remote store (see http.h), over one libcurl easy handle so that
 * successive requests reuse the connection. The only file that includes curl/curl.h. Redirects are
 * not followed (the bearer token must not travel to another host), proxies are taken from the
 * usual environment variables as libcurl does, and "Expect: 100-continue" is switched off so that
 * large batches go out at once.
 */
#include "remote/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

struct kpi_http {
    CURL *curl;
    char base[KPI_HTTP_URL_MAX + 1];
    char auth[KPI_HTTP_TOKEN_MAX + 32];
    char errbuf[CURL_ERROR_SIZE];
};

static bool curl_ready;

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int kpi_http_new(const char *base_url, const char *token, struct kpi_http **ret_http, struct kpi_diag *diag)
{
    if (!base_url || !(starts_with(base_url, "http://") || starts_with(base_url, "https://")))
        return kpi_diag_set(diag, -EINVAL, "server: '%s' is not an http:// or https:// URL", base_url ? base_url : "");
    size_t len = strlen(base_url);
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    if (len > KPI_HTTP_URL_MAX)
        return kpi_diag_set(diag, -EINVAL, "server: the URL is longer than %d bytes", KPI_HTTP_URL_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)base_url[i] <= ' ' || base_url[i] == 0x7f)
            return kpi_diag_set(diag, -EINVAL, "server: the URL contains a space or a control character");
    if (!token || !*token)
        return kpi_diag_set(diag, -EINVAL, "token: missing");
    if (strlen(token) > KPI_HTTP_TOKEN_MAX)
        return kpi_diag_set(diag, -EINVAL, "token: longer than %d bytes", KPI_HTTP_TOKEN_MAX);
    for (const char *p = token; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return kpi_diag_set(diag, -EINVAL, "token: contains a space or a control character");
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return kpi_diag_set(diag, -EIO, "cannot initialise libcurl");
        curl_ready = true;
    }
    struct kpi_http *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return kpi_diag_set(diag, -ENOMEM, "cannot create a libcurl handle");
    }
    memcpy(h->base, base_url, len);
    h->base[len] = '\0';
    snprintf(h->auth, sizeof(h->auth), "Authorization: Bearer %s", token);
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)KPI_HTTP_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)KPI_HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)KPI_HTTP_STALL_S);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kpi-cli");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    *ret_http = h;
    return 0;
}

struct kpi_http *kpi_http_free(struct kpi_http *h)
{
    if (!h)
        return NULL;
    curl_easy_cleanup(h->curl);
    memset(h->auth, 0, sizeof(h->auth));
    free(h);
    return NULL;
}

const char *kpi_http_base(const struct kpi_http *h)
{
    return h->base;
}

struct sink {
    struct kpi_buf *body;
    bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct sink *s = ctx;
    size_t n = size * nmemb;
    if (kpi_buf_add(s->body, data, n) < 0) {
        s->too_big = true;
        return 0; /* makes libcurl abort the transfer */
    }
    return n;
}

static int transport_error(struct kpi_http *h, CURLcode cc, struct kpi_diag *diag)
{
    const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return kpi_diag_set(diag, -ECONNREFUSED, "cannot reach %s: %s", h->base, why);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return kpi_diag_set(diag, -EHOSTUNREACH, "cannot reach %s: %s", h->base, why);
    case CURLE_OPERATION_TIMEDOUT:
        return kpi_diag_set(diag, -ETIMEDOUT, "cannot reach %s: %s", h->base, why);
    default:
        return kpi_diag_set(diag, -EIO, "request to %s failed: %s", h->base, why);
    }
}

int kpi_http_request(struct kpi_http *h, const char *method, const char *target, const char *content_type, const char *body,
                     size_t body_len, struct kpi_http_response *res, struct kpi_diag *diag)
{
    char url[2 * KPI_HTTP_URL_MAX + 1];
    size_t base_len = strlen(h->base), target_len = strlen(target);
    if (base_len + target_len >= sizeof(url))
        return kpi_diag_set(diag, -E2BIG, "request to %s failed: the URL would be longer than %zu bytes", h->base, sizeof(url) - 1);
    memcpy(url, h->base, base_len);
    memcpy(url + base_len, target, target_len + 1);

    CURL *c = h->curl;
    struct curl_slist *headers = NULL, *grown;
    char type[160];
    const char *lines[4] = {h->auth, "Accept: application/json, application/problem+json", "Expect:", NULL};
    if (body) {
        snprintf(type, sizeof(type), "Content-Type: %s", content_type ? content_type : "application/json");
        lines[3] = type;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!lines[i])
            continue;
        grown = curl_slist_append(headers, lines[i]);
        if (!grown) {
            curl_slist_free_all(headers);
            return -ENOMEM;
        }
        headers = grown;
    }
    kpi_buf_init(&res->body, KPI_HTTP_RESPONSE_MAX);
    res->status = 0;
    struct sink sink = {&res->body, false};
    h->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    if (sink.too_big) {
        kpi_buf_free(&res->body);
        return kpi_diag_set(diag, -E2BIG, "the answer of %s%s is larger than %u bytes", h->base, target, KPI_HTTP_RESPONSE_MAX);
    }
    if (cc != CURLE_OK) {
        kpi_buf_free(&res->body);
        return transport_error(h, cc, diag);
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    res->status = (int)status;
    if (!res->body.data && kpi_buf_add(&res->body, "", 0) < 0)
        return -ENOMEM;
    return 0;
}
