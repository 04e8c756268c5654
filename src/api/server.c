/*
 * The HTTP server: libmicrohttpd glue (the only file that includes microhttpd.h). It reads each
 * request into a bounded body buffer, turns it into a struct api_request, hands it to
 * api_dispatch and sends the response back, writing one JSON access-log line per request.
 *
 * libmicrohttpd runs an epoll loop on a pool of threads (one per core by default); a handler runs
 * on the thread that owns its connection. Shutdown on SIGTERM/SIGINT is graceful: the listening
 * socket closes at once, /readyz turns 503, requests in flight finish, then the database is closed
 * cleanly and the process exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "api/server.h"
#include "base/crypto.h"
#include "base/str.h"
#include "json/json.h"
#include "kpi/time.h"
#include "store/stage.h"

/* Per-connection request state, from the first callback to the response. */
struct request_state {
    struct kpi_buf body;
    bool too_big;     /* the body passed opt.body_max: answered 413 */
    bool answered;    /* a response is queued */
    int64_t start_ns; /* when the request's headers arrived */
};

/* ---- per-thread database connections ---- */

static _Thread_local struct api_conn *thread_conn;

int api_conn_get(struct api_server *srv, struct api_conn **ret_conn, struct kpi_diag *diag)
{
    struct api_conn *c = thread_conn;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return kpi_diag_set(diag, -ENOMEM, "out of memory");
        int r = kpi_store_open_sqlite(srv->opt.db_path, false, &c->store, diag);
        if (r < 0) {
            free(c);
            return r;
        }
        /* The server's memory stays bounded whatever the database's size (see API_DB_CACHE), and
         * commits never wait for a checkpoint: the checkpoint thread does them. */
        kpi_store_memory_limit(c->store, API_DB_CACHE);
        kpi_store_checkpoint(c->store, false);
        pthread_mutex_lock(&srv->conns_lock);
        c->next = srv->conns;
        srv->conns = c;
        pthread_mutex_unlock(&srv->conns_lock);
        thread_conn = c;
    }
    uint64_t org_gen = atomic_load(&srv->org_gen);
    if (!c->have_cal || c->org_gen != org_gen) {
        if (c->have_cal)
            kpi_store_calendar_done(&c->cal);
        c->have_cal = false;
        int r = kpi_store_calendar(c->store, &c->cal, diag);
        if (r < 0)
            return r;
        c->have_cal = true;
        c->org_gen = org_gen;
    }
    *ret_conn = c;
    return 0;
}

void api_conn_forget_tokens(void)
{
    if (thread_conn)
        memset(thread_conn->tokens, 0, sizeof(thread_conn->tokens));
}

void api_conns_close(struct api_server *srv)
{
    pthread_mutex_lock(&srv->conns_lock);
    struct api_conn *c = srv->conns;
    srv->conns = NULL;
    pthread_mutex_unlock(&srv->conns_lock);
    while (c) {
        struct api_conn *next = c->next;
        if (c->have_cal)
            kpi_store_calendar_done(&c->cal);
        kpi_store_close(c->store);
        free(c);
        c = next;
    }
}

/* ---- requests ---- */

struct collect {
    struct api_request *req;
    bool overflow;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct collect *c = cls;
    if (c->req->n_query >= API_QUERY_PARAMS_MAX) {
        c->overflow = true;
        return MHD_NO;
    }
    c->req->query[c->req->n_query].name = key;
    c->req->query[c->req->n_query].value = value ? value : "";
    c->req->n_query++;
    return MHD_YES;
}

