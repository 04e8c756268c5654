/*
 * Point commands: push (one point), import (CSV or JSON, all or nothing), export (CSV or JSON that
 * import reads back) and series (period values with the KPI's aggregation and the org calendar).
 */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/str.h"
#include "base/strmap.h"
#include "cli/cli.h"
#include "json/json.h"
#include "kpi/dims.h"
#include "kpi/format.h"
#include "kpi/series.h"
#include "kpi/time.h"
#include "store/ingest.h"

static double now_seconds(void)
{
    return (double)kpi_clock_mono_ns() / 1e9;
}

int cmd_push(struct cli *c, int argc, char **argv)
{
    struct kpi_dim dims[KPI_DIMS_MAX];
    size_t n_dims = 0;
    const char *at_text = NULL, *pos[2];
    int n_pos = 0;
    /* Parsed by hand rather than with getopt: a negative value ("kpi push churn -3") is an
     * argument, not an option. */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            if (n_pos >= 2)
                return cli_usage(c, "unexpected argument '%s'", arg);
            pos[n_pos++] = arg;
            continue;
        }
        if (strcmp(arg, "--json") == 0) {
            c->json = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0)
            return cli_common_option(c, OPT_HELP, NULL) < 0 ? EXIT_OK : EXIT_USAGE;
        char name[16];
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (name_len >= sizeof(name))
            return cli_usage(c, "unknown option '%s'", arg);
        memcpy(name, arg + 2, name_len);
        name[name_len] = '\0';
        if (strcmp(name, "at") != 0 && strcmp(name, "dim") != 0 && strcmp(name, "db") != 0)
            return cli_usage(c, "unknown option '%s'", arg);
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc)
                return cli_usage(c, "option '%s' needs a value", arg);
            value = argv[++i];
        }
        if (strcmp(name, "at") == 0) {
            at_text = value;
        } else if (strcmp(name, "db") == 0) {
            c->db_path = value;
        } else {
            struct kpi_diag diag = {""};
            if (n_dims >= KPI_DIMS_MAX)
                return cli_usage(c, "at most %d --dim options", KPI_DIMS_MAX);
            if (kpi_dim_parse_arg(value, &dims[n_dims], &diag) < 0)
                return cli_usage(c, "%s", diag.msg);
            n_dims++;
        }
    }
    if (n_pos < 2)
        return cli_usage(c, "expected KEY VALUE");
    double value;
    if (kpi_parse_double(pos[1], strlen(pos[1]), &value) < 0)
        return cli_fail(c, EXIT_RUNTIME, "value: '%s' is not a finite number", pos[1]);
    struct kpi_at at = {.is_date = false, .ms = kpi_clock_wall_ms()};
    if (at_text && kpi_at_parse(at_text, strlen(at_text), &at) < 0)
        return cli_fail(c, EXIT_RUNTIME, "at: '%s' is not a date (YYYY-MM-DD) or an RFC 3339 instant", at_text);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_diag diag = {""};
    int r = kpi_ingest_point(c->store, &c->cal, pos[0], value, &at, dims, n_dims, &diag);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    if (c->json)
        printf("{\"written\": 1}\n");
    return EXIT_OK;
}

/* Reads a file descriptor, first handing out the bytes sniff_format looked at. */
struct fd_reader {
    int fd;
    size_t peek_len;
    size_t peek_off;
    char peek[4096];
};

static ssize_t fd_read(void *ctx, char *buf, size_t size)
{
    struct fd_reader *fr = ctx;
    if (fr->peek_off < fr->peek_len) {
        size_t n = fr->peek_len - fr->peek_off;
        if (n > size)
            n = size;
        memcpy(buf, fr->peek + fr->peek_off, n);
        fr->peek_off += n;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t n = read(fr->fd, buf, size);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -errno;
    }
}

/* Reads ahead (keeping the bytes for fd_read, so a pipe loses nothing) until the first byte after
 * an optional UTF-8 byte-order mark and whitespace: '[' means a JSON array, anything else CSV. */
