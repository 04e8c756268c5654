/*
 * Benchmark driver for bench/forecast-accuracy.sh: kpi's forecast engine (kpi_forecast_fit, the
 * ETS family of include/kpi/forecast.h) on series read from a CSV, one series per line:
 *
 *   name,season,horizon,v1,v2,...        (lines starting with '#' and empty lines are skipped)
 *
 * usage: bench_forecast FILE
 *   Fits each series and writes, per forecast step, the CSV
 *   name,model,method,step,mean,lo80,hi80,lo95,hi95   (model is "" for the naive/mean fallbacks).
 * usage: bench_forecast --time N [FILE]
 *   Fits (and forecasts) N series and prints "series N", "seconds S" and a checksum, timed with
 *   CLOCK_MONOTONIC on the calling thread (the engine is single-threaded; the script pins it to
 *   one core). With FILE, the series of FILE are used in turn (cycling if FILE has fewer than N);
 *   without, N deterministic 60-point monthly variants (trend + season + noise) are generated.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kpi/forecast.h"

struct series {
    char name[128];
    int season, horizon;
    size_t n;
    double *y;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses one line into s (s->y malloc'ed). 0, or -EINVAL on a malformed line. */
static int parse_line(char *line, struct series *s)
{
    char *save = NULL;
    char *tok = strtok_r(line, ",\r\n", &save);
    if (!tok)
        return -EINVAL;
    snprintf(s->name, sizeof s->name, "%s", tok);
    char *end;
    tok = strtok_r(NULL, ",\r\n", &save);
    if (!tok)
        return -EINVAL;
    s->season = (int)strtol(tok, &end, 10);
    tok = strtok_r(NULL, ",\r\n", &save);
    if (!tok)
        return -EINVAL;
    s->horizon = (int)strtol(tok, &end, 10);
    size_t cap = 64;
    s->n = 0;
    s->y = malloc(cap * sizeof *s->y);
    if (!s->y)
        return -ENOMEM;
    while ((tok = strtok_r(NULL, ",\r\n", &save))) {
        double v = strtod(tok, &end);
        if (end == tok)
            return -EINVAL;
        if (s->n == cap) {
            cap *= 2;
            double *y = realloc(s->y, cap * sizeof *y);
            if (!y)
                return -ENOMEM;
            s->y = y;
        }
        s->y[s->n++] = v;
    }
    return s->n > 0 ? 0 : -EINVAL;
}

static int read_series(const char *path, struct series **ret, size_t *ret_n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    struct series *all = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t len = 0;
    int r = 0;
    while (getline(&line, &len, f) >= 0) {
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\r' || line[0] == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            struct series *a = realloc(all, cap * sizeof *a);
            if (!a) {
                r = -ENOMEM;
                break;
            }
            all = a;
        }
        memset(&all[n], 0, sizeof all[n]);
        r = parse_line(line, &all[n]);
        if (r < 0) {
            fprintf(stderr, "%s: malformed line %zu\n", path, n + 1);
            free(all[n].y);
            break;
        }
        n++;
    }
    free(line);
    fclose(f);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(all[i].y);
        free(all);
        return r;
    }
    *ret = all;
    *ret_n = n;
    return 0;
}

/* Deterministic 60-point monthly series, variant i: level, trend, seasonal shape and noise vary. */
static void gen_series(size_t i, struct series *s, double *buf)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL * (i + 1);
    double level = 100 + (double)(i % 97) * 10, slope = ((double)(i % 7) - 2) * 0.5;
    double amp = level * (0.05 + 0.03 * (double)(i % 5)), noise = level * 0.02 * (1 + (double)(i % 3));
    for (size_t t = 0; t < 60; t++) {
        x += 0x9E3779B97F4A7C15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        double u = ((double)(z >> 11) / 9007199254740992.0) - 0.5;
        double season = (i % 4 == 3) ? 0 : amp * sin(2 * M_PI * (double)(t % 12) / 12 + (double)(i % 12));
        buf[t] = level + slope * (double)t + season + noise * 3.4 * u;
    }
    snprintf(s->name, sizeof s->name, "gen%zu", i);
    s->season = 12;
    s->horizon = 12;
    s->n = 60;
    s->y = buf;
}

static int run_time(long count, const char *path)
{
    struct series *all = NULL;
    size_t n_all = 0;
    if (path) {
        int r = read_series(path, &all, &n_all);
        if (r < 0 || n_all == 0) {
            fprintf(stderr, "cannot read series from %s: %s\n", path, r < 0 ? strerror(-r) : "empty");
            return 1;
        }
    }
    double buf[60], checksum = 0;
    long errors = 0;
    double t0 = now_s();
    for (long i = 0; i < count; i++) {
        struct series gen, *s = &gen;
        if (all)
            s = &all[(size_t)i % n_all];
        else
            gen_series((size_t)i, &gen, buf);
        struct kpi_forecast_options opt = {.season = s->season, .horizon = s->horizon, .seed = 42};
        struct kpi_forecast *f = NULL;
        if (kpi_forecast_fit(s->y, s->n, &opt, &f) < 0) {
            errors++;
            continue;
        }
        checksum += f->mean[f->h - 1];
        kpi_forecast_free(f);
    }
    double secs = now_s() - t0;
    printf("series %ld\nseconds %.4f\nerrors %ld\nchecksum %.6g\n", count, secs, errors, checksum);
    for (size_t i = 0; i < n_all; i++)
        free(all[i].y);
    free(all);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--time") == 0 && argc <= 4) {
        long count = strtol(argv[2], NULL, 10);
        if (count < 1 || count > 10000000) {
            fprintf(stderr, "N must be from 1 to 10000000\n");
            return 2;
        }
        return run_time(count, argc == 4 ? argv[3] : NULL);
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s FILE | --time N [FILE]\n", argv[0]);
        return 2;
    }
    struct series *all = NULL;
    size_t n_all = 0;
    int r = read_series(argv[1], &all, &n_all);
    if (r < 0) {
        fprintf(stderr, "cannot read %s: %s\n", argv[1], strerror(-r));
        return 1;
    }
    int rc = 0;
    printf("name,model,method,step,mean,lo80,hi80,lo95,hi95\n");
    for (size_t i = 0; i < n_all; i++) {
        struct series *s = &all[i];
        struct kpi_forecast_options opt = {.season = s->season, .horizon = s->horizon, .seed = 42};
        struct kpi_forecast *f = NULL;
        r = kpi_forecast_fit(s->y, s->n, &opt, &f);
        if (r < 0) {
            fprintf(stderr, "%s: kpi_forecast_fit failed: %s\n", s->name, strerror(-r));
            rc = 1;
            continue;
        }
        for (size_t h = 0; h < f->h; h++)
            printf("%s,%s,%s,%zu,%.10g,%.10g,%.10g,%.10g,%.10g\n", s->name, f->model, f->method, h + 1, f->mean[h], f->lo80[h],
                   f->hi80[h], f->lo95[h], f->hi95[h]);
        kpi_forecast_free(f);
    }
    for (size_t i = 0; i < n_all; i++)
        free(all[i].y);
    free(all);
    return rc;
}