static void access_log(struct api_server *srv, const struct api_request *req, const struct api_response *res, size_t bytes,
                       double seconds)
{
    if (!srv->opt.access_log)
        return;
    char ts[40];
    kpi_instant_format(kpi_clock_wall_ms(), ts, sizeof(ts));
    struct kpi_buf line;
    kpi_buf_init(&line, 16 * 1024);
    kpi_buf_printf(&line, "{\"ts\":\"%s\",\"method\":\"%s\",\"path\":", ts, api_method_name(req->method));
    if (kpi_json_quote(&line, req->path) < 0)
        kpi_buf_adds(&line, "\"(not UTF-8)\"");
    kpi_buf_printf(&line, ",\"route\":\"%s\",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.3f,\"principal\":",
                   req->route ? req->route->name : "", res->status, bytes, seconds * 1000.0);
    kpi_json_quote(&line, req->principal);
    kpi_buf_adds(&line, "}\n");
    pthread_mutex_lock(&srv->log_lock);
    fputs(kpi_buf_str(&line), srv->opt.access_log);
    fflush(srv->opt.access_log);
    pthread_mutex_unlock(&srv->log_lock);
    kpi_buf_free(&line);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct api_server *srv, struct api_request *req,
                                     struct api_response *res, int64_t start_ns)
{
    size_t len;
    struct MHD_Response *r;
    if (res->shared) {
        /* A cached body goes out from the cache's memory; MHD releases it when sent. */
        len = res->shared_len;
        r = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)res->shared_data, api_cache_release, res->shared);
        if (!r)
            return MHD_NO;
        res->shared = NULL;
    } else {
        len = res->body.len;
        char *data = kpi_buf_take(&res->body);
        r = MHD_create_response_from_buffer(len, data ? data : (void *)"", data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!r) {
            free(data);
            return MHD_NO;
        }
    }
    if (res->content_type)
        MHD_add_response_header(r, "Content-Type", res->content_type);
    if (res->etag[0]) {
        MHD_add_response_header(r, "ETag", res->etag);
        MHD_add_response_header(r, "Cache-Control", "private, no-cache");
    } else {
        MHD_add_response_header(r, "Cache-Control", "no-store");
    }
    if (res->location[0])
        MHD_add_response_header(r, "Location", res->location);
    if (res->allow[0])
        MHD_add_response_header(r, "Allow", res->allow);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (res->status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"kpi\"");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    access_log(srv, req, res, len, (double)(kpi_clock_mono_ns() - start_ns) / 1e9);
    return ok;
}

static void response_init(struct api_response *res)
{
    memset(res, 0, sizeof(*res));
    kpi_buf_init(&res->body, API_RESPONSE_MAX);
}

/* Builds the request from the connection, dispatches it (or answers the 413/400 found while
 * reading it) and queues the response. */
static enum MHD_Result answer(struct MHD_Connection *conn, struct api_server *srv, struct request_state *st, const char *method,
                              const char *url)
{
    struct api_request req = {0};
    struct api_response res;
    response_init(&res);
    req.method = api_method_parse(method);
    req.path = url;
    req.server = srv;
    req.body = kpi_buf_str(&st->body);
    req.body_len = st->body.len;
    req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req.if_none_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    req.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    struct collect col = {.req = &req};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &col);

    if (st->too_big) {
        api_problem(&res, 413, "the request body is larger than the limit of %zu bytes (--max-body)", srv->opt.body_max);
        api_metrics_observe(srv->metrics, api_n_routes, 413, (double)(kpi_clock_mono_ns() - st->start_ns) / 1e9, 0);
    } else if (col.overflow) {
        api_problem(&res, 400, "more than %d query parameters", API_QUERY_PARAMS_MAX);
        api_metrics_observe(srv->metrics, api_n_routes, 400, (double)(kpi_clock_mono_ns() - st->start_ns) / 1e9, 0);
    } else {
        api_dispatch(srv, &req, &res);
    }
    st->answered = true;
    enum MHD_Result ok = send_response(conn, srv, &req, &res, st->start_ns);
    api_response_done(&res);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct api_server *srv = cls;
    struct request_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        kpi_buf_init(&st->body, srv->opt.body_max);
        st->start_ns = kpi_clock_mono_ns();
        *con_cls = st;
        /* A declared length past the limit is refused at once, before the body is read (the
         * connection is then closed rather than drained). */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (cl && kpi_parse_int64(cl, strlen(cl), 0, INT64_MAX, &n) == 0 && (uint64_t)n > srv->opt.body_max) {
            st->too_big = true;
            return answer(conn, srv, st, method, url);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!st->too_big && kpi_buf_add(&st->body, upload_data, *upload_data_size) < 0)
            st->too_big = true; /* a chunked body past the limit: kpi_buf freed it; the rest is dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->answered)
        return MHD_YES;
    return answer(conn, srv, st, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct request_state *st = *con_cls;
    if (st) {
        kpi_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's own messages (e.g. a client that vanished) go to stderr, one line each. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct api_server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    pthread_mutex_lock(&srv->log_lock);
    fprintf(stderr, "kpi serve: http: %s\n", msg);
    pthread_mutex_unlock(&srv->log_lock);
}

/* ---- the stage and checkpoints ---- */

