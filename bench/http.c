/*
 * Benchmark driver: a minimal HTTP/1.1 client for the server benchmarks (bench/http-ingest.sh,
 * bench/http-read.sh), so that kpi and its peers are driven by the same small client, which is never
 * the bottleneck.
 *
 *   bench_http post ADDR PATH [-H 'Name: value']... [-T CONTENT_TYPE] FILE...
 *       Posts each FILE, in order, as the body of one request over one keep-alive connection
 *       (reconnecting only when the server closes it). A file is read just before it is sent (from
 *       the page cache: the script writes the batches beforehand). Prints "key value" lines: requests,
 *       ok (2xx answers), failed, bytes (bodies sent), written (the sum of the "written" numbers in
 *       the answers, kpi's count of points stored), seconds, user_s and sys_s (this client's CPU), and
 *       the first failure. Exits 1 when any request failed.
 *
 *   bench_http startup ADDR PATH [-o LOG] -- COMMAND [ARG]...
 *       Starts COMMAND (stdout and stderr to LOG, default /dev/null), then polls GET PATH on ADDR
 *       (a fresh connection every 0.2 ms) until it answers 200. Prints ms (from the fork to the first
 *       200 answer) and polls, then stops the command with SIGTERM (SIGKILL after 10 s) and prints
 *       stop_ms. Exits 1 when the command exits or does not answer within 10 s.
 *
 * ADDR is IPv4 "HOST:PORT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int parse_addr(const char *s, struct sockaddr_in *addr)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons((unsigned short)strtol(colon + 1, NULL, 10));
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

static int dial(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* ---- reading one response ---- */

struct conn {
    int fd;
    char *buf; /* bytes received and not yet consumed: buf[pos, len) */
    size_t len, pos, cap;
};

/* Reads more bytes into c->buf; 0 at EOF, -1 on error. */
static ssize_t fill(struct conn *c)
{
    if (c->pos > 0 && c->pos == c->len)
        c->pos = c->len = 0;
    if (c->cap - c->len < 65536) {
        if (c->pos > 0) {
            memmove(c->buf, c->buf + c->pos, c->len - c->pos);
            c->len -= c->pos;
            c->pos = 0;
        }
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 262144;
            char *b = realloc(c->buf, cap);
            if (!b)
                return -1;
            c->buf = b;
            c->cap = cap;
        }
    }
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            c->len += (size_t)n;
        return n;
    }
}

/* Returns the offset of the end of a CRLF-terminated line starting at c->pos (reading as needed),
 * or (size_t)-1. */
static size_t line_end(struct conn *c, size_t from)
{
    for (;;) {
        for (size_t i = from; i + 1 < c->len; i++)
            if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
                return i;
        size_t off = from - c->pos;
        if (fill(c) <= 0)
            return (size_t)-1;
        from = c->pos + off;
    }
}

/* Appends n body bytes to body (NUL-terminated); reads as needed. */
static int take(struct conn *c, size_t n, char **body, size_t *body_len)
{
    char *b = realloc(*body, *body_len + n + 1);
    if (!b)
        return -1;
    *body = b;
    while (n > 0) {
        if (c->pos == c->len && fill(c) <= 0)
            return -1;
        size_t k = c->len - c->pos < n ? c->len - c->pos : n;
        memcpy(*body + *body_len, c->buf + c->pos, k);
        *body_len += k;
        c->pos += k;
        n -= k;
    }
    (*body)[*body_len] = 0;
    return 0;
}

/* Reads one response: its status, body (malloc'd, NUL-terminated) and whether the server closes the
 * connection. -1 on a broken or malformed response. */