static int sniff_json(struct fd_reader *fr, bool *ret_json)
{
    static const unsigned char bom[] = {0xef, 0xbb, 0xbf};
    size_t i = 0;
    for (;;) {
        for (; i < fr->peek_len; i++) {
            unsigned char c = (unsigned char)fr->peek[i];
            if ((i < 3 && c == bom[i] && (i == 0 || (unsigned char)fr->peek[i - 1] == bom[i - 1])) || c == ' ' || c == '\t' ||
                c == '\n' || c == '\r')
                continue;
            *ret_json = c == '[';
            return 0;
        }
        if (fr->peek_len == sizeof(fr->peek)) {
            *ret_json = false;
            return 0;
        }
        ssize_t n = read(fr->fd, fr->peek + fr->peek_len, sizeof(fr->peek) - fr->peek_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0) {
            *ret_json = false;
            return 0;
        }
        fr->peek_len += (size_t)n;
    }
}

struct progress {
    uint64_t total; /* file size, 0 when unknown (a pipe) */
    double started;
    bool shown;
};

static void show_progress(void *ctx, uint64_t bytes, uint64_t rows)
{
    struct progress *p = ctx;
    double elapsed = now_seconds() - p->started;
    if (elapsed < 0.5 && !p->shown)
        return; /* small files finish before a bar is useful */
    p->shown = true;
    double rate = elapsed > 0 ? (double)rows / elapsed : 0;
    if (p->total) {
        int pct = (int)(bytes * 100 / p->total);
        int filled = pct * 30 / 100;
        char bar[31];
        for (int i = 0; i < 30; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%%  %llu rows  %.0f rows/s ", bar, pct, (unsigned long long)rows, rate);
    } else {
        fprintf(stderr, "\r%llu rows  %.0f rows/s ", (unsigned long long)rows, rate);
    }
}

int cmd_import(struct cli *c, int argc, char **argv)
{
    enum { OPT_QUIET = OPT_FIRST_COMMAND_OPTION };
    static const struct option opts[] = {{"quiet", no_argument, NULL, OPT_QUIET}, CLI_COMMON_OPTIONS, {0}};
    bool quiet = false;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int h = cli_common_option(c, opt, optarg);
        if (h < 0)
            return EXIT_OK;
        if (h > 0)
            continue;
        if (opt == OPT_QUIET)
            quiet = true;
        else
            return cli_usage(c, "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return cli_usage(c, "missing FILE (use - for standard input)");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot open %s: %s", path, strerror(errno));
    struct progress prog = {0, now_seconds(), false};
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        prog.total = (uint64_t)sb.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    int rc = cli_open(c);
    if (rc != EXIT_OK) {
        if (!is_stdin)
            close(fd);
        return rc;
    }
    struct fd_reader *fr = calloc(1, sizeof(*fr));
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    bool json = false;
    int r = fr && rep ? 0 : -ENOMEM;
    if (r == 0) {
        fr->fd = fd;
        r = sniff_json(fr, &json);
    }
    if (r < 0) {
        if (!is_stdin)
            close(fd);
        free(fr);
        free(rep);
        return cli_fail(c, EXIT_RUNTIME, "cannot read %s: %s", is_stdin ? "standard input" : path, kpi_strerror(r));
    }
    bool tty = !quiet && !c->json && isatty(STDERR_FILENO);
    struct kpi_diag diag = {""};
    if (json)
        r = kpi_json_points_import(c->store, &c->cal, fd_read, fr, tty ? show_progress : NULL, &prog, rep, &diag);
    else
        r = kpi_ingest_csv(c->store, &c->cal, fd_read, fr, tty ? show_progress : NULL, &prog, rep, &diag);
    free(fr);
    if (!is_stdin)
        close(fd);
    if (prog.shown)
        fputc('\n', stderr);
    double elapsed = now_seconds() - prog.started;
    const char *name = is_stdin ? "standard input" : path;
    if (r == -EINVAL && rep->n_errors) {
        const char *unit = json ? "item" : "line";
        fprintf(stderr, "kpi import: %s: %llu bad %s%s; nothing was written\n", name, (unsigned long long)rep->n_errors,
                json ? "item" : "row", rep->n_errors == 1 ? "" : "s");
        uint64_t shown = rep->n_errors < KPI_INGEST_ERRORS_KEPT ? rep->n_errors : KPI_INGEST_ERRORS_KEPT;
        for (uint64_t i = 0; i < shown; i++) {
            if (rep->errors[i].line)
                fprintf(stderr, "  %s %llu: %s\n", unit, (unsigned long long)rep->errors[i].line, rep->errors[i].msg);
            else
                fprintf(stderr, "  %s\n", rep->errors[i].msg);
        }
        if (rep->n_errors > shown)
            fprintf(stderr, "  ... and %llu more\n", (unsigned long long)(rep->n_errors - shown));
        free(rep);
        return EXIT_RUNTIME;
    }
    if (r < 0) {
        free(rep);
        return cli_fail(c, EXIT_RUNTIME, "%s: %s; nothing was written", name, diag.msg[0] ? diag.msg : kpi_strerror(r));
    }
    if (c->json)
        printf("{\"rows\": %llu, \"written\": %llu, \"seconds\": %.3f}\n", (unsigned long long)rep->rows,
               (unsigned long long)rep->written, elapsed);
    else if (!quiet)
        printf("imported %llu points from %s in %.2f s (%.0f points/s)\n", (unsigned long long)rep->written, name, elapsed,
               elapsed > 0 ? (double)rep->written / elapsed : 0.0);
    free(rep);
    return EXIT_OK;
}

/* Export: one pass collects the dimension names used (they become the CSV header), a second
 * writes the rows. Dims of consecutive rows are usually the same string, so the first pass is
 * cheap. */
struct export_ctx {
    struct cli *c;
    FILE *out;
    bool json;
    const struct kpi_def *def; /* the KPI being written: points are exported a KPI at a time, by key */
    char dim_keys[64][65];
    size_t n_dim_keys;
    const char *last_dims;
    uint64_t rows;
    struct kpi_buf line;
    int error;
};

static int compare_keys(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int collect_dim_keys(void *ctx, const struct kpi_point_row *row)
{
    struct export_ctx *e = ctx;
    if (row->dims == e->last_dims)
        return 0;
    e->last_dims = row->dims;
    struct kpi_dim d[KPI_DIMS_MAX];
    int n = kpi_dims_split(row->dims, d, KPI_DIMS_MAX);
    for (int i = 0; i < n; i++) {
        bool known = false;
        for (size_t k = 0; k < e->n_dim_keys && !known; k++)
            known = strlen(e->dim_keys[k]) == d[i].key_len && memcmp(e->dim_keys[k], d[i].key, d[i].key_len) == 0;
        if (!known && e->n_dim_keys < 64 && d[i].key_len <= 64) {
            memcpy(e->dim_keys[e->n_dim_keys], d[i].key, d[i].key_len);
            e->dim_keys[e->n_dim_keys][d[i].key_len] = '\0';
            e->n_dim_keys++;
        }
    }
    return 0;
}

static void format_at(struct export_ctx *e, const struct kpi_point_row *row, char *buf, size_t size)
{
    if (row->flags & KPI_POINT_DATE)
        kpi_date_format(kpi_calendar_day_of(&e->c->cal, row->at_ms), buf, size);
    else
        kpi_instant_format(row->at_ms, buf, size);
}

static int write_row(void *ctx, const struct kpi_point_row *row)
{
    struct export_ctx *e = ctx;
    const struct kpi_def *d = e->def;
    char at[48], num[40];
    format_at(e, row, at, sizeof(at));
    kpi_buf_reset(&e->line);
    int r;
    if (e->json) {
        r = kpi_buf_adds(&e->line, e->rows ? ",\n" : "\n");
        if (r == 0)
            r = kpi_json_point(&e->line, d->key, at, row->value, row->dims);
    } else {
        kpi_format_double(row->value, num, sizeof(num));
        r = kpi_buf_printf(&e->line, "%s,%s,%s", d->key, at, num);
        struct kpi_dim dims[KPI_DIMS_MAX];
        int n = kpi_dims_split(row->dims, dims, KPI_DIMS_MAX);
        for (size_t k = 0; r == 0 && k < e->n_dim_keys; k++) {
            r = kpi_buf_addc(&e->line, ',');
            for (int i = 0; r == 0 && i < n; i++)
                if (strlen(e->dim_keys[k]) == dims[i].key_len && memcmp(e->dim_keys[k], dims[i].key, dims[i].key_len) == 0)
                    r = kpi_csv_write_field(&e->line, dims[i].value, dims[i].value_len);
        }
        if (r == 0)
            r = kpi_buf_addc(&e->line, '\n');
    }
    if (r < 0) {
        e->error = r;
        return 1;
    }
    if (fwrite(e->line.data, 1, e->line.len, e->out) != e->line.len) {
        e->error = -EIO;
        return 1;
    }
    e->rows++;
    return 0;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
    enum { OPT_KPI = OPT_FIRST_COMMAND_OPTION, OPT_FROM, OPT_TO, OPT_FORMAT, OPT_OUTPUT };
    static const struct option opts[] = {{"kpi", required_argument, NULL, OPT_KPI},
                                         {"from", required_argument, NULL, OPT_FROM},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"output", required_argument, NULL, OPT_OUTPUT},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    const char *key = NULL, *from = NULL, *to = NULL, *format = "csv", *output = NULL;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int h = cli_common_option(c, opt, optarg);
        if (h < 0)
            return EXIT_OK;
        if (h > 0)
            continue;
        switch (opt) {
        case OPT_KPI:
            key = optarg;
            break;
        case OPT_FROM:
            from = optarg;
            break;
        case OPT_TO:
            to = optarg;
            break;
        case OPT_FORMAT:
            format = optarg;
            break;
        case OPT_OUTPUT:
            output = optarg;
            break;
        default:
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    bool json = c->json || strcmp(format, "json") == 0;
    if (!json && strcmp(format, "csv") != 0)
        return cli_usage(c, "format: expected csv or json, got '%s'", format);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_point_query q = {0, INT64_MIN, INT64_MAX, NULL};
    int64_t day;
    if (from) {
        if (cli_parse_day(c, from, false, &day) < 0)
            return cli_usage(c, "from: '%s' is not a date (YYYY-MM-DD) or a period such as 2026-Q1", from);
        q.from_ms = kpi_calendar_day_start(&c->cal, day);
    }
    if (to) {
        if (cli_parse_day(c, to, true, &day) < 0)
            return cli_usage(c, "to: '%s' is not a date (YYYY-MM-DD) or a period such as 2026-Q1", to);
        q.to_ms = kpi_calendar_day_start(&c->cal, day + 1);
    }
    struct kpi_def *defs;
    size_t n_defs;
    int r = kpi_store_kpi_list(c->store, true, &defs, &n_defs);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
    bool found = key == NULL;
    for (size_t i = 0; i < n_defs && !found; i++) {
        found = strcmp(defs[i].key, key) == 0;
        if (found)
            q.kpi_id = defs[i].id;
    }
    if (!found) {
        kpi_store_kpi_list_free(defs, n_defs);
        return cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
    }
    FILE *out = stdout;
    if (output) {
        out = fopen(output, "w");
        if (!out) {
            kpi_store_kpi_list_free(defs, n_defs);
            return cli_fail(c, EXIT_RUNTIME, "cannot write %s: %s", output, strerror(errno));
        }
    }
    struct export_ctx e = {.c = c, .out = out, .json = json};
    kpi_buf_init(&e.line, 1 << 16);
    /* One snapshot for both passes, so the header names every dim the rows use. */
    bool in_tx = kpi_store_begin_read(c->store) == 0;
    if (!json)
        r = kpi_store_points_scan(c->store, &q, collect_dim_keys, &e);
    if (r == 0) {
        if (json) {
            fputc('[', out);
        } else {
            qsort(e.dim_keys, e.n_dim_keys, sizeof(e.dim_keys[0]), compare_keys);
            fputs("kpi,at,value", out);
            for (size_t k = 0; k < e.n_dim_keys; k++)
                fprintf(out, ",%s", e.dim_keys[k]);
            fputc('\n', out);
        }
        /* KPIs in key order, so two databases with the same points export the same text. */
        for (size_t i = 0; i < n_defs && r == 0; i++) {
            if (key && strcmp(defs[i].key, key) != 0)
                continue;
            e.def = &defs[i];
            q.kpi_id = defs[i].id;
            r = kpi_store_points_scan(c->store, &q, write_row, &e);
            if (r > 0)
                r = e.error;
        }
        if (json)
            fputs("\n]\n", out);
    }
    if (in_tx)
        kpi_store_rollback(c->store);
    kpi_buf_free(&e.line);
    kpi_store_kpi_list_free(defs, n_defs);
    if (output && fclose(out) != 0 && r == 0)
        r = -EIO;
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "export failed: %s", kpi_strerror(r));
    return EXIT_OK;
}
