/*
 * Benchmark driver: times kpi_scorecard_build (status + trend + sparkline + health of every KPI)
 * in-process, warm, on an existing database. The first call is the warm-up (page cache, SQLite
 * cache); the others are timed with CLOCK_MONOTONIC and summarised as min / median / max. A
 * checksum (statuses, sparkline points, errors) is printed so the work cannot be optimised away
 * and so the driving script can check that every KPI was judged.
 *
 * usage: bench_scorecard DB AS_OF_DATE [RUNS]     (RUNS default 20, the warm-up included)
 * Output: one "key value" pair per line (runs, kpis, min_ms, median_ms, max_ms, status counts...).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kpi/status.h"
#include "kpi/time.h"
#include "store/scorecard.h"
#include "store/store.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s DB AS_OF_DATE [RUNS]\n", argv[0]);
        return 2;
    }
    int64_t as_of;
    if (kpi_date_parse(argv[2], strlen(argv[2]), &as_of) < 0) {
        fprintf(stderr, "bad date: %s\n", argv[2]);
        return 2;
    }
    long runs = argc == 4 ? strtol(argv[3], NULL, 10) : 20;
    if (runs < 2 || runs > 100000) {
        fprintf(stderr, "RUNS must be from 2 to 100000\n");
        return 2;
    }

    struct kpi_diag diag = {""};
    struct kpi_store *store = NULL;
    int r = kpi_store_open_sqlite(argv[1], false, &store, &diag);
    if (r < 0) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], diag.msg[0] ? diag.msg : kpi_strerror(r));
        return 1;
    }
    struct kpi_calendar cal;
    r = kpi_store_calendar(store, &cal, &diag);
    if (r < 0) {
        fprintf(stderr, "cannot load the calendar: %s\n", diag.msg[0] ? diag.msg : kpi_strerror(r));
        kpi_store_close(store);
        return 1;
    }

    double *ms = calloc((size_t)runs, sizeof(*ms));
    if (!ms)
        return 1;
    size_t counts[KPI_STATUS__COUNT] = {0};
    size_t n_kpis = 0, n_derived = 0, n_errors = 0, n_spark = 0;
    double spark_sum = 0;
    for (long i = 0; i < runs; i++) {
        struct kpi_scorecard *sc = NULL;
        double t0 = now_ms();
        r = kpi_scorecard_build(store, &cal, as_of, &sc, &diag);
        double t1 = now_ms();
        if (r < 0) {
            fprintf(stderr, "kpi_scorecard_build: %s\n", diag.msg[0] ? diag.msg : kpi_strerror(r));
            return 1;
        }
        ms[i] = t1 - t0;
        if (i == runs - 1) { /* checksum of the last run */
            n_kpis = sc->n_defs;
            for (size_t k = 0; k < sc->n_defs; k++) {
                const struct kpi_scorecard_entry *e = &sc->entries[k];
                counts[e->status.status]++;
                n_derived += e->def->formula != NULL;
                n_errors += e->error[0] != '\0';
                for (size_t j = 0; j < e->n_spark; j++) {
                    if (e->spark[j].has) {
                        n_spark++;
                        spark_sum += e->spark[j].v;
                    }
                }
            }
        }
        kpi_scorecard_free(sc);
    }

    /* Run 0 is the warm-up. */
    size_t nt = (size_t)runs - 1;
    double *timed = ms + 1;
    qsort(timed, nt, sizeof(*timed), cmp_double);
    double median = nt % 2 ? timed[nt / 2] : (timed[nt / 2 - 1] + timed[nt / 2]) / 2;
    printf("runs %zu\n", nt);
    printf("warmup_ms %.3f\n", ms[0]);
    printf("min_ms %.3f\n", timed[0]);
    printf("median_ms %.3f\n", median);
    printf("max_ms %.3f\n", timed[nt - 1]);
    printf("kpis %zu\n", n_kpis);
    printf("derived %zu\n", n_derived);
    printf("errors %zu\n", n_errors);
    for (int s = 0; s < KPI_STATUS__COUNT; s++)
        printf("%s %zu\n", kpi_status_name((enum kpi_status)s), counts[s]);
    printf("spark_points %zu\n", n_spark);
    printf("spark_sum %.6g\n", spark_sum);
    free(ms);
    kpi_store_calendar_done(&cal);
    kpi_store_close(store);
    return 0;
}