static int read_response(struct conn *c, bool head_only, int *status, char **body, size_t *body_len, bool *closes)
{
    *status = 0;
    *body_len = 0;
    *closes = false;
    size_t e = line_end(c, c->pos);
    if (e == (size_t)-1)
        return -1;
    /* "HTTP/1.x NNN ..." */
    const char *sl = c->buf + c->pos;
    if (e - c->pos < 12 || strncmp(sl, "HTTP/1.", 7) != 0 || sl[8] != ' ')
        return -1;
    char *end;
    long code = strtol(sl + 9, &end, 10);
    if (end != sl + 12 || code < 100 || code > 999)
        return -1;
    *status = (int)code;
    c->pos = e + 2;
    long long content_length = -1;
    bool chunked = false;
    for (;;) {
        e = line_end(c, c->pos);
        if (e == (size_t)-1)
            return -1;
        char *h = c->buf + c->pos;
        size_t hl = e - c->pos;
        c->pos = e + 2;
        if (hl == 0)
            break;
        h[hl] = 0; /* the '\r' */
        if (strncasecmp(h, "Content-Length:", 15) == 0)
            content_length = strtoll(h + 15, NULL, 10);
        else if (strncasecmp(h, "Transfer-Encoding:", 18) == 0 && strcasestr(h + 18, "chunked"))
            chunked = true;
        else if (strncasecmp(h, "Connection:", 11) == 0 && strcasestr(h + 11, "close"))
            *closes = true;
    }
    if (head_only || *status == 204 || *status == 304 || (*status >= 100 && *status < 200))
        return take(c, 0, body, body_len);
    if (chunked) {
        for (;;) {
            e = line_end(c, c->pos);
            if (e == (size_t)-1)
                return -1;
            size_t n = strtoul(c->buf + c->pos, NULL, 16);
            c->pos = e + 2;
            if (n == 0)
                break;
            if (take(c, n, body, body_len) < 0)
                return -1;
            e = line_end(c, c->pos);
            if (e == (size_t)-1)
                return -1;
            c->pos = e + 2;
        }
        for (;;) { /* trailers */
            e = line_end(c, c->pos);
            if (e == (size_t)-1)
                return -1;
            bool empty = e == c->pos;
            c->pos = e + 2;
            if (empty)
                break;
        }
        return take(c, 0, body, body_len);
    }
    if (content_length >= 0)
        return take(c, (size_t)content_length, body, body_len);
    /* No length: the body runs to the end of the connection. */
    *closes = true;
    for (;;) {
        if (c->pos == c->len) {
            ssize_t n = fill(c);
            if (n < 0)
                return -1;
            if (n == 0)
                break;
        }
        if (take(c, c->len - c->pos, body, body_len) < 0)
            return -1;
    }
    return take(c, 0, body, body_len);
}

static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) == 0 && (data = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        *len = got;
    }
    close(fd);
    return data;
}

/* The sum of every "written":N in a response body. */
static long long written_in(const char *body)
{
    long long sum = 0;
    for (const char *p = body; (p = strstr(p, "\"written\":")); p += 10)
        sum += strtoll(p + 10, NULL, 10);
    return sum;
}