int api_stage_fold(struct api_server *srv, struct kpi_store *store, bool look, uint64_t *ret_points)
{
    if (ret_points)
        *ret_points = 0;
    if (atomic_load(&srv->staged) == 0) {
        if (!look)
            return 0;
        int64_t rows;
        int r = kpi_store_stage_rows(store, &rows);
        if (r < 0 || rows == 0)
            return r;
    }
    pthread_mutex_lock(&srv->write_lock);
    int r = kpi_stage_fold(store, ret_points);
    if (r == 0)
        atomic_store(&srv->staged, 0);
    pthread_mutex_unlock(&srv->write_lock);
    return r;
}

void api_stage_added(struct api_server *srv, uint64_t points)
{
    atomic_store(&srv->staged_ns, kpi_clock_mono_ns());
    uint64_t before = atomic_fetch_add(&srv->staged, points);
    if (before < API_FOLD_AT && before + points >= API_FOLD_AT) {
        pthread_mutex_lock(&srv->maint_lock);
        pthread_cond_signal(&srv->maint_cond);
        pthread_mutex_unlock(&srv->maint_lock);
    }
}

/* The maintenance thread, on its own connection. It folds the stage when API_FOLD_AT points wait
 * (woken by api_stage_added) or ingestion paused for API_FOLD_IDLE_MS, off the requests' path; and
 * it copies the write-ahead log into the database twice a second, so that no request's commit pays
 * for it (SQLite would otherwise checkpoint inside a commit every 1,000 pages). A passive
 * checkpoint never blocks readers or writers. */
static void *maintenance_thread(void *arg)
{
    struct api_server *srv = arg;
    struct api_conn *conn;
    struct kpi_diag diag = {{0}};
    if (api_conn_get(srv, &conn, &diag) < 0)
        return NULL;
    int64_t checkpoint_ns = kpi_clock_mono_ns(), retry_ns = 0;
    pthread_mutex_lock(&srv->maint_lock);
    while (!srv->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&srv->maint_cond, &srv->maint_lock, &until);
        if (srv->stopping)
            break;
        pthread_mutex_unlock(&srv->maint_lock);
        int64_t now = kpi_clock_mono_ns();
        uint64_t staged = atomic_load(&srv->staged);
        bool due = staged >= API_FOLD_AT || (staged > 0 && now - atomic_load(&srv->staged_ns) >= API_FOLD_IDLE_MS * 1000000LL);
        /* A fold that failed (a full disk, a damaged row) leaves the points staged; reads retry it
         * and so does this thread, a second later. */
        if (due && now >= retry_ns && api_stage_fold(srv, conn->store, false, NULL) < 0)
            retry_ns = now + 1000 * 1000000LL;
        if (now - checkpoint_ns >= 500 * 1000000LL) {
            kpi_store_checkpoint(conn->store, false);
            checkpoint_ns = now;
        }
        pthread_mutex_lock(&srv->maint_lock);
    }
    pthread_mutex_unlock(&srv->maint_lock);
    return NULL;
}

/* ---- lifetime ---- */

