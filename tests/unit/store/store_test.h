/*
 * Scaffolding shared by the store's test files: each test gets a fresh directory with a database
 * path in it (removed afterwards, with any injected fault cleared), a way to open that database,
 * and an in-memory text source for the ingestion readers.
 */
#ifndef KPI_TESTS_STORE_TEST_H
#define KPI_TESTS_STORE_TEST_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "store/store.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kpi-store-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/test.db", dir);
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_expect(eq(int, system(cmd), 0));
    kpi_store_inject_fault(NULL, 0, 0);
}

static struct kpi_store *open_db(void)
{
    struct kpi_store *s;
    struct kpi_diag diag = {""};
    int r = kpi_store_open_sqlite(path, true, &s, &diag);
    cr_assert(eq(int, r, 0), "%s", diag.msg);
    return s;
}

struct mem_reader {
    const char *text;
    size_t off;
};

static ssize_t mem_read(void *ctx, char *buf, size_t size)
{
    struct mem_reader *m = ctx;
    size_t left = strlen(m->text) - m->off;
    size_t n = left < size ? left : size;
    memcpy(buf, m->text + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

#endif