static int cmd_post(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    struct sockaddr_in addr;
    if (parse_addr(argv[2], &addr) < 0) {
        fprintf(stderr, "bench_http: bad address '%s'\n", argv[2]);
        return 2;
    }
    const char *path = argv[3];
    const char *content_type = "application/json";
    char extra[4096] = "";
    size_t extra_len = 0;
    int i = 4;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-H") == 0 && i + 1 < argc) {
            int n = snprintf(extra + extra_len, sizeof(extra) - extra_len, "%s\r\n", argv[++i]);
            if (n < 0 || (size_t)n >= sizeof(extra) - extra_len)
                return 2;
            extra_len += (size_t)n;
        } else if (strcmp(argv[i], "-T") == 0 && i + 1 < argc) {
            content_type = argv[++i];
        } else {
            break;
        }
    }
    struct conn c = {.fd = -1};
    long long requests = 0, ok = 0, failed = 0, bytes = 0, written = 0;
    char first_error[512] = "";
    char *body = NULL;
    double t0 = now_ms();
    for (; i < argc; i++) {
        size_t len = 0;
        char *data = read_file(argv[i], &len);
        if (!data) {
            fprintf(stderr, "bench_http: cannot read %s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        char head[8192];
        int hl = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                          path, argv[2], content_type, len, extra);
        int status = 0;
        size_t body_len = 0;
        bool closes = false;
        for (int attempt = 0; attempt < 2; attempt++) {
            if (c.fd < 0) {
                c.fd = dial(&addr);
                c.len = c.pos = 0;
                if (c.fd < 0)
                    break;
            }
            struct iovec iov[2] = {{head, (size_t)hl}, {data, len}};
            if (write_all(c.fd, iov, 2) == 0 && read_response(&c, false, &status, &body, &body_len, &closes) == 0)
                break;
            /* A keep-alive connection the server had closed: retry once on a new one. */
            status = 0;
            close(c.fd);
            c.fd = -1;
        }
        free(data);
        requests++;
        bytes += (long long)len;
        if (status >= 200 && status < 300) {
            ok++;
            if (body_len)
                written += written_in(body);
        } else {
            failed++;
            if (!first_error[0])
                snprintf(first_error, sizeof(first_error), "%s: status %d %.400s", argv[i], status,
                         body_len ? body : "(no answer)");
        }
        if (closes && c.fd >= 0) {
            close(c.fd);
            c.fd = -1;
        }
    }
    double t1 = now_ms();
    if (c.fd >= 0)
        close(c.fd);
    free(body);
    free(c.buf);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("requests %lld\nok %lld\nfailed %lld\nbytes %lld\nwritten %lld\nseconds %.6f\n", requests, ok, failed, bytes, written,
           (t1 - t0) / 1e3);
    printf("user_s %.6f\nsys_s %.6f\n", (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    if (first_error[0])
        printf("first_error %s\n", first_error);
    return failed ? 1 : 0;
}

/* One GET on a fresh connection: the status, or 0 when nothing answers. */
static int probe(const struct sockaddr_in *addr, const char *host, const char *path)
{
    int fd = dial(addr);
    if (fd < 0)
        return 0;
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
    struct iovec iov = {req, (size_t)n};
    struct conn c = {.fd = fd};
    int status = 0;
    char *body = NULL;
    size_t body_len = 0;
    bool closes;
    if (write_all(fd, &iov, 1) < 0 || read_response(&c, false, &status, &body, &body_len, &closes) < 0)
        status = 0;
    free(body);
    free(c.buf);
    close(fd);
    return status;
}

static int cmd_startup(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    struct sockaddr_in addr;
    if (parse_addr(argv[2], &addr) < 0) {
        fprintf(stderr, "bench_http: bad address '%s'\n", argv[2]);
        return 2;
    }
    const char *path = argv[3];
    const char *log = "/dev/null";
    int i = 4;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            log = argv[++i];
        else
            return 2;
    }
    if (i + 1 >= argc)
        return 2;
    char **cmd = argv + i + 1;
    if (probe(&addr, argv[2], path) != 0) {
        fprintf(stderr, "bench_http: something already answers on %s\n", argv[2]);
        return 1;
    }
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(cmd[0], cmd);
        _exit(127);
    }
    long polls = 0;
    double ms = -1;
    int rc = 0;
    while (now_ms() - t0 < 10000) {
        polls++;
        if (probe(&addr, argv[2], path) == 200) {
            ms = now_ms() - t0;
            break;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "bench_http: %s exited (status %d) before answering\n", cmd[0], st);
            return 1;
        }
        sleep_us(200);
    }
    if (ms < 0) {
        fprintf(stderr, "bench_http: %s did not answer on %s within 10 s\n", cmd[0], argv[2]);
        rc = 1;
    }
    double s0 = now_ms();
    kill(pid, SIGTERM);
    int st;
    bool done = false;
    while (now_ms() - s0 < 10000) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            done = true;
            break;
        }
        sleep_us(500);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    printf("ms %.3f\npolls %ld\nstop_ms %.3f\n", ms, polls, now_ms() - s0);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    int r = 2;
    if (argc >= 2 && strcmp(argv[1], "post") == 0)
        r = cmd_post(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "startup") == 0)
        r = cmd_startup(argc, argv);
    if (r == 2)
        fprintf(stderr,
                "usage: %s post ADDR PATH [-H 'Name: value']... [-T TYPE] FILE...\n"
                "       %s startup ADDR PATH [-o LOG] -- COMMAND [ARG]...\n",
                argv[0], argv[0]);
    return r;
}