static int parse_listen(const char *listen, struct sockaddr_in *ret_addr, struct kpi_diag *diag)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return kpi_diag_set(diag, -EINVAL, "--listen: '%s' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
    char host[64];
    size_t hlen = (size_t)(colon - listen);
    if (hlen == 0 || hlen >= sizeof(host))
        return kpi_diag_set(diag, -EINVAL, "--listen: '%s' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "localhost") == 0)
        kpi_strlcpy(host, "127.0.0.1", sizeof(host));
    int64_t port;
    if (kpi_parse_int64(colon + 1, strlen(colon + 1), 0, 65535, &port) < 0)
        return kpi_diag_set(diag, -EINVAL, "--listen: port '%s' is not a number from 0 to 65535", colon + 1);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return kpi_diag_set(diag, -EINVAL, "--listen: '%s' is not an IPv4 address", host);
    *ret_addr = addr;
    return 0;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

int api_serve(const struct api_options *opt, struct kpi_diag *diag)
{
    int64_t t0 = kpi_clock_mono_ns();
    struct sockaddr_in addr;
    int r = parse_listen(opt->listen, &addr, diag);
    if (r < 0)
        return r;
    if (kpi_crypto_init() < 0)
        return kpi_diag_set(diag, -EIO, "cannot initialise libsodium");

    struct api_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    srv->opt = *opt;
    if (!srv->opt.threads)
        srv->opt.threads = default_threads();
    srv->started_ms = kpi_clock_wall_ms();
    pthread_mutex_init(&srv->write_lock, NULL);
    pthread_mutex_init(&srv->conns_lock, NULL);
    pthread_mutex_init(&srv->log_lock, NULL);
    pthread_mutex_init(&srv->maint_lock, NULL);
    pthread_cond_init(&srv->maint_cond, NULL);
    srv->cache = api_cache_new(API_RESPONSE_CACHE);
    srv->metrics = api_metrics_new(api_n_routes);

    /* Signals are taken by sigwait below: block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = NULL;
    /* The database must open (and be up to date) before the port does. */
    struct api_conn *conn;
    r = srv->cache && srv->metrics ? api_conn_get(srv, &conn, diag) : kpi_diag_set(diag, -ENOMEM, "out of memory");
    if (r < 0)
        goto out;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, srv->opt.threads, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)1000, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)0, MHD_OPTION_LISTEN_BACKLOG_SIZE,
                         (unsigned)1024, MHD_OPTION_END);
    if (!d) {
        r = kpi_diag_set(diag, -EADDRINUSE, "cannot listen on %s (%s)", opt->listen, strerror(errno ? errno : EADDRINUSE));
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : ntohs(addr.sin_port);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
    pthread_t maintainer;
    bool have_maintainer = pthread_create(&maintainer, NULL, maintenance_thread, srv) == 0;
    atomic_store(&srv->ready, true);
    fprintf(stderr, "kpi serve: listening on http://%s:%u (database %s, %u threads, ready in %.1f ms)\n", host, port, opt->db_path,
            srv->opt.threads, (double)(kpi_clock_mono_ns() - t0) / 1e6);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "kpi serve: %s received, finishing requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&srv->ready, false);
    MHD_socket listener = MHD_quiesce_daemon(d);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    /* Wait (at most 10 s) for open connections to finish; idle keep-alive ones time out. */
    for (int i = 0; i < 1000; i++) {
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!info || info->num_connections == 0)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
    d = NULL;
    if (have_maintainer) {
        pthread_mutex_lock(&srv->maint_lock);
        srv->stopping = true;
        pthread_cond_signal(&srv->maint_cond);
        pthread_mutex_unlock(&srv->maint_lock);
        pthread_join(maintainer, NULL);
    }
    /* Flush: what is staged joins its series now, so the file needs nothing from the next start. */
    uint64_t folded = 0;
    r = api_stage_fold(srv, conn->store, true, &folded);
    if (r < 0)
        fprintf(stderr, "kpi serve: cannot merge the staged points (they stay staged; the next open merges them): %s\n",
                kpi_strerror(r));
    else if (folded > 0)
        fprintf(stderr, "kpi serve: merged %llu staged points\n", (unsigned long long)folded);
    r = 0;
    fprintf(stderr, "kpi serve: stopped\n");
out:
    if (d)
        MHD_stop_daemon(d);
    api_conns_close(srv);
    api_cache_free(srv->cache);
    api_metrics_free(srv->metrics);
    pthread_mutex_destroy(&srv->write_lock);
    pthread_mutex_destroy(&srv->conns_lock);
    pthread_mutex_destroy(&srv->log_lock);
    pthread_mutex_destroy(&srv->maint_lock);
    pthread_cond_destroy(&srv->maint_cond);
    free(srv);
    return r;
}
